// The guide's own state (kept out of AppState): the lab catalogue, the open lab, its current checks,
// and what the reader has revealed. Fed by lab.* events and requests through the Lab's client.
import { useSyncExternalStore } from 'react';
import type { LabChecks, LabStep, LabSummary, LabView, TerminalTarget } from '../../src-main/api/contract.ts';
import type { Lab } from '../state/lab.ts';

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
  };
  private readonly listeners = new Set<() => void>();

  constructor(readonly lab: Lab) {
    lab.client.on('lab.changed', (view) => {
      this.set({
        view,
        ...(view && this.state.checks && this.state.checks.step !== view.current ? { checks: null } : {}),
      });
      if (!view) void this.refreshCatalogue();
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

  async sync(): Promise<void> {
    try {
      const view = await this.lab.client.call('lab.state', {});
      this.set({ view });
      if (view) await this.check();
      else await this.refreshCatalogue();
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

  open(id: string) {
    return this.op('opening the lab and building its world', async () => {
      this.set({ hintsShown: {}, solutionShown: {}, answered: {}, checks: null });
      this.set({ view: await this.lab.client.call('lab.open', { id }) });
    });
  }
  close() {
    return this.op('closing', async () => {
      await this.lab.client.call('lab.close', {});
      this.set({ view: null, checks: null });
      await this.refreshCatalogue();
    });
  }
  goto(step: number) {
    return this.op('', async () => this.set({ view: await this.lab.client.call('lab.goto', { step }), checks: null }));
  }
  jump(step: number) {
    return this.op(`jumping to step ${step + 1}`, async () =>
      this.set({ view: await this.lab.client.call('lab.jump', { step }), checks: null }),
    );
  }
  reset() {
    return this.op('resetting the lab', async () => {
      this.set({ hintsShown: {}, solutionShown: {}, answered: {}, checks: null });
      this.set({ view: await this.lab.client.call('lab.reset', {}) });
    });
  }
  check() {
    return this.op('checking', async () => this.set({ checks: await this.lab.client.call('lab.check', {}) }));
  }
  applySolution() {
    return this.op('applying the solution', async () =>
      this.set({ checks: await this.lab.client.call('lab.solution', {}) }),
    );
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
    if (block.target === 'kubelet') {
      await this.op('kubelet', () => this.lab.client.call('lab.kubelet', { command }));
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
      this.lab.notify('Copied to the clipboard');
    } catch {
      this.lab.notify('The clipboard is not available here: select the text and copy it');
    }
  }

  /** The live terminal on a target (the one shown), or a new one once the engine has opened it. */
  private terminalFor(target: TerminalTarget): Promise<string> {
    const same = (t: TerminalTarget) => JSON.stringify(t) === JSON.stringify(target);
    const find = () => this.lab.state.tabs.find((t) => same(t.target) && t.status === 'live' && t.id);
    const have = find();
    if (have) {
      this.lab.activate(have.key, false);
      return Promise.resolve(have.id!);
    }
    this.lab.openTerminal(target);
    return new Promise((resolve, reject) => {
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
