import { describe, expect, it } from 'vitest';
import { parseCapture } from './capture-lines.js';

// lines tcpdump 4.99 printed in a world (`fakeroot tcpdump -Z root -i any -l -n -e -tt -vv`)
const NODE1 = `1796387808.501404 veth1154305d P   ifindex 5 92:ad:7a:15:19:8c ethertype IPv4 (0x0800), length 369: (tos 0x0, ttl 64, id 33787, offset 0, flags [DF], proto ICMP (1), length 349)
    10.244.1.2 > 10.244.2.2: ICMP echo request, id 505, seq 0, length 329
1796387808.501486 eth0  Out ifindex 2 1a:e1:c5:fd:ea:d0 ethertype IPv4 (0x0800), length 419: (tos 0x0, ttl 64, id 11547, offset 0, flags [none], proto UDP (17), length 399)
    192.0.2.11.52879 > 192.0.2.12.4789: [bad udp cksum 0x85a4 -> 0x692f!] VXLAN, flags [I] (0x08), vni 1
02:42:0a:f4:01:00 > 02:42:0a:f4:02:00, ethertype IPv4 (0x0800), length 363: (tos 0x0, ttl 63, id 33787, offset 0, flags [DF], proto ICMP (1), length 349)
    10.244.1.2 > 10.244.2.2: ICMP echo request, id 505, seq 0, length 329
1796387786.294095 cni0  In  ifindex 4 b6:2a:66:78:86:65 ethertype IPv4 (0x0800), length 74: (tos 0x0, ttl 62, id 33886, offset 0, flags [DF], proto TCP (6), length 60)
    10.244.1.2.36508 > 10.244.2.2.80: Flags [S], cksum 0x191a (incorrect -> 0xb7d7), seq 3428736204, win 64240, options [mss 1460,sackOK,TS val 2407085240 ecr 0,nop,wscale 10], length 0
	HTTP/1.1 400 Bad Request
tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes
3 packets captured
`;

describe('parseCapture', () => {
  const [veth, udp, tcp] = parseCapture(NODE1);
  it('reads a bridge port\'s frame taken "P" (another host\'s) as coming in, with its ICMP id and seq', () => {
    expect(veth).toEqual({
      time: 1796387808.501404,
      ifname: 'veth1154305d',
      direction: 'in',
      packet: {
        src: '10.244.1.2',
        dst: '10.244.2.2',
        length: 349,
        ttl: 64,
        srcMac: '92:ad:7a:15:19:8c',
        l4: { proto: 'icmp', icmp: { type: 'echo request', id: 505, seq: 0 } },
      },
    });
  });
  it('reads a VXLAN packet: the outer UDP/IP, the VNI, and the inner frame with its MACs', () => {
    expect(udp!.direction).toBe('out');
    expect(udp!.packet).toMatchObject({
      src: '192.0.2.11',
      dst: '192.0.2.12',
      l4: { proto: 'udp', sport: 52879, dport: 4789 },
    });
    expect(udp!.vxlan).toEqual({
      vni: 1,
      inner: {
        src: '10.244.1.2',
        dst: '10.244.2.2',
        length: 349,
        ttl: 63,
        srcMac: '02:42:0a:f4:01:00',
        dstMac: '02:42:0a:f4:02:00',
        l4: { proto: 'icmp', icmp: { type: 'echo request', id: 505, seq: 0 } },
      },
    });
  });
  it('reads TCP ports and flags, and skips payload and summary lines', () => {
    expect(tcp!.packet.l4).toEqual({ proto: 'tcp', sport: 36508, dport: 80, flags: 'S' });
    expect(parseCapture(NODE1)).toHaveLength(3);
  });
});
