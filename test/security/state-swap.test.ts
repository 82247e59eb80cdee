// The engine reaches a world's files through a handle on its state folder taken before any lab runs.
// A lab (root in the world) can rename /run/podnet and put a link to a host folder in its place; an
// absolute link would resolve in the engine's own root, so a path through /run/podnet would write the
// host's files. Run as root and as nobody: nothing reaches the host folder.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJsonOf } from '../helpers.js';

const CHILD = join(import.meta.dirname, '../fixtures/state-swap-child.mjs');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['as root', false],
  ['as an unprivileged user (nobody)', true],
])('a lab that swaps /run/podnet for a link to a host folder, %s', (_name, asNobody) => {
  it("does not turn the engine's writes into writes of the host folder", () => {
    // a host folder the world can see read-only (/var/tmp is hidden; /usr is not writable): made here
    const victim = mkdtempSync('/var/tmp/podnet-victim-');
    made.push(victim);
    // the tree a node's config folder would be at, writable by the engine's user, so only the handle stops a write
    const netd = join(victim, 'nodes/node1/etc/cni/net.d');
    mkdirSync(netd, { recursive: true });
    for (const d of [
      victim,
      join(victim, 'nodes'),
      join(victim, 'nodes/node1'),
      join(victim, 'nodes/node1/etc'),
      join(victim, 'nodes/node1/etc/cni'),
      netd,
    ])
      chmodSync(d, 0o777);
    const out = lastJsonOf<{
      swapped: boolean;
      rawWrite: string;
      beneathWrite: string;
      victim: string[];
    }>([process.execPath, CHILD, victim], asNobody);
    // the swap itself is the lab's to make (its own tmpfs): it must have happened for the test to mean anything
    expect(out.swapped).toBe(true);
    expect(out.beneathWrite).toBe('ok');
    expect(out.victim).toEqual([]);
    expect(readdirSync(netd)).toEqual([]);
  });
});
