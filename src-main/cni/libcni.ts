// A libcni in TypeScript: ADD, DEL, CHECK, VERSION, STATUS and GC over a network configuration
// list, with libcni's ordering, version gates and result cache.
import type { ConfList, Json, JsonObject, PluginConf } from './conf.js';
import { ResultCache } from './cache.js';
import { ExecError, InvalidArgumentError, NotSupportedError } from './errors.js';
import { invokePlugin, type InvokeArgs, type PluginExecRecord, type PluginHost } from './invoke.js';
import { convertResult, parseResult, ResultError, type CniResult } from './result.js';
import { compareVersions, highestVersion, versionAtLeast } from './version.js';

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

/** The config one plugin receives: the list's name and version, prevResult and runtimeConfig injected. */
export function buildPluginConfig(
  list: ConfList,
  plugin: PluginConf,
  prevResult: CniResult | undefined,
  rt: RuntimeConf | undefined,
): string {
  const { capabilities, name: _n, cniVersion: _v, ...rest } = plugin;
  const conf: JsonObject = { cniVersion: list.cniVersion, name: list.name, ...rest };
  if (prevResult) conf.prevResult = convertResult(prevResult, list.cniVersion) as unknown as Json;
  if (rt && capabilities && typeof capabilities === 'object' && !Array.isArray(capabilities)) {
    const rc: JsonObject = {};
    for (const [cap, on] of Object.entries(capabilities)) {
      if (on === true && rt.capabilityArgs[cap] !== undefined) rc[cap] = rt.capabilityArgs[cap]!;
    }
    if (Object.keys(rc).length) {
      const existing = conf.runtimeConfig;
      conf.runtimeConfig = {
        ...(existing && typeof existing === 'object' && !Array.isArray(existing) ? existing : {}),
        ...rc,
      };
    }
  }
  return JSON.stringify(conf);
}

/** One operation at a time per container, as the spec requires of a runtime. */
class ContainerLocks {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export class CniExecutor {
  private readonly locks = new ContainerLocks();

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

  /** ADD: each plugin in order, each fed the previous result; stops at the first error; caches the result. */
  addNetworkList(list: ConfList, rt: RuntimeConf, onExec?: (r: PluginExecRecord) => void): Promise<CniResult> {
    validateRuntime(list, rt);
    return this.locks.run(rt.containerId, async () => {
      let prev: CniResult | undefined;
      for (const plugin of list.plugins) {
        const out = await this.invoke(
          plugin.type,
          this.args('ADD', rt),
          buildPluginConfig(list, plugin, prev, rt),
          onExec,
        );
        try {
          prev = parseResult(out, list.cniVersion);
        } catch (e) {
          if (e instanceof ResultError)
            throw new ExecError(
              plugin.type,
              'ADD',
              'bad-output',
              `plugin ${plugin.type} returned an invalid result for ADD: ${e.message}`,
            );
          throw e;
        }
      }
      const result = convertResult(prev!, list.cniVersion);
      this.cache.write({
        containerId: rt.containerId,
        configText: list.bytes,
        ifName: rt.ifName,
        networkName: list.name,
        netns: rt.netns,
        cniArgs: rt.args,
        capabilityArgs: rt.capabilityArgs,
        result,
      });
      return result;
    });
  }

  /**
   * DEL: plugins in reverse order with the cached result as prevResult (from 0.4.0), then the cache
   * entry goes. Idempotent: an unknown container or a missing netns is not an error of ours.
   */
  delNetworkList(list: ConfList, rt: RuntimeConf, onExec?: (r: PluginExecRecord) => void): Promise<void> {
    validateRuntime(list, rt);
    return this.locks.run(rt.containerId, async () => {
      const cached = this.cache.read(list.name, rt.containerId, rt.ifName);
      const prev =
        cached?.result && versionAtLeast(list.cniVersion, '0.4.0')
          ? convertResult(cached.result, list.cniVersion)
          : undefined;
      for (const plugin of [...list.plugins].reverse()) {
        await this.invoke(plugin.type, this.args('DEL', rt), buildPluginConfig(list, plugin, prev, rt), onExec);
      }
      this.cache.remove(list.name, rt.containerId, rt.ifName);
    });
  }

  /** CHECK: needs 0.4.0 or later and a cached result; skipped when the list says disableCheck. */
  checkNetworkList(
    list: ConfList,
    rt: RuntimeConf,
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<{ skipped: boolean }> {
    validateRuntime(list, rt);
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      return Promise.reject(
        new NotSupportedError(`CHECK needs cniVersion 0.4.0 or later; network "${list.name}" is ${list.cniVersion}`),
      );
    }
    if (list.disableCheck) return Promise.resolve({ skipped: true });
    return this.locks.run(rt.containerId, async () => {
      const cached = this.cache.read(list.name, rt.containerId, rt.ifName);
      if (!cached?.result) {
        throw new NotSupportedError(
          `no cached result for container ${rt.containerId} on network "${list.name}" (${rt.ifName}): CHECK needs the result of an earlier ADD`,
        );
      }
      const prev = convertResult(cached.result, list.cniVersion);
      for (const plugin of list.plugins) {
        await this.invoke(plugin.type, this.args('CHECK', rt), buildPluginConfig(list, plugin, prev, rt), onExec);
      }
      return { skipped: false };
    });
  }

  /** VERSION: which spec versions a plugin speaks. */
  async getVersionInfo(
    type: string,
    cniVersion = '1.0.0',
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<VersionInfo> {
    const out = await this.invoke(type, { command: 'VERSION' }, JSON.stringify({ cniVersion }), onExec);
    const o = out as { cniVersion?: unknown; supportedVersions?: unknown } | null;
    if (!o || !Array.isArray(o.supportedVersions)) {
      throw new ExecError(type, 'VERSION', 'bad-output', `plugin ${type} answered VERSION without "supportedVersions"`);
    }
    return {
      cniVersion: typeof o.cniVersion === 'string' ? o.cniVersion : cniVersion,
      supportedVersions: o.supportedVersions.filter((v): v is string => typeof v === 'string'),
    };
  }

  /** The first plugin of the list that does not speak `min`, as a NotSupportedError naming it. */
  private async unsupported(
    list: ConfList,
    verb: string,
    min: string,
    onExec?: (r: PluginExecRecord) => void,
  ): Promise<NotSupportedError | undefined> {
    for (const plugin of list.plugins) {
      const info = await this.getVersionInfo(plugin.type, undefined, onExec);
      if (!info.supportedVersions.includes(min)) {
        return new NotSupportedError(
          `${verb} is not supported by plugin ${plugin.type} (speaks up to ${highestVersion(info.supportedVersions) ?? 'nothing'}; ${verb} needs ${min})`,
        );
      }
    }
    if (compareVersions(list.cniVersion, min) < 0)
      return new NotSupportedError(`${verb} needs cniVersion ${min}; network "${list.name}" is ${list.cniVersion}`);
    return undefined;
  }

  /** STATUS (spec 1.1.0): whether the plugins are ready to serve ADD. */
  async getStatusNetworkList(list: ConfList, onExec?: (r: PluginExecRecord) => void): Promise<void> {
    const no = await this.unsupported(list, 'STATUS', '1.1.0', onExec);
    if (no) throw no;
    for (const plugin of list.plugins) {
      await this.invoke(
        plugin.type,
        { command: 'STATUS' },
        buildPluginConfig(list, plugin, undefined, undefined),
        onExec,
      );
    }
  }

  /**
   * GC, as libcni's GCNetworkList: nothing at all with disableGC; else DEL every cached attachment of
   * the network that is not in `valid` (errors collected, the rest still tried); then, for a 1.1.0
   * list, the GC verb to each plugin with the valid attachments. When the verb cannot be sent, `note`
   * says why (a plugin that speaks only 1.0.0, or an older list).
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
    for (const a of this.cache.list(list.name)) {
      if (keep.has(`${a.containerId}/${a.ifName}`)) continue;
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
    const no = await this.unsupported(list, 'GC', '1.1.0', onExec);
    let gcSent = false;
    if (no && compareVersions(list.cniVersion, '1.1.0') >= 0) {
      errors.push(no.message);
    } else if (!no) {
      const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
      for (const plugin of list.plugins) {
        const conf = JSON.parse(buildPluginConfig(list, plugin, undefined, undefined)) as JsonObject;
        // libcni 1.2.3 sends both names of the same list
        conf['cni.dev/valid-attachments'] = attachments;
        conf['cni.dev/attachments'] = attachments;
        try {
          await this.invoke(plugin.type, { command: 'GC' }, JSON.stringify(conf), onExec);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      gcSent = true;
    }
    if (errors.length) throw new Error(`GC of network "${list.name}" failed: ${errors.join('; ')}`);
    return { deleted, gcSent, ...(no ? { note: `${no.message}: only the stale attachments were deleted` } : {}) };
  }
}
