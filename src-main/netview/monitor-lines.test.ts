// `ip -d monitor` text (captured from iproute2 6.1 in a world) read as events: kinds, namespaces,
// deletions, and a link's whole row from its own lines. That the rows equal `ip -json` in a real world,
// for every event kind and namespace kind, is test/netview-events.test.ts.
import { describe, expect, it } from 'vitest';
import { isWholeLink, kindOf, MonitorLines, parseLinkEvent, tablesOf } from './monitor-lines.js';

const BR_SLAVE = `[nsid current]4: x0@x1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br9 state UP group default 
    link/ether 46:02:f4:75:a5:d3 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 1 minmtu 68 maxmtu 65535 
    veth 
    bridge_slave state disabled priority 32 cost 2 hairpin off guard off learning on flood on port_id 0x8001 
`;
const VXLAN = `[nsid current]7: vx0: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN group default 
    link/ether 16:36:24:5b:4d:3d brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    vxlan id 42 remote 192.0.2.12 dev eth0 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum numtxqueues 1 
`;
const LO = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default 
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 numtxqueues 1 
`;
const PEER_ELSEWHERE = `[nsid current]6: vv0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default 
    link/ether a2:7a:83:7c:db:9d brd ff:ff:ff:ff:ff:ff link-netnsid 1 promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 
    veth numtxqueues 2 numrxqueues 2 
`;
// the bridge's message about a port leaving it: "Deleted", but the link lives on
const PORT_LEFT = `[nsid current]Deleted 4: x0@x1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br9 state UP 
    link/ether 46:02:f4:75:a5:d3
`;

describe('MonitorLines', () => {
  it('splits events, reads the nsid prefix and Deleted, and classifies each kind', () => {
    const m = new MonitorLines();
    const evs = m.push(
      [
        '[nsid current]5: br9    inet 10.9.0.1/24 scope global br9',
        '       valid_lft forever preferred_lft forever',
        '[nsid 1]unicast 10.8.0.0/24 via 10.9.0.2 dev br9 table main proto boot scope global ',
        '[nsid current]Deleted 10.9.0.5 dev br9 FAILED ',
        '[nsid 0]dev if3 lladdr 3a:62:e0:71:6d:c1 REACHABLE ',
        '',
      ].join('\n'),
    );
    expect(evs.map((e) => [e.nsid, e.kind, e.deleted, e.lines.length])).toEqual([
      ['current', 'addr', false, 2],
      [1, 'route', false, 1],
      ['current', 'neigh', true, 1],
      [0, 'fdb', false, 1],
    ]);
    expect(tablesOf(evs[0]!)).toEqual(['addrs', 'fdb']);
  });

  it('holds an event whose line is not finished until its end comes', () => {
    const m = new MonitorLines();
    expect(m.push(LO.slice(0, 30))).toEqual([]);
    const evs = m.push(LO.slice(30));
    expect(evs).toHaveLength(1);
    expect(evs[0]!.lines).toHaveLength(2);
  });

  it("parses a link's whole row as ip -json -d gives it", () => {
    const peer = (name: string) => (name === 'x1' ? 3 : undefined);
    const one = (text: string) => new MonitorLines().push(text)[0]!;
    expect(parseLinkEvent(one(BR_SLAVE), peer)).toEqual({
      index: 4,
      name: 'x0',
      state: 'UP',
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      mtu: 1500,
      master: 'br9',
      mac: '46:02:f4:75:a5:d3',
      kind: 'veth',
      slaveKind: 'bridge',
      peerIndex: 3,
    });
    expect(parseLinkEvent(one(VXLAN), peer)).toMatchObject({
      kind: 'vxlan',
      vxlan: { vni: 42, remote: '192.0.2.12', port: 4789, dev: 'eth0' },
    });
    expect(parseLinkEvent(one(LO), peer)).toEqual({
      index: 1,
      name: 'lo',
      state: 'UNKNOWN',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      mtu: 65536,
      mac: '00:00:00:00:00:00',
    });
    expect(parseLinkEvent(one(PEER_ELSEWHERE), peer)).toMatchObject({ peerIndex: 2, netnsId: 1, kind: 'veth' });
  });

  it("does not take the bridge's port message for a link (nor its Deleted for the link's end)", () => {
    const e = new MonitorLines().push(PORT_LEFT)[0]!;
    expect(kindOf(e.lines[0]!)).toBe('link');
    expect(e.deleted).toBe(true);
    expect(isWholeLink(e)).toBe(false);
    expect(parseLinkEvent(e, () => undefined)).toBeUndefined();
    expect(tablesOf(e)).toEqual(['links', 'routes', 'fdb']);
  });
});
