// The run panel's engine side: one CNI verb (ADD, CHECK, DEL, VERSION, STATUS, GC) with a config
// against a pod's network namespace, reporting the result or the error (with what its code means),
// each plugin's stdin and stdout, and what changed in the pod's and the node's links, addresses, routes.
import type { ConfList, Json } from '../cni/conf.js';
import { ConfigError, ExecError, meaningOfCode, NotSupportedError, PluginError } from '../cni/errors.js';
import type { PluginExecRecord } from '../cni/invoke.js';
import type { CniExecutor, RuntimeConf } from '../cni/libcni.js';
import { diffSnapshots, type RowDiff } from '../netview/diff.js';
import { readNamespace, type Addr, type Link, type NetSnapshot, type Route } from '../netview/snapshot.js';
import type { Target, World } from '../world/world.js';

export type Verb = 'ADD' | 'CHECK' | 'DEL' | 'VERSION' | 'STATUS' | 'GC';

export interface RunError {
  kind: 'plugin' | 'exec' | 'config' | 'not-supported' | 'other';
  message: string;
  plugin?: string;
  code?: number;
  msg?: string;
  details?: string;
  /** What the code means per the CNI spec (codes 0-99 are the spec's; 100+ are the plugin's own). */
  meaning?: string;
}

export interface ExecRow {
  plugin: string;
  command: string;
  stdin: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  ms: number;
  error?: string;
}

export interface DiffRow {
  where: 'pod' | 'node';
  table: 'link' | 'addr' | 'route';
  change: 'added' | 'removed' | 'changed';
  text: string;
}

export interface RunReport {
  verb: Verb;
  ok: boolean;
  result?: Json;
  note?: string;
  versions?: { plugin: string; supportedVersions: string[] }[];
  error?: RunError;
  execs: ExecRow[];
  diff: DiffRow[];
}

export function describeError(e: unknown): RunError {
  if (e instanceof PluginError)
    return {
      kind: 'plugin',
      message: e.message,
      plugin: e.plugin,
      code: e.code,
      msg: e.msg,
      ...(e.details ? { details: e.details } : {}),
      meaning: meaningOfCode(e.code),
    };
  if (e instanceof ExecError) return { kind: 'exec', message: e.message, plugin: e.plugin };
  if (e instanceof ConfigError) return { kind: 'config', message: e.message };
  if (e instanceof NotSupportedError) return { kind: 'not-supported', message: e.message };
  return { kind: 'other', message: (e as Error)?.message ?? String(e) };
}

const linkText = (l: Link) =>
  `${l.name}${l.kind ? ` (${l.kind})` : ''} ${l.state} mtu ${l.mtu}${l.master ? ` master ${l.master}` : ''}${l.mac ? ` ${l.mac}` : ''}`;
const addrText = (a: Addr) => `${a.ifname} ${a.local}/${a.prefixlen} scope ${a.scope}`;
const routeText = (r: Route) =>
  `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.table !== 'main' ? ` table ${r.table}` : ''}`;

function rows<T>(where: DiffRow['where'], table: DiffRow['table'], d: RowDiff<T>, text: (r: T) => string): DiffRow[] {
  return [
    ...d.added.map((r) => ({ where, table, change: 'added' as const, text: text(r) })),
    ...d.removed.map((r) => ({ where, table, change: 'removed' as const, text: text(r) })),
    ...d.changed.map((c) => ({
      where,
      table,
      change: 'changed' as const,
      text: `${text(c.before)} → ${text(c.after)}`,
    })),
  ];
}

const empty = { links: [], addrs: [], routes: [], neighs: [], fdb: [] };

/** Links, addresses and routes that changed, pod first. A namespace that did not exist on one side counts as empty. */
export function diffRowsOf(
  before: { pod?: NetSnapshot; node: NetSnapshot },
  after: { pod?: NetSnapshot; node: NetSnapshot },
): DiffRow[] {
  const out: DiffRow[] = [];
  for (const where of ['pod', 'node'] as const) {
    const b = before[where] ?? empty;
    const a = after[where] ?? empty;
    if (!before[where] && !after[where]) continue;
    const d = diffSnapshots(b, a);
    out.push(
      ...rows(where, 'link', d.links, linkText),
      ...rows(where, 'addr', d.addrs, addrText),
      ...rows(where, 'route', d.routes, routeText),
    );
  }
  return out;
}

export interface RunOptions {
  world: World;
  node: string;
  exec: CniExecutor;
  list: ConfList;
  verb: Verb;
  rt: RuntimeConf;
  /** For GC: the attachments that are still in use (the others are deleted). */
  valid?: { containerId: string; ifName: string }[];
}

async function snapshots(world: World, node: string, netns: string): Promise<{ pod?: NetSnapshot; node: NetSnapshot }> {
  const nodeT: Target = { kind: 'node', node };
  const podT: Target = { kind: 'pod', node, netns };
  const [n, p] = await Promise.all([
    readNamespace(world, nodeT),
    netns ? readNamespace(world, podT).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return { node: n, ...(p ? { pod: p } : {}) };
}

export async function runVerb(o: RunOptions): Promise<RunReport> {
  const execs: ExecRow[] = [];
  const onExec = (r: PluginExecRecord) =>
    execs.push({
      plugin: r.plugin,
      command: r.command,
      stdin: r.stdin,
      stdout: r.stdout,
      stderr: r.stderr,
      exitCode: r.exitCode,
      ms: Math.round((r.end - r.start) * 10) / 10,
      ...(r.error ? { error: r.error } : {}),
    });
  const touches = o.verb === 'ADD' || o.verb === 'DEL' || o.verb === 'CHECK' || o.verb === 'GC';
  const before = touches ? await snapshots(o.world, o.node, o.rt.netns) : undefined;
  const report: RunReport = { verb: o.verb, ok: true, execs, diff: [] };
  try {
    switch (o.verb) {
      case 'ADD':
        report.result = (await o.exec.addNetworkList(o.list, o.rt, onExec)) as unknown as Json;
        break;
      case 'CHECK':
        if ((await o.exec.checkNetworkList(o.list, o.rt, onExec)).skipped)
          report.note = `CHECK skipped: network "${o.list.name}" sets disableCheck`;
        break;
      case 'DEL':
        await o.exec.delNetworkList(o.list, o.rt, onExec);
        break;
      case 'VERSION': {
        const types = [
          ...new Set(
            o.list.plugins.flatMap((p) => [
              p.type,
              ...(p.ipam && typeof p.ipam === 'object' && !Array.isArray(p.ipam) && typeof p.ipam.type === 'string'
                ? [p.ipam.type]
                : []),
            ]),
          ),
        ];
        report.versions = [];
        for (const t of types)
          report.versions.push({
            plugin: t,
            supportedVersions: (await o.exec.getVersionInfo(t, o.list.cniVersion, onExec)).supportedVersions,
          });
        break;
      }
      case 'STATUS':
        // libcni sends STATUS only from 1.1.0 and answers success below it: say so, not a bare success
        if (!(await o.exec.getStatusNetworkList(o.list, onExec)).sent)
          report.note = `libcni sends no STATUS for a cniVersion ${o.list.cniVersion} list: nothing was run (STATUS exists from CNI 1.1.0; libcni 1.3 reports success)`;
        break;
      case 'GC': {
        const r = await o.exec.gcNetworkList(o.list, o.valid ?? [], onExec);
        report.result = { deleted: r.deleted, gcSent: r.gcSent };
        if (r.note) report.note = r.note;
        break;
      }
    }
  } catch (e) {
    report.ok = false;
    report.error = describeError(e);
  }
  if (before) report.diff = diffRowsOf(before, await snapshots(o.world, o.node, o.rt.netns));
  return report;
}
