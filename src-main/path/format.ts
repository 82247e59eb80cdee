// A path as text: one line per hop (namespace, interface, direction, the packet, what moved it on), in 100 columns.
import type { SeenPacket } from './capture-lines.js';
import type { Hop, PathResult } from './follow.js';

export function packetText(p: SeenPacket): string {
  const l = p.l4;
  if (l.icmp) return `${p.src} > ${p.dst} ICMP ${l.icmp.type.replace('echo ', '')} id ${l.icmp.id} seq ${l.icmp.seq}`;
  return `${p.src}:${l.sport} > ${p.dst}:${l.dport} ${l.proto.toUpperCase()}${l.flags ? ` [${l.flags}]` : ''}`;
}

export function decisionParts(h: Hop): string[] {
  const d = h.decision;
  const parts: string[] = [];
  if (d.nat?.backend) parts.push(`DNAT → ${d.nat.backend} (from the ${d.nat.source})`);
  if (d.nat?.serviceChain) parts.push(`${d.nat.serviceChain} → ${d.nat.endpointChain ?? '?'}`);
  if (d.rewritten)
    parts.push(
      `${d.rewritten.field === 'source' ? 'src' : 'dst'} ${d.rewritten.from} → ${d.rewritten.to} (${d.rewritten.by})`,
    );
  if (d.route)
    parts.push(
      !d.route.ok
        ? `route: ${d.route.result}`
        : d.route.type === 'local'
          ? 'local delivery'
          : `route ${d.route.via ? `via ${d.route.via} ` : ''}dev ${d.route.dev}`,
    );
  if (d.neigh)
    parts.push(
      'missing' in d.neigh ? `no neigh ${d.neigh.dst}` : `neigh ${d.neigh.dst} ${d.neigh.lladdr ?? ''}`.trim(),
    );
  if (d.fdb) parts.push(d.fdb.dst ? `fdb → ${d.fdb.dst}` : `fdb ${d.fdb.mac} → ${d.fdb.dev}`);
  if (!parts.length && h.master) parts.push(`bridged (${h.master})`);
  return parts;
}

const INDENT = 30;
const WIDTH = 100;

/** The decision's parts after the indent, as many on a line as fit in WIDTH columns. */
function wrapped(parts: string[]): string[] {
  const lines: string[] = [];
  for (const p of parts) {
    const last = lines[lines.length - 1];
    if (last !== undefined && INDENT + last.length + 2 + p.length <= WIDTH) lines[lines.length - 1] = `${last}; ${p}`;
    else lines.push(p);
  }
  return lines.map((l) => ' '.repeat(INDENT) + l);
}

export function hopLine(h: Hop): string {
  const where = `${h.space.replace(/^pod:/, 'pod/').replace(/^node:/, '')}`.padEnd(12);
  const dev = `${h.ifname}${h.direction === 'in' ? ' ←' : ' →'}`.padEnd(16);
  const pkt = h.vxlan
    ? `${h.packet.src} > ${h.packet.dst} UDP:${h.packet.l4.dport} VNI ${h.vxlan.vni}`
    : packetText(h.packet);
  return [`  ${where}${dev}${pkt}`, ...wrapped(decisionParts(h))].join('\n');
}

export function pathText(title: string, r: PathResult): string {
  const lines = [
    `${title} (${r.marker}; ${r.hops.length} hops${r.transitMs !== undefined ? `; ${r.transitMs} ms` : ''})`,
  ];
  for (const leg of ['request', 'reply'] as const) {
    const hops = r.hops.filter((h) => h.leg === leg);
    if (!hops.length) continue;
    lines.push(` ${leg}:`);
    for (const h of hops) lines.push(hopLine(h));
  }
  if (r.drop)
    lines.push(
      r.drop.lastSeen
        ? ` dropped after ${r.drop.space} ${r.drop.lastSeen.ifname}: ${r.drop.reason} (${r.drop.detail})`
        : ` dropped in ${r.drop.space} before it left: ${r.drop.reason} (${r.drop.detail})`,
    );
  return lines.join('\n');
}
