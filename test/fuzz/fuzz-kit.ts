// What the fuzz tests share: how many inputs (a bounded, seeded run in the suite; PODNET_FUZZ_RUNS for a
// long one), and a tally of the distinct errors they met.
import fc from 'fast-check';

/** Inputs per property: a few hundred in the suite; PODNET_FUZZ_RUNS=n for a long run. */
export const RUNS = Number(process.env.PODNET_FUZZ_RUNS ?? 0) || undefined;
export const SEED = Number(process.env.PODNET_FUZZ_SEED ?? 20261123);

export function params(runs: number): fc.Parameters<unknown> {
  return { numRuns: RUNS ?? runs, seed: SEED, endOnFailure: true };
}

/** An error's class: its text with the input's own values (quoted, numbers) taken out. */
export function errorClass(prefix: string, message: string, inputs: unknown[] = []): string {
  // the input's own values, wherever the message repeats them
  for (const v of inputs) if (typeof v === 'string' && v.length > 0) message = message.split(v).join('…');
  // a schema error lists issues as "path: what"; the class is the set of whats
  const m = /^(not a request|invalid params for [\w.]+): (.*)$/s.exec(message);
  const text = m
    ? `${m[1]}: ${[...new Set(m[2]!.split('; ').map((i) => i.replace(/^[^:]*: /, '')))].sort().join('; ')}`
    : message;
  return `${prefix}: ${text
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/Unrecognized keys?: [^;]*/g, 'Unrecognized key(s)')
    .replace(/\b[\w-]*\d[\w-]*\b/g, 'N')
    // a JSON value the message quotes back (not [1,2], an invalid "type" {…}) is the input, not the class
    .replace(/(not|invalid "…") (\[.*\]|\{.*\}|true|false|null|-?N(\.N)?(\+N)?|"…")(?=:|$)/g, '$1 <value>')
    .slice(0, 160)}`;
}

export class Tally {
  inputs = 0;
  readonly classes = new Map<string, number>();
  add(cls: string): void {
    this.inputs++;
    this.classes.set(cls, (this.classes.get(cls) ?? 0) + 1);
  }
  /** One input that met several errors: counted once, each of its classes once. */
  addAll(classes: Iterable<string>): void {
    this.inputs++;
    for (const c of new Set(classes)) this.classes.set(c, (this.classes.get(c) ?? 0) + 1);
  }
  report(title: string): string {
    const lines = [...this.classes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `  ${String(n).padStart(5)}  ${c}`);
    // families: the error's kind and what refused it (a schema's issue combinations count once)
    const families = new Set([...this.classes.keys()].map((c) => c.split(': ').slice(0, 2).join(': ')));
    return `${title}: ${this.inputs} inputs, ${this.classes.size} distinct errors in ${families.size} families\n${lines.join('\n')}`;
  }
}

/** Rejects when `p` takes longer than `ms`: a hang is a failure. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`hang: ${what} took more than ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}
