// Pure geometry of the timeline: steps in tree order, a time axis with the step-through waits left
// out, and each lane's bars packed into rows so no label runs over another bar.
import type { TimelineStep } from '../../src-main/api/contract.ts';

export const LANES = [
  { component: 'apiserver', title: 'control plane' },
  { component: 'kubelet', title: 'kubelet' },
  { component: 'cri', title: 'CRI' },
  { component: 'containerd', title: 'containerd' },
  { component: 'cni', title: 'CNI plugins' },
  { component: 'kernel', title: 'kernel' },
] as const;
export type Lane = (typeof LANES)[number];

/**
 * The lanes an operation shows: the control-plane lane when it has API steps (a kubectl apply), the
 * node's lanes when it has the kubelet's steps or nothing else (a SyncPod from the pod form).
 */
export function lanesOf(steps: readonly TimelineStep[]): Lane[] {
  const api = steps.some((s) => s.component === 'apiserver');
  const node = steps.some((s) => s.component !== 'apiserver');
  return LANES.filter((l) => (l.component === 'apiserver' ? api : node || !api));
}

/** Depth-first: each step followed by its children, by start (the order DESIGN.md lists them in). */
export function treeOrder(steps: readonly TimelineStep[]): { step: TimelineStep; depth: number }[] {
  const ids = new Set(steps.map((s) => s.id));
  const kids = new Map<number | undefined, TimelineStep[]>();
  for (const s of steps) {
    const p = s.parent !== undefined && ids.has(s.parent) ? s.parent : undefined;
    kids.set(p, [...(kids.get(p) ?? []), s]);
  }
  const out: { step: TimelineStep; depth: number }[] = [];
  const walk = (p: number | undefined, depth: number) => {
    for (const s of [...(kids.get(p) ?? [])].sort((a, b) => a.start - b.start || a.id - b.id)) {
      out.push({ step: s, depth });
      walk(s.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

/** Maps trace time to time with the pauses taken out. */
export function compressor(pauses: readonly (readonly [number, number])[]): (t: number) => number {
  const sorted = [...pauses].sort((a, b) => a[0] - b[0]);
  return (t) => {
    let cut = 0;
    for (const [a, b] of sorted) {
      if (t <= a) break;
      cut += Math.min(t, b) - a;
    }
    return t - cut;
  };
}

export interface Bar {
  step: TimelineStep;
  lane: number;
  row: number;
  x: number;
  width: number;
  /** The bar's own length (the rest of `width` is its label). */
  barWidth: number;
  /** Duration without the step-through waits. */
  ms: number;
  open: boolean;
}

export const CHAR_PX = 6.7;
const LABEL_PAD = 10;

export function barLabel(s: TimelineStep, ms: number): string {
  return `${s.undo ? '↺ ' : ''}${s.name} ${formatMs(ms)}`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** Lays out every step: x from its (compressed) start, width from its duration, rows packed per lane. */
export function layoutBars(
  steps: readonly TimelineStep[],
  pauses: readonly (readonly [number, number])[],
  width: number,
  lanes: readonly Lane[] = LANES,
): { bars: Bar[]; rows: number[]; total: number; scale: number; at: (t: number) => number } {
  const at = compressor(pauses);
  const ends = steps.map((s) => at(s.end ?? s.start));
  const total = Math.max(1, ...ends, ...steps.map((s) => at(s.start)));
  const scale = Math.max(0.01, width / total);
  const rowsEnd: number[][] = lanes.map(() => []);
  const bars: Bar[] = [];
  for (const { step } of treeOrder(steps)) {
    const lane = lanes.findIndex((l) => l.component === step.component);
    if (lane < 0) continue;
    const x = at(step.start) * scale;
    const endT = step.end === undefined ? total : at(step.end);
    const barWidth = Math.max(3, (endT - at(step.start)) * scale);
    const ms = endT - at(step.start);
    const label = barLabel(step, ms);
    // the label is drawn after the bar: both take room in the row
    const w = barWidth + 4 + label.length * CHAR_PX + LABEL_PAD;
    const rows = rowsEnd[lane]!;
    let row = rows.findIndex((end) => end <= x);
    if (row < 0) row = rows.push(0) - 1;
    rows[row] = x + w;
    bars.push({ step, lane, row, x, width: w, barWidth, ms, open: step.end === undefined });
  }
  return { bars, rows: rowsEnd.map((r) => Math.max(1, r.length)), total, scale, at };
}

/** Round tick spacing (1, 2 or 5 × 10^k ms) for about `count` ticks. */
export function tickStep(total: number, count = 8): number {
  const raw = total / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}
