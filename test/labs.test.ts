// Lab authoring as CI runs it: `podnet lab test` proves every lab in labs/ (a fresh world each), and
// `podnet lab lint` finds each broken fixture's mistake at its line.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnAsNobody } from './helpers.js';

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
    '%s passes: every step fails before its solution and passes after, and its Run blocks work',
    async (lab) => {
      const r = await podnet(['lab', 'test', `labs/${lab}`]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/passed \(\d+\/\d+ steps/);
      expect(r.stdout).not.toMatch(/FAIL/);
      expect(r.code).toBe(0);
    },
    300_000,
  );

  // the control plane's labs (etcd, the API server, kube-proxy in the world) as a user without privilege
  it.each(
    labs.filter((l) => /^\s+controlPlane:\s*true/m.test(readFileSync(join(ROOT, 'labs', l, 'lab.yaml'), 'utf8'))),
  )(
    '%s passes as an unprivileged user (nobody)',
    (lab) => {
      const r = spawnAsNobody([process.execPath, PODNET, 'lab', 'test', `labs/${lab}`], 300_000);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/passed \(\d+\/\d+ steps/);
      expect(r.status).toBe(0);
    },
    300_000,
  );

  it('reports a failing step with expected vs found, and exits non-zero', async () => {
    // a step whose solution does not do what its check wants
    const dir = mkdtempSync(join(tmpdir(), 'podnet-labtest-'));
    try {
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
      // every step is reported, not only up to the first failure
      expect(r.stdout).toContain('ok   step 3: Its own network stack');
      expect(r.stdout).toContain('FAILED (2/3 steps');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('podnet lab test clicks the Run blocks', () => {
  it('a block that errors, a "fails" block that now succeeds: each at its file:line, every step, and --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-labtest-'));
    try {
      const lab = join(dir, 'lab');
      cpSync(join(ROOT, 'labs', '01-network-namespaces'), lab, { recursive: true });
      const edit = (file: string, from: string, to: string) => {
        const text = readFileSync(join(lab, 'steps', file), 'utf8');
        expect(text).toContain(from);
        writeFileSync(join(lab, 'steps', file), text.replace(from, to));
      };
      // step 1: a typo in the second block (line 17 of the step file)
      edit('01-create.md', 'ip -n demo link\n', 'ip -n demo lnik\n');
      // step 2: a block marked "fails" whose commands all succeed
      edit(
        '02-loopback.md',
        '```run node1\nip -n demo link set lo up',
        '```run node1 fails\nip -n demo link set lo up',
      );
      // step 3: the ping that shows the namespace apart, no longer marked
      edit('03-own-stack.md', '```run node1 fails\nip route', '```run node1\nip route');
      const r = await podnet(['lab', 'test', lab]);
      expect(r.code).toBe(1);
      const steps = join(lab, 'steps');
      // a block is named by its opening fence's line: found in the file, so other edits to the lab do not move it
      const fence = (file: string, text: string) => {
        const lines = readFileSync(join(steps, file), 'utf8').split('\n');
        let i = lines.findIndex((l) => l.includes(text));
        while (i > 0 && !lines[i]!.startsWith('```')) i--;
        return i + 1;
      };
      expect(r.stdout).toContain('FAIL step 1: An empty network namespace');
      expect(r.stdout).toContain(
        `✗ Run block in node1 (${steps}/01-create.md:${fence('01-create.md', 'ip -n demo lnik')}): line 1: ip -n demo lnik (exit 1)`,
      );
      expect(r.stdout).toContain('FAIL step 2: Bring up lo');
      expect(r.stdout).toContain(
        `✗ Run block in node1 (${steps}/02-loopback.md:${fence('02-loopback.md', 'ip -n demo link set lo up')}): marked "fails", but every command of it succeeded`,
      );
      expect(r.stdout).toContain('FAIL step 3: Its own network stack');
      expect(r.stdout).toContain(
        `✗ Run block in node1 (${steps}/03-own-stack.md:${fence('03-own-stack.md', 'ping -c 1 -W 1 10.200.0.1')}): line 2: ping -c 1 -W 1 10.200.0.1 (exit 1)`,
      );
      // the solutions themselves still prove every step: only the blocks failed
      expect(r.stdout).not.toMatch(/expected:/);
      expect(r.stdout).toContain('FAILED (0/3 steps');

      const j = await podnet(['lab', 'test', '--json', lab, 'labs/01-network-namespaces']);
      expect(j.code).toBe(1);
      const doc = JSON.parse(j.stdout) as {
        ok: boolean;
        passed: number;
        labs: {
          lab: string;
          ok: boolean;
          steps: {
            step: number;
            ok: boolean;
            blocks: { block: number; line: number; ok: boolean; failures: string[] }[];
          }[];
        }[];
      };
      expect(doc).toMatchObject({ ok: false, passed: 1 });
      expect(doc.labs.map((l) => [l.lab, l.ok])).toEqual([
        ['lab', false],
        ['01-network-namespaces', true],
      ]);
      expect(doc.labs[0]!.steps.map((st) => st.ok)).toEqual([false, false, false]);
      expect(doc.labs[0]!.steps[0]!.blocks).toEqual([
        expect.objectContaining({ block: 0, line: fence('01-create.md', 'ip netns add demo'), ok: true, failures: [] }),
        expect.objectContaining({
          block: 1,
          line: fence('01-create.md', 'ip -n demo lnik'),
          ok: false,
          failures: ['line 1: ip -n demo lnik (exit 1)'],
        }),
      ]);
      expect(doc.labs[1]!.steps.every((st) => st.ok && st.blocks.every((b) => b.ok))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('podnet lab test flags a check that teaches the answer away', () => {
  it("lab 03's FDB step with a ping check back: its frames fill cni0's FDB before the learner pings", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-labtest-'));
    try {
      const lab = join(dir, 'lab');
      cpSync(join(ROOT, 'labs', '03-bridge'), lab, { recursive: true });
      // alone in its folder: its prerequisite is not beside it
      const yaml = join(lab, 'lab.yaml');
      writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^prerequisites: .*\n/m, ''));
      const file = join(lab, 'steps', '04-fdb.md');
      const text = readFileSync(file, 'utf8');
      const from = '```check\n- link: cni0\n  in: node1\n  up: true\n';
      expect(text).toContain(from);
      writeFileSync(file, text.replace(from, `${from}- ping: pod/web\n  from: pod/client\n`));
      const line = readFileSync(file, 'utf8').split('\n').indexOf('- ping: pod/web') + 1;
      const r = await podnet(['lab', 'test', lab]);
      expect(r.code).toBe(1);
      // steps 1-3 (ARP watched, but checked by reading the tables) pass: only the FDB step is flagged
      expect(r.stdout).toMatch(/ok {3}step 2: Same-node traffic and ARP/);
      expect(r.stdout).toContain('FAIL step 4: The forwarding database');
      expect(r.stdout).toMatch(
        new RegExp(
          `✗ the check "pod/client can ping pod/web" \\(${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}\\) puts in what the step has the learner watch: node1: cni0 learned [0-9a-f:]{17} on veth`,
        ),
      );
      expect(r.stdout).toContain('FAILED (3/4 steps');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
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
