// `ip -d monitor` text (captured from iproute2 6.1 in a world, and 7.3 in the bundled VM's guest) read as events: kinds, namespaces,
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

// iproute2 7.3 in the bundled VM's guest (kernel 7.2), `ip -d monitor all-nsid`: still text (no -json is asked
// for), with allmulti and netns-immutable in a link's second line; the bridge's option line is cut short here
const IP73 = `[nsid current]4: v0@v1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default 
    link/ether 86:9e:63:be:f9:65 brd ff:ff:ff:ff:ff:ff promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535 
    veth numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 gso_ipv4_max_size 65536 gro_ipv4_max_size 65536 
[nsid current]Deleted 3: v1@v0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default 
    link/ether ce:31:3f:d4:91:ce brd ff:ff:ff:ff:ff:ff new-netnsid 0 new-ifindex 3 promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535 
    veth numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 gso_ipv4_max_size 65536 gro_ipv4_max_size 65536 
[nsid 0]3: v1@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default 
    link/ether ce:31:3f:d4:91:ce brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535 
    veth numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 gso_ipv4_max_size 65536 gro_ipv4_max_size 65536 
[nsid current]4: v0    inet 10.9.0.1/24 scope global v0
       valid_lft forever preferred_lft forever
[nsid current]unicast 10.9.0.0/24 dev v0 table main proto kernel scope link src 10.9.0.1 linkdown 
[nsid 0]1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default 
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 allmulti 0 minmtu 0 maxmtu 0 netns-immutable numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 gso_ipv4_max_size 65536 gro_ipv4_max_size 65536 
[nsid current]dev br0 lladdr 2e:75:e6:ee:ad:e9 PERMANENT 
[nsid current]5: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN group default 
    link/ether 2e:75:e6:ee:ad:e9 brd ff:ff:ff:ff:ff:ff promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535 netns-immutable 
    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 stp_mode auto priority 32768 vlan_filtering 0 
[nsid current]10.9.0.7 dev v0 lladdr 02:00:00:00:00:07 PERMANENT 
[nsid current]Deleted ff02::16 dev br0 lladdr 33:33:00:00:00:16 NOARP 
[nsid 0]Deleted unicast 10.9.0.0/24 dev v1 table main proto kernel scope link src 10.9.0.2 
[nsid current]Deleted 5: br0    inet6 fe80::2c75:e6ff:feee:ade9/64 scope link tentative proto kernel_ll 
       valid_lft forever preferred_lft forever
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

  it("reads iproute2 7.3's text as 6.1's: the VM's guest prints the same events", () => {
    const evs = new MonitorLines().push(IP73);
    expect(evs.map((e) => [e.nsid, e.kind, e.deleted])).toEqual([
      ['current', 'link', false],
      ['current', 'link', true],
      [0, 'link', false],
      ['current', 'addr', false],
      ['current', 'route', false],
      [0, 'link', false],
      ['current', 'fdb', false],
      ['current', 'link', false],
      ['current', 'neigh', false],
      ['current', 'neigh', true],
      [0, 'route', true],
      ['current', 'addr', true],
    ]);
    const peer = (name: string) => (name === 'v1' ? 3 : undefined);
    expect(parseLinkEvent(evs[0]!, peer)).toEqual({
      index: 4,
      name: 'v0',
      state: 'DOWN',
      flags: ['BROADCAST', 'MULTICAST', 'M-DOWN'],
      mtu: 1500,
      mac: '86:9e:63:be:f9:65',
      kind: 'veth',
      peerIndex: 3,
    });
    expect(isWholeLink(evs[1]!)).toBe(true);
    expect(tablesOf(evs[1]!)).toEqual(['links', 'addrs', 'routes', 'neighs', 'fdb']);
    expect(parseLinkEvent(evs[2]!, peer)).toMatchObject({ name: 'v1', peerIndex: 4, netnsId: 0, kind: 'veth' });
    expect(parseLinkEvent(evs[5]!, peer)).toEqual({
      index: 1,
      name: 'lo',
      state: 'UNKNOWN',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      mtu: 65536,
      mac: '00:00:00:00:00:00',
    });
    expect(parseLinkEvent(evs[7]!, peer)).toMatchObject({ name: 'br0', kind: 'bridge', state: 'UNKNOWN' });
  });
});
