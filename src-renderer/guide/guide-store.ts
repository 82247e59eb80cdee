// The guide's own state (kept out of AppState): the lab catalogue, the open lab, its current checks,
// and what the reader has revealed. Fed by lab.* events and requests through the Lab's client.
import { useSyncExternalStore } from 'react';
import type { LabChecks, LabStep, LabSummary, LabView, TerminalTarget } from '../../src-main/api/contract.ts';
import type { Lab } from '../state/lab.ts';
import { savePrefs } from '../state/prefs.ts';
import { applyDirectives } from './directives.ts';

export interface GuideState {
  catalogue: LabSummary[] | null;
  view: LabView | null;
  checks: LabChecks | null;
  /** A request in flight from this window ("opening", "checking"), besides the engine's own busy. */
  pending: string | null;
  /** Hints revealed, per step. */
  hintsShown: Record<number, number>;
  solutionShown: Record<number, boolean>;
  /** Answers given, per question: the text and whether it was right. */
  answered: Record<string, { text: string; correct: boolean }>;
  /** Steps where the learner has acted (ran a block, typed a command, pressed Check): their failing checks show red. */
  acted: Record<number, boolean>;
  /** Per step, the index of the next command block "run the next block" runs. */
  nextBlock: Record<number, number>;
}

const TERMINAL_WAIT_MS = 15_000;

export class Guide {
  private state: GuideState = {
    catalogue: null,
    view: null,
    checks: null,
    pending: null,
    hintsShown: {},
    solutionShown: {},
    answered: {},
    acted: {},
    nextBlock: {},
  };
  /** The step whose tools were last pointed (`lab:step`): a step points them once when it is shown. */
  private pointed = '';
  /** The lab a first terminal was opened for (once per opening). */
  private termFor = '';
  private readonly listeners = new Set<() => void>();

  constructor(readonly lab: Lab) {
    lab.client.on('lab.changed', (view) => {
      this.set({
        view,
        ...(view && this.state.checks && this.state.checks.step !== view.current ? { checks: null } : {}),
      });
      if (!view) void this.refreshCatalogue();
      this.shown();
    });
    // a command typed into a terminal (Enter) is the learner acting on the step shown
    window.addEventListener(
      'keydown',
      (e) => {
        const v = this.state.view;
        if (v && e.key === 'Enter' && (e.target as Element | null)?.closest?.('.terminal-container'))
          this.acted(v.current);
      },
      true,
    );
    // the world came up (or back): the step's tools can be pointed now
    let lastWorld = lab.state.world.state;
    lab.store.subscribe(() => {
      const w = lab.state.world.state;
      if (w !== lastWorld && w === 'running') this.shown();
      lastWorld = w;
    });
    lab.client.on('lab.catalogue', (catalogue) => this.set({ catalogue }));
    lab.client.on('lab.checks', (checks) => {
      if (checks.lab === this.state.view?.id) this.set({ checks });
    });
    // after a reload or a reconnect: the engine still has the open lab and its progress
    let last = lab.state.connection;
    lab.store.subscribe(() => {
      const c = lab.state.connection;
      if (c !== last && c === 'connected') void this.sync();
      last = c;
    });
    if (last === 'connected') void this.sync();
  }

  get = (): GuideState => this.state;
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
  private set(patch: Partial<GuideState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** Marks a step as acted on: from now its failing checks show as failing. */
  acted(step: number): void {
    if (!this.state.acted[step]) this.set({ acted: { ...this.state.acted, [step]: true } });
  }

  /** The step shown changed (or its world came up): its layout, and its ```tools pointed once. */
  private shown(): void {
    const v = this.state.view;
    this.lab.useLayoutOf(v?.id ?? null);
    if (!v || v.busy || this.lab.state.world.state !== 'running') return;
    const key = `${v.id}:${v.current}`;
    if (key === this.pointed) return;
    this.pointed = key;
    const step = v.steps[v.current];
    if (step?.tools?.length) void applyDirectives(this, step.tools, () => this.pointed === key);
    // a lab opens with a terminal on its first node (once per opening; a step's `open: terminal` may name another)
    const own = step?.tools?.some((d) => d.open?.startsWith('terminal'));
    if (this.termFor !== v.id) {
      this.termFor = v.id;
      const first = v.nodes[0];
      // after a reload the engine's terminals are adopted first: the lab's own is among them
      if (!own && first)
        void this.lab.adopted.then(() => {
          if (!this.lab.state.tabs.some((t) => t.status === 'live' || t.status === 'opening'))
            void this.terminalFor(terminalTarget(first)).catch(() => {});
        });
    }
  }

  async sync(): Promise<void> {
    try {
      const [view, world] = await Promise.all([
        this.lab.client.call('lab.state', {}),
        this.lab.client.call('world.status', {}),
      ]);
      this.set({ view });
      // after a reload: a world running (or starting: a reload mid-start) without a lab is free play, not the home screen
      if (!view && (world.state === 'running' || world.state === 'starting')) this.lab.setFreePlay(true);
      this.shown();
      if (view) {
        await this.check(false);
        void this.refreshCatalogue();
      } else await this.refreshCatalogue();
    } catch (e) {
      this.lab.notify(`Could not read the lab: ${(e as Error).message}`);
    }
  }

  async refreshCatalogue(): Promise<void> {
    try {
      this.set({ catalogue: await this.lab.client.call('lab.list', {}) });
    } catch (e) {
      this.lab.notify(`Could not list the labs: ${(e as Error).message}`);
    }
  }

  /** Runs a request with a pending label; failures become notices. */
  private async op<T>(label: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.set({ pending: label });
    try {
      return await fn();
    } catch (e) {
      this.lab.notify((e as Error).message);
      return undefined;
    } finally {
      this.set({ pending: null });
    }
  }

  private fresh(): Partial<GuideState> {
    this.pointed = '';
    this.termFor = '';
    return { hintsShown: {}, solutionShown: {}, answered: {}, checks: null, acted: {}, nextBlock: {} };
  }

  /** What a running world would lose to a rebuild, in words; null when nothing runs. */
  private atRisk(): string | null {
    const st = this.lab.state;
    if (st.world.state !== 'running') return null;
    const terms = st.tabs.filter((t) => t.status === 'live').length;
    const pods = st.pods.length;
    const parts = [
      terms ? `${terms} terminal${terms > 1 ? 's' : ''}` : '',
      pods ? `${pods} pod${pods > 1 ? 's' : ''}` : '',
    ].filter(Boolean);
    return `the running world${parts.length ? ` (${parts.join(', ')})` : ''} and everything made in it`;
  }

  /** Opens a lab; asks first when a world is running (opening builds the lab's own world). */
  async open(id: string, opts: { ask?: boolean } = {}) {
    const risk = this.atRisk();
    const current = this.state.view;
    if (opts.ask !== false && risk && current?.id !== id) {
      const title = this.state.catalogue?.find((l) => l.id === id)?.title ?? id;
      const ok = await this.lab.confirm({
        title: `Open “${title}”?`,
        body: `Opening a lab builds its own world: ${risk} will end.${current ? ` Your progress in “${current.title}” is kept.` : ''}`,
        confirm: 'Open the lab',
      });
      if (!ok) return;
    }
    savePrefs({ lastLab: id });
    return this.op('opening the lab and building its world', async () => {
      this.set(this.fresh());
      this.set({ view: await this.lab.client.call('lab.open', { id }) });
      this.lab.setFreePlay(false);
      this.shown();
      void this.refreshCatalogue();
    });
  }
  close() {
    this.termFor = '';
    return this.op('closing', async () => {
      await this.lab.client.call('lab.close', {});
      this.set({ view: null, checks: null });
      this.shown();
      await this.refreshCatalogue();
    });
  }
  goto(step: number) {
    return this.op('', async () => {
      this.set({ view: await this.lab.client.call('lab.goto', { step }), checks: null });
      this.shown();
    });
  }
  /** Any step, on a rebuilt world: asks first, since the world's current state is lost. */
  async jump(step: number) {
    const v = this.state.view;
    if (!v) return;
    // nothing runs: nothing to lose, nothing to ask
    const ok =
      !this.atRisk() ||
      (await this.lab.confirm({
        title: `Rebuild the world at step ${step + 1}?`,
        body: `Jumping to “${v.steps[step]?.title ?? `step ${step + 1}`}” builds a fresh world${step > 0 ? ` with the solutions of steps 1–${step} applied` : ''}: ${this.atRisk() ?? 'the world'} is lost. Steps you finished stay marked.`,
        confirm: 'Rebuild the world',
      }));
    if (!ok) return;
    return this.op(`jumping to step ${step + 1}`, async () => {
      this.pointed = '';
      this.set({ view: await this.lab.client.call('lab.jump', { step }), checks: null });
      this.shown();
    });
  }
  /** The lab's one Reset: a fresh world at step 1, progress cleared; asks first. */
  async reset(opts: { ask?: boolean } = {}) {
    const v = this.state.view;
    if (!v) return;
    if (opts.ask !== false) {
      const ok = await this.lab.confirm({
        title: `Reset “${v.title}”?`,
        body: `A fresh world at step 1: ${this.atRisk() ?? 'the world'} is lost, and this lab's progress (${v.done.length} of ${v.steps.length} steps done, answers) is cleared.`,
        confirm: 'Reset the lab',
      });
      if (!ok) return;
    }
    return this.op('resetting the lab', async () => {
      this.set(this.fresh());
      this.set({ view: await this.lab.client.call('lab.reset', {}) });
      this.shown();
    });
  }
  /** Evaluates the step's checks; pressed by the learner (acted) unless `byLearner` is false. */
  check(byLearner = true) {
    const v = this.state.view;
    if (byLearner && v) this.acted(v.current);
    return this.op('checking', async () => this.set({ checks: await this.lab.client.call('lab.check', {}) }));
  }
  /** Check, and when the step is done, go on to the next one. */
  async checkAndGoOn() {
    const v = this.state.view;
    if (!v) return;
    await this.check();
    const after = this.state.view;
    const checks = this.state.checks;
    if (after && checks?.complete && checks.step === after.current && after.current + 1 < after.steps.length)
      await this.goto(after.current + 1);
  }
  applySolution() {
    const v = this.state.view;
    if (v) this.acted(v.current);
    const blocks = v?.steps[v.current]?.solution ?? [];
    // where each block concerns, before the solution runs (a killPod's node is known only while its pod is)
    const where = blocks.map((b) => ({ b, at: this.concerns(b.target, b.text) }));
    return this.op('applying the solution', async () => {
      this.set({ checks: await this.lab.client.call('lab.solution', {}) });
      for (const { b, at } of where) this.echo(at, b.target === 'kubelet' ? 'kubelet (solution)' : 'solution', b.text);
    });
  }

  /** The terminal a block concerns: its node or pod; a kubelet line, the node of the pod it names. */
  private concerns(target: string, text: string): string | undefined {
    if (target !== 'kubelet') return target;
    const [verb, pod, node] = text.trim().split(/\s+/);
    if (verb === 'syncPod' && node) return node;
    return this.lab.state.pods.find((p) => p.name === pod)?.node;
  }

  /**
   * What the guide ran outside the terminal (a solution, a kubelet line), shown in the terminal it
   * concerns as shell comments: the prompt stays the shell's own, and the scrollback keeps the record.
   */
  private echo(at: string | undefined, who: string, text: string): void {
    if (!at || this.lab.state.world.state !== 'running') return;
    const lines = text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => `# ${who}: ${l}`);
    if (!lines.length) return;
    void this.terminalFor(terminalTarget(at))
      .then((id) => this.lab.client.call('terminal.input', { id, data: lines.join('\n') + '\n' }))
      .catch(() => {});
  }
  /** Runs the step's next command block (in order; after the last, the first again). */
  async runNext() {
    const v = this.state.view;
    const step = v?.steps[v.current];
    if (!v || !step) return;
    const runnable = step.commands.map((c, i) => ({ c, i })).filter(({ c }) => !c.copyOnly);
    if (!runnable.length) return this.lab.notify('This step has no command to run', { short: true });
    const from = this.state.nextBlock[v.current] ?? 0;
    const next = runnable.find(({ i }) => i >= from) ?? runnable[0]!;
    await this.run(v.current, next.i);
  }
  showSolution(step: number) {
    this.set({ solutionShown: { ...this.state.solutionShown, [step]: true } });
  }
  nextHint(step: number) {
    this.set({ hintsShown: { ...this.state.hintsShown, [step]: (this.state.hintsShown[step] ?? 0) + 1 } });
  }
  answer(question: string, text: string) {
    return this.op('', async () => {
      const r = await this.lab.client.call('lab.answer', { question, answer: text });
      this.set({ answered: { ...this.state.answered, [question]: { text, correct: r.correct } } });
    });
  }

  currentStep(): LabStep | undefined {
    const v = this.state.view;
    return v?.steps[v.current];
  }

  /** A step's command: kubelet lines go to the engine's kubelet; others are typed into their named terminal. */
  async run(stepIndex: number, command: number): Promise<void> {
    const step = this.state.view?.steps[stepIndex];
    const block = step?.commands[command];
    if (!block) return;
    this.acted(stepIndex);
    this.set({ nextBlock: { ...this.state.nextBlock, [stepIndex]: command + 1 } });
    if (block.target === 'kubelet') {
      const at = this.concerns(block.target, block.text);
      await this.op('kubelet', async () => {
        await this.lab.client.call('lab.kubelet', { command });
        this.echo(at, 'kubelet', block.text);
      });
      return;
    }
    const target = terminalTarget(block.target);
    try {
      const id = await this.terminalFor(target);
      await this.lab.client.call('terminal.input', { id, data: block.text + '\n' });
    } catch (e) {
      this.lab.notify(`Could not run the command in ${block.target}: ${(e as Error).message}`);
    }
  }

  async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.lab.notify('Copied to the clipboard', { short: true });
    } catch {
      this.lab.notify('The clipboard is not available here: select the text and copy it');
    }
  }

  /** The live terminal on a target (the one shown), or the one opening there, or a new one once the engine has opened it. */
  async terminalFor(target: TerminalTarget): Promise<string> {
    // after a reload the engine's terminals are adopted first: a step's `open: terminal` finds its own there
    await this.lab.adopted;
    const same = (t: TerminalTarget) => JSON.stringify(t) === JSON.stringify(target);
    const find = () => this.lab.state.tabs.find((t) => same(t.target) && t.status === 'live' && t.id);
    const have = find();
    if (have) {
      this.lab.activate(have.key, false);
      return have.id!;
    }
    // one already opening there (a dead tab reopened after a reset, an earlier call's) is the one: not a second
    if (!this.lab.state.tabs.some((t) => same(t.target) && t.status === 'opening')) this.lab.openTerminal(target);
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error('the terminal did not open'));
      }, TERMINAL_WAIT_MS);
      const off = this.lab.store.subscribe(() => {
        const t = find();
        if (t) {
          clearTimeout(timer);
          off();
          resolve(t.id!);
        }
      });
    });
  }
}

/** A lab's terminal name as a terminal target: "node1" or "pod/web". */
export function terminalTarget(name: string): TerminalTarget {
  return name.startsWith('pod/') ? { kind: 'pod', pod: name.slice(4) } : { kind: 'node', node: name };
}

const guides = new WeakMap<Lab, Guide>();
export function guideOf(lab: Lab): Guide {
  let g = guides.get(lab);
  if (!g) guides.set(lab, (g = new Guide(lab)));
  return g;
}

export function useGuide<T>(g: Guide, select: (s: GuideState) => T): T {
  return useSyncExternalStore(g.subscribe, () => select(g.get()));
}
