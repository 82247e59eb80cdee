// Facts that span namespaces: which veth is whose peer, which bridge a port is on, where a VXLAN
// device sends. An ifindex is only unique within its namespace and an nsid only means something to the
// namespace that assigned it, so peers are matched by back-references both ways plus a consistent nsid map.
import type { Target } from '../world/world.js';
import { targetKey, type Link, type NetSnapshot, type VxlanInfo } from './snapshot.js';

export interface LinkRef {
  target: Target;
  link: Link;
}

interface Veth {
  key: string;
  snap: NetSnapshot;
  link: Link;
}

const refKey = (key: string, ifindex: number) => `${key}#${ifindex}`;

export class Topology {
  private readonly snaps = new Map<string, NetSnapshot>();
  /** For each namespace: its nsid → the namespace (key) it was found to mean. */
  readonly nsidMap = new Map<string, Map<number, string>>();
  /** Per namespace, the namespaces its nsids stand for (nsidMap's values, kept for lookups: setNsid). */
  private readonly nsidNamed = new Map<string, Set<string>>();
  private readonly peers = new Map<string, LinkRef>();

  constructor(snapshots: NetSnapshot[]) {
    for (const s of snapshots) {
      this.snaps.set(targetKey(s.target), s);
      this.nsidMap.set(targetKey(s.target), new Map());
    }
    this.seedNamedNsids();
    this.matchPeers();
  }

  /** The other end of a veth, in whichever namespace of the set it lives. */
  peerOf(target: Target, ifname: string): LinkRef | undefined {
    const l = this.link(target, ifname);
    return l && this.peerOfIndex(target, l.index);
  }

  /** The same, for a link of the target's that the caller holds (no lookup by name). */
  peerOfIndex(target: Target, index: number): LinkRef | undefined {
    return this.peers.get(refKey(targetKey(target), index));
  }

  /** The bridge (or other master) a port is enslaved to, in the port's namespace. */
  masterOf(target: Target, ifname: string): Link | undefined {
    const m = this.link(target, ifname)?.master;
    return m === undefined ? undefined : this.link(target, m);
  }

  vxlanOf(target: Target, ifname: string): VxlanInfo | undefined {
    return this.link(target, ifname)?.vxlan;
  }

  /** The namespace an nsid of `target` stands for, when the set tells. */
  nsidTarget(target: Target, nsid: number): Target | undefined {
    const k = this.nsidMap.get(targetKey(target))?.get(nsid);
    return k === undefined ? undefined : this.snaps.get(k)!.target;
  }

  link(target: Target, ifname: string): Link | undefined {
    return this.snaps.get(targetKey(target))?.links.find((l) => l.name === ifname);
  }

  private setNsid(key: string, nsid: number, to: string): void {
    this.nsidMap.get(key)!.set(nsid, to);
    const named = this.nsidNamed.get(key);
    if (named) named.add(to);
    else this.nsidNamed.set(key, new Set([to]));
  }

  /** Names from `ip netns list-id` are pins in /run/netns, which a node and its pods share. */
  private seedNamedNsids(): void {
    // pods by node and pin, once: a lookup per named nsid went through every namespace (200 pods: 40,000)
    const pods = new Map<string, string>();
    for (const [k, p] of this.snaps)
      if (p.target.kind === 'pod') pods.set(`${p.target.node}|${p.target.netns.split('/').pop()}`, k);
    for (const [k, s] of this.snaps) {
      if (s.target.kind === 'sandbox') continue;
      for (const { nsid, name } of s.nsids) {
        const pod = name ? pods.get(`${s.target.node}|${name}`) : undefined;
        if (pod) this.setNsid(k, nsid, pod);
      }
    }
  }

  private matchPeers(): void {
    const veths: Veth[] = [];
    for (const [key, snap] of this.snaps) {
      for (const link of snap.links)
        if (link.kind === 'veth' && link.peerIndex !== undefined) veths.push({ key, snap, link });
    }
    const paired = new Set<string>();
    const pair = (a: Veth, b: Veth) => {
      this.peers.set(refKey(a.key, a.link.index), { target: b.snap.target, link: b.link });
      this.peers.set(refKey(b.key, b.link.index), { target: a.snap.target, link: a.link });
      paired.add(refKey(a.key, a.link.index)).add(refKey(b.key, b.link.index));
      if (a.link.netnsId !== undefined) this.setNsid(a.key, a.link.netnsId, b.key);
      if (b.link.netnsId !== undefined) this.setNsid(b.key, b.link.netnsId, a.key);
    };
    // Each nsid maps to one namespace and each namespace has one nsid: a side's known map must agree.
    const fits = (from: Veth, nsid: number, to: string) => {
      const m = this.nsidMap.get(from.key)!;
      const known = m.get(nsid);
      if (known !== undefined) return known === to;
      return !this.nsidNamed.get(from.key)?.has(to);
    };
    // only a veth whose index is a's peerIndex and whose peerIndex is a's index can be a's peer
    const byEnds = new Map<string, Veth[]>();
    for (const v of veths) {
      const k = `${v.link.index}|${v.link.peerIndex}`;
      const list = byEnds.get(k);
      if (list) list.push(v);
      else byEnds.set(k, [v]);
    }
    const candidates = (a: Veth) =>
      (byEnds.get(`${a.link.peerIndex}|${a.link.index}`) ?? []).filter((b) => {
        if (
          paired.has(refKey(b.key, b.link.index)) ||
          b.link.index !== a.link.peerIndex ||
          b.link.peerIndex !== a.link.index
        )
          return false;
        // no link_netnsid: the peer is in the same namespace
        if (a.link.netnsId === undefined || b.link.netnsId === undefined)
          return a.link.netnsId === b.link.netnsId && a.key === b.key && a !== b;
        return a.key !== b.key && fits(a, a.link.netnsId, b.key) && fits(b, b.link.netnsId, a.key);
      });
    // A known nsid (or the same namespace) pins the peer; otherwise only a match unique from both sides is
    // taken. Each match narrows the nsid maps, which can make another unique: repeat until nothing moves.
    for (let progress = true; progress;) {
      progress = false;
      for (const a of veths) {
        if (paired.has(refKey(a.key, a.link.index))) continue;
        const cands = candidates(a);
        const pinned = a.link.netnsId === undefined || this.nsidMap.get(a.key)!.has(a.link.netnsId);
        if (cands.length === 1 && (pinned || candidates(cands[0]!).length === 1)) {
          pair(a, cands[0]!);
          progress = true;
        }
      }
    }
  }
}

export function resolveTopology(snapshots: NetSnapshot[]): Topology {
  return new Topology(snapshots);
}
