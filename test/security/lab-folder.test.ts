// A lab folder is someone else's content: everything a lab reads must be inside its folder (after
// symlinks are resolved), no lab file may be large enough to stall the catalogue, and a corrupt
// progress file is reported wherever progress is read, never silently reset.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src-main/engine/engine.js';
import { lintLab } from '../../src-main/labs/loader.js';
import { TerminalService } from '../../src-main/terminal/terminal-service.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LAB1 = join(ROOT, 'labs', '01-network-namespaces');
let top: string;
let outside: string;

beforeAll(() => {
  top = mkdtempSync(join(tmpdir(), 'podnet-labfolder-'));
  // stands for the user's ~/.ssh: a file the lab must never copy into its world or show
  outside = join(top, 'home', '.ssh');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY----- SECRET\n');
  writeFileSync(join(outside, 'step.md'), '# Stolen\n\nSECRET step\n\n```check\n- no-veth: node1\n```\n');
});
afterAll(() => rmSync(top, { recursive: true, force: true }));

/** A copy of lab 1 in `labs/<id>`, with lab.yaml's `world:` block given. */
function labCopy(id: string, world = 'world:\n  nodes: 1\n  cni: default\n'): string {
  const dir = join(top, 'labs', id);
  cpSync(LAB1, dir, { recursive: true });
  const yaml = `title: ${id}\nsummary: a copy of lab 1\nlevel: beginner\nduration: 10\ntags: []\n${world}steps:\n  - steps/01-create.md\n  - steps/02-loopback.md\n  - steps/03-own-stack.md\n`;
  writeFileSync(join(dir, 'lab.yaml'), yaml);
  return dir;
}

function podnet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PODNET_NODE;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'podnet.mjs'), ...args],
      { env, timeout: 30_000 },
      (e, stdout, stderr) => {
        const code = e ? ((e as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

describe('symlinks in a lab folder', () => {
  it('a config `from` that links out of the lab folder is an error in the loader and in `podnet lab lint`, at its line', async () => {
    const dir = labCopy('config-link', 'world:\n  nodes: 1\n  cni:\n    file: 10-x.conflist\n    from: cni.conflist\n');
    symlinkSync(join(outside, 'id_ed25519'), join(dir, 'cni.conflist'));
    const { lab, errors } = lintLab(dir);
    expect(errors.map((e) => `${e.file.split('/').pop()}:${e.line}: ${e.message}`)).toContainEqual(
      expect.stringMatching(/^lab\.yaml:10: config file "cni\.conflist" is a symbolic link that leaves the lab folder/),
    );
    expect(JSON.stringify(lab?.configs ?? {})).not.toContain('SECRET');
    const r = await podnet(['lab', 'lint', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lab\.yaml:10: config file "cni\.conflist" is a symbolic link that leaves the lab folder/);
    expect(r.stdout + r.stderr).not.toContain('SECRET');
  });

  it('a step file, or the steps folder, that links out of the lab folder is an error; a link that stays inside is fine', async () => {
    const dir = labCopy('step-link');
    rmSync(join(dir, 'steps', '02-loopback.md'));
    symlinkSync(join(outside, 'step.md'), join(dir, 'steps', '02-loopback.md'));
    let { errors } = lintLab(dir);
    expect(errors.map((e) => `${e.file.split('/').pop()}:${e.line}: ${e.message}`)).toContainEqual(
      expect.stringMatching(
        /^lab\.yaml:\d+: step file "steps\/02-loopback\.md" is a symbolic link that leaves the lab folder/,
      ),
    );
    expect(JSON.stringify(errors)).not.toContain('SECRET');
    const r = await podnet(['lab', 'lint', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step file "steps\/02-loopback\.md" is a symbolic link that leaves the lab folder/);
    expect(r.stdout).not.toMatch(/ok/);

    // the whole steps folder a link to a folder outside
    const dir2 = labCopy('steps-dir-link');
    const elsewhere = join(top, 'elsewhere-steps');
    cpSync(join(dir2, 'steps'), elsewhere, { recursive: true });
    rmSync(join(dir2, 'steps'), { recursive: true });
    symlinkSync(elsewhere, join(dir2, 'steps'));
    ({ errors } = lintLab(dir2));
    expect(errors.filter((e) => /symbolic link that leaves the lab folder/.test(e.message))).toHaveLength(3);

    // a link inside the folder (shared text) is the author's business
    const dir3 = labCopy('inner-link');
    mkdirSync(join(dir3, 'shared'));
    cpSync(join(dir3, 'steps', '01-create.md'), join(dir3, 'shared', 'one.md'));
    rmSync(join(dir3, 'steps', '01-create.md'));
    symlinkSync('../shared/one.md', join(dir3, 'steps', '01-create.md'));
    expect(lintLab(dir3).errors).toEqual([]);
  });
});

describe('lab file sizes', () => {
  it('a 400 MB step file is refused at once, naming the file, its size and the limit (stat before read)', async () => {
    const dir = labCopy('huge-step');
    truncateSync(join(dir, 'steps', '03-own-stack.md'), 400 * 1024 * 1024);
    const t0 = performance.now();
    const { errors } = lintLab(dir);
    const ms = performance.now() - t0;
    expect(errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(
        /step file "steps\/03-own-stack\.md" is 419430400 bytes; a step file may be at most 1048576 bytes \(1 MiB\)/,
      ),
    );
    expect(ms).toBeLessThan(500);
    // and the catalogue lists it at once, with the reason
    const saved = {
      PODNET_LABS_DIR: process.env.PODNET_LABS_DIR,
      PODNET_PROGRESS_DIR: process.env.PODNET_PROGRESS_DIR,
    };
    process.env.PODNET_LABS_DIR = join(top, 'labs');
    process.env.PODNET_PROGRESS_DIR = join(top, 'progress-huge');
    const e = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
    try {
      const t1 = performance.now();
      const list = await e.api['lab.list']({});
      expect(performance.now() - t1).toBeLessThan(1000);
      expect(list.find((l) => l.id === 'huge-step')?.error).toMatch(/is 419430400 bytes; a step file may be at most/);
    } finally {
      await e.dispose();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an oversize lab.yaml and an oversize config are refused with the same kind of message', () => {
    const dir = labCopy('huge-config', 'world:\n  nodes: 1\n  cni:\n    file: 10-x.conflist\n    from: cni.conflist\n');
    writeFileSync(join(dir, 'cni.conflist'), '');
    truncateSync(join(dir, 'cni.conflist'), 2 * 1024 * 1024);
    expect(lintLab(dir).errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/config file "cni\.conflist" is 2097152 bytes; a config file may be at most 1048576 bytes/),
    );
    const dir2 = labCopy('huge-yaml');
    truncateSync(join(dir2, 'lab.yaml'), 300 * 1024 * 1024);
    const t0 = performance.now();
    const { errors } = lintLab(dir2);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/lab\.yaml is 314572800 bytes; lab\.yaml may be at most 1048576 bytes/),
    ]);
  });
});

describe('a corrupt progress file', () => {
  const env: Record<string, string | undefined> = {};
  let progress: string;
  let labs: string;
  beforeAll(() => {
    labs = join(top, 'catalogue');
    mkdirSync(labs);
    cpSync(LAB1, join(labs, '01-network-namespaces'), { recursive: true });
    progress = join(top, 'progress');
    mkdirSync(progress);
    for (const k of ['PODNET_LABS_DIR', 'PODNET_PROGRESS_DIR']) env[k] = process.env[k];
    process.env.PODNET_LABS_DIR = labs;
    process.env.PODNET_PROGRESS_DIR = progress;
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('is reported in lab.list and again in lab.open (which file was kept aside, and where); never silently reset', async () => {
    writeFileSync(
      join(progress, '01-network-namespaces.json'),
      '{"lab": "01-network-namespaces", "current": 2, "done": [0, 1',
    );
    const e = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
    try {
      const list = await e.api['lab.list']({});
      const l = list.find((x) => x.id === '01-network-namespaces')!;
      const aside = readdirSync(progress).find((n) => n.includes('.corrupt-'))!;
      expect(aside).toBeDefined();
      expect(l.progressNotice).toContain(join(progress, aside));
      expect(l.progressNotice).toMatch(/progress file .*01-network-namespaces\.json was unreadable/);
      // the catalogue read it first: opening the lab still says so
      const v = await e.api['lab.open']({ id: '01-network-namespaces' });
      expect(v.current).toBe(0);
      expect(v.notice).toContain(join(progress, aside));
      expect(existsSync(join(progress, aside))).toBe(true);
    } finally {
      await e.dispose();
    }
  });
});
