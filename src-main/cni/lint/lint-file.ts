// Lint for a config file, worded as what containerd 2.1 will do with it. containerd (go-cni, libcni)
// loads any file libcni 1.3 can decode (only name, cniVersion(s), type and the other generic fields):
// such a file's problems show at ADD, so they are warnings that say so; a file libcni cannot decode
// stops containerd's load when it sorts first, which is what its warning says. Every problem of every
// file is reported (check.ts's schema and semantic checks, conf.ts's structure). CLI and editor use this.
import { confListFromConfText, confListFromText, type ConfList } from '../conf.js';
import { ConfigError } from '../errors.js';
import { libcniConfFromBytes, libcniConfListFromBytes } from '../libcni-conf.js';
import { checkConfigText, configKind, Locator, sortProblems, type LintProblem } from './check.js';

/** What libcni makes of the text: the list, or its error (a list without plugins fails at file load). */
export function libcniLoad(file: string, text: string): { list: ConfList } | { error: string } {
  try {
    const list =
      configKind(file) === 'conflist' ? libcniConfListFromBytes(text, file) : libcniConfFromBytes(text, file);
    // NetworkConfFromFile: without "plugins", libcni looks for <name>/*.conf beside the file; a lab has none
    if (list.plugins.length === 0) return { error: 'no plugin configs found' };
    return { list };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const LOADS =
  'containerd loads this file (libcni decodes only name, cniVersion, type and the other generic fields), but ADD will fail';

export function lintConfigText(file: string, text: string): LintProblem[] {
  const problems = checkConfigText(file, text);
  const loc = new Locator(file, text);
  let structure: ConfigError | undefined;
  if (!problems.some((p) => p.rule === 'syntax')) {
    try {
      if (configKind(file) === 'conflist') confListFromText(text, file);
      else confListFromConfText(text, file);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      structure = e;
    }
  }
  const at = (
    line: number | undefined,
    column: number | undefined,
  ): Pick<LintProblem, 'line' | 'column' | 'endLine' | 'endColumn'> => {
    const l = line ?? 1;
    const c = column ?? loc.pos(0).column;
    return { line: l, column: c, endLine: l, endColumn: c + 1 };
  };
  const load = libcniLoad(file, text);
  if ('error' in load) {
    // the root cause in our words (syntax, structure), then what containerd does with it
    const syntax = problems.find((p) => p.rule === 'syntax');
    const why = syntax?.message ?? structure?.reason;
    const where = syntax ?? (structure ? at(structure.line, structure.column) : at(1, 1));
    const rest = problems
      .filter((p) => p !== syntax && p.rule !== 'schema')
      .map((p) => ({ ...p, severity: 'warning' as const }));
    return sortProblems([
      {
        file,
        ...where,
        severity: 'warning',
        rule: syntax ? 'syntax' : 'containerd-cannot-load',
        message: `${why ? `${why}: ` : ''}containerd cannot load this file (libcni: ${load.error}); as the first file of the config folder it stops containerd's load there, and the node is NotReady`,
      },
      ...rest,
    ]);
  }
  const out: LintProblem[] = [];
  if (structure) {
    out.push({
      file,
      ...at(structure.line, structure.column),
      severity: 'warning',
      rule: 'structure',
      message: `${LOADS}: ${structure.reason}`,
    });
  }
  if (load.list.cniVersion === '') {
    out.push({
      file,
      ...at(1, 1),
      severity: 'warning',
      rule: 'no-cni-version',
      message:
        'no "cniVersion": libcni runs the list as version 0.1.0 (plugins answer in the 0.1.0 result format, CHECK is refused, DEL gets no cached result); write "cniVersion": "1.0.0"',
    });
  }
  // the schema's echoes of a structure problem (a list in a .conf) go: the structure warning names the cause
  for (const p of problems) {
    if (structure && p.rule === 'schema') continue;
    out.push(p.severity === 'error' ? { ...p, severity: 'warning', message: `${LOADS}: ${p.message}` } : p);
  }
  return sortProblems(out);
}

export { formatProblem, type LintProblem } from './check.js';
