// The lab runner in the app: the catalogue, the open lab (its world built from its spec, its
// progress on disk), and its current step's checks — re-evaluated when a namespace changes (ip
// monitor as the trigger), after a command runs in a terminal, and on Check.
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ApiError, type LabChecks, type LabSummary, type LabView, type Params } from '../api/contract.js';
import type { Session, SessionPart, WorldHost } from '../session/session.js';
import { targetKey } from '../netview/snapshot.js';
import type { Target } from '../world/world.js';
import { ChangeTrigger } from './change-trigger.js';
import { evaluateChecks, namespacesOf, type CheckContext, type CheckResult } from './checks.js';
import { formatLintError, type Check, type Lab } from './format.js';
import { LAB_FILE, lintLab } from './loader.js';
import { LintCache } from './lint-cache.js';
import { ProgressStore, type LabProgress } from './progress.js';
import { answerOf, applySolution, fastForward, runBlock, sameAnswer } from './runner.js';
import { worldSpecOf } from './lab-world.js';

/** The repository's labs/ folder: PODNET_LABS_DIR, or the nearest labs/ beside a package.json above this file. */
export function defaultLabsDir(): string {
  if (process.env.PODNET_LABS_DIR) return process.env.PODNET_LABS_DIR;
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'labs')) && existsSync(join(d, 'package.json'))) return join(d, 'labs');
    if (dirname(d) === d) return join(process.cwd(), 'labs');
  }
}

interface Active {
  lab: Lab;
  progress: LabProgress;
  busy: string | null;
  notice?: string;
  /** Date.now() from which time spent is still to be added. */
  since: number;
  watchers?: FSWatcher[];
  last?: LabChecks;
}

/** Quiet time after terminal output before checking (a command has likely finished). */
const AFTER_OUTPUT_MS = 400;
/** Quiet time after a namespace's last monitor event before checking (a burst of a command's changes is one). */
const CHANGE_QUIET_MS = 30;

export class LabsPart implements SessionPart {
  private host: WorldHost | undefined;
  private session: Session | undefined;
  private active: Active | undefined;
  private readonly monitors = new Map<string, ChangeTrigger>();
  private timer: NodeJS.Timeout | undefined;
  /** A namespace's burst of changes: its own timer, so a terminal's output after it does not delay it. */
  private changeTimer: NodeJS.Timeout | undefined;
  private evaluating: Promise<unknown> = Promise.resolve();
  /** The evaluation waiting for the running one: later triggers share it. */
  private queued: Promise<LabChecks> | undefined;
  private running = false;
  private readonly onEvent = (event: string) => {
    if (event === 'terminal.data') this.schedule(AFTER_OUTPUT_MS);
    else if (event === 'pods.changed') this.schedule(50);
  };

  constructor(
    readonly labsDir = defaultLabsDir(),
    readonly store = new ProgressStore(),
  ) {}

  bind(host: WorldHost): void {
    this.host = host;
  }

  attach(session: Session): void {
    this.session = session;
    session.events.on('event', this.onEvent);
  }

  async detach(): Promise<void> {
    this.session?.events.off('event', this.onEvent);
    this.session = undefined;
    clearTimeout(this.timer);
    clearTimeout(this.changeTimer);
    await Promise.all([...this.monitors.values()].map((m) => m.close().catch(() => {})));
    this.monitors.clear();
  }

  // ---- catalogue ----

  async ['lab.list'](): Promise<LabSummary[]> {
    const list = this.catalogue();
    this.watchCatalogue(list);
    return list;
  }

  private readonly linted = new LintCache();

  /** The labs folder's watch, from the first lab.list on: a lab added, removed or edited is pushed as lab.catalogue. */
  private shelf: { watchers: Map<string, FSWatcher>; last: string; timer?: NodeJS.Timeout } | undefined;

  private watchCatalogue(list: LabSummary[]): void {
    if (!this.host?.broadcast) return;
    this.shelf ??= { watchers: new Map(), last: '' };
    this.shelf.last = JSON.stringify(list);
    this.watchShelf();
  }

  /** Watches the labs folder, each lab folder (a lab.yaml written into a new one) and its steps/ (plain watchers, unref'd). */
  private watchShelf(): void {
    const shelf = this.shelf!;
    const dirs = new Set([this.labsDir]);
    try {
      for (const d of readdirSync(this.labsDir, { withFileTypes: true }))
        if (d.isDirectory()) {
          dirs.add(join(this.labsDir, d.name));
          if (existsSync(join(this.labsDir, d.name, 'steps'))) dirs.add(join(this.labsDir, d.name, 'steps'));
        }
    } catch {
      /* no labs folder (yet): nothing to watch */
    }
    for (const [d, w] of shelf.watchers)
      if (!dirs.has(d)) {
        w.close();
        shelf.watchers.delete(d);
      }
    for (const d of dirs) {
      if (shelf.watchers.has(d)) continue;
      try {
        const w = watch(d, () => this.shelfChanged());
        w.on('error', () => {});
        w.unref();
        shelf.watchers.set(d, w);
      } catch {
        /* gone meanwhile, or no file watching here: the next lab.list reads the folder anyway */
      }
    }
  }

  private shelfChanged(): void {
    const shelf = this.shelf!;
    clearTimeout(shelf.timer);
    // an editor's save or a copied folder is many events: one catalogue after they settle
    shelf.timer = setTimeout(() => {
      this.watchShelf();
      const list = this.catalogue();
      const text = JSON.stringify(list);
      if (text === shelf.last) return;
      shelf.last = text;
      this.host?.broadcast?.('lab.catalogue', list);
    }, 250);
    shelf.timer.unref();
  }

  private catalogue(): LabSummary[] {
    if (!existsSync(this.labsDir)) return [];
    const ids = readdirSync(this.labsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(this.labsDir, d.name, LAB_FILE)))
      .map((d) => d.name)
      .sort();
    return ids.map((id) => {
      const { lab, errors } = this.linted.lint(join(this.labsDir, id));
      const loaded = this.store.load(id);
      const p = loaded.progress;
      const base = {
        id,
        current: p.current,
        done: p.done,
        ...(loaded.error ? { progressNotice: loaded.error } : {}),
      };
      if (!lab)
        return {
          ...base,
          title: id,
          summary: '',
          level: 'beginner',
          duration: 0,
          tags: [],
          prerequisites: [],
          steps: 0,
          nodes: 0,
          error: errors.map(formatLintError).join('\n'),
        };
      return {
        ...base,
        title: lab.meta.title,
        summary: lab.meta.summary,
        level: lab.meta.level,
        duration: lab.meta.duration,
        tags: lab.meta.tags,
        prerequisites: lab.meta.prerequisites,
        steps: lab.steps.length,
        nodes: lab.nodeNames.length,
        ...(errors.length ? { error: errors.map(formatLintError).join('\n') } : {}),
      };
    });
  }

  // ---- the open lab ----

  private view(): LabView | null {
    const a = this.active;
    if (!a) return null;
    const { lab, progress } = a;
    return {
      id: lab.id,
      title: lab.meta.title,
      summary: lab.meta.summary,
      level: lab.meta.level,
      duration: lab.meta.duration,
      tags: lab.meta.tags,
      nodes: lab.nodeNames,
      steps: lab.steps.map((s) => ({
        index: s.index,
        title: s.title,
        body: s.body,
        commands: s.commands,
        checks: s.checks.map((c) => ({ id: c.id, title: c.title })),
        hints: s.hints.map((h) => ({ text: h.text, ...(h.whenFailing ? { whenFailing: h.whenFailing } : {}) })),
        solution: s.solution,
        questions: s.questions.map((q) => ({ id: q.id, ask: q.ask })),
        tools: s.tools.map(({ line: _, ...d }) => d),
      })),
      current: progress.current,
      done: progress.done,
      answers: progress.answers,
      timeSpentMs: progress.timeSpentMs + (Date.now() - a.since),
      busy: a.busy,
      ...(a.notice ? { notice: a.notice } : {}),
    };
  }

  /** Tells clients (while a world runs; otherwise they read lab.state when they sync). */
  private changed(): LabView | null {
    const v = this.view();
    this.session?.emit('lab.changed', v);
    return v;
  }

  private save(): void {
    const a = this.active;
    if (!a) return;
    const now = Date.now();
    a.progress.timeSpentMs += now - a.since;
    a.since = now;
    this.store.save(a.progress);
  }

  private require(): Active {
    if (!this.active) throw new ApiError('failed', 'no lab is open: open one from the catalogue');
    return this.active;
  }

  private ctx(): CheckContext {
    const s = this.session;
    if (!s) throw new ApiError('failed', "the lab's world is not running: reset the lab to build it again");
    return { world: s.world, kubelet: s.kubelet, scriptTimeLimitS: this.active?.lab.world.timeLimits.script };
  }

  /** Runs a world operation with `busy` shown; one at a time. */
  private async busy<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const a = this.require();
    if (this.running) throw new ApiError('failed', `the lab is busy (${a.busy}): wait for it`);
    this.running = true;
    a.busy = what;
    this.changed();
    try {
      return await fn();
    } catch (e) {
      throw e instanceof ApiError ? e : new ApiError('failed', (e as Error).message);
    } finally {
      a.busy = null;
      this.running = false;
      this.changed();
    }
  }

  /** A fresh world for the open lab, with the solutions of steps before `step` applied. */
  private async rebuild(step: number): Promise<void> {
    const a = this.require();
    if (!this.host) throw new ApiError('failed', 'this engine cannot start worlds');
    a.busy = `building the world (${a.lab.nodeNames.length} node${a.lab.nodeNames.length > 1 ? 's' : ''})`;
    this.changed();
    await this.host.restartFrom(worldSpecOf(a.lab), this);
    if (step > 0) {
      a.busy = `applying the solutions of steps 1–${step}`;
      this.changed();
      await fastForward(this.ctx(), a.lab, step);
      this.session?.podsChanged();
    }
    a.last = undefined;
  }

  async ['lab.open'](p: Params<'lab.open'>): Promise<LabView> {
    if (this.running) throw new ApiError('failed', 'a lab operation is running: wait for it');
    const dir = join(this.labsDir, p.id);
    const { lab, errors } = lintLab(dir);
    if (!lab || errors.length)
      throw new ApiError('failed', `lab ${p.id} has mistakes:\n${errors.map(formatLintError).join('\n')}`);
    this.closeActive();
    const loaded = this.store.load(lab.id);
    const progress = loaded.progress;
    progress.current = Math.min(progress.current, lab.steps.length - 1);
    this.active = { lab, progress, busy: null, since: Date.now(), ...(loaded.error ? { notice: loaded.error } : {}) };
    // the lab's page shows it from here on (a.notice): the catalogue need not repeat it
    this.store.acknowledge(lab.id);
    this.watch(this.active);
    await this.busy('building the world', () => this.rebuild(progress.current));
    this.save();
    this.schedule(0);
    return this.view()!;
  }

  async ['lab.state'](): Promise<LabView | null> {
    return this.view();
  }

  async ['lab.close']() {
    this.closeActive();
    this.changed();
    return { ok: true as const };
  }

  private closeActive(): void {
    if (!this.active) return;
    this.save();
    for (const w of this.active.watchers ?? []) w.close();
    this.active = undefined;
  }

  private unlocked(a: Active): number {
    let i = 0;
    while (a.progress.done.includes(i)) i++;
    return Math.min(i, a.lab.steps.length - 1);
  }

  async ['lab.goto'](p: Params<'lab.goto'>): Promise<LabView> {
    return this.goto(p.step);
  }

  private goto(step: number): LabView {
    const a = this.require();
    if (step >= a.lab.steps.length) throw new ApiError('bad-request', `this lab has ${a.lab.steps.length} steps`);
    if (step > this.unlocked(a))
      throw new ApiError(
        'failed',
        `step ${step + 1} is locked: finish step ${this.unlocked(a) + 1} first, or jump to it (the world is rebuilt with the earlier solutions)`,
      );
    a.progress.current = step;
    a.last = undefined;
    this.save();
    this.schedule(0);
    return this.changed()!;
  }

  async ['lab.jump'](p: Params<'lab.jump'>): Promise<LabView> {
    const a = this.require();
    if (p.step >= a.lab.steps.length) throw new ApiError('bad-request', `this lab has ${a.lab.steps.length} steps`);
    await this.busy(`jumping to step ${p.step + 1}`, () => this.rebuild(p.step));
    a.progress.current = p.step;
    // the earlier steps are done in this world: their solutions are applied
    a.progress.done = [
      ...new Set([...a.progress.done.filter((d) => d < p.step), ...Array.from({ length: p.step }, (_, i) => i)]),
    ].sort((x, y) => x - y);
    this.save();
    this.schedule(0);
    return this.changed()!;
  }

  async ['lab.reset'](): Promise<LabView> {
    const a = this.require();
    await this.busy('resetting', () => this.rebuild(0));
    Object.assign(a.progress, { current: 0, done: [], answers: {} });
    this.save();
    this.schedule(0);
    return this.changed()!;
  }

  async ['lab.check'](): Promise<LabChecks> {
    return this.evaluate();
  }

  async ['lab.solution'](): Promise<LabChecks> {
    const a = this.require();
    const step = a.lab.steps[a.progress.current]!;
    await this.busy(`applying step ${step.index + 1}'s solution`, async () => {
      await applySolution(this.ctx(), step);
      this.session?.podsChanged();
    });
    return this.evaluate();
  }

  async ['lab.kubelet'](p: Params<'lab.kubelet'>) {
    const a = this.require();
    const b = a.lab.steps[a.progress.current]!.commands[p.command];
    if (!b || b.target !== 'kubelet')
      throw new ApiError('bad-request', `step ${a.progress.current + 1} has no kubelet block ${p.command}`);
    try {
      await runBlock(this.ctx(), b);
    } catch (e) {
      throw new ApiError('failed', (e as Error).message);
    } finally {
      this.session?.podsChanged();
      this.schedule(0);
    }
    return { ok: true as const };
  }

  async ['lab.answer'](p: Params<'lab.answer'>) {
    const a = this.require();
    const q = a.lab.steps.flatMap((s) => s.questions).find((x) => x.id === p.question);
    if (!q) throw new ApiError('bad-request', `no question "${p.question}" in this lab`);
    let want: string;
    try {
      want = await answerOf(this.ctx(), q);
    } catch (e) {
      throw new ApiError('failed', `the answer cannot be computed now: ${(e as Error).message}`);
    }
    const correct = sameAnswer(p.answer, want);
    if (correct) {
      a.progress.answers[q.id] = p.answer.trim();
      this.save();
      this.changed();
    }
    return { correct };
  }

  // ---- live checks ----

  /** Evaluates the checks `ms` from now, on `timer` (a later call on the same timer moves it). */
  private schedule(ms: number, timer: 'timer' | 'changeTimer' = 'timer'): void {
    if (!this.active || !this.session) return;
    clearTimeout(this[timer]);
    this[timer] = setTimeout(() => void this.evaluate().catch(() => {}), ms);
  }

  /** A namespace changed: the checks are evaluated once its burst is over. */
  private namespaceChanged(): void {
    this.schedule(CHANGE_QUIET_MS, 'changeTimer');
  }

  /** Evaluates the current step's checks (one evaluation at a time; a trigger during one asks for another). */
  private evaluate(): Promise<LabChecks> {
    if (this.queued) return this.queued;
    const next = this.evaluating.then(() => {
      this.queued = undefined;
      return this.evaluateNow();
    });
    this.queued = next;
    this.evaluating = next.catch(() => {});
    return next;
  }

  private async evaluateNow(): Promise<LabChecks> {
    const a = this.require();
    const step = a.lab.steps[a.progress.current]!;
    let results: CheckResult[];
    if (!this.session || this.running) {
      const why = this.running ? `wait: ${a.busy}` : 'the world is not running';
      results = step.checks.map((c) => ({ id: c.id, title: c.title, ok: false, expected: c.title, found: why }));
    } else {
      const ctx = this.ctx();
      // the monitors start alongside the first evaluation, not after it: a change during it is heard too
      [results] = await Promise.all([evaluateChecks(ctx, step.checks), this.watchNamespaces(ctx, step.checks)]);
    }
    const complete = results.length > 0 && results.every((r) => r.ok);
    if (complete && !a.progress.done.includes(step.index)) {
      a.progress.done = [...a.progress.done, step.index].sort((x, y) => x - y);
      this.save();
      this.changed();
    }
    const out: LabChecks = { lab: a.lab.id, step: step.index, results, complete };
    a.last = out;
    this.session?.emit('lab.checks', out);
    return out;
  }

  /** ip monitor on every node and on each namespace the step's checks look at (that exists now). */
  private async watchNamespaces(ctx: CheckContext, checks: Check[]): Promise<void> {
    const targets = new Map<string, Target>();
    for (const n of ctx.world.nodes.keys())
      targets.set(targetKey({ kind: 'node', node: n }), { kind: 'node', node: n });
    for (const t of checks.flatMap((c) => namespacesOf(ctx, c))) targets.set(targetKey(t), t);
    for (const [k, m] of this.monitors) {
      if (!targets.has(k) || m.process.hasExited) {
        this.monitors.delete(k);
        await m.close().catch(() => {});
      }
    }
    await Promise.all(
      [...targets]
        .filter(([k]) => !this.monitors.has(k))
        .map(async ([k, t]) => {
          try {
            // an event evaluates the checks once its burst is over (the evaluation reads what they need)
            const m = await ChangeTrigger.start(ctx.world, t, () => this.namespaceChanged());
            if (!this.session) return void (await m.close());
            this.monitors.set(k, m);
          } catch {
            /* the namespace went away meanwhile: the next evaluation tries again */
          }
        }),
    );
  }

  /** Authors edit; the app reloads the lab when its files change (a lab with mistakes keeps the last good one). */
  private watch(a: Active): void {
    let t: NodeJS.Timeout | undefined;
    const reload = () => {
      clearTimeout(t);
      t = setTimeout(() => {
        if (this.active !== a) return;
        const { lab, errors } = lintLab(a.lab.dir);
        if (!lab || errors.length)
          a.notice = `lab files changed but have mistakes (kept the last good version):\n${errors.map(formatLintError).join('\n')}`;
        else {
          a.lab = lab;
          a.progress.current = Math.min(a.progress.current, lab.steps.length - 1);
          delete a.notice;
        }
        this.changed();
        this.schedule(0);
      }, 200);
      t.unref();
    };
    // the lab folder and the folders of its steps (plain watchers: they can be unref'd)
    const dirs = new Set([a.lab.dir, ...a.lab.steps.map((s) => dirname(resolve(s.file)))]);
    a.watchers = [];
    for (const d of dirs) {
      try {
        const w = watch(d, reload);
        w.on('error', () => {});
        // watching must never keep the engine's process alive
        w.unref();
        a.watchers.push(w);
      } catch {
        /* no file watching here: reopen the lab to reload it */
      }
    }
  }
}
