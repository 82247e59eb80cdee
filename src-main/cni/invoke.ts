// Running one plugin binary: the exact CNI environment, stdin, a timeout, the ETXTBSY retry,
// and the error object read from stdout (stderr as fallback), as libcni's invoke package does.
import type { Json } from './conf.js';
import { ExecError, PluginError } from './errors.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface PluginRunResult {
  code: number | null;
  signal: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Where plugins live and run: a node of the world (or anything that can exec). */
export interface PluginHost {
  /** CNI_PATH as the plugin sees it. */
  readonly cniPath: string[];
  /** The plugin's path as the plugin host sees it, or undefined when no such binary exists. */
  findPlugin(type: string): string | undefined;
  /** Words for "where we looked", for a not-found error. */
  describeSearch(): string;
  /** Base environment for plugins (PATH and the like). */
  baseEnv(): Record<string, string>;
  runPlugin(path: string, env: Record<string, string>, stdin: string, timeoutMs: number): Promise<PluginRunResult>;
}

/** One plugin execution, for the trace: everything a learner needs to replay it by hand. */
export interface PluginExecRecord {
  plugin: string;
  command: CniCommand;
  path: string;
  env: Record<string, string>;
  stdin: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Epoch milliseconds (sub-millisecond precision). */
  start: number;
  end: number;
  error?: string;
}

export interface InvokeArgs {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** CNI_ARGS as key/value pairs. */
  args?: [string, string][];
}

export const DEFAULT_PLUGIN_TIMEOUT_MS = 10_000;
const ETXTBSY = 26;

/** The CNI_* variables for one call. */
export function cniEnv(host: PluginHost, a: InvokeArgs): Record<string, string> {
  return {
    CNI_COMMAND: a.command,
    CNI_CONTAINERID: a.containerId ?? '',
    CNI_NETNS: a.netns ?? '',
    CNI_IFNAME: a.ifName ?? '',
    CNI_ARGS: (a.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: host.cniPath.join(':'),
  };
}

export interface InvokeOptions {
  timeoutMs?: number;
  onExec?: (rec: PluginExecRecord) => void;
}

/** Runs a plugin and returns its parsed stdout (or null for empty output). Throws PluginError or ExecError. */
export async function invokePlugin(
  host: PluginHost,
  type: string,
  a: InvokeArgs,
  stdin: string,
  opts: InvokeOptions = {},
): Promise<Json> {
  const path = host.findPlugin(type);
  const cni = cniEnv(host, a);
  const env = { ...host.baseEnv(), ...cni };
  const now = () => performance.timeOrigin + performance.now();
  const start = now();
  const record = (r: Partial<PluginRunResult>, error?: string) =>
    opts.onExec?.({
      plugin: type,
      command: a.command,
      path: path ?? '',
      env: cni,
      stdin,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      exitCode: r.code ?? null,
      start,
      end: now(),
      ...(error ? { error } : {}),
    });
  if (!path) {
    const e = new ExecError(
      type,
      a.command,
      'not-found',
      `failed to find plugin "${type}" in path [${host.cniPath.join(':')}]: ${host.describeSearch()}`,
    );
    record({}, e.message);
    throw e;
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  let r: PluginRunResult | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      r = await host.runPlugin(path, env, stdin, timeoutMs);
      break;
    } catch (e) {
      // A plugin binary still being written ("text file busy"): libcni retries up to 5 times.
      if ((e as { errno?: number }).errno === ETXTBSY && attempt < 5) {
        await new Promise((res) => setTimeout(res, 200));
        continue;
      }
      const err = new ExecError(
        type,
        a.command,
        'start-failed',
        `cannot run plugin ${type} (${path}): ${(e as Error).message}`,
      );
      record({}, err.message);
      throw err;
    }
  }
  if (r.timedOut) {
    const e = new ExecError(
      type,
      a.command,
      'timeout',
      `plugin ${type} did not finish ${a.command} within ${timeoutMs} ms and was killed`,
    );
    record(r, e.message);
    throw e;
  }
  const out = r.stdout.trim();
  if (r.code !== 0) {
    let parsed: unknown;
    try {
      parsed = out ? JSON.parse(out) : undefined;
    } catch {
      parsed = undefined;
    }
    const p = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    let e: Error;
    if (p && typeof p === 'object' && typeof p.code === 'number') {
      e = new PluginError(
        type,
        a.command,
        p.code,
        typeof p.msg === 'string' ? p.msg : '',
        typeof p.details === 'string' && p.details ? p.details : undefined,
      );
    } else {
      const text = (r.stderr.trim() || out || 'no output').slice(0, 500);
      const how = r.code === null ? `was killed by signal ${r.signal}` : `exited with status ${r.code}`;
      e = new ExecError(
        type,
        a.command,
        'bad-output',
        `plugin ${type} ${how} during ${a.command} without a CNI error object: ${text}`,
      );
    }
    record(r, e.message);
    throw e;
  }
  if (!out) {
    record(r);
    return null;
  }
  try {
    const json = JSON.parse(out) as Json;
    record(r);
    return json;
  } catch {
    const e = new ExecError(
      type,
      a.command,
      'bad-output',
      `plugin ${type} printed output that is not JSON during ${a.command}: ${JSON.stringify(out.slice(0, 200))}`,
    );
    record(r, e.message);
    throw e;
  }
}
