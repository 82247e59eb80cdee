// Checks that need the node a config is for: a plugin binary missing there, a cniVersion a plugin
// does not speak (asked with VERSION), another file that sorts first (containerd reads only the first),
// and pod subnets that overlap another node's. All warnings worded as what containerd 2.1 does: a
// missing binary or an unspoken version fails ADD, not the node. The engine gives the context from the
// world; the CLI from the node it runs on.
import { CONF_EXTENSIONS } from '../conf.js';
import {
  checkConfigText,
  configKind,
  ipamSubnets,
  Locator,
  pluginsOf,
  sortProblems,
  type LintProblem,
  type Path,
} from './check.js';
import { libcniLoad, lintConfigText } from './lint-file.js';
import { formatCidr, lastOf, overlaps, parseCidr } from './ip.js';

export interface NodeLintContext {
  node: string;
  binDir: string;
  hasPlugin(type: string): boolean;
  /** The versions a plugin speaks (its VERSION answer), or undefined when it cannot say. */
  versionsOf(type: string): Promise<string[] | undefined>;
  /** The other files of the config directory, and whether each loads as a network. */
  siblings: { name: string; valid: boolean }[];
  /** The pod subnets of the other nodes' networks. */
  otherNodes: { node: string; subnets: string[] }[];
}

/** Every problem of a config file on a node: the file's own (lintConfigText) and the node's. */
export async function lintInContext(
  file: string,
  name: string,
  text: string,
  ctx: NodeLintContext,
): Promise<LintProblem[]> {
  const own = lintConfigText(file, text);
  if (own.some((p) => p.rule === 'syntax')) return own;
  const loc = new Locator(file, text);
  const json = JSON.parse(text) as Record<string, unknown>;
  const kind = configKind(file);
  const out: LintProblem[] = [];
  const types: { type: string; path: Path }[] = [];
  for (const p of pluginsOf(json, kind)) {
    if (typeof p.conf.type === 'string') types.push({ type: p.conf.type, path: [...p.path, 'type'] });
    const ipam = p.conf.ipam as { type?: unknown } | undefined;
    if (ipam && typeof ipam === 'object' && typeof ipam.type === 'string')
      types.push({ type: ipam.type, path: [...p.path, 'ipam', 'type'] });
  }
  const load = libcniLoad(file, text);
  // the version libcni runs the list with (cniVersions merged); a file it cannot load runs nothing
  const version = 'list' in load ? load.list.cniVersion || '0.1.0' : undefined;
  const asked = new Map<string, Promise<string[] | undefined>>();
  for (const { type, path } of types) {
    if (!ctx.hasPlugin(type)) {
      out.push(
        loc.at(
          path,
          'warning',
          'plugin-missing',
          `plugin binary "${type}" is not in ${ctx.binDir} on ${ctx.node}: containerd loads this file and the node stays Ready, but ADD fails with "failed to find plugin ${JSON.stringify(type)} in path [${ctx.binDir.split(':').join(' ')}]"`,
        ),
      );
      continue;
    }
    if (!version) continue;
    if (!asked.has(type)) asked.set(type, ctx.versionsOf(type));
    const spoken = await asked.get(type)!;
    if (spoken && !spoken.includes(version)) {
      out.push(
        loc.at(
          path,
          'warning',
          'version-unsupported',
          `${type} does not speak cniVersion ${version} (its VERSION answer: ${spoken.join(', ')}): containerd loads this file, but ADD fails with code 1, incompatible CNI versions`,
        ),
      );
    }
  }
  if (CONF_EXTENSIONS.some((e) => name.endsWith(e))) {
    // go-cni with containerd's NetworkPluginMaxConfNum 1: only the first file (lexical order) is read
    const first = ctx.siblings
      .filter((s) => s.name !== name && Buffer.compare(Buffer.from(s.name), Buffer.from(name)) < 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))[0];
    if (first)
      out.push(
        loc.at(
          [],
          'warning',
          'not-picked',
          first.valid
            ? `not the pod network of ${ctx.node}: containerd reads only the first file, ${first.name}, which loads, and never reads this one`
            : `not the pod network of ${ctx.node}: ${first.name} sorts first and libcni cannot load it, so containerd's load stops there (the node is NotReady) and never reads this file`,
        ),
      );
  }
  for (const s of ipamSubnets(json, kind)) {
    const mine = { family: s.cidr.family, first: s.cidr.network, last: lastOf(s.cidr) };
    for (const o of ctx.otherNodes) {
      const hit = o.subnets
        .map(parseCidr)
        .find((c) => c && overlaps(mine, { family: c.family, first: c.network, last: lastOf(c) }));
      if (hit)
        out.push(
          loc.at(
            s.path,
            'warning',
            'node-subnets-overlap',
            `pod subnet ${s.text} overlaps ${o.node}'s pod subnet ${formatCidr(hit)}: two nodes would hand out the same pod IPs`,
          ),
        );
    }
  }
  return sortProblems([...own, ...out]);
}

/** The pod subnets a config hands out (for other nodes' overlap checks); none when it does not parse. */
export function subnetsOfText(file: string, text: string): string[] {
  try {
    if (checkConfigText(file, text).some((p) => p.rule === 'syntax')) return [];
    return ipamSubnets(JSON.parse(text), configKind(file)).map((s) => s.text);
  } catch {
    return [];
  }
}
