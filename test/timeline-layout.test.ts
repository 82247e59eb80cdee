// The timeline view's geometry (pure): tree order, the time axis without step-through waits, and lane
// rows packed so that no bar or label runs over another.
import { describe, expect, it } from 'vitest';
import type { TimelineStep } from '../src-main/api/contract.js';
import { CHAR_PX, compressor, layoutBars, tickStep, treeOrder } from '../src-renderer/timeline/layout.js';

const step = (
  id: number,
  component: TimelineStep['component'],
  name: string,
  start: number,
  end?: number,
  parent?: number,
): TimelineStep => ({
  id,
  component,
  name,
  start,
  ...(end !== undefined ? { end } : {}),
  ...(parent !== undefined ? { parent } : {}),
  summary: '',
});

describe('timeline layout', () => {
  it('orders steps depth-first by start, whatever order they arrived in', () => {
    const steps = [
      step(4, 'cni', 'bridge ADD', 5, 8, 3),
      step(1, 'kubelet', 'SyncPod', 0, 20),
      step(3, 'cni', 'CNI ADD', 4, 9, 2),
      step(2, 'cri', 'RunPodSandbox', 1, 10, 1),
      step(5, 'kubelet', 'PodReady', 12, 13, 1),
    ];
    expect(treeOrder(steps).map((x) => `${x.depth}:${x.step.name}`)).toEqual([
      '0:SyncPod',
      '1:RunPodSandbox',
      '2:CNI ADD',
      '3:bridge ADD',
      '1:PodReady',
    ]);
  });

  it('takes the step-through waits out of the time axis', () => {
    const at = compressor([
      [10, 1010],
      [1020, 3020],
    ]);
    expect([at(5), at(10), at(500), at(1010), at(1015), at(3020), at(3030)]).toEqual([5, 10, 10, 10, 15, 20, 30]);
  });

  it('packs a lane into rows so no bar or label overlaps another', () => {
    const steps = [
      step(1, 'kubelet', 'SyncPod', 0, 100),
      step(2, 'kubelet', 'PrepareResources', 1, 2, 1),
      step(3, 'kubelet', 'PodReadyToStartContainers', 3, 4, 1),
      step(4, 'kubelet', 'start container httpd', 90, 95, 1),
    ];
    const { bars } = layoutBars(steps, [], 800);
    for (const a of bars) {
      for (const b of bars) {
        if (a === b || a.lane !== b.lane || a.row !== b.row) continue;
        expect(a.x + a.width <= b.x || b.x + b.width <= a.x, `${a.step.name} overlaps ${b.step.name}`).toBe(true);
      }
      expect(a.width).toBeGreaterThan(a.barWidth + a.step.name.length * CHAR_PX);
    }
    expect(new Set(bars.map((b) => b.row)).size).toBeGreaterThan(1);
    // an open step (no end yet) runs to the latest time known
    const open = layoutBars([step(1, 'kubelet', 'SyncPod', 0), step(2, 'kernel', 'NewNetNS', 2, 9, 1)], [], 900);
    expect(open.bars[0]).toMatchObject({ open: true, x: 0, barWidth: 900 });
  });

  it('picks round tick steps', () => {
    expect(tickStep(84)).toBe(20);
    expect(tickStep(538)).toBe(100);
    expect(tickStep(7)).toBe(1);
  });
});
