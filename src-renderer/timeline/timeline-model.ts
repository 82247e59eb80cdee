// The timeline's renderer state, apart from AppState: the operations the engine recorded, their steps
// (streamed live), the selection and its details. One model per Lab, fed by lab.client.
import { useSyncExternalStore } from 'react';
import type {
  PodOptions,
  TimelineFault,
  TimelineOperation,
  TimelineStep,
  TimelineStepDetail,
} from '../../src-main/api/contract.ts';
import type { Lab } from '../state/lab.ts';

export interface TimelineState {
  ops: TimelineOperation[];
  steps: Record<number, TimelineStep[]>;
  selectedOp: number | null;
  selectedStep: number | null;
  detail: TimelineStepDetail | null;
  faultMenuOpen: boolean;
}

const initial: TimelineState = {
  ops: [],
  steps: {},
  selectedOp: null,
  selectedStep: null,
  detail: null,
  faultMenuOpen: false,
};

export class TimelineModel {
  private state: TimelineState = initial;
  /** The operation shown is held (selectOp's hold): only a step-through or the learner replaces it. */
  private picked = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly lab: Lab) {
    const c = lab.client;
    c.on('timeline.operation', (op) => this.onOperation(op));
    c.on('timeline.step', ({ op, step }) => this.onStep(op, step));
    c.on('timeline.pause', ({ op, pause }) =>
      this.set((s) => ({
        ops: s.ops.map((o) =>
          o.id === op ? { ...o, pause, state: pause ? 'paused' : o.state === 'paused' ? 'running' : o.state } : o,
        ),
      })),
    );
    c.on('world.changed', (w) => {
      if (w.state === 'running' && !this.state.ops.length) void this.load();
      if (w.state === 'stopped') this.set(() => initial);
    });
    void this.load();
  }

  get(): TimelineState {
    return this.state;
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private set(fn: (s: TimelineState) => Partial<TimelineState>): void {
    this.state = { ...this.state, ...fn(this.state) };
    for (const l of this.listeners) l();
  }

  async load(): Promise<void> {
    try {
      const ops = await this.lab.client.call('timeline.list', {});
      this.set(() => ({ ops }));
      const keep = ops.some((o) => o.id === this.state.selectedOp);
      const last = ops[ops.length - 1];
      if (!keep && last) await this.selectOp(last.id);
    } catch {
      /* no world yet: the list comes with world.changed */
    }
  }

  private onOperation(op: TimelineOperation): void {
    const isNew = !this.state.ops.some((o) => o.id === op.id);
    this.set((s) => ({ ops: isNew ? [...s.ops, op] : s.ops.map((o) => (o.id === op.id ? op : o)) }));
    // a new operation is shown when nothing is, or when the one shown has finished and is not stepping
    const shown = this.selected();
    // the control loops' background (heartbeats) and the kubelet's garbage collection are shown only when
    // nothing else is: a collection right after a failed pod must not take its report away
    const background = op.kind === 'controlPlane' || op.kind === 'garbageCollect';
    // an operation the learner picked stays shown (only a step-through, which waits for them, takes over)
    if (
      isNew &&
      (!shown ||
        (!background &&
          (op.stepThrough ||
            (!this.picked &&
              (shown.kind === 'controlPlane' || (shown.state !== 'paused' && shown.state !== 'running'))))))
    )
      void this.selectOp(op.id);
    else if (!isNew && op.id === this.state.selectedOp && (op.state === 'done' || op.state === 'failed'))
      void this.refreshSteps(op.id);
  }

  private onStep(op: number, step: TimelineStep): void {
    this.set((s) => {
      const list = s.steps[op];
      if (!list) return {};
      const i = list.findIndex((x) => x.id === step.id);
      const next = i < 0 ? [...list, step] : list.map((x) => (x.id === step.id ? step : x));
      return { steps: { ...s.steps, [op]: next } };
    });
    if (op === this.state.selectedOp && step.id === this.state.selectedStep) void this.selectStep(step.id);
  }

  selected(): TimelineOperation | undefined {
    return this.state.ops.find((o) => o.id === this.state.selectedOp);
  }

  /** The operation Next/Continue act on: the one shown if it is stepping, else the latest paused one. */
  stepping(): TimelineOperation | undefined {
    const shown = this.selected();
    if (shown?.stepThrough && (shown.state === 'paused' || shown.state === 'running')) return shown;
    return [...this.state.ops].reverse().find((o) => o.state === 'paused');
  }

  /** Shows an operation; `hold`: later operations (a garbage collection, another pod's) do not replace it. */
  async selectOp(id: number, hold = false): Promise<void> {
    this.picked = hold;
    this.set(() => ({ selectedOp: id, selectedStep: null, detail: null }));
    await this.refreshSteps(id);
  }

  private async refreshSteps(id: number): Promise<void> {
    try {
      const steps = await this.lab.client.call('timeline.steps', { op: id });
      this.set((s) => ({ steps: { ...s.steps, [id]: steps } }));
    } catch (e) {
      this.lab.notify((e as Error).message);
    }
  }

  /** The picker: an older operation is held; picking the latest lets newer ones be shown as they come. */
  pick(id: number): Promise<void> {
    return this.selectOp(id, id !== this.state.ops[this.state.ops.length - 1]?.id);
  }

  async selectStep(id: number): Promise<void> {
    const op = this.state.selectedOp;
    if (op === null) return;
    this.set((s) => ({ selectedStep: id, detail: s.detail?.step.id === id ? s.detail : null }));
    try {
      const detail = await this.lab.client.call('timeline.detail', { op, step: id });
      if (this.state.selectedStep === id) this.set(() => ({ detail }));
    } catch (e) {
      this.lab.notify((e as Error).message);
    }
  }

  setFaultMenu(open: boolean): void {
    this.set(() => ({ faultMenuOpen: open }));
  }

  async next(): Promise<void> {
    const op = this.stepping();
    if (op) await this.call(() => this.lab.client.call('timeline.next', { op: op.id }));
  }

  async continue(): Promise<void> {
    const op = this.stepping();
    if (op) await this.call(() => this.lab.client.call('timeline.continue', { op: op.id }));
  }

  async createPod(
    name: string,
    node: string,
    stepThrough: boolean,
    fault?: TimelineFault,
    options: PodOptions = {},
  ): Promise<boolean> {
    return this.start(() =>
      this.lab.client.call('timeline.createPod', { name, node, ...options, stepThrough, ...(fault ? { fault } : {}) }),
    );
  }

  async deletePod(name: string, stepThrough: boolean, fault?: TimelineFault): Promise<boolean> {
    return this.start(() =>
      this.lab.client.call('timeline.deletePod', { name, stepThrough, ...(fault ? { fault } : {}) }),
    );
  }

  private async start(req: () => Promise<TimelineOperation>): Promise<boolean> {
    try {
      const op = await req();
      this.lab.openTool('timeline');
      if (!this.state.ops.some((o) => o.id === op.id)) this.set((s) => ({ ops: [...s.ops, op] }));
      await this.selectOp(op.id);
      return true;
    } catch (e) {
      this.lab.notify((e as Error).message);
      return false;
    }
  }

  private async call(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.lab.notify((e as Error).message);
    }
  }
}

const models = new WeakMap<Lab, TimelineModel>();
let current: TimelineModel | undefined;

/** The lab's timeline model, made (and subscribed) on first use. */
export function timelineOf(lab: Lab): TimelineModel {
  let m = models.get(lab);
  if (!m) {
    m = new TimelineModel(lab);
    models.set(lab, m);
    current = m;
  }
  return m;
}

/** For action predicates, which see only AppState: the model if one exists. */
export function currentTimeline(): TimelineModel | undefined {
  return current;
}

export function useTimeline<T>(m: TimelineModel, select: (s: TimelineState) => T): T {
  return useSyncExternalStore(m.subscribe, () => select(m.get()));
}
