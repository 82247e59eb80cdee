// podnet cni lint FILE...: the same checks as the editor and the engine, as file:line:col: message.
// On a node of a lab world (PODNET_NODE set) it also asks the node: binaries, VERSION, file order.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ResultCache } from '../cni/cache.js';
import { Beneath } from '../fs/beneath.js';
import { CONF_EXTENSIONS, loadConfDir } from '../cni/conf.js';
import { CniExecutor } from '../cni/libcni.js';
import { lintInContext, type NodeLintContext } from '../cni/lint/context.js';
import { formatProblem, lintConfigText, type LintProblem } from '../cni/lint/lint-file.js';
import { LocalPluginHost } from './cni-command.js';
import { UsageError } from './usage-error.js';
import { findingOf } from '../config/verdict.js';

function nodeContext(node: string, file: string): NodeLintContext {
  const cniPath = (process.env.CNI_PATH ?? '/opt/cni/bin').split(':').filter(Boolean);
  const host = new LocalPluginHost(cniPath);
  const exec = new CniExecutor(host, new ResultCache(new Beneath('/var/lib/cni')));
  const dir = dirname(file);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => CONF_EXTENSIONS.some((e) => n.endsWith(e)));
  } catch {
    /* no siblings */
  }
  const loaded = loadConfDir(new Beneath(dir));
  return {
    node,
    binDir: cniPath.join(':'),
    hasPlugin: (t) => host.findPlugin(t) !== undefined,
    versionsOf: (t) =>
      exec.getVersionInfo(t).then(
        (v) => v.supportedVersions,
        () => undefined,
      ),
    siblings: names.map((n) => ({ name: n, valid: loaded.files.some((f) => basename(f.file) === n && f.list) })),
    otherNodes: [],
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Every finding is a warning (what containerd 2.1 does with the file), but the exit status tells a
 * broken file from advice: 1 when a file cannot be read, containerd cannot load one, or a finding
 * makes its ADD fail; 0 when every finding is advisory (or there are none).
 */
export async function lintCommand(
  files: string[],
  print: (s: string) => void,
  printErr: (s: string) => void,
): Promise<number> {
  if (!files.length)
    throw new UsageError(
      'usage: podnet cni lint FILE...  (a .conf, .conflist or .json CNI config; exit 1 when containerd cannot load a file or its ADD will fail, 0 when only advice)',
    );
  let unreadable = 0;
  let cannotLoad = 0;
  let failsAdd = 0;
  let advisory = 0;
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      printErr(`${f}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      unreadable++;
      continue;
    }
    const node = process.env.PODNET_NODE;
    const problems: LintProblem[] = node
      ? await lintInContext(f, basename(f), text, nodeContext(node, resolve(f)))
      : lintConfigText(f, text);
    for (const p of problems) print(formatProblem(p));
    for (const p of problems) {
      const k = findingOf(p.rule);
      if (k === 'cannot-load') cannotLoad++;
      else if (k === 'advice') advisory++;
      else failsAdd++;
    }
    if (!problems.length) print(`${f}: ok`);
  }
  const warnings = cannotLoad + failsAdd + advisory;
  if (unreadable || warnings) {
    const kinds = [
      cannotLoad ? `${cannotLoad} containerd cannot load` : '',
      failsAdd ? `${failsAdd} failing ADD` : '',
      advisory ? `${advisory} advisory` : '',
    ].filter(Boolean);
    printErr(
      `${plural(unreadable, 'error')}, ${plural(warnings, 'warning')}${kinds.length ? ` (${kinds.join(', ')})` : ''}`,
    );
  }
  return unreadable || cannotLoad || failsAdd ? 1 : 0;
}
