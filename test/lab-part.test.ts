// The lab runner behind the contract, with a real world and real terminals: open a lab, run its
// commands in a terminal, see checks turn green live, progress kept on disk, jump and reset.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabChecks, LabSummary } from '../src-main/api/contract.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';

const LABS = join(import.meta.dirname, '..', 'labs');
let dir: string;

/** An engine as the hosts make it (its LabsPart reads PODNET_LABS_DIR and PODNET_PROGRESS_DIR). */
function engine(): Engine {
  return createEngine({ terminals: (w, r) => new TerminalService(w, r) });
}

/** The next lab.checks event that satisfies `pred`. */
function nextChecks(e: Engine, pred: (c: LabChecks) => boolean, timeoutMs = 20_000): Promise<LabChecks> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no matching lab.checks event')), timeoutMs);
    const on = (ev: string, p: unknown) => {
      if (ev === 'lab.checks' && pred(p as LabChecks)) {
        clearTimeout(t);
        e.events.off('event', on);
        resolve(p as LabChecks);
      }
    };
    e.events.on('event', on);
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'podnet-labpart-'));
  process.env.PODNET_PROGRESS_DIR = dir;
  process.env.PODNET_LABS_DIR = LABS;
});
afterAll(() => {
  delete process.env.PODNET_PROGRESS_DIR;
  delete process.env.PODNET_LABS_DIR;
  rmSync(dir, { recursive: true, force: true });
});

describe('the lab runner (lab.* requests)', () => {
  it("lists the catalogue with each lab's steps and progress", async () => {
    const e = engine();
    try {
      const list = await e.api['lab.list']({});
      const l1 = list.find((l) => l.id === '01-network-namespaces')!;
      expect(l1).toMatchObject({ title: 'Network namespaces', steps: 3, nodes: 1, current: 0, done: [] });
      expect(list.every((l) => !l.error)).toBe(true);
    } finally {
      await e.dispose();
    }
  });

  it('opens lab 1: checks fail with expected vs found, turn green after a command in a terminal, and progress survives a restart', async () => {
    const e = engine();
    try {
      const view = await e.api['lab.open']({ id: '01-network-namespaces' });
      expect(view).toMatchObject({ id: '01-network-namespaces', current: 0, busy: null });
      expect(e.session.runningWorld?.nodes.size).toBe(1);
      const first = await e.api['lab.check']({});
      expect(first.complete).toBe(false);
      expect(first.results[0]).toMatchObject({
        ok: false,
        expected: 'demo exists and has lo, DOWN',
        found: expect.stringContaining('no network namespace "demo" on node1'),
      });
      // the reader clicks the step's command: it runs in a terminal on node1
      const term = await e.api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 });
      const green = nextChecks(e, (c) => c.step === 0 && c.complete);
      await e.api['terminal.input']({ id: term.id, data: 'ip netns add demo\n' });
      expect((await green).results.every((r) => r.ok)).toBe(true);
      expect((await e.api['lab.state']({}))!.done).toEqual([0]);
      // a question computed from the world
      expect(await e.api['lab.answer']({ question: 'links', answer: ' 1 ' })).toEqual({ correct: true });
      expect(await e.api['lab.answer']({ question: 'links', answer: '2' })).toEqual({ correct: false });
      // step 2: a change inside the pinned netns (ip monitor there) turns it green without a click
      await e.api['lab.goto']({ step: 1 });
      await expect(e.api['lab.goto']({ step: 2 })).rejects.toThrow(/locked/);
      const green2 = nextChecks(e, (c) => c.step === 1 && c.complete);
      await e.session.runningWorld!.run({ kind: 'node', node: 'node1' }, [
        'ip',
        '-n',
        'demo',
        'link',
        'set',
        'lo',
        'up',
      ]);
      await green2;
      const saved = JSON.parse(readFileSync(join(dir, '01-network-namespaces.json'), 'utf8'));
      expect(saved).toMatchObject({ lab: '01-network-namespaces', current: 1, done: [0, 1], answers: { links: '1' } });
    } finally {
      await e.dispose();
    }
    // a new engine (the app restarted): progress is back, and the world is rebuilt at the current step
    const e2 = engine();
    try {
      const list = await e2.api['lab.list']({});
      expect(list.find((l) => l.id === '01-network-namespaces')).toMatchObject({ current: 1, done: [0, 1] });
      const v = await e2.api['lab.open']({ id: '01-network-namespaces' });
      expect(v).toMatchObject({ current: 1, done: [0, 1], answers: { links: '1' } });
      expect(v.timeSpentMs).toBeGreaterThan(0);
      // step 1's solution was applied: demo exists again
      expect((await e2.api['lab.check']({})).results[0]!.found ?? 'ok').not.toMatch(/no network namespace/);
      const reset = await e2.api['lab.reset']({});
      expect(reset).toMatchObject({ current: 0, done: [] });
      expect((await e2.api['lab.check']({})).complete).toBe(false);
    } finally {
      await e2.dispose();
    }
  }, 120_000);

  it('jumps to the last step of lab 2 with the world built, applies a solution, runs kubelet blocks', async () => {
    const e = engine();
    try {
      await e.api['lab.open']({ id: '02-veth-pair' });
      const v = await e.api['lab.jump']({ step: 4 });
      expect(v).toMatchObject({ current: 4, done: [0, 1, 2, 3], busy: null });
      // checks asked for at once share evaluations, and each caller gets the results
      const many = await Promise.all([1, 2, 3, 4].map(() => e.api['lab.check']({})));
      expect(many.map((m) => m.step)).toEqual([4, 4, 4, 4]);
      const c = many[3]!;
      expect(c.results.find((r) => r.id === 'default')).toMatchObject({
        ok: false,
        found: expect.stringContaining('10.244.1.0/24 dev eth0'),
      });
      const solved = await e.api['lab.solution']({});
      expect(solved.complete).toBe(true);
      // the world bar's Reset rebuilds the lab's starting world (its prepare made netns pod1), not a plain one
      await e.api['world.reset']({});
      expect(await e.session.runningWorld!.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'list'])).toMatch(
        /^pod1/m,
      );
      // lab 3's kubelet block creates pods through the engine's kubelet
      await e.api['lab.open']({ id: '03-bridge' });
      await e.api['lab.kubelet']({ command: 0 });
      expect((await e.api['pod.list']({})).map((p) => p.name).sort()).toEqual(['client', 'web']);
      expect((await e.api['lab.check']({})).complete).toBe(true);
      await expect(e.api['lab.kubelet']({ command: 1 })).rejects.toThrow(/no kubelet block/);
    } finally {
      await e.dispose();
    }
  }, 120_000);

  it("jumps past a step whose solution the kubelet finishes later (lab 6's dead sandbox): the next step starts once it has, and is not done by itself", async () => {
    const e = engine();
    try {
      await e.api['lab.open']({ id: '06-pod-sandbox' });
      // step 3's solution kills web's pause; the kubelet's resync removes the netns and runs a new sandbox
      const v = await e.api['lab.jump']({ step: 3 });
      expect(v).toMatchObject({ current: 3, done: [0, 1, 2], busy: null });
      const node1 = { kind: 'node' as const, node: 'node1' };
      const old = (await e.session.runningWorld!.run(node1, ['cat', '/run/lab/old-netns'])).trim();
      expect(old).toMatch(/^cni-/);
      // the world step 4 begins with: web runs again, in a new netns
      const netns = await e.session.runningWorld!.run(node1, ['ip', 'netns', 'list']);
      expect(netns).toMatch(/^cni-/m);
      expect(netns).not.toContain(old);
      // so step 4's checks (nothing left after KillPod) fail until the learner kills the pod
      const c = await e.api['lab.check']({});
      expect(c).toMatchObject({ step: 3, complete: false });
      expect(c.results.find((r) => r.title === 'no pod namespace is left')).toMatchObject({ ok: false });
      expect((await e.api['lab.state']({}))!.done).toEqual([0, 1, 2]);
    } finally {
      await e.dispose();
    }
  }, 120_000);

  it('reloads the open lab when its files change, and keeps the last good version when they have mistakes', async () => {
    const { cpSync, writeFileSync } = await import('node:fs');
    const labs = mkdtempSync(join(tmpdir(), 'podnet-labs-'));
    cpSync(join(LABS, '01-network-namespaces'), join(labs, 'nets'), { recursive: true });
    process.env.PODNET_LABS_DIR = labs;
    const e = engine();
    process.env.PODNET_LABS_DIR = LABS;
    const changed = (pred: (v: { steps: { title: string }[]; notice?: string }) => boolean) =>
      new Promise<void>((resolve) => {
        const on = (ev: string, p: unknown) => {
          if (ev === 'lab.changed' && p && pred(p as { steps: { title: string }[] })) {
            e.events.off('event', on);
            resolve();
          }
        };
        e.events.on('event', on);
      });
    try {
      await e.api['lab.open']({ id: 'nets' });
      const step = join(labs, 'nets', 'steps', '01-create.md');
      const renamed = changed((v) => v.steps[0]!.title === 'A renamed step');
      writeFileSync(step, readFileSync(step, 'utf8').replace('# An empty network namespace', '# A renamed step'));
      await renamed;
      const broken = changed((v) => /mistakes/.test(v.notice ?? ''));
      writeFileSync(step, readFileSync(step, 'utf8').replace('- link: lo', '- bogus: lo'));
      await broken;
      expect((await e.api['lab.state']({}))!.steps[0]!.title).toBe('A renamed step');
    } finally {
      await e.dispose();
      rmSync(labs, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps a corrupt progress file aside and says so', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, '14-network-ready.json'), 'not json');
    const e = engine();
    try {
      const v = await e.api['lab.open']({ id: '14-network-ready' });
      expect(v.notice).toMatch(/unreadable .* kept as .*14-network-ready\.json\.corrupt-/);
      expect(v.current).toBe(0);
    } finally {
      await e.dispose();
    }
  }, 60_000);
});

describe('the catalogue follows the labs folder', () => {
  it('a lab folder added, edited or removed is pushed as lab.catalogue, without another lab.list', async () => {
    const shelf = mkdtempSync(join(tmpdir(), 'podnet-shelf-'));
    cpSync(join(LABS, '01-network-namespaces'), join(shelf, '01-network-namespaces'), { recursive: true });
    const saved = process.env.PODNET_LABS_DIR;
    process.env.PODNET_LABS_DIR = shelf;
    const e = engine();
    process.env.PODNET_LABS_DIR = saved;
    const pushed: LabSummary[][] = [];
    e.events.on('event', (ev, p) => ev === 'lab.catalogue' && pushed.push(p as LabSummary[]));
    const next = async (pred: (l: LabSummary[]) => boolean) => {
      for (let i = 0; i < 100 && !pushed.some(pred); i++) await new Promise((r) => setTimeout(r, 50));
      return pushed.find(pred);
    };
    try {
      expect((await e.api['lab.list']({})).map((l) => l.id)).toEqual(['01-network-namespaces']);
      // as an author makes a lab: the folder first, then its files
      mkdirSync(join(shelf, '20-new-lab', 'steps'), { recursive: true });
      cpSync(join(LABS, '01-network-namespaces', 'steps'), join(shelf, '20-new-lab', 'steps'), { recursive: true });
      const yaml = readFileSync(join(LABS, '01-network-namespaces', 'lab.yaml'), 'utf8');
      writeFileSync(join(shelf, '20-new-lab', 'lab.yaml'), yaml.replace(/^title: .*$/m, 'title: A new lab'));
      const added = await next((l) => l.some((x) => x.id === '20-new-lab'));
      expect(added?.find((x) => x.id === '20-new-lab')).toMatchObject({ title: 'A new lab', steps: 3 });
      expect(added?.every((x) => !x.error)).toBe(true);
      // an edit of its title, and a mistake, reach the catalogue too
      writeFileSync(join(shelf, '20-new-lab', 'lab.yaml'), yaml.replace(/^title: .*$/m, 'title: Renamed'));
      expect(await next((l) => l.some((x) => x.title === 'Renamed'))).toBeDefined();
      rmSync(join(shelf, '20-new-lab', 'steps', '02-loopback.md'));
      const broken = await next((l) => !!l.find((x) => x.id === '20-new-lab')?.error);
      expect(broken?.find((x) => x.id === '20-new-lab')?.error).toContain('step file "steps/02-loopback.md" not found');
      rmSync(join(shelf, '20-new-lab'), { recursive: true });
      expect(await next((l) => l.length === 1)).toBeDefined();
    } finally {
      await e.dispose();
      rmSync(shelf, { recursive: true, force: true });
    }
  });
});
