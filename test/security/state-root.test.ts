// Where worlds keep their state on the host (src-main/world/paths.ts stateRoot): a folder of the user's
// own, mode 0700. Another user can create $TMPDIR/podnet-<uid> before the app first runs — as a
// symlink to a folder they control, or as their own folder: the app must refuse it with a message
// that says why, and write nothing there. Run as nobody, with TMPDIR a private sticky folder like /tmp
// (so that the real /tmp/podnet-65534 other tests use is not disturbed).
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = join(import.meta.dirname, '../fixtures/state-root-child.mjs');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A private stand-in for /tmp (sticky, world-writable) and a folder root owns that anyone may write. */
function setup() {
  const top = mkdtempSync(join(tmpdir(), 'podnet-stateroot-'));
  made.push(top);
  chmodSync(top, 0o755);
  const fakeTmp = join(top, 'tmp');
  mkdirSync(fakeTmp);
  chmodSync(fakeTmp, 0o1777);
  const rootOwned = join(top, 'root-owned');
  mkdirSync(rootOwned);
  // an attacker's folder: writable by the victim too, so nothing but the check stops its use
  chmodSync(rootOwned, 0o777);
  return { fakeTmp, rootOwned, stateRoot: join(fakeTmp, 'podnet-65534') };
}

function startAsNobody(fakeTmp: string) {
  const argv = ['env', '-i', `PATH=${process.env.PATH}`, `TMPDIR=${fakeTmp}`, process.execPath, CHILD];
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...argv], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { started: boolean; error?: string; stateDir?: string };
}

describe('the state root, for an unprivileged user (nobody)', () => {
  it('is refused when it is a symlink to a folder someone else owns, and nothing is written there', () => {
    const { fakeTmp, rootOwned, stateRoot } = setup();
    symlinkSync(rootOwned, stateRoot);
    const r = startAsNobody(fakeTmp);
    expect(r.started).toBe(false);
    expect(r.error).toMatch(new RegExp(`the state folder ${stateRoot} is a symbolic link`));
    expect(readdirSync(rootOwned)).toEqual([]);
    expect(lstatSync(stateRoot).isSymbolicLink()).toBe(true);
  });

  it('is refused when it is a folder owned by root (or group/other-writable), and nothing is written there', () => {
    const { fakeTmp, stateRoot } = setup();
    mkdirSync(stateRoot);
    chmodSync(stateRoot, 0o777);
    const r = startAsNobody(fakeTmp);
    expect(r.started).toBe(false);
    expect(r.error).toMatch(new RegExp(`the state folder ${stateRoot} is owned by uid 0`));
    expect(readdirSync(stateRoot)).toEqual([]);
  });

  it('is made 0700 and owned by the user when it is missing, and a world starts', () => {
    const { fakeTmp, stateRoot } = setup();
    const r = startAsNobody(fakeTmp);
    expect(r.error).toBeUndefined();
    expect(r.started).toBe(true);
    const st = lstatSync(stateRoot);
    expect(st.uid).toBe(65534);
    expect(st.mode & 0o777).toBe(0o700);
  });
});
