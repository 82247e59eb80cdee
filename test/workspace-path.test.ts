// The home screen's path (src-renderer/guide/path.ts): labs grouped by number, and the one next step
// it offers — "Start with lab 1" for a new learner, "Continue" for the lab last opened, "Start lab N" after.
import { describe, expect, it } from 'vitest';
import type { LabSummary } from '../src-main/api/contract.js';
import { duration, groupLabs, nextLab, nextMove } from '../src-renderer/guide/path.js';

const lab = (id: string, steps: number, done: number[] = [], current = 0): LabSummary => ({
  id,
  title: id.replace(/^\d+-/, ''),
  summary: '',
  level: 'beginner',
  duration: 10,
  tags: [],
  prerequisites: [],
  steps,
  nodes: 1,
  current,
  done,
});

describe('the path on the home screen', () => {
  it('groups the labs by number, in order, with unnumbered ones last', () => {
    const g = groupLabs([lab('01-ns', 3), lab('03-bridge', 4), lab('06-sandbox', 4), lab('12-svc', 2), lab('x', 1)]);
    expect(g.map((x) => [x.title, x.labs.map((l) => l.id)])).toEqual([
      ['The kernel’s pieces', ['01-ns', '03-bridge']],
      ['CNI and the pod sandbox', ['06-sandbox']],
      ['Services and DNS', ['12-svc']],
      ['More labs', ['x']],
    ]);
  });

  it('offers lab 1 first, then the lab last opened, then the first unfinished one', () => {
    const fresh = [lab('01-ns', 3), lab('02-veth', 6)];
    expect(nextMove(fresh, null)?.label).toBe('Start with lab 1');
    const some = [lab('01-ns', 3, [0, 1, 2], 2), lab('02-veth', 6, [0], 1), lab('03-bridge', 4)];
    expect(nextMove(some, '02-veth')?.label).toBe('Continue: lab 2, step 2');
    expect(nextMove(some, null)?.label).toBe('Continue: lab 2, step 2');
    const finished = [lab('01-ns', 3, [0, 1, 2], 2), lab('02-veth', 6)];
    expect(nextMove(finished, '01-ns')?.label).toBe('Start lab 2');
    expect(nextMove([lab('01-ns', 1, [0])], '01-ns')).toBeNull();
    expect(nextLab(finished, '01-ns')?.id).toBe('02-veth');
    expect(nextLab(finished, '02-veth')).toBeUndefined();
  });

  it('says time spent as people do', () => {
    expect(duration(10_000)).toBe('1 min');
    expect(duration(12 * 60_000)).toBe('12 min');
    expect(duration(65 * 60_000)).toBe('1 h 5 min');
  });
});
