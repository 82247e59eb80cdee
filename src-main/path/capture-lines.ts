// tcpdump's per-packet lines (`-i any -l -n -e -tt -vv`, Linux cooked v2) → packets: the interface and
// direction the kernel gives, the IP header, ICMP id/seq or TCP/UDP ports, and for VXLAN the inner frame.

export type Direction = 'in' | 'out';

export interface L4 {
  proto: 'icmp' | 'tcp' | 'udp';
  /** ICMP: echo request/reply, its id and seq. */
  icmp?: { type: string; id: number; seq: number };
  sport?: number;
  dport?: number;
  /** TCP flags as tcpdump prints them: S, S., ., P., F. … */
  flags?: string;
}

export interface SeenPacket {
  src: string;
  dst: string;
  /** The IP total length (the marker's size shows in it). */
  length: number;
  ttl: number;
  srcMac?: string;
  dstMac?: string;
  l4: L4;
}

export interface Captured {
  /** Seconds since the epoch, as the kernel stamped the packet. */
  time: number;
  ifname: string;
  direction: Direction;
  /** The frame as seen (for a VXLAN packet on the underlay: the outer UDP/IP). */
  packet: SeenPacket;
  /** A VXLAN packet's VNI and the inner frame it carries. */
  vxlan?: { vni: number; inner: SeenPacket };
}

// "1796387808.501404 veth1154305d P   ifindex 5 92:ad:… ethertype IPv4 (0x0800), length 369: (tos …"
const HEAD =
  /^(\d+\.\d+) (\S+)\s+(In|Out|P|B|M)\s+ifindex \d+ ([0-9a-f:]{17}) ethertype IPv4 \(0x0800\), length \d+: (.*)$/;
// "(tos 0x0, ttl 64, id 33787, offset 0, flags [DF], proto ICMP (1), length 349)"
const IPHDR = /\(tos \S+, ttl (\d+), id \d+, offset \d+, flags \[[^\]]*\], proto (\w+) \(\d+\), length (\d+)\)/;
// an inner frame: "02:42:0a:f4:01:00 > 02:42:0a:f4:02:00, ethertype IPv4 (0x0800), length 363: (tos …"
const INNER = /^([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype IPv4 \(0x0800\), length \d+: (.*)$/;
const ICMP = /^(\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+): ICMP (echo request|echo reply), id (\d+), seq (\d+)/;
const PORTS = /^(\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$/;
const VXLAN = /VXLAN, flags \[I\] \(0x08\), vni (\d+)/;

function l4Of(proto: string, line: string): { src: string; dst: string; l4: L4 } | undefined {
  if (proto === 'ICMP') {
    const m = ICMP.exec(line);
    if (!m) return undefined;
    const type = m[3]!;
    return { src: m[1]!, dst: m[2]!, l4: { proto: 'icmp', icmp: { type, id: Number(m[4]), seq: Number(m[5]) } } };
  }
  const m = PORTS.exec(line);
  if (!m) return undefined;
  const [, src, sport, dst, dport, rest] = m;
  const base = { src: src!, dst: dst!, sport: Number(sport), dport: Number(dport) };
  if (proto === 'TCP') {
    const flags = /^Flags \[([^\]]*)\]/.exec(rest!)?.[1];
    return {
      src: base.src,
      dst: base.dst,
      l4: { proto: 'tcp', sport: base.sport, dport: base.dport, ...(flags ? { flags } : {}) },
    };
  }
  if (proto === 'UDP')
    return { src: base.src, dst: base.dst, l4: { proto: 'udp', sport: base.sport, dport: base.dport } };
  return undefined;
}

/** Parses a capture's output; lines it does not know (payload dumps, the summary) are skipped. */
export function parseCapture(text: string): Captured[] {
  const lines = text.split('\n');
  const out: Captured[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = HEAD.exec(lines[i]!);
    if (!head) continue;
    const ip = IPHDR.exec(head[5]!);
    const next = lines[i + 1]?.trim();
    if (!ip || !next) continue;
    const l = l4Of(ip[2]!, next);
    if (!l) continue;
    const dir = head[3] === 'Out' ? 'out' : 'in';
    const packet: SeenPacket = {
      src: l.src,
      dst: l.dst,
      length: Number(ip[3]),
      ttl: Number(ip[1]),
      // cooked captures carry the link-layer source only (the destination MAC is not in the SLL2 header)
      srcMac: head[4]!,
      l4: l.l4,
    };
    const c: Captured = { time: Number(head[1]), ifname: head[2]!, direction: dir, packet };
    const vx = VXLAN.exec(next);
    const inner = vx ? INNER.exec(lines[i + 2]?.trim() ?? '') : null;
    const innerIp = inner ? IPHDR.exec(inner[3]!) : null;
    const innerL4 = innerIp ? l4Of(innerIp[2]!, lines[i + 3]?.trim() ?? '') : undefined;
    if (vx && inner && innerIp && innerL4)
      c.vxlan = {
        vni: Number(vx[1]),
        inner: {
          src: innerL4.src,
          dst: innerL4.dst,
          length: Number(innerIp[3]),
          ttl: Number(innerIp[1]),
          srcMac: inner[1]!,
          dstMac: inner[2]!,
          l4: innerL4.l4,
        },
      };
    out.push(c);
  }
  return out;
}
