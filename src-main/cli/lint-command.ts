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
import { UsageError } from './trace-command.js';

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

export async function lintCommand(
  files: string[],
  print: (s: string) => void,
  printErr: (s: string) => void,
): Promise<number> {
  if (!files.length) throw new UsageError('usage: podnet cni lint FILE...  (a .conf, .conflist or .json CNI config)');
  let errors = 0;
  let warnings = 0;
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      printErr(`${f}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      errors++;
      continue;
    }
    const node = process.env.PODNET_NODE;
    const problems: LintProblem[] = node
      ? await lintInContext(f, basename(f), text, nodeContext(node, resolve(f)))
      : lintConfigText(f, text);
    for (const p of problems) print(formatProblem(p));
    errors += problems.filter((p) => p.severity === 'error').length;
    warnings += problems.filter((p) => p.severity === 'warning').length;
    if (!problems.length) print(`${f}: ok`);
  }
  if (errors || warnings)
    printErr(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return errors ? 1 : 0;
}
