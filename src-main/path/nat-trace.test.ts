import { describe, expect, it } from 'vitest';
import { chainTies, counterMoves } from './follow.js';
import { natFromCounters, parseTrace } from './nat-trace.js';

// xtables-monitor --trace in a world node (iptables 1.8.9, nf_tables)
const TRACE = `PACKET: 2 31aca125 IN=cni0 MACSRC=22:31:1c:5a:22:43 MACDST=66:8b:1f:5e:8:ff MACPROTO=0800 SRC=10.244.1.2 DST=10.100.8.157 LEN=60 TOS=0x0 TTL=64 ID=38455 DF SPORT=39882 DPORT=80 SYN 
 TRACE: 2 31aca125 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -d 10.100.8.157/32 -p tcp -m tcp --dport 80 -j TRACE
PACKET: 2 31aca125 IN=cni0 MACSRC=22:31:1c:5a:22:43 MACDST=66:8b:1f:5e:8:ff MACPROTO=0800 SRC=10.244.1.2 DST=10.100.8.157 LEN=60 TOS=0x0 TTL=64 ID=38455 DF SPORT=39882 DPORT=80 SYN 
 TRACE: 2 31aca125 nat:PREROUTING:rule:0x6:JUMP:KUBE-SERVICES  -4 -t nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
 TRACE: 2 31aca125 nat:KUBE-SERVICES:rule:0x35:JUMP:KUBE-SVC-CDGGSHYLG3RE2FKL  -4 -t nat -A KUBE-SERVICES -d 10.100.8.157/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
 TRACE: 2 31aca125 nat:KUBE-SVC-CDGGSHYLG3RE2FKL:rule:0x37:JUMP:KUBE-SEP-MODFGJMBXTNUPWPX  -4 -t nat -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.2:80" -j KUBE-SEP-MODFGJMBXTNUPWPX
 TRACE: 2 31aca125 nat:KUBE-SEP-MODFGJMBXTNUPWPX:rule:0x39:ACCEPT  -4 -t nat -A KUBE-SEP-MODFGJMBXTNUPWPX -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:80
PACKET: 2 a205ba26 IN=cni0 MACSRC=22:31:1c:5a:22:43 MACDST=66:8b:1f:5e:8:ff MACPROTO=0800 SRC=10.244.1.2 DST=10.100.8.157 LEN=52 TOS=0x0 TTL=64 ID=38456 DF SPORT=39882 DPORT=80 ACK 
 TRACE: 2 a205ba26 nat:PREROUTING:rule:0x6:JUMP:KUBE-SERVICES  -4 -t nat -A PREROUTING -j KUBE-SERVICES
`;

describe('parseTrace', () => {
  it("names the Service chain, the endpoint chain, the DNAT rule and the backend of the SYN's trace", () => {
    const d = parseTrace(TRACE, 39882)!;
    expect(d).toMatchObject({
      source: 'trace',
      serviceChain: 'KUBE-SVC-CDGGSHYLG3RE2FKL',
      endpointChain: 'KUBE-SEP-MODFGJMBXTNUPWPX',
      backend: '10.244.2.2:80',
      dnatRule:
        '-A KUBE-SEP-MODFGJMBXTNUPWPX -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:80',
    });
    // the nat rules only, in order; the ACK's (a later packet) not among them
    expect(d.rules.map((r) => `${r.chain} ${r.verdict}`)).toEqual([
      'PREROUTING JUMP:KUBE-SERVICES',
      'KUBE-SERVICES JUMP:KUBE-SVC-CDGGSHYLG3RE2FKL',
      'KUBE-SVC-CDGGSHYLG3RE2FKL JUMP:KUBE-SEP-MODFGJMBXTNUPWPX',
      'KUBE-SEP-MODFGJMBXTNUPWPX ACCEPT',
    ]);
  });
  it('gives nothing for another connection, or without one', () => {
    expect(parseTrace(TRACE, 1234)).toBeUndefined();
    expect(parseTrace(TRACE, undefined)).toBeUndefined();
  });
});

describe('counterMoves', () => {
  it('names the rules whose packet counter grew', () => {
    const before = '[0:0] -A FORWARD -d 10.244.2.2/32 -j DROP\n[5:300] -A FORWARD -j ACCEPT\n';
    const after = '[1:349] -A FORWARD -d 10.244.2.2/32 -j DROP\n[5:300] -A FORWARD -j ACCEPT\n';
    expect(counterMoves(before, after)).toEqual(['-A FORWARD -d 10.244.2.2/32 -j DROP']);
  });
});

describe('chainTies', () => {
  const h = (space: string, ifname: string, direction: 'in' | 'out', time: number, extra: object = {}) => ({
    space,
    ifname,
    direction,
    time,
    ...extra,
  });
  it('puts hops stamped together in the order a packet goes (a veth out, then its peer in; a VXLAN device, then the underlay)', () => {
    const sorted = [
      h('node:node1', 'flannel.1', 'in', 1.0, { kind: 'vxlan' }),
      h('node:node1', 'cni0', 'out', 1.000001, { kind: 'bridge' }),
      h('pod:client', 'eth0', 'in', 1.000002),
      h('node:node1', 'veth1', 'out', 1.000003, { master: 'cni0' }),
    ];
    expect(chainTies(sorted).map((x) => `${x.space} ${x.ifname}`)).toEqual([
      'node:node1 flannel.1',
      'node:node1 cni0',
      'node:node1 veth1',
      'pod:client eth0',
    ]);
    const vx = [
      h('node:node1', 'flannel.1', 'out', 2.0, { kind: 'vxlan' }),
      h('node:node2', 'eth0', 'in', 2.000001),
      h('node:node1', 'eth0', 'out', 2.000002),
    ];
    expect(chainTies(vx).map((x) => `${x.space} ${x.ifname}`)).toEqual([
      'node:node1 flannel.1',
      'node:node1 eth0',
      'node:node2 eth0',
    ]);
  });
  it('keeps hops far apart in time order', () => {
    const far = [h('a', 'x', 'out', 1), h('b', 'y', 'out', 2), h('a', 'z', 'in', 3)];
    expect(chainTies(far)).toEqual(far);
  });
});

describe('natFromCounters', () => {
  it('reads the Service rule and the endpoint DNAT from the nat rules whose counters moved', () => {
    const moved = [
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.0.7/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL',
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.2:80" -j KUBE-SEP-MODFGJMBXTNUPWPX',
      '-A KUBE-SEP-MODFGJMBXTNUPWPX -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:80',
    ];
    expect(natFromCounters(moved, '10.96.0.7')).toMatchObject({
      source: 'counters',
      serviceChain: 'KUBE-SVC-CDGGSHYLG3RE2FKL',
      endpointChain: 'KUBE-SEP-MODFGJMBXTNUPWPX',
      backend: '10.244.2.2:80',
    });
    expect(natFromCounters(moved.slice(0, 1), '10.96.0.7')).toBeUndefined();
  });

  it("a UDP datagram's trace is matched by its source port alone (a datagram has no flags)", () => {
    const udp = `PACKET: 2 5a1b2c3d IN=cni0 MACSRC=22:31:1c:5a:22:43 MACDST=66:8b:1f:5e:8:ff MACPROTO=0800 SRC=10.244.1.2 DST=10.96.0.10 LEN=40 TOS=0x0 TTL=64 ID=1 DF SPORT=40001 DPORT=53
 TRACE: 2 5a1b2c3d nat:KUBE-SERVICES:rule:0x35:JUMP:KUBE-SVC-TCOU7JCQXEZGVUNU  -4 -t nat -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
 TRACE: 2 5a1b2c3d nat:KUBE-SVC-TCOU7JCQXEZGVUNU:rule:0x37:JUMP:KUBE-SEP-AAAABBBBCCCCDDDD  -4 -t nat -A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.2.5:53" -j KUBE-SEP-AAAABBBBCCCCDDDD
 TRACE: 2 5a1b2c3d nat:KUBE-SEP-AAAABBBBCCCCDDDD:rule:0x39:ACCEPT  -4 -t nat -A KUBE-SEP-AAAABBBBCCCCDDDD -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.2.5:53
`;
    expect(parseTrace(udp, 40001, 'udp')).toMatchObject({
      backend: '10.244.2.5:53',
      serviceChain: 'KUBE-SVC-TCOU7JCQXEZGVUNU',
    });
    // as TCP it is no SYN: nothing matched
    expect(parseTrace(udp, 40001)).toBeUndefined();
    expect(parseTrace(udp, 40002, 'udp')).toBeUndefined();
  });
});
