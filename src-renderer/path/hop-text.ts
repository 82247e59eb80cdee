// A hop in words, for the list and the details: where (namespace, interface), which way, the packet as seen
// there, and what moved it on (route lookup, neighbour, FDB, the DNAT's chain and backend, an address rewritten).
import type { Decision, Hop, PathResult, SeenPacket } from './types.ts';

/** "pod client", "node1": the namespace as the topology labels it. */
export const spaceLabel = (space: string) =>
  space.startsWith('pod:') ? `pod ${space.slice(4)}` : space.startsWith('node:') ? space.slice(5) : space;

export const directionWords = (h: Pick<Hop, 'direction'>) => (h.direction === 'in' ? 'in (arriving)' : 'out (leaving)');

/** The packet as tcpdump would sum it up: addresses, ports or ICMP id/seq, TCP flags. */
export function packetLine(p: SeenPacket): string {
  const l = p.l4;
  if (l.icmp) return `${p.src} > ${p.dst} ICMP ${l.icmp.type} id ${l.icmp.id} seq ${l.icmp.seq}`;
  return `${p.src}:${l.sport ?? '?'} > ${p.dst}:${l.dport ?? '?'} ${l.proto.toUpperCase()}${l.flags ? ` [${l.flags}]` : ''}`;
}

/** One line for the hop list: the packet as it is there (a VXLAN packet by its outer header and VNI). */
export function hopSummary(h: Hop): string {
  if (h.vxlan) return `${h.packet.src} > ${h.packet.dst} UDP ${h.packet.l4.dport ?? ''} VNI ${h.vxlan.vni}`.trim();
  return packetLine(h.packet);
}

/** What moved it on, in a few words (the list's second line). */
export function decisionBrief(h: Hop): string {
  const d = h.decision;
  const parts: string[] = [];
  if (d.nat?.backend) parts.push(`DNAT → ${d.nat.backend}`);
  else if (d.rewritten) parts.push(`${d.rewritten.field === 'source' ? 'src' : 'dst'} → ${d.rewritten.to}`);
  if (d.route)
    parts.push(
      !d.route.ok
        ? 'no route'
        : d.route.type === 'local'
          ? 'local delivery'
          : `route ${d.route.via ? `via ${d.route.via} ` : ''}dev ${d.route.dev ?? '?'}`,
    );
  if (d.neigh && 'missing' in d.neigh) parts.push(`no neighbour ${d.neigh.dst}`);
  if (d.fdb) parts.push(d.fdb.dst ? `FDB → ${d.fdb.dst}` : `FDB → ${d.fdb.dev}`);
  if (!parts.length && h.master) parts.push(`bridged by ${h.master}`);
  return parts.join(' · ');
}

export interface DetailRow {
  /** The row's name (and its test id: path-detail-<key>). */
  key: string;
  label: string;
  value: string;
  /** Shown as typed (a command, a rule). */
  mono?: boolean;
}

function neighText(n: NonNullable<Decision['neigh']>): string {
  if ('missing' in n) return `${n.dst} dev ${n.dev}: no entry`;
  return `${n.dst} dev ${n.dev}${n.lladdr ? ` lladdr ${n.lladdr}` : ''}${n.state.length ? ` ${n.state.join(' ')}` : ''}`;
}

function fdbText(f: NonNullable<Decision['fdb']>): string {
  return [f.mac, `dev ${f.dev}`, f.dst && `dst ${f.dst}`, f.master && `master ${f.master}`, f.state, ...(f.flags ?? [])]
    .filter(Boolean)
    .join(' ');
}

/** The hop's details, row by row: where, the packet, the outer header, then each decision. */
export function hopDetails(r: PathResult, i: number): DetailRow[] {
  const h = r.hops[i]!;
  const t0 = r.hops[0]?.time ?? h.time;
  const rows: DetailRow[] = [
    { key: 'namespace', label: 'namespace', value: `${spaceLabel(h.space)} (${h.space})` },
    {
      key: 'interface',
      label: 'interface',
      value: [h.ifname, h.kind && `(${h.kind})`, h.master && `on bridge ${h.master}`].filter(Boolean).join(' '),
    },
    { key: 'direction', label: 'direction', value: directionWords(h) },
    { key: 'time', label: 'time', value: `+${((h.time - t0) * 1e3).toFixed(3)} ms (kernel stamp)` },
  ];
  const inner = h.vxlan?.inner;
  if (h.vxlan && inner) {
    rows.push(
      {
        key: 'vxlan',
        label: 'outer',
        value: `${h.packet.src} > ${h.packet.dst} UDP ${h.packet.l4.sport ?? '?'} > ${h.packet.l4.dport ?? '?'}, VNI ${h.vxlan.vni}`,
        mono: true,
      },
      { key: 'packet', label: 'inner', value: packetLine(inner), mono: true },
    );
    if (inner.srcMac || inner.dstMac)
      rows.push({
        key: 'macs',
        label: 'inner MACs',
        value: `${inner.srcMac ?? '?'} > ${inner.dstMac ?? '?'}`,
        mono: true,
      });
  } else rows.push({ key: 'packet', label: 'packet', value: packetLine(h.packet), mono: true });
  rows.push({ key: 'ip', label: 'IP', value: `length ${h.packet.length}, ttl ${h.packet.ttl}` });
  if (!h.vxlan && h.packet.srcMac)
    rows.push({
      key: 'macs',
      label: 'source MAC',
      value: h.packet.srcMac + (h.packet.dstMac ? ` > ${h.packet.dstMac}` : ''),
      mono: true,
    });

  const d = h.decision;
  if (d.rewritten)
    rows.push({
      key: 'rewritten',
      label: 'rewritten',
      value: `${d.rewritten.field} ${d.rewritten.from} → ${d.rewritten.to} (${d.rewritten.by})`,
      mono: true,
    });
  if (d.route) {
    rows.push({ key: 'route-command', label: 'route lookup', value: d.route.command, mono: true });
    rows.push({ key: 'route', label: d.route.ok ? 'result' : 'failed', value: d.route.result, mono: true });
  }
  if (d.neigh) rows.push({ key: 'neigh', label: 'neighbour', value: neighText(d.neigh), mono: true });
  if (d.fdb) rows.push({ key: 'fdb', label: 'FDB', value: fdbText(d.fdb), mono: true });
  if (d.nat) {
    if (d.nat.serviceChain)
      rows.push({
        key: 'nat-chain',
        label: 'DNAT chain',
        value: `${d.nat.serviceChain} → ${d.nat.endpointChain ?? '?'}`,
        mono: true,
      });
    if (d.nat.dnatRule) rows.push({ key: 'nat-rule', label: 'DNAT rule', value: d.nat.dnatRule, mono: true });
    if (d.nat.backend) rows.push({ key: 'nat-backend', label: 'backend', value: d.nat.backend, mono: true });
    rows.push({
      key: 'nat-source',
      label: 'read from',
      value:
        d.nat.source === 'trace'
          ? "the firewall's own trace (TRACE, xtables-monitor)"
          : 'the nat rules whose counters moved (iptables-save -c): a rule matched some packet, not necessarily this one',
    });
  }
  return rows;
}

/** The nat rules the packet met, in order, as iptables-save prints them (for the details' rule list). */
export function natRules(h: Hop): { chain: string; verdict: string; rule: string }[] {
  return (h.decision.nat?.rules ?? [])
    .filter((x) => x.rule)
    .map((x) => ({ chain: x.chain, verdict: x.verdict, rule: x.rule }));
}

/** The result in one line: what was followed, how far, how long. */
export function resultTitle(r: PathResult): string {
  const kind = r.kind === 'icmp' ? 'ping' : r.kind.toUpperCase();
  const legs = (['request', 'reply'] as const).filter((l) => r.hops.some((h) => h.leg === l)).join(' and ');
  return `${kind} ${spaceLabel(r.from)} → ${r.to}: ${r.hops.length} hops${legs ? ` (${legs})` : ''}${r.transitMs !== undefined ? `, ${r.transitMs} ms through the kernel` : ''}`;
}
