// The diff's pure logic: keys, added/removed/changed, duplicates, key order.
import { describe, expect, it } from 'vitest';
import {
  diffRows,
  diffSnapshots,
  fullDiff,
  isEmptyDiff,
  isEmptyKeyedDiff,
  keyedDiff,
  keyedTables,
  keys,
} from './diff.js';
import { applyKeyedDiff } from './keyed.js';
import type { Addr, Fdb, Link, Route } from './snapshot.js';

const link = (index: number, name: string, extra: Partial<Link> = {}): Link => ({
  index,
  name,
  state: 'DOWN',
  flags: ['BROADCAST'],
  mtu: 1500,
  ...extra,
});
const empty = { links: [], addrs: [], routes: [], neighs: [], fdb: [] };

describe('diffRows', () => {
  it('finds added, removed and changed rows by key', () => {
    const before = [link(1, 'lo'), link(2, 'eth0'), link(3, 'gone')];
    const after = [link(1, 'lo'), link(2, 'eth0', { state: 'UP', flags: ['BROADCAST', 'UP'] }), link(4, 'new')];
    const d = diffRows(before, after, keys.link);
    expect(d.added.map((l) => l.name)).toEqual(['new']);
    expect(d.removed.map((l) => l.name)).toEqual(['gone']);
    expect(d.changed).toEqual([
      { before: link(2, 'eth0'), after: link(2, 'eth0', { state: 'UP', flags: ['BROADCAST', 'UP'] }) },
    ]);
  });

  it('keys links by index: a rename is a change, a re-created name with a new index is remove + add', () => {
    const d = diffRows([link(5, 'a'), link(6, 'b')], [link(5, 'renamed'), link(7, 'b')], keys.link);
    expect(d.changed.map((c) => [c.before.name, c.after.name])).toEqual([['a', 'renamed']]);
    expect(d.removed.map((l) => l.index)).toEqual([6]);
    expect(d.added.map((l) => l.index)).toEqual([7]);
  });

  it('ignores key order inside rows and reports nothing for equal tables', () => {
    const a = { index: 1, name: 'lo', state: 'UNKNOWN', flags: [], mtu: 65536 } as Link;
    const b = { mtu: 65536, flags: [], state: 'UNKNOWN', name: 'lo', index: 1 } as Link;
    expect(diffRows([a], [b], keys.link)).toEqual({ added: [], removed: [], changed: [] });
  });

  it('treats a field that appears or disappears as a change (master set on enslaving)', () => {
    const d = diffRows([link(4, 'veth1')], [link(4, 'veth1', { master: 'cni0' })], keys.link);
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0]!.after.master).toBe('cni0');
  });

  it('keeps rows whose keys collide instead of merging them', () => {
    const r = (gateway: string): Route => ({ dst: '10.0.0.0/8', family: 'inet', table: 'main', dev: 'eth0', gateway });
    expect(diffRows([], [r('10.0.0.1'), r('10.0.0.2')], keys.route).added).toHaveLength(2);
    expect(diffRows([r('10.0.0.1')], [r('10.0.0.1'), r('10.0.0.2')], keys.route).added).toEqual([r('10.0.0.2')]);
  });
});

describe('keys', () => {
  it('addr: ifname + local + prefixlen; a new prefix length is a new address', () => {
    const a: Addr = { ifname: 'eth0', family: 'inet', local: '10.0.0.1', prefixlen: 24, scope: 'global' };
    const d = diffRows([a], [{ ...a, prefixlen: 16 }], keys.addr);
    expect([d.added.length, d.removed.length, d.changed.length]).toEqual([1, 1, 0]);
    expect(diffRows([a], [{ ...a, scope: 'link' }], keys.addr).changed).toHaveLength(1);
  });

  it('route: table + family + dst + dev, so IPv4 and IPv6 "default" on one device stay apart', () => {
    const v4: Route = { dst: 'default', family: 'inet', table: 'main', dev: 'eth0', gateway: '10.0.0.1' };
    const v6: Route = { dst: 'default', family: 'inet6', table: 'main', dev: 'eth0', gateway: 'fe80::1' };
    expect(diffRows([v4], [v4, v6], keys.route).added).toEqual([v6]);
    expect(diffRows([v4], [{ ...v4, table: 'local' }], keys.route).added).toHaveLength(1);
    expect(diffRows([v4], [{ ...v4, gateway: '10.0.0.254' }], keys.route).changed).toHaveLength(1);
  });

  it('neigh: dev + dst; a state change is a change', () => {
    const n = { dst: '10.0.0.2', dev: 'eth0', lladdr: '02:00:00:00:00:02', state: ['REACHABLE'] };
    expect(diffRows([n], [{ ...n, state: ['STALE'] }], keys.neigh).changed).toHaveLength(1);
    expect(diffRows([n], [{ ...n, dev: 'eth1' }], keys.neigh).added).toHaveLength(1);
  });

  it('fdb: dev + mac, with dst for VXLAN entries that share the all-zero MAC', () => {
    const z = (dst: string): Fdb => ({
      mac: '00:00:00:00:00:00',
      dev: 'vx0',
      flags: ['self'],
      state: 'permanent',
      dst,
    });
    const d = diffRows([z('192.0.2.12')], [z('192.0.2.12'), z('192.0.2.13')], keys.fdb);
    expect(d.added).toEqual([z('192.0.2.13')]);
    expect(d.changed).toEqual([]);
  });
});

describe('diffSnapshots', () => {
  it('diffs every table and knows an empty diff', () => {
    const s = {
      ...empty,
      links: [link(1, 'lo')],
      addrs: [{ ifname: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }],
    };
    expect(isEmptyDiff(diffSnapshots(s, s))).toBe(true);
    const d = fullDiff(s);
    expect(isEmptyDiff(d)).toBe(false);
    expect(d.links.added).toHaveLength(1);
    expect(d.addrs.added).toHaveLength(1);
    expect(diffSnapshots(s, empty).links.removed).toHaveLength(1);
  });
});

describe('keyed diffs (what netview.diff carries)', () => {
  const before = {
    ...empty,
    links: [link(1, 'lo'), link(2, 'eth0'), link(3, 'gone')],
    addrs: [{ ifname: 'eth0', family: 'inet', local: '10.0.0.1', prefixlen: 24, scope: 'global' }] as Addr[],
  };
  const after = { ...empty, links: [link(1, 'lo'), link(2, 'eth0', { state: 'UP' }), link(4, 'new')], addrs: [] };

  it('names each row by its key: added and changed with the row, removed by key', () => {
    const d = keyedDiff(before, after);
    expect(d.links).toEqual({
      added: [{ key: '4', row: link(4, 'new') }],
      changed: [{ key: '2', row: link(2, 'eth0', { state: 'UP' }) }],
      removed: ['3'],
    });
    expect(d.addrs.removed).toEqual(['eth0|10.0.0.1/24']);
    expect(isEmptyKeyedDiff(keyedDiff(after, after))).toBe(true);
  });

  it('applied to the keyed tables before, gives the keyed tables after', () => {
    const d = keyedDiff(before, after);
    const k = keyedTables(before);
    const sorted = <T>(rows: { key: string; row: T }[]) => [...rows].sort((a, b) => a.key.localeCompare(b.key));
    expect(sorted(applyKeyedDiff(k.links, d.links))).toEqual(sorted(keyedTables(after).links));
    expect(applyKeyedDiff(k.addrs, d.addrs)).toEqual([]);
  });

  it('keeps duplicates apart with the same suffixes the diff uses', () => {
    const r: Route = { dst: 'default', family: 'inet', table: 'main', dev: 'eth0' };
    const k = keyedTables({ ...empty, routes: [r, { ...r, metric: 100 }] });
    expect(k.routes.map((x) => x.key)).toEqual(['main|inet|default|eth0', 'main|inet|default|eth0#2']);
    const d = keyedDiff({ ...empty, routes: [r] }, { ...empty, routes: [r, { ...r, metric: 100 }] });
    expect(d.routes.added.map((x) => x.key)).toEqual(['main|inet|default|eth0#2']);
  });
});
