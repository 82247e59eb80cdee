// The labs as a path: numbered, grouped from the kernel's pieces up to the node's operations, and
// which one a learner should take next ("Start with lab 1", "Continue: lab N, step M").
import type { LabSummary } from '../../src-main/api/contract.ts';

export interface PathGroup {
  title: string;
  blurb: string;
  labs: LabSummary[];
}

/** The groups by lab number; a lab outside them goes to "More labs". */
const GROUPS: { title: string; blurb: string; from: number; to: number }[] = [
  { title: 'The kernel’s pieces', blurb: 'namespaces → veth → bridge → IPAM and routes', from: 1, to: 4 },
  { title: 'CNI and the pod sandbox', blurb: 'CNI by hand → sandbox → loopback → teardown → chains', from: 5, to: 9 },
  { title: 'Across nodes', blurb: 'a VXLAN overlay, routed pod CIDRs', from: 10, to: 11 },
  { title: 'Services and DNS', blurb: 'ClusterIP rules, the pod’s resolver', from: 12, to: 13 },
  {
    title: 'Running the node’s network',
    blurb: 'NetworkReady, your own plugin, troubleshooting, ports, bandwidth, STATUS and GC',
    from: 14,
    to: 19,
  },
  { title: 'The real runtime', blurb: 'the real containerd 2.1.9 beside the model', from: 20, to: 99 },
];

export const labNo = (id: string): number | null => {
  const m = /^(\d+)-/.exec(id);
  return m ? Number(m[1]) : null;
};

export function groupLabs(labs: LabSummary[]): PathGroup[] {
  const out: PathGroup[] = GROUPS.map((g) => ({ title: g.title, blurb: g.blurb, labs: [] }));
  const more: PathGroup = { title: 'More labs', blurb: 'labs outside the numbered path', labs: [] };
  for (const l of labs) {
    const n = labNo(l.id);
    const i = n === null ? -1 : GROUPS.findIndex((g) => n >= g.from && n <= g.to);
    (i < 0 ? more : out[i]!).labs.push(l);
  }
  return [...out, more].filter((g) => g.labs.length);
}

export const isComplete = (l: LabSummary) => l.steps > 0 && l.done.length >= l.steps;

export interface NextMove {
  lab: LabSummary;
  kind: 'start-first' | 'continue' | 'start-next';
  /** "Start with lab 1", "Continue: lab 3, step 2", "Start lab 4". */
  label: string;
}

/** What the home screen offers first: the lab last opened if unfinished, else the first unfinished one. */
export function nextMove(labs: LabSummary[], lastLab: string | null): NextMove | null {
  const ok = labs.filter((l) => !l.error);
  if (!ok.length) return null;
  const name = (l: LabSummary) => `lab ${labNo(l.id) ?? l.title}`;
  const cont = (l: LabSummary): NextMove => ({
    lab: l,
    kind: 'continue',
    label: `Continue: ${name(l)}, step ${Math.min(l.current, l.steps - 1) + 1}`,
  });
  const last = ok.find((l) => l.id === lastLab);
  if (last && !isComplete(last)) return cont(last);
  const started = ok.find((l) => !isComplete(l) && (l.done.length > 0 || l.current > 0));
  if (started) return cont(started);
  const fresh = ok.find((l) => !isComplete(l));
  if (!fresh) return null;
  if (!ok.some((l) => l.done.length > 0))
    return { lab: fresh, kind: 'start-first', label: `Start with ${name(fresh)}` };
  return { lab: fresh, kind: 'start-next', label: `Start ${name(fresh)}` };
}

/** The lab after this one on the path (the next number), if any. */
export function nextLab(labs: LabSummary[], id: string): LabSummary | undefined {
  const sorted = labs.filter((l) => !l.error);
  const i = sorted.findIndex((l) => l.id === id);
  return i >= 0 ? sorted[i + 1] : undefined;
}

/** "12 min", "1 h 5 min": time spent, as people say it. */
export function duration(ms: number): string {
  const min = Math.max(1, Math.round(ms / 60000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}
