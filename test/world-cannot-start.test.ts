// A world that cannot start tells the doctor's finding and its fix, not a stack trace: user namespaces
// really denied (a seccomp filter, test/fixtures/deny-userns.c), and a plugin folder that is empty.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const DENY_USERNS = join(ROOT, 'out/test-fixtures/deny-userns');
const PODNET = join(ROOT, 'bin/podnet.mjs');

function buildDenyUserns(): void {
  mkdirSync(join(ROOT, 'out/test-fixtures'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', DENY_USERNS, join(import.meta.dirname, 'fixtures/deny-userns.c')]);
}
beforeAll(buildDenyUserns);

describe('podnet trace on a machine that cannot run a world', () => {
  it('user namespaces denied: the doctor’s finding and fix, exit 2, no stack trace', () => {
    // the denial is real: unshare itself fails under the filter
    expect(spawnSync(DENY_USERNS, ['unshare', '--user', '--map-root-user', 'true']).status).not.toBe(0);
    const r = spawnSync(DENY_USERNS, [process.execPath, PODNET, 'trace'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('podnet: the world sandbox exited before it was ready');
    expect(r.stderr).toContain(
      'The doctor found:\nuser namespaces (unshare -Urnm --pid, lo up): unshare: unshare failed: Operation not permitted',
    );
    expect(r.stderr).toMatch(/\n {2}fix: /);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('an empty plugin folder: the doctor’s finding and fix, exit 2, no stack trace', () => {
    const empty = mkdtempSync(join(tmpdir(), 'podnet-no-plugins-'));
    const r = spawnSync(process.execPath, [PODNET, 'trace'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PODNET_CNI_PATH: empty },
    });
    rmSync(empty, { recursive: true, force: true });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`podnet: no CNI plugins found in PODNET_CNI_PATH (${empty})`);
    expect(r.stderr).toContain(
      `The doctor found:\nCNI plugins: none in PODNET_CNI_PATH (${empty})\n  fix: sudo apt-get install containernetworking-plugins`,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
