// `ip -d monitor`'s text, read as events: iproute2 6.1 prints text even with -json, so each event's first
// line says what kind of object changed (link, address, route, neighbour, bridge FDB), in which namespace
// (`[nsid N]` with all-nsid) and whether it was deleted; a link's event in the monitor's own namespace
// carries the whole row. Pure functions: the watch decides what to apply and what to re-read.
import type { Link, TableName, VxlanInfo } from './snapshot.js';

export type EventKind = 'link' | 'addr' | 'route' | 'neigh' | 'fdb' | 'other';

export interface MonitorEvent {
  /** 'current' for the monitor's own namespace (also when the monitor is not all-nsid), else the nsid. */
  nsid: 'current' | number;
  kind: EventKind;
  deleted: boolean;
  /** The event's lines, the `[nsid …]` prefix and "Deleted " taken off the first. */
  lines: string[];
}

const NSID = /^\[nsid (current|\d+)\]/;
const ROUTE_TYPES = /^(unicast|local|broadcast|multicast|anycast|blackhole|unreachable|prohibit|throw|nat|xresolve)\s/;

export function kindOf(first: string): EventKind {
  if (/^\d+: [^\s:]+: </.test(first)) return 'link';
  if (/^\d+: \S+\s+inet6? /.test(first)) return 'addr';
  if (ROUTE_TYPES.test(first)) return 'route';
  // AF_BRIDGE neighbours (the FDB) are printed with no destination address
  if (/^dev \S+ /.test(first)) return 'fdb';
  if (/^[0-9a-fA-F.:]+ dev \S+/.test(first)) return 'neigh';
  return 'other';
}

/** What an event of each kind can change, so only those tables are read again. */
export function tablesOf(e: MonitorEvent): TableName[] {
  switch (e.kind) {
    case 'link':
      // a link deleted takes its addresses, routes, neighbours and FDB rows along
      if (e.deleted && isWholeLink(e)) return ['links', 'addrs', 'routes', 'neighs', 'fdb'];
      // IPv4 routes leave with their link (down or deleted) with no event of their own, routes' linkdown flags
      // too, and a device's own multicast addresses (its "self" FDB rows) come and go with it unannounced
      return ['links', 'routes', 'fdb'];
    case 'addr':
      // an IPv6 address brings its solicited-node multicast group (a "self" FDB row), unannounced
      return ['addrs', 'fdb'];
    case 'route':
      return ['routes'];
    case 'neigh':
      return ['neighs'];
    case 'fdb':
      return ['fdb'];
    default:
      return ['links', 'addrs', 'routes', 'neighs', 'fdb'];
  }
}

/** Splits a monitor's output into events; ip flushes after each, so a chunk that ends a line ends an event. */
export class MonitorLines {
  private partial = '';
  private current: MonitorEvent | undefined;

  push(chunk: string): MonitorEvent[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out: MonitorEvent[] = [];
    for (const line of lines) {
      if (!line) continue;
      if (/^\s/.test(line)) {
        this.current?.lines.push(line);
        continue;
      }
      if (this.current) out.push(this.current);
      const m = NSID.exec(line);
      let first = m ? line.slice(m[0].length) : line;
      const deleted = first.startsWith('Deleted ');
      if (deleted) first = first.slice('Deleted '.length);
      this.current = {
        nsid: !m || m[1] === 'current' ? 'current' : Number(m[1]),
        kind: kindOf(first),
        deleted,
        lines: [first],
      };
    }
    if (this.current && !this.partial) {
      out.push(this.current);
      this.current = undefined;
    }
    return out;
  }
}

/** Words that start a -d line but name no link kind. */
const NOT_KINDS = new Set(['numtxqueues', 'addrgenmode', 'altname', 'vf', 'prop', 'alt']);

/**
 * The row a link event in the monitor's own namespace describes, as `ip -json -d link show` would give it,
 * or undefined when the event is not a whole link (the bridge's per-port messages print only a few fields).
 * peerOf names a link of this namespace by name (a veth's "x0@x1").
 */
export function parseLinkEvent(e: MonitorEvent, peerOf: (name: string) => number | undefined): Link | undefined {
  if (e.kind !== 'link') return undefined;
  const head = /^(\d+): ([^@:\s]+)(?:@([^:\s]+))?: <([^>]*)> (.*)$/.exec(e.lines[0]!);
  if (!head) return undefined;
  const rest = head[5]!;
  if (!isWholeLink(e)) return undefined;
  const word = (re: RegExp, s: string) => re.exec(s)?.[1];
  const l2 = e.lines[1]?.trim() ?? '';
  const ll = /^link\/(\S+)(?: (\S+))?/.exec(l2);
  const mac = ll && ll[1] !== 'none' && ll[2] && ll[2] !== 'brd' && ll[2] !== 'promiscuity' ? ll[2] : undefined;
  const netnsId = word(/\blink-netnsid (\d+)/, l2);
  let kind: string | undefined;
  let slaveKind: string | undefined;
  let vxlan: VxlanInfo | undefined;
  for (const raw of e.lines.slice(2)) {
    const line = raw.trim();
    const first = line.split(/\s+/)[0] ?? '';
    if (!first || NOT_KINDS.has(first)) continue;
    const slave = /^(\w+)_slave$/.exec(first);
    if (slave) {
      slaveKind ??= slave[1];
      continue;
    }
    if (kind) continue;
    kind = first;
    if (kind === 'vxlan') {
      const w = (k: string) => word(new RegExp(`\\b${k} (\\S+)`), line);
      const port = w('dstport');
      vxlan = clean<VxlanInfo>({
        vni: Number(w('id')),
        remote: w('remote'),
        group: w('group'),
        local: w('local'),
        port: port === undefined ? undefined : Number(port),
        dev: w('dev'),
      });
    }
  }
  const at = head[3];
  const peerIndex =
    at === undefined || at === 'NONE' ? undefined : /^if\d+$/.test(at) ? Number(at.slice(2)) : peerOf(at);
  const mtu = word(/\bmtu (\d+)/, rest);
  return clean<Link>({
    index: Number(head[1]),
    name: head[2]!,
    state: word(/\bstate (\S+)/, rest) ?? 'UNKNOWN',
    flags: head[4] ? head[4].split(',') : [],
    mtu: mtu === undefined ? 0 : Number(mtu),
    master: word(/\bmaster (\S+)/, rest),
    mac,
    kind,
    slaveKind,
    peerIndex,
    netnsId: netnsId === undefined ? undefined : Number(netnsId),
    vxlan,
  });
}

/**
 * A link's own message, not the bridge's message about one of its ports (those print no qdisc or group,
 * and a port leaving its bridge is a "Deleted" one of them).
 */
export function isWholeLink(e: MonitorEvent): boolean {
  return e.kind === 'link' && /\bqdisc \S+/.test(e.lines[0]!) && /\bgroup \S+/.test(e.lines[0]!);
}

/** The index and name a link event is about (also for a deleted link). */
export function linkOf(e: MonitorEvent): { index: number; name: string } | undefined {
  const m = e.kind === 'link' ? /^(\d+): ([^@:\s]+)/.exec(e.lines[0]!) : null;
  return m ? { index: Number(m[1]), name: m[2]! } : undefined;
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
