// What a file's lint findings add up to, as containerd 2.1 sees the file: it cannot load it, it loads
// it but a pod's ADD will fail, or there is only advice. The CLI's exit status and the editor's banner.
// Pure (no node: imports): the renderer imports it too.

/** Findings that stop containerd's load at the file (when it sorts first, the node is NotReady). */
export const CANNOT_LOAD_RULES: ReadonlySet<string> = new Set(['syntax', 'containerd-cannot-load']);

/** Findings that leave both containerd's load and the pod's ADD working: advice. */
export const ADVISORY_RULES: ReadonlySet<string> = new Set([
  'not-picked',
  'node-subnets-overlap',
  'portmap-no-capability',
  'bandwidth-idle',
  'no-cni-version',
]);

export type Finding = 'cannot-load' | 'fails-add' | 'advice';
export type Verdict = Finding | 'clean';

/** Any rule not known as advice counts as failing ADD: a new check errs on the side of saying so. */
export function findingOf(rule: string): Finding {
  return CANNOT_LOAD_RULES.has(rule) ? 'cannot-load' : ADVISORY_RULES.has(rule) ? 'advice' : 'fails-add';
}

export function verdictOf(problems: readonly { rule: string }[]): Verdict {
  const kinds = new Set(problems.map((p) => findingOf(p.rule)));
  for (const k of ['cannot-load', 'fails-add', 'advice'] as const) if (kinds.has(k)) return k;
  return 'clean';
}
