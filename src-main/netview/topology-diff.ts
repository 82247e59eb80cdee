// The topology sent as what changed: whole namespaces added or changed, ids removed, the order when the
// set changed, and the tunnels (few, always whole). Pure, with type imports only: the renderer shares it.
import type { Topology, TopologyDiff, TopoNamespace } from '../api/contract.js';

/** Each namespace's JSON, kept per object: a namespace is compared by its text once. */
const texts = new WeakMap<TopoNamespace, string>();
const textOf = (n: TopoNamespace): string => {
  let t = texts.get(n);
  if (t === undefined) texts.set(n, (t = JSON.stringify(n)));
  return t;
};

/** What turns `prev` into `next`; `base` is prev's seq, so a receiver that holds another knows to fetch it whole. */
export function diffTopology(prev: Topology, next: Topology): TopologyDiff {
  const before = new Map(prev.namespaces.map((n) => [n.id, n]));
  const ids = new Set(next.namespaces.map((n) => n.id));
  const upsert = next.namespaces.filter((n) => {
    const old = before.get(n.id);
    // the builder keeps an unchanged namespace's object: only the others are compared by their text
    return !old || (old !== n && textOf(old) !== textOf(n));
  });
  const remove = prev.namespaces.filter((n) => !ids.has(n.id)).map((n) => n.id);
  const sameOrder =
    prev.namespaces.length === next.namespaces.length &&
    prev.namespaces.every((n, i) => n.id === next.namespaces[i]!.id);
  return {
    seq: next.seq,
    base: prev.seq,
    at: next.at,
    upsert,
    remove,
    ...(sameOrder ? {} : { order: next.namespaces.map((n) => n.id) }),
    tunnels: next.tunnels,
  };
}

/** `prev` with a diff applied; namespaces the diff does not name keep their objects (the renderer's memo keys). */
export function applyTopologyDiff(prev: Topology, d: TopologyDiff): Topology {
  if (d.base !== prev.seq) throw new Error(`a topology diff from seq ${d.base} does not apply to seq ${prev.seq}`);
  const byId = new Map(prev.namespaces.map((n) => [n.id, n]));
  for (const id of d.remove) byId.delete(id);
  const order = d.order ?? prev.namespaces.map((n) => n.id).filter((id) => byId.has(id));
  for (const n of d.upsert) byId.set(n.id, n);
  const namespaces = order.map((id) => {
    const n = byId.get(id);
    if (!n) throw new Error(`a topology diff orders namespace "${id}" that neither it nor seq ${prev.seq} holds`);
    return n;
  });
  return { seq: d.seq, at: d.at, namespaces, tunnels: d.tunnels };
}
