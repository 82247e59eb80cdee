// The world's watch hears a pod namespace made or removed by anyone, not only by the runtime: a lab command's
// `ip netns add` in a node shows up in the live views, and goes when it is deleted.
import { describe, expect, it } from 'vitest';
import { withWorld } from '../../test/helpers.js';
import { podTarget, WorldWatch } from './world-watch.js';
import { readNamespace, targetKey, type Link, type NetSnapshot } from './snapshot.js';
import type { NsChange } from './world-watch.js';

/** The first `event` of the watch whose key is `key`, within ms. */
function next(w: WorldWatch, event: 'added' | 'gone', key: string, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (w.off(event, on), reject(new Error(`no "${event}" for ${key} within ${ms} ms`))), ms);
    const on = (e: { key: string }) => {
      if (e.key !== key) return;
      clearTimeout(t);
      w.off(event, on);
      resolve();
    };
    w.on(event, on);
  });
}

describe('WorldWatch', () => {
  it('hears `ip netns add` and `ip netns delete` run in a node, with no pod event to prompt it', () =>
    withWorld(1, async (world) => {
      const w = await WorldWatch.start(world);
      const node1 = { kind: 'node' as const, node: 'node1' };
      try {
        // several in a row: the node's nsid events alone announced only the first ones
        for (const name of ['lab1', 'lab2', 'lab3', 'lab4']) {
          const key = targetKey(podTarget('node1', name));
          const added = next(w, 'added', key);
          await world.run(node1, ['ip', 'netns', 'add', name]);
          await added;
          expect(w.snapshots.get(key)?.links.map((l) => l.name)).toEqual(['lo']);
        }
        for (const name of ['lab1', 'lab2', 'lab3', 'lab4']) {
          const key = targetKey(podTarget('node1', name));
          const gone = next(w, 'gone', key);
          await world.run(node1, ['ip', 'netns', 'delete', name]);
          await gone;
          expect(w.snapshots.has(key)).toBe(false);
        }
      } finally {
        await w.close();
      }
    }));

  it('reports a veth pair made or deleted in one command as one change, both links in it', () =>
    withWorld(1, async (world) => {
      const w = await WorldWatch.start(world);
      const node1 = { kind: 'node' as const, node: 'node1' };
      const key = targetKey(node1);
      const firstChange = () =>
        new Promise<string[]>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no change within 3 s')), 3000);
          const on = (c: NsChange) => {
            if (c.key !== key) return;
            const names = (s: NetSnapshot) => new Set(s.links.map((l) => l.name));
            const [a, b] = [names(c.before), names(c.snapshot)];
            const moved = [...b].filter((n) => !a.has(n)).concat([...a].filter((n) => !b.has(n)));
            if (!moved.length) return; // a confirming read of something else
            clearTimeout(t);
            w.off('change', on);
            resolve(moved.sort());
          };
          w.on('change', on);
        });
      try {
        for (let i = 0; i < 3; i++) {
          const made = firstChange();
          await world.run(node1, ['ip', 'link', 'add', `cw${i}a`, 'type', 'veth', 'peer', 'name', `cw${i}b`]);
          expect(await made).toEqual([`cw${i}a`, `cw${i}b`]);
          // both rows as ip -json reads them, before any read: each names its peer, both M-DOWN
          const pair = (links: Link[]) => links.filter((l) => l.name.startsWith(`cw${i}`));
          expect(pair(w.snapshots.get(key)!.links)).toEqual(pair((await readNamespace(world, node1)).links));
          const gone = firstChange();
          await world.run(node1, ['ip', 'link', 'del', `cw${i}a`]);
          expect(await gone).toEqual([`cw${i}a`, `cw${i}b`]);
        }
        // a link alone is reported at once, not held for a peer
        const one = firstChange();
        await world.run(node1, ['ip', 'link', 'add', 'cwbr', 'type', 'bridge']);
        expect(await one).toEqual(['cwbr']);
      } finally {
        await w.close();
      }
    }));
});
