// Lab authoring as CI runs it: `podnet lab test` proves every lab in labs/ (a fresh world each), and
// `podnet lab lint` finds each broken fixture's mistake at its line.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');
const BROKEN = join(ROOT, 'test', 'fixtures', 'labs-broken');

function podnet(
  args: string[],
  cwd = ROOT,
  timeoutMs = 300_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PODNET_NODE;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PODNET, ...args],
      { cwd, env, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

const labs = readdirSync(join(ROOT, 'labs'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'labs', d.name, 'lab.yaml')))
  .map((d) => d.name)
  .sort();

describe('podnet lab test', () => {
  it('finds the curriculum', () => {
    expect(labs.length).toBeGreaterThanOrEqual(19);
  });

  it.each(labs)(
    '%s passes: every step fails before its solution and passes after',
    async (lab) => {
      const r = await podnet(['lab', 'test', `labs/${lab}`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/passed \(\d+\/\d+ steps/);
      expect(r.stdout).not.toMatch(/FAIL/);
      expect(r.code).toBe(0);
    },
    300_000,
  );

  it('reports a failing step with expected vs found, and exits non-zero', async () => {
    // a step whose solution does not do what its check wants
    const dir = mkdtempSync(join(tmpdir(), 'podnet-labtest-'));
    try {
      const { cpSync, writeFileSync } = await import('node:fs');
      cpSync(join(ROOT, 'labs', '01-network-namespaces'), join(dir, 'lab'), { recursive: true });
      const step = join(dir, 'lab', 'steps', '02-loopback.md');
      writeFileSync(
        step,
        readFileSync(step, 'utf8').replace('```solution node1\nip -n demo link set lo up', '```solution node1\ntrue'),
      );
      const r = await podnet(['lab', 'test', join(dir, 'lab')]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('ok   step 1');
      expect(r.stdout).toContain('FAIL step 2: Bring up lo');
      expect(r.stdout).toMatch(/expected: node1\/demo has link lo \(up\)\n\s+found:\s+lo is down/);
      expect(r.stdout).toContain('FAILED (1/3 steps');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('podnet lab lint', () => {
  it('passes every lab in labs/', async () => {
    const r = await podnet(['lab', 'lint', ...labs.map((l) => `labs/${l}`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${labs.length}/${labs.length} labs clean`);
  });

  const broken = readdirSync(BROKEN, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  it.each(broken)('finds the mistake in %s at its line', async (name) => {
    const r = await podnet(['lab', 'lint', name], BROKEN);
    expect(r.code).toBe(1);
    const got = r.stderr.trim().split('\n');
    const want = readFileSync(join(BROKEN, name, 'expected'), 'utf8')
      .trim()
      .split('\n');
    for (const w of want)
      expect(
        got.some((g) => g.startsWith(w)),
        `"${w}" in:\n${r.stderr}`,
      ).toBe(true);
    // nothing but the mistakes themselves
    expect(got.length).toBe(want.length);
  });

  it('podnet lab new scaffolds a lab that lints and passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-labnew-'));
    try {
      const made = await podnet(['lab', 'new', 'my-lab'], dir);
      expect(made.code).toBe(0);
      const lint = await podnet(['lab', 'lint', 'my-lab'], dir);
      expect(lint.stderr).toBe('');
      expect(lint.code).toBe(0);
      const test = await podnet(['lab', 'test', 'my-lab'], dir);
      expect(test.stdout).toContain('passed (1/1 steps');
      expect((await podnet(['lab', 'new', 'my-lab'], dir)).stderr).toContain('already exists');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
