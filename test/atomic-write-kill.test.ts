// Data survives a kill in the middle of a write: a process writing a lab's progress and a node's CNI
// config in a loop (through ProgressStore and ConfDir, as the engine does) is SIGKILLed, by PID, at
// random moments. After every kill each file is the old or the new content, complete and valid; a
// killed writer's temporary file is removed by the next write.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { confListFromText } from '../src-main/cni/conf.js';
import { ConfDir } from '../src-main/config/files.js';
import { ProgressStore, type LabProgress } from '../src-main/labs/progress.js';
// @ts-expect-error: a plain .mjs fixture, shared with the writer process
import { writeOf } from './fixtures/atomic-writes.mjs';

const WRITER = join(import.meta.dirname, 'fixtures/atomic-writer.mjs');
const KILLS = Number(process.env.PODNET_KILL_ROUNDS ?? 60);
// on the real disk (not a tmpfs), so fsync takes the time it takes
const root = (() => {
  mkdirSync(join(import.meta.dirname, '../out'), { recursive: true });
  return mkdtempSync(join(import.meta.dirname, '../out/kill-write-'));
})();
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Writes = (i: number) => { progress: LabProgress; conf: string };
const writes = writeOf as Writes;
const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

/** Starts the writer, lets it loop for a random moment, SIGKILLs it by PID; resolves once it is gone. */
async function killWriter(progressDir: string, confDir: string, first: number, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [WRITER, progressDir, confDir, String(first)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
  await new Promise<void>((res, rej) => {
    child.stdout.once('data', () => res());
    void exited.then(() => rej(new Error(`the writer exited before looping: ${err}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  process.kill(child.pid!, 'SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe('a writer killed in the middle of a write', () => {
  it(`leaves the old or the new file, complete and valid, after each of ${KILLS} kills; the next write removes the killed writer's temp file`, async () => {
    const progressDir = join(root, 'progress');
    const confDir = join(root, 'net.d');
    mkdirSync(progressDir);
    mkdirSync(confDir);
    const store = new ProgressStore(progressDir);
    const conf = new ConfDir(confDir);
    let last = -1;
    let lastConf = -1;
    let midWrite = 0;
    let maxTemps = 0;
    let checked = 0;
    let seed = 20261124;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < KILLS; k++) {
      await killWriter(progressDir, confDir, last + 1, Math.floor(random() * 40));
      // before the first write completed there is no file at all, which is the old content too
      if (!existsSync(join(progressDir, 'lab-a.json'))) {
        expect(last).toBe(-1);
        continue;
      }
      // progress: a complete, valid file of some write i at or after the last one seen (never torn, never lost)
      const loaded = store.load('lab-a');
      expect(loaded.keptAside, loaded.error).toBeUndefined();
      const i = loaded.progress.current;
      if (last >= 0) expect(i).toBeGreaterThanOrEqual(last);
      expect({ ...loaded.progress, updatedAt: '' }).toEqual(writes(i).progress);
      // the config: the complete text of some write at or after the last one seen, and valid for the loader
      if (!existsSync(join(confDir, '10-podnet.conflist'))) {
        expect(lastConf).toBe(-1);
        last = Math.max(last, i);
        continue;
      }
      const text = readFileSync(join(confDir, '10-podnet.conflist'), 'utf8');
      const j = (JSON.parse(text) as { plugins: { write: number }[] }).plugins[0]!.write;
      expect(text).toBe(writes(j).conf);
      expect(j).toBeGreaterThanOrEqual(lastConf);
      lastConf = j;
      expect(confListFromText(text).name).toBe('podnet');
      expect(conf.list().map((f) => f.name)).toEqual(['10-podnet.conflist']);
      checked += 2;
      // at most the one temp file per folder the killed writer had open; the next writer's first write removes it
      const t = temps(progressDir).length + temps(confDir).length;
      if (t > 0) midWrite++;
      maxTemps = Math.max(maxTemps, temps(progressDir).length, temps(confDir).length);
      last = Math.max(i, j);
    }
    console.log(
      `atomic writes: ${KILLS} kills, ${checked} files checked, ${midWrite} kills left a temp file (landed mid-write), at most ${maxTemps} temp file per folder after a kill, last write ${last}`,
    );
    expect(maxTemps).toBeLessThanOrEqual(1);
    // the kills did land inside writes, so the test could have seen a torn file
    expect(midWrite).toBeGreaterThan(KILLS / 10);
    // and the writer did progress between kills
    expect(last).toBeGreaterThan(KILLS);
    // one more write of each (this process): nothing but the two files is left
    store.save(writes(last + 1).progress);
    conf.write('10-podnet.conflist', writes(last + 1).conf);
    expect(readdirSync(progressDir)).toEqual(['lab-a.json']);
    expect(readdirSync(confDir)).toEqual(['10-podnet.conflist']);
  }, 300_000);
});
