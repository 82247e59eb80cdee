// Running one plugin binary: the exact CNI environment, stdin, a timeout, the ETXTBSY retry,
// and the error object read from stdout (stderr as fallback), as libcni's invoke package does.
import type { Json } from './conf.js';
import { ExecError, PluginError } from './errors.js';
import { goJsonSyntaxError } from './go-json-syntax.js';

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
  /** CNI_PATH when not the host's (libcni's VERSION sends "dummy"). */
  cniPath?: string;
}

export const DEFAULT_PLUGIN_TIMEOUT_MS = 10_000;
const ETXTBSY = 26;
const TEXT_FILE_BUSY_RETRY_MS = 1000;

/** The CNI_* variables for one call. */
export function cniEnv(host: PluginHost, a: InvokeArgs): Record<string, string> {
  return {
    CNI_COMMAND: a.command,
    CNI_CONTAINERID: a.containerId ?? '',
    CNI_NETNS: a.netns ?? '',
    CNI_IFNAME: a.ifName ?? '',
    CNI_ARGS: (a.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: a.cniPath ?? host.cniPath.join(':'),
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
      `failed to find plugin ${JSON.stringify(type)} in path [${host.cniPath.join(' ')}]`,
    );
    record({}, e.message);
    throw e;
  }
  // PODNET_TIMEOUT_SCALE: the bundled VM under emulation (TCG) runs every plugin several times slower
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS * (Number(process.env.PODNET_TIMEOUT_SCALE) || 1);
  let r: PluginRunResult | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      r = await host.runPlugin(path, env, stdin, timeoutMs);
      break;
    } catch (e) {
      // A plugin binary still being written ("text file busy"): libcni retries 5 times, 1 s apart.
      if ((e as { errno?: number }).errno === ETXTBSY && attempt < 5) {
        await new Promise((res) => setTimeout(res, TEXT_FILE_BUSY_RETRY_MS));
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
      `the lab stopped plugin ${JSON.stringify(type)} after ${timeoutMs / 1000} s of ${a.command} (its own guard against a hung plugin: containerd has no per-plugin timeout; the CRI call's own deadline is 4 min)`,
    );
    record(r, e.message);
    throw e;
  }
  if (r.code !== 0) {
    const e = pluginFailure(type, a.command, r);
    record(r, e.message);
    throw e;
  }
  // libcni reads stdout only for ADD (the result) and VERSION; DEL, CHECK, STATUS and GC ignore it.
  if (a.command !== 'ADD' && a.command !== 'VERSION') {
    record(r);
    return null;
  }
  return parseOrFail(type, a.command, r.stdout, r, record);
}

function parseOrFail(
  type: string,
  command: CniCommand,
  out: string,
  r: PluginRunResult,
  record: (r: Partial<PluginRunResult>, error?: string) => void,
): Json {
  // Go's words for output that is not JSON (libcni's fixupResultVersion, or its VERSION decoder)
  const syntax = goJsonSyntaxError(out);
  if (syntax) {
    const what = command === 'ADD' ? 'failed to unmarshal raw result' : 'decoding version info';
    const e = new ExecError(type, command, 'bad-output', `${what}: ${syntax}`);
    record(r, e.message);
    throw e;
  }
  const json = JSON.parse(out) as Json;
  record(r);
  return json;
}

/** Go's wording of how a process ended (exec.ExitError). */
const SIGNAL_WORDS: Record<number, string> = { 6: 'aborted', 9: 'killed', 11: 'segmentation fault', 15: 'terminated' };

/** libcni's RawExec.pluginErr: the plugin's error object from stdout, else words from stderr or the exit. */
function pluginFailure(type: string, command: CniCommand, r: PluginRunResult): Error {
  const status =
    r.code === null ? `signal: ${SIGNAL_WORDS[r.signal ?? 0] ?? `signal ${r.signal}`}` : `exit status ${r.code}`;
  if (r.stdout.length === 0) {
    const msg =
      r.stderr.length === 0
        ? `netplugin failed with no error message: ${status}`
        : `netplugin failed: ${JSON.stringify(r.stderr)}`;
    return new ExecError(type, command, 'bad-output', msg);
  }
  const perr = typesErrorDecodeError(r.stdout);
  if (perr === undefined) {
    const p = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string } | null;
    return new PluginError(type, command, p?.code ?? 0, p?.msg ?? '', p?.details || undefined);
  }
  return new ExecError(
    type,
    command,
    'bad-output',
    `netplugin failed but error parsing its diagnostic message ${JSON.stringify(r.stdout)}: ${perr}`,
  );
}

/** What Go's json.Unmarshal into libcni's types.Error says of a plugin's error output, or undefined when it decodes. */
function typesErrorDecodeError(stdout: string): string | undefined {
  const syntax = goJsonSyntaxError(stdout);
  if (syntax) return syntax;
  const v = JSON.parse(stdout) as Json;
  const kind = (x: Json) =>
    Array.isArray(x)
      ? 'array'
      : x === null
        ? 'null'
        : typeof x === 'object'
          ? 'object'
          : typeof x === 'boolean'
            ? 'bool'
            : typeof x;
  if (v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    return `json: cannot unmarshal ${kind(v)} into Go value of type types.Error`;
  for (const [k, x] of Object.entries(v)) {
    if (x === null) continue;
    if (k === 'code' && !(typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
      const what = typeof x === 'number' ? `number ${JSON.stringify(x)}` : kind(x);
      return `json: cannot unmarshal ${what} into Go struct field Error.code of type uint`;
    }
    if ((k === 'msg' || k === 'details') && typeof x !== 'string')
      return `json: cannot unmarshal ${kind(x)} into Go struct field Error.${k} of type string`;
  }
  return undefined;
}
