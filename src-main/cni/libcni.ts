// A libcni in TypeScript: ADD, DEL, CHECK, VERSION, STATUS and GC over a network configuration
// list, with libcni's ordering, version gates and result cache.
import type { ConfList, Json, JsonObject, PluginConf } from './conf.js';
import { ResultCache } from './cache.js';
import { ExecError, InvalidArgumentError, NotSupportedError, PluginError } from './errors.js';
import { goMarshal, goStruct } from './go-json.js';
import { invokePlugin, type InvokeArgs, type PluginExecRecord, type PluginHost } from './invoke.js';
import { convertResult, parseResult, ResultError, type CniResult } from './result.js';
import { RESULT_VERSIONS, typedResult } from './typed-result.js';
import { versionAtLeast } from './version.js';

/** What the runtime passes for one attachment (libcni's RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  args: [string, string][];
  /** Capability arguments: portMappings, bandwidth, ips, mac, dns, … */
  capabilityArgs: JsonObject;
}

export interface VersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

export interface ExecutorOptions {
  timeoutMs?: number;
  onExec?: (rec: PluginExecRecord) => void;
}

const IFNAME_MAX = 15;

function validateRuntime(list: ConfList, rt: RuntimeConf): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(rt.containerId)) {
    throw new InvalidArgumentError(
      `invalid container ID "${rt.containerId}": it must start with a letter or digit and use only letters, digits, "_", "." and "-"`,
    );
  }
  const n = rt.ifName;
  if (!n || n.length > IFNAME_MAX || n === '.' || n === '..' || /[/:\s]/.test(n)) {
    throw new InvalidArgumentError(
      `invalid interface name "${n}": 1 to ${IFNAME_MAX} characters, not "." or "..", and no "/", ":" or whitespace`,
    );
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(list.name))
    throw new InvalidArgumentError(`invalid network name "${list.name}"`);
}

/** A plugin's config as libcni holds it (PluginConfig.Bytes): the list's entry re-marshalled by Go. */
export function pluginBytes(plugin: PluginConf): string {
  return goMarshal(plugin);
}

/** libcni's InjectConf: unmarshal the bytes into a map, set the keys, marshal again (sorted, Go-escaped). */
function injectConf(bytes: string, values: Record<string, Json | object>): string {
  const conf = JSON.parse(bytes) as Record<string, Json | object>;
  for (const [k, v] of Object.entries(values)) conf[k] = v;
  return goMarshal(conf);
}

/**
 * The stdin one plugin receives, byte for byte as libcni 1.3's buildOneConfig writes it: the plugin's
 * entry with the list's name and cniVersion and the previous result injected (one InjectConf), then,
 * when the plugin declares capabilities the runtime passed, "runtimeConfig" replaced by exactly those
 * (a second InjectConf, which re-sorts everything, the prevResult too). "capabilities" stays.
 */
export function buildPluginConfig(
  list: ConfList,
  plugin: PluginConf,
  prevResult: CniResult | undefined,
  rt: RuntimeConf | undefined,
): string {
  const inject: Record<string, Json | object> = { name: list.name, cniVersion: list.cniVersion };
  if (prevResult) inject.prevResult = typedResult(prevResult);
  let bytes = injectConf(pluginBytes(plugin), inject);
  const caps = plugin.capabilities;
  if (rt && caps && typeof caps === 'object' && !Array.isArray(caps)) {
    const rc: Record<string, Json | object> = {};
    for (const [cap, on] of Object.entries(caps)) {
      if (on === true && Object.prototype.hasOwnProperty.call(rt.capabilityArgs, cap))
        rc[cap] = rt.capabilityArgs[cap]!;
    }
    if (Object.keys(rc).length) bytes = injectConf(bytes, { runtimeConfig: rc });
  }
  return bytes;
}

/** libcni's pluginDescription: type="bridge", and name="…" when the plugin's entry has its own name. */
function describePlugin(plugin: PluginConf): string {
  const name = typeof plugin.name === 'string' && plugin.name ? ` name=${JSON.stringify(plugin.name)}` : '';
  return `type=${JSON.stringify(plugin.type)}${name}`;
}

/** libcni's wrapping of a plugin's error for ADD and DEL: `plugin type="bridge" failed (add): <msg>`. */
function wrapPluginError(e: unknown, plugin: PluginConf, verb: 'add' | 'delete'): unknown {
  if (e instanceof PluginError || e instanceof ExecError) {
    e.message = `plugin ${describePlugin(plugin)} failed (${verb}): ${e.message}`;
  }
  return e;
}

/**
 * libcni's fixupResultVersion and create.Create: a result without a (non-empty string) cniVersion is
 * the config's version; a version libcni has no type for is refused.
 */
function decodeResult(plugin: PluginConf, out: Json, confVersion: string): CniResult {
  if (out === null || typeof out !== 'object' || Array.isArray(out)) {
    throw new ExecError(
      plugin.type,
      'ADD',
      'bad-output',
      `failed to unmarshal raw result: the plugin's output is not a JSON object`,
    );
  }
  const v = typeof out.cniVersion === 'string' && out.cniVersion !== '' ? out.cniVersion : confVersion;
  if (!RESULT_VERSIONS.includes(v)) {
    throw new ExecError(plugin.type, 'ADD', 'bad-output', `unsupported CNI result version ${JSON.stringify(v)}`);
  }
  try {
    return parseResult({ ...out, cniVersion: v }, v);
  } catch (e) {
    if (e instanceof ResultError)
      throw new ExecError(plugin.type, 'ADD', 'bad-output', `the result is not a valid CNI ${v} result: ${e.message}`);
    throw e;
  }
}

/** Versions libcni converts between: 0.x and 1.x, both ways (no version is converted to one it cannot type). */
function convertCached(r: CniResult, to: string): CniResult {
  if (!RESULT_VERSIONS.includes(r.cniVersion))
    throw new Error(`unsupported CNI result version ${JSON.stringify(r.cniVersion)}`);
  return convertResult(r, to === '' ? '0.1.0' : to);
}

export class CniExecutor {
  constructor(
    readonly host: PluginHost,
    readonly cache: ResultCache,
    private readonly opts: ExecutorOptions = {},
  ) {}

  private invoke(type: string, a: InvokeArgs, stdin: string, onExec?: (r: PluginExecRecord) => void): Promise<Json> {
    const hook = onExec ?? this.opts.onExec;
    return invokePlugin(this.host, type, a, stdin, {
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
      ...(hook ? { onExec: hook } : {}),
    });
  }

  private args(command: InvokeArgs['command'], rt: RuntimeConf): InvokeArgs {
    return { command, containerId: rt.containerId, netns: rt.netns, ifName: rt.ifName, args: rt.args };
  }

  /**
   * libcni's cached result for DEL and CHECK, converted to the list's version. An old-format entry
   * (the bare result, before cniCacheV1) is read too. Throws when the cached result cannot be used.
   */
  private cachedResult(list: ConfList, rt: RuntimeConf): CniResult | undefined {
    const raw = this.cache.readResult(list.name, rt.containerId, rt.ifName);
    if (raw === undefined) return undefined;
    const r = parseResult(raw, '0.1.0');
    return convertCached(r, list.cniVersion);
  }

  /**
   * ADD: each plugin in order, each fed the previous plugin's result as libcni decoded it (in that
   * plugin's own version); stops at the first error; caches the last result as libcni does. No lock:
   * libcni has none, and go-cni runs a pod's networks concurrently (the spec makes the runtime
   * responsible for not overlapping operations on one attachment, and the runtime's sandbox flow does).
   */
  async addNetworkList(list: ConfList, rt: RuntimeConf, onExec?: (r: PluginExecRecord) => void): Promise<CniResult> {
    validateRuntime(list, rt);
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      try {
        const out = await this.invoke(
          plugin.type,
          this.args('ADD', rt),
          buildPluginConfig(list, plugin, prev, rt),
          onExec,
        );
        prev = decodeResult(plugin, out, list.cniVersion);
      } catch (e) {
        throw wrapPluginError(e, plugin, 'add');
      }
    }
    this.cache.write({
      containerId: rt.containerId,
      configText: list.bytes,
      ifName: rt.ifName,
      networkName: list.name,
      netns: rt.netns,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result: JSON.parse(goMarshal(typedResult(prev!))) as CniResult,
    });
    return convertResult(prev!, list.cniVersion);
  }

  /**
   * DEL: plugins in reverse order with the cached result as prevResult (from 0.4.0; a cache entry that
   * cannot be used is dropped and DEL goes on without it), then the cache entry goes.
   */
  async delNetworkList(list: ConfList, rt: RuntimeConf, onExec?: (r: PluginExecRecord) => void): Promise<void> {
    validateRuntime(list, rt);
    let prev: CniResult | undefined;
    if (versionAtLeast(list.cniVersion, '0.4.0')) {
      try {
        prev = this.cachedResult(list, rt);
      } catch {
        this.cache.remove(list.name, rt.containerId, rt.ifName);
        prev = undefined;
      }
    }
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.invoke(plugin.type, this.args('DEL', rt), buildPluginConfig(list, plugin, prev, rt), onExec);
      } catch (e) {
        throw wrapPluginError(e, plugin, 'delete');
      }
    }
    this.cache.remove(list.name, rt.containerId, rt.ifName);
  }

  /**
   * CHECK, as libcni: needs 0.4.0; nothing at all with disableCheck; the cached result (if any: without
   * one, the plugins get no prevResult) as prevResult; a cache that cannot be used fails CHECK.
   */
  async checkNetworkList(
    list: ConfList,
    rt: RuntimeConf,
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<{ skipped: boolean }> {
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      throw new NotSupportedError(
        `configuration version ${JSON.stringify(list.cniVersion)} does not support the CHECK command`,
      );
    }
    if (list.disableCheck) return { skipped: true };
    let prev: CniResult | undefined;
    try {
      prev = this.cachedResult(list, rt);
    } catch (e) {
      throw new Error(`failed to get network ${JSON.stringify(list.name)} cached result: ${(e as Error).message}`, {
        cause: e,
      });
    }
    for (const plugin of list.plugins) {
      await this.invoke(plugin.type, this.args('CHECK', rt), buildPluginConfig(list, plugin, prev, rt), onExec);
    }
    return { skipped: false };
  }

  /**
   * VERSION, as libcni's GetVersionInfo: CNI_NETNS, CNI_IFNAME and CNI_PATH are "dummy", stdin asks in
   * libcni's own version (1.1.0). Old plugins: an error "unknown CNI_COMMAND: VERSION" means 0.1.0; an
   * answer of cniVersion "0.2.0" without supportedVersions means 0.1.0 and 0.2.0.
   */
  async getVersionInfo(
    type: string,
    _cniVersion?: string,
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<VersionInfo> {
    let out: Json;
    try {
      out = await this.invoke(
        type,
        { command: 'VERSION', netns: 'dummy', ifName: 'dummy', cniPath: 'dummy' },
        '{"cniVersion":"1.1.0"}',
        onExec,
      );
    } catch (e) {
      if (e instanceof PluginError && e.message === 'unknown CNI_COMMAND: VERSION')
        return { cniVersion: '0.1.0', supportedVersions: ['0.1.0'] };
      throw e;
    }
    const o = (out && typeof out === 'object' && !Array.isArray(out) ? out : {}) as JsonObject;
    const cniVersion = typeof o.cniVersion === 'string' ? o.cniVersion : '';
    const bad = (what: string) => new ExecError(type, 'VERSION', 'bad-output', `decoding version info: ${what}`);
    if (!cniVersion) throw bad('missing field cniVersion');
    const supported = Array.isArray(o.supportedVersions)
      ? o.supportedVersions.filter((v): v is string => typeof v === 'string')
      : [];
    if (supported.length === 0) {
      if (cniVersion === '0.2.0') return { cniVersion, supportedVersions: ['0.1.0', '0.2.0'] };
      throw bad('missing field supportedVersions');
    }
    return { cniVersion, supportedVersions: supported };
  }

  /**
   * STATUS, as libcni's GetStatusNetworkList: for a list of cniVersion 1.1.0 or later, STATUS to each
   * plugin in order, stopping at the first error; for an older list nothing is sent and it succeeds.
   */
  async getStatusNetworkList(
    list: ConfList,
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<{ sent: boolean; note?: string }> {
    if (!versionAtLeast(list.cniVersion, '1.1.0'))
      return {
        sent: false,
        note: `network "${list.name}" is cniVersion ${list.cniVersion}: libcni sends STATUS only from 1.1.0, and reports success`,
      };
    for (const plugin of list.plugins) {
      const conf = injectConf(pluginBytes(plugin), { name: list.name, cniVersion: list.cniVersion });
      await this.invoke(plugin.type, { command: 'STATUS' }, conf, onExec);
    }
    return { sent: true };
  }

  /**
   * GC, as libcni's GCNetworkList: nothing at all with disableGC; else DEL every cached attachment of
   * the network that is not in `valid` (errors collected, the rest still tried, each DEL with what the
   * cache kept: netns, CNI_ARGS, capability args); then, for a list of 1.1.0 or later, the GC verb to
   * each plugin with the valid attachments (under both names libcni 1.3 sends).
   */
  async gcNetworkList(
    list: ConfList,
    valid: { containerId: string; ifName: string }[],
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<{ deleted: string[]; gcSent: boolean; note?: string }> {
    if (list.disableGC)
      return { deleted: [], gcSent: false, note: `network "${list.name}" sets disableGC: nothing was collected` };
    const keep = new Set(valid.map((v) => `${v.containerId}/${v.ifName}`));
    const deleted: string[] = [];
    const errors: string[] = [];
    for (const a of this.cache.attachments()) {
      if (a.networkName !== list.name || keep.has(`${a.containerId}/${a.ifName}`)) continue;
      try {
        await this.delNetworkList(
          list,
          {
            containerId: a.containerId,
            netns: a.netns ?? '',
            ifName: a.ifName,
            args: a.cniArgs ?? [],
            capabilityArgs: a.capabilityArgs ?? {},
          },
          onExec,
        );
        deleted.push(a.containerId);
      } catch (e) {
        errors.push(`failed to delete stale attachment ${a.containerId} ${a.ifName}: ${(e as Error).message}`);
      }
    }
    const gcSent = versionAtLeast(list.cniVersion, '1.1.0');
    if (gcSent) {
      const attachments = valid.map((v) => goStruct({ containerID: v.containerId, ifname: v.ifName }));
      for (const plugin of list.plugins) {
        // libcni 1.3 still sends the old name too (its #1101: the spec had used the wrong key)
        const conf = injectConf(pluginBytes(plugin), {
          name: list.name,
          cniVersion: list.cniVersion,
          'cni.dev/valid-attachments': attachments,
          'cni.dev/attachments': attachments,
        });
        try {
          await this.invoke(plugin.type, { command: 'GC' }, conf, onExec);
        } catch (e) {
          errors.push(`failed to GC plugin ${plugin.type}: ${(e as Error).message}`);
        }
      }
    }
    if (errors.length) throw new Error(errors.join('\n'));
    return {
      deleted,
      gcSent,
      ...(gcSent
        ? {}
        : {
            note: `network "${list.name}" is cniVersion ${list.cniVersion}: libcni sends the GC verb only from 1.1.0; only the stale attachments were deleted`,
          }),
    };
  }
}
