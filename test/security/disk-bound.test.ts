// The world's disk bound is settable and checked: a bound a world cannot work with is refused before
// anything starts; writes stop at the bound with ENOSPC, on the world's tmpfs (never the host's disk),
// and the world says its disk is full until room is made.
import { statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWorld, DEFAULT_LIMITS, WorldError } from '../../src-main/world/world.js';
import { failure } from '../helpers.js';

describe("the world's disk", () => {
  it('is 512 MiB by default, and refuses a bound a world cannot work with', async () => {
    expect(DEFAULT_LIMITS.diskBytes).toBe(512 * 1024 ** 2);
    for (const diskBytes of [-1, 1.5, 1024 ** 2]) {
      const e = await failure(createWorld({ nodes: 1, limits: { diskBytes } }));
      expect(e).toBeInstanceOf(WorldError);
      expect(e.message).toMatch(/a world's disk is at least 64 MiB \(or 0 for no bound\)/);
    }
  });

  it('stops writes at its bound, on its own tmpfs, and says it is full until room is made', async () => {
    const w = await createWorld({ nodes: 1, limits: { diskBytes: 64 * 1024 ** 2 } });
    try {
      const node = { kind: 'node' as const, node: 'node1' };
      const host = statfsSync('/tmp');
      const r = await w.exec(node, ['sh', '-c', 'dd if=/dev/zero of=/var/lib/cni/fill bs=1M count=100 2>&1']);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/No space left on device/);
      expect(statfsSync(w.stateDir).type).toBe(0x01021994); // TMPFS_MAGIC
      expect(Number(host.bavail) - Number(statfsSync('/tmp').bavail)).toBeLessThan((32 * 1024 ** 2) / host.bsize);
      expect(w.trouble()?.message).toBe(
        "the lab world's disk is full (64 MiB): remove files in it, or reset the world",
      );
      await w.run(node, ['rm', '/var/lib/cni/fill']);
      expect(w.trouble()).toBeUndefined();
    } finally {
      await w.destroy();
    }
  });
});
