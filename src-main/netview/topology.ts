// The world's topology as the renderer draws it: every namespace with its interfaces and addresses,
// veth peers resolved across namespaces, and VXLAN tunnels matched to the node that holds the remote.
import type { Topology as TopologyMsg, TopoLink, TopoNamespace } from '../api/contract.js';
import type { Target } from '../world/world.js';
import { resolveTopology } from './resolve.js';
import { targetKey, type Link, type NetSnapshot } from './snapshot.js';

/** A namespace as the contract names it, with its snapshot. */
export interface NamedSnapshot {
  id: string;
  kind: 'sandbox' | 'node' | 'pod';
  label: string;
  node?: string;
  pod?: string;
  snapshot: NetSnapshot;
}

const kindOrder = { sandbox: 0, node: 1, pod: 2 } as const;

/**
 * Each snapshot's namespace as last built: a namespace whose snapshot is the same object (the watch replaces
 * a snapshot when it reads the namespace again), under the same names and with the same peers, keeps its
 * object, so a change in one namespace of a 200-pod world builds one, and the diff compares one.
 */
const built = new WeakMap<NetSnapshot, TopoNamespace>();

export function buildTopology(spaces: NamedSnapshot[], seq: number, at = Date.now()): TopologyMsg {
  const sorted = [...spaces].sort(
    (a, b) =>
      kindOrder[a.kind] - kindOrder[b.kind] || (a.node ?? '').localeCompare(b.node ?? '') || a.id.localeCompare(b.id),
  );
  const topo = resolveTopology(sorted.map((s) => s.snapshot));
  const idOf = new Map(sorted.map((s) => [targetKey(s.snapshot.target), s.id]));
  const peerOf = (t: Target, l: Link): TopoLink['peer'] => {
    const peer = l.kind === 'veth' ? topo.peerOfIndex(t, l.index) : undefined;
    const ns = peer && idOf.get(targetKey(peer.target));
    return peer && ns ? { ns, name: peer.link.name, index: peer.link.index } : undefined;
  };
  const namespaces: TopoNamespace[] = sorted.map((s) => {
    // each link's peer, resolved once: to see whether the namespace built last time still holds, and to build it
    const peers = s.snapshot.links.map((l) => peerOf(s.snapshot.target, l));
    const old = built.get(s.snapshot);
    if (old && sameNames(old, s) && peers.every((p, i) => samePeer(old.links[i]!.peer, p))) return old;
    const n = buildNamespace(s, peers);
    built.set(s.snapshot, n);
    return n;
  });
  return { seq, at, namespaces, tunnels: tunnels(sorted) };
}

const sameNames = (n: TopoNamespace, s: NamedSnapshot) =>
  n.id === s.id && n.kind === s.kind && n.label === s.label && n.node === s.node && n.pod === s.pod;

const samePeer = (a: TopoLink['peer'], b: TopoLink['peer']) =>
  a === b || (!!a && !!b && a.ns === b.ns && a.name === b.name && a.index === b.index);

/** A namespace as the contract draws it; `peers[i]` is the peer of the snapshot's i-th link. */
function buildNamespace(s: NamedSnapshot, peers: TopoLink['peer'][]): TopoNamespace {
  // each link's addresses, grouped once (a node with 100 pods has ~100 links and ~100 addresses)
  const addrsOf = new Map<string, string[]>();
  for (const a of s.snapshot.addrs) {
    const list = addrsOf.get(a.ifname);
    if (list) list.push(`${a.local}/${a.prefixlen}`);
    else addrsOf.set(a.ifname, [`${a.local}/${a.prefixlen}`]);
  }
  const links = s.snapshot.links.map((l, i): TopoLink => {
    const peer = peers[i];
    return {
      index: l.index,
      name: l.name,
      state: l.state,
      mtu: l.mtu,
      ...(l.kind ? { kind: l.kind } : {}),
      ...(l.mac ? { mac: l.mac } : {}),
      ...(l.master ? { master: l.master } : {}),
      addrs: addrsOf.get(l.name) ?? [],
      ...(peer ? { peer } : {}),
      ...(l.vxlan ? { vxlan: l.vxlan } : {}),
    };
  });
  return {
    id: s.id,
    kind: s.kind,
    label: s.label,
    ...(s.node ? { node: s.node } : {}),
    ...(s.pod ? { pod: s.pod } : {}),
    links,
  };
}

/** Each VXLAN device's remotes (its own `remote` and the FDB's dst entries on it), matched to the node holding that address. */
function tunnels(spaces: NamedSnapshot[]): TopologyMsg['tunnels'] {
  const nodes = spaces.filter((s) => s.kind === 'node');
  const out: TopologyMsg['tunnels'] = [];
  for (const s of nodes) {
    for (const l of s.snapshot.links) {
      if (!l.vxlan) continue;
      const remotes = new Set<string>();
      if (l.vxlan.remote) remotes.add(l.vxlan.remote);
      for (const f of s.snapshot.fdb) if (f.dev === l.name && f.dst) remotes.add(f.dst);
      for (const remote of remotes) {
        const there = nodes.find((n) => n !== s && n.snapshot.addrs.some((a) => a.local === remote));
        const dev = there?.snapshot.links.find((x) => x.vxlan?.vni === l.vxlan!.vni);
        out.push({
          from: { ns: s.id, name: l.name, index: l.index },
          remote,
          vni: l.vxlan.vni,
          ...(there && dev ? { to: { ns: there.id, name: dev.name, index: dev.index } } : {}),
        });
      }
    }
  }
  return out;
}
