// Label selectors as apimachinery's labels.Parse reads them (`kubectl get -l`, `?labelSelector=`):
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist), comma-joined.

export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

export class LabelSelectorError extends Error {}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function key(k: string, term: string): string {
  if (!KEY.test(k) || k.length > 316)
    throw new LabelSelectorError(`unable to parse requirement: invalid label key "${k}" in "${term}"`);
  return k;
}

function value(v: string, term: string): string {
  if (!VALUE.test(v) || v.length > 63)
    throw new LabelSelectorError(`unable to parse requirement: invalid label value "${v}" in "${term}"`);
  return v;
}

/** Splits on the commas outside parentheses: `a in (x,y),b` is two terms. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

/** Parses a selector; an empty one selects everything. */
export function parseLabelSelector(text: string | null | undefined): Requirement[] {
  if (!text?.trim()) return [];
  return terms(text).map((term): Requirement => {
    if (!term) throw new LabelSelectorError(`unable to parse requirement: an empty term in "${text}"`);
    let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (m)
      return {
        key: key(m[1]!, term),
        op: m[2] as 'in' | 'notin',
        values: m[3]!.split(',').map((v) => value(v.trim(), term)),
      };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      const k = key(m[1]!, term);
      const v = value(m[3]!, term);
      return m[2] === '!=' ? { key: k, op: 'notin', values: [v] } : { key: k, op: 'in', values: [v] };
    }
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return { key: key(m[1]!, term), op: '!exists' };
    if (/^\S+$/.test(term)) return { key: key(term, term), op: 'exists' };
    throw new LabelSelectorError(
      `unable to parse requirement: "${term}": a label selector term is KEY=VALUE, KEY!=VALUE, KEY in (V1,V2), KEY notin (V1,V2), KEY or !KEY`,
    );
  });
}

/** Whether labels satisfy every requirement (a missing key satisfies `notin` and `!key`, as in apimachinery). */
export function labelsMatch(labels: Record<string, string> | undefined, selector: readonly Requirement[]): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

/** A Service's spec.selector (a plain map) as requirements (a Service with an empty one has no controller-made slices). */
export function selectorOfMap(map: Record<string, string>): Requirement[] {
  return Object.entries(map).map(([key, v]) => ({ key, op: 'in', values: [v] }));
}
