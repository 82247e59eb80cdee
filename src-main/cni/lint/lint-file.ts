// Lint for a config file as the loader sees it: conf.ts's own structural checks (a .conf holding a
// list, a missing cniVersion) and then every schema and semantic problem (check.ts). CLI and editor use this.
import { confListFromConfText, confListFromText } from '../conf.js';
import { ConfigError } from '../errors.js';
import { checkConfigText, configKind, Locator, sortProblems, type LintProblem } from './check.js';

export function lintConfigText(file: string, text: string): LintProblem[] {
  const problems = checkConfigText(file, text);
  if (problems.some((p) => p.rule === 'syntax')) return problems;
  try {
    if (configKind(file) === 'conflist') confListFromText(text, file);
    else confListFromConfText(text, file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const line = e.line ?? 1;
    // the loader's words name the root cause (a list in a .conf, no cniVersion): the schema's echoes go
    const rest = problems.filter((p) => p.rule !== 'schema');
    const at = new Locator(file, text).pos(0);
    return sortProblems([
      {
        file,
        line,
        column: e.column ?? at.column,
        endLine: line,
        endColumn: (e.column ?? 1) + 1,
        severity: 'error',
        rule: 'structure',
        message: e.reason,
      },
      ...rest,
    ]);
  }
  return problems;
}

export { formatProblem, type LintProblem } from './check.js';
