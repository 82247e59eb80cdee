// containerd 2.1's CRI service for one node: RunPodSandbox, PodSandboxStatus, StopPodSandbox,
// RemovePodSandbox, ListPodSandbox, Status, StopContainer, and the containers that join a sandbox.
// Each step is traced and, as in sandbox_run.go, registers an undo that runs if a later step fails.
import type { CriRuntime, ExecSyncAnswer, RunningContainer } from './cri-runtime.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { CniExecutor, type RuntimeConf } from '../cni/libcni.js';
import { ResultCache } from '../cni/cache.js';
import { loadConfDir, type JsonObject } from '../cni/conf.js';
import { bandwidthFromAnnotations, goCniCapabilityArgs, type PortMapping } from '../cni/capability-args.js';
import { podIpsFromResult, type CniResult } from '../cni/result.js';
import type { PluginExecRecord } from '../cni/invoke.js';
import { nodeFile, nodeFolder } from '../fs/world-files.js';
import { NodePluginHost } from '../world/node-plugins.js';
import { nativeBinary } from '../world/world-init.js';
import { NODE_PATHS, type Target, type World, type WorldProcess } from '../world/world.js';
import { CleanupStack } from './cleanup.js';
import { CNI_NOT_INITIALIZED, GoCni, type GoCniNetwork } from './go-cni.js';
import { resolvConfText, type CriDnsConfig } from './pod-dns.js';
import { SOURCES } from './sources.js';
import type { StepHandle, Trace, TraceEvent } from './trace.js';

/**
 * How the pod's lo comes up: 'plugin' is containerd 2.x's default (the loopback CNI plugin attached as
 * its own network, cni-loopback); 'internal' is containerd 2.x's opt-in `use_internal_loopback = true`.
 */
export type LoopbackMode = 'internal' | 'plugin';

/** What the trace calls each loopback mode: containerd's own option. */
export const LOOPBACK_OPTION = (m: LoopbackMode) =>
  m === 'internal'
    ? 'use_internal_loopback = true (containerd ≥ 2.0, opt-in)'
    : 'use_internal_loopback = false (containerd 2.x default: the loopback plugin)';

export interface PodSandboxConfig {
  name: string;
  namespace: string;
  uid: string;
  /** The kubelet's attempt: 0 for the first sandbox of a pod, +1 for each rebuilt one. */
  attempt?: number;
  /** The pod's hostname (kubelet sets the pod's name); the node's when empty. */
  hostname?: string;
  /** The sandbox's resolv.conf; without it, a copy of the node's (setupSandboxFiles). */
  dnsConfig?: CriDnsConfig;
  /** kubelet's pod log folder (/var/log/pods/<ns>_<name>_<uid>), where container logs go. */
  logDirectory?: string;
  /** The pod's annotations (passed to CNI as io.kubernetes.cri.pod-annotations; bandwidth from them). */
  annotations?: Record<string, string>;
  /** The containers' ports with a hostPort (CRI PortMapping). */
  portMappings?: PortMapping[];
  /** linux.cgroup_parent, as the kubelet sets it (passed to CNI as cgroupPath). */
  cgroupParent?: string;
  /** The node's network namespace: no netns, no CNI. */
  hostNetwork?: boolean;
  /** The lab's own extra capability args, merged over containerd's (not something kubelet passes). */
  labCapabilityArgs?: JsonObject;
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY' | 'SANDBOX_UNKNOWN';

export interface SandboxContainer extends RunningContainer {
  process: WorldProcess;
}

export interface PodSandbox {
  id: string;
  config: PodSandboxConfig;
  node: string;
  state: SandboxState;
  /** Empty for a hostNetwork sandbox (containerd's sandbox.NetNS == nil). */
  netnsName: string;
  netnsPath: string;
  loopback: LoopbackMode;
  /** Set once CNI ADD has completed and eth0 has an IP (containerd's sandbox.CNIResult). */
  cniResult?: CniResult;
  ip?: string;
  additionalIps: string[];
  pause?: WorldProcess;
  /** Set while containerd itself stops the pause (StopSandbox), so its exit is no surprise. */
  stopping?: boolean;
  containers: Map<string, SandboxContainer>;
  /** The node's folder for this sandbox's hostname, hosts and resolv.conf (NODE_PATHS.sandboxesDir/<id>). */
  filesDir: string;
  createdAt: number;
}

export interface RuntimeCondition {
  type: 'RuntimeReady' | 'NetworkReady';
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
  /** containerd's `crictl info` lastCNILoadStatus: "OK", or why the last config load failed. */
  lastCNILoadStatus: string;
  /** Every config file, with what the editor's checks say of it (these never decide NetworkReady). */
  configFiles: { file: string; error?: string }[];
  network?: string;
}

export interface CriOptions {
  /** Default 'plugin', as containerd 2.x (use_internal_loopback = false). */
  loopback?: LoopbackMode;
  /** The lab's own guard against a hung plugin (containerd has none; its CRI context allows 4 min). */
  pluginTimeoutMs?: number;
}

export class CriError extends Error {
  constructor(
    message: string,
    readonly grpcCode: 'AlreadyExists' | 'NotFound' | 'FailedPrecondition' | 'Unknown' = 'Unknown',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CriError';
  }
}

/** A RunPodSandbox error whose undo failed too (cleanupErr): the sandbox is kept, SANDBOX_UNKNOWN. */
export interface FailedCleanup {
  cleanupError: Error;
  sandboxId: string;
}

export function failedCleanupOf(e: unknown): FailedCleanup | undefined {
  const f = e as Partial<FailedCleanup> | undefined;
  return f && f.cleanupError && f.sandboxId ? (f as FailedCleanup) : undefined;
}

/** What setupSandboxFiles is given: the folder, the hostname and the DNS config (or none). */
const sandboxFilesInputs = (sb: PodSandbox) => ({
  dir: sb.filesDir,
  hostname: sb.config.hostname ?? '',
  dnsConfig: sb.config.dnsConfig ?? "none: a copy of the node's /etc/resolv.conf",
  'containerd 1.7': 'writes these files before NewNetNS, not after the network',
});

/** CNI_ARGS as containerd's toCNILabels makes them: a Go map, so real containerd's order varies; ours is fixed. */
function cniArgs(sb: PodSandbox): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', sb.config.namespace],
    ['K8S_POD_NAME', sb.config.name],
    ['K8S_POD_INFRA_CONTAINER_ID', sb.id],
    ['K8S_POD_UID', sb.config.uid],
  ];
}

/** What containerd's cniNamespaceOpts passes as capability args (plus the lab's own extras, if any). */
export function capabilityArgsOf(c: PodSandboxConfig): JsonObject {
  const annotations = c.annotations ?? {};
  const bandwidth = bandwidthFromAnnotations(annotations);
  const dns = c.dnsConfig;
  const args = goCniCapabilityArgs({
    annotations,
    ...(c.portMappings?.length ? { portMappings: c.portMappings } : {}),
    ...(bandwidth ? { bandwidth } : {}),
    ...(dns ? { dns: { servers: dns.servers, searches: dns.searches, options: dns.options } } : {}),
    ...(c.cgroupParent ? { cgroupPath: c.cgroupParent } : {}),
  });
  return { ...args, ...(c.labCapabilityArgs ?? {}) };
}

/** containerd's NetworkReady condition (status.go): false with go-cni's error, else true. */
function networkCondition(problem: string | undefined): RuntimeCondition {
  return problem
    ? {
        type: 'NetworkReady',
        status: false,
        reason: 'NetworkPluginNotReady',
        message: `Network plugin returns error: ${problem}`,
      }
    : { type: 'NetworkReady', status: true, reason: '', message: '' };
}

/** containerd's sandbox name: name_namespace_uid_attempt. */
export const sandboxName = (c: PodSandboxConfig) => `${c.name}_${c.namespace}_${c.uid}_${c.attempt ?? 0}`;

/** containerd's pkg/netns name: cni- and 16 random bytes as %x-%x-%x-%x-%x. */
function netnsName(): string {
  const b = randomBytes(16).toString('hex');
  return `cni-${b.slice(0, 8)}-${b.slice(8, 12)}-${b.slice(12, 16)}-${b.slice(16, 20)}-${b.slice(20)}`;
}

export class ContainerdNode implements CriRuntime {
  readonly kind = 'model' as const;
  readonly sandboxes = new Map<string, PodSandbox>();
  /** Reserved sandbox names → sandbox ID (containerd's name index). */
  private readonly names = new Map<string, string>();
  readonly cni: CniExecutor;
  loopback: LoopbackMode;
  /** The lab's own guard against a hung plugin, if set (containerd has none). */
  readonly pluginTimeoutMs: number | undefined;
  /** go-cni, loaded from the node's config directory on each Status, Setup and Remove. */
  readonly goCni: GoCni;
  /** The last STATUS verdict per list (its bytes), for the synchronous networkReady(). */
  private readonly statusVerdicts = new Map<string, string | undefined>();
  /** Called when a sandbox's pause exits without containerd stopping it (the exit monitor). */
  private readonly exitListeners = new Set<(sb: PodSandbox) => void>();

  constructor(
    readonly world: World,
    readonly node: string,
    opts: CriOptions = {},
  ) {
    this.loopback = opts.loopback ?? 'plugin';
    this.pluginTimeoutMs = opts.pluginTimeoutMs;
    const host = new NodePluginHost(world, node, nodeFolder(world, node, 'binUpper'));
    this.cni = new CniExecutor(host, new ResultCache(nodeFolder(world, node, 'dataDir')), {
      ...(opts.pluginTimeoutMs ? { timeoutMs: opts.pluginTimeoutMs } : {}),
    });
    this.goCni = new GoCni(nodeFolder(world, node, 'confDir'), NODE_PATHS.confDir, () =>
      this.loopback === 'plugin' ? 2 : 1,
    );
  }

  /** The editor's view of the node's config directory: every file, each with its problems. */
  loadNetworkConfig() {
    return loadConfDir(nodeFolder(this.world, this.node, 'confDir'), NODE_PATHS.confDir);
  }

  /** The exit monitor's listeners: a pause that died makes its sandbox SANDBOX_NOTREADY. */
  onSandboxExit(fn: (sb: PodSandbox) => void): () => void {
    this.exitListeners.add(fn);
    return () => void this.exitListeners.delete(fn);
  }

  /**
   * CRI Status: go-cni Load, then Status — ready() (the minimum network count) and, for lists of
   * cniVersion ≥ 1.1.0, the CNI STATUS verb. Plugin binaries and lint findings do not count.
   */
  async status(onExec?: (r: PluginExecRecord) => void): Promise<RuntimeStatus> {
    this.goCni.load();
    let problem: string | undefined;
    try {
      await this.goCni.status(this.cni, onExec);
      for (const n of this.goCni.networks) this.statusVerdicts.set(n.list.bytes, undefined);
    } catch (e) {
      problem = (e as Error).message;
      if (problem !== CNI_NOT_INITIALIZED)
        for (const n of this.goCni.networks) this.statusVerdicts.set(n.list.bytes, problem);
    }
    return this.runtimeStatus(problem);
  }

  /**
   * NetworkReady now, without running a plugin: go-cni Load and ready(); for a ≥ 1.1.0 list, the
   * verdict of the last STATUS run on the same config (status() runs it; the kubelet every few seconds).
   */
  networkReady(): RuntimeCondition {
    this.goCni.load();
    let problem: string | undefined;
    try {
      this.goCni.ready();
      problem = this.goCni.networks.map((n) => this.statusVerdicts.get(n.list.bytes)).find((v) => v);
    } catch (e) {
      problem = (e as Error).message;
    }
    return networkCondition(problem);
  }

  private runtimeStatus(problem: string | undefined): RuntimeStatus {
    const cfg = this.loadNetworkConfig();
    const configFiles = cfg.files.map((f) => ({
      file: f.file,
      ...(f.error
        ? { error: f.error.reason + (f.error.line ? ` (line ${f.error.line}, column ${f.error.column})` : '') }
        : {}),
    }));
    const runtimeReady: RuntimeCondition = { type: 'RuntimeReady', status: true, reason: '', message: '' };
    const networkReady = networkCondition(problem);
    const network = this.goCni.podNetwork;
    return {
      conditions: [runtimeReady, networkReady],
      lastCNILoadStatus: this.goCni.lastLoadStatus,
      configFiles,
      ...(network ? { network: network.name } : {}),
    };
  }

  private runtimeConf(sb: PodSandbox, ifName: string, netns = sb.netnsPath): RuntimeConf {
    return { containerId: sb.id, netns, ifName, args: cniArgs(sb), capabilityArgs: capabilityArgsOf(sb.config) };
  }

  /** Records each plugin exec as a cni event under `parent`. */
  private pluginTracer(trace: Trace, parent: number, pod: string): (r: PluginExecRecord) => void {
    return (r) =>
      trace.record('cni', `${r.plugin} ${r.command}`, r.start, r.end, {
        parent,
        pod,
        node: this.node,
        inputs: { path: r.path, env: r.env, stdin: safeJson(r.stdin) },
        outputs: { exitCode: r.exitCode, stdout: safeJson(r.stdout), ...(r.stderr ? { stderr: r.stderr } : {}) },
        ...(r.error ? { error: r.error } : {}),
      });
  }

  /** CRI RunPodSandbox, as containerd 2.1's sandbox_run.go does it. */
  async runPodSandbox(config: PodSandboxConfig, trace: Trace, parent?: number): Promise<string> {
    const pod = config.name;
    const inputs = {
      name: config.name,
      namespace: config.namespace,
      uid: config.uid,
      attempt: config.attempt ?? 0,
      ...(config.hostNetwork ? { hostNetwork: true } : {}),
    };
    const place = { pod, node: this.node, ...(parent ? { parent } : {}) };
    return trace.step('cri', 'RunPodSandbox', { ...place, source: SOURCES.runPodSandbox, inputs }, async (cri) => {
      const step = trace.under({ pod, node: this.node, parent: cri.id });
      const sb = this.newSandbox(config);
      const cleanup = new CleanupStack();
      const undo = (what: string, run: (h: StepHandle) => Promise<void>, extra: Record<string, unknown> = {}) =>
        cleanup.defer(what, () => step('containerd', `undo: ${what}`, { undo: true, inputs: extra }, run));
      try {
        // Reserve the name first: a second sandbox with the same name is refused.
        const name = this.reserveSandboxName(sb);
        undo('release sandbox name', async () => void this.names.delete(name));
        cri.output({ sandboxId: sb.id });

        if (!config.hostNetwork) {
          const netns = {
            source: SOURCES.newNetNS,
            inputs: { path: sb.netnsPath, "containerd's path": `/var/run/netns/${sb.netnsName}` },
          };
          await step('kernel', 'NewNetNS', netns, (h) => this.newNetNS(sb, h));
          undo('remove network namespace', () => this.removeNetns(sb));

          // Registered before setup: "resource is allocated even if it returns error" (sandbox_run.go).
          const ignoreNote = {
            rule: 'a DEL error is ignored while CNIResult is nil (setup never finished)',
            'containerd 1.7': 'counts the DEL error (cleanupErr): the sandbox is kept SANDBOX_UNKNOWN',
          };
          undo('teardown pod network (CNI DEL)', (h) => this.undoTeardown(sb, trace, h), ignoreNote);
          const setup = {
            source: SOURCES.setupPodNetwork,
            inputs: {
              loopback: LOOPBACK_OPTION(sb.loopback),
              confDir: NODE_PATHS.confDir,
              'containerd 1.7': 'always the loopback plugin (use_internal_loopback exists from 2.0)',
            },
          };
          try {
            await step('containerd', 'setupPodNetwork', setup, (h) => this.setupPodNetwork(sb, trace, h.id));
          } catch (e) {
            const msg = `failed to setup network for sandbox "${sb.id}": ${(e as Error).message}`;
            throw new CriError(msg, 'Unknown', { cause: e });
          }
        }

        // containerd 2.x: the network first, then the sandbox's files as the pause is created (1.7: before NewNetNS)
        undo('remove sandbox files', async () => this.sandboxFiles().rm(sb.id));
        const files = { source: SOURCES.setupSandboxFiles, inputs: sandboxFilesInputs(sb) };
        await step('containerd', 'setupSandboxFiles', files, async (h) => h.output(this.setupSandboxFiles(sb)));

        const pause = {
          source: SOURCES.startSandbox,
          inputs: { netns: config.hostNetwork ? "the node's (hostNetwork)" : sb.netnsPath, files: sb.filesDir },
        };
        await step('containerd', 'start sandbox container (pause)', pause, (h) => this.startPause(sb, h));
        undo('stop sandbox container', async () => this.stopPause(sb));

        sb.state = 'SANDBOX_READY';
        this.sandboxes.set(sb.id, sb);
        this.monitorExit(sb);
        cleanup.disarm();
        cri.output({ state: sb.state, ip: sb.ip ?? '' });
        return sb.id;
      } catch (e) {
        const failed = await cleanup.unwind();
        if (failed !== undefined) {
          // containerd's cleanupErr: the sandbox is kept, SANDBOX_UNKNOWN, for the kubelet's next sync to stop.
          sb.state = 'SANDBOX_UNKNOWN';
          this.sandboxes.set(sb.id, sb);
          Object.assign(e as object, { cleanupError: failed, sandboxId: sb.id });
          cri.output({ state: sb.state, cleanupError: (failed as Error).message });
        }
        throw e;
      }
    });
  }

  /** A sandbox not yet made: its id, and the names of its netns and files. */
  private newSandbox(config: PodSandboxConfig): PodSandbox {
    const id = randomBytes(32).toString('hex');
    const ns = config.hostNetwork ? '' : netnsName();
    return {
      id,
      config,
      node: this.node,
      state: 'SANDBOX_NOTREADY',
      netnsName: ns,
      netnsPath: ns ? `${NODE_PATHS.netnsDir}/${ns}` : '',
      loopback: this.loopback,
      additionalIps: [],
      containers: new Map(),
      filesDir: `${NODE_PATHS.sandboxesDir}/${id}`,
      createdAt: Date.now(),
    };
  }

  private reserveSandboxName(sb: PodSandbox): string {
    const name = sandboxName(sb.config);
    const holder = this.names.get(name);
    if (holder)
      throw new CriError(
        `failed to reserve sandbox name "${name}": name "${name}" is reserved for "${holder}"`,
        'AlreadyExists',
      );
    this.names.set(name, sb.id);
    return name;
  }

  private async newNetNS(sb: PodSandbox, h: StepHandle): Promise<void> {
    await this.world.run({ kind: 'node', node: this.node }, ['ip', 'netns', 'add', sb.netnsName]);
    h.output({ netns: sb.netnsPath });
  }

  /** The lab's per-plugin time limit, named as the lab's own: containerd has none (its CRI call allows 4 min). */
  private timeoutNote(): Record<string, string> {
    return this.pluginTimeoutMs
      ? {
          "lab's plugin time limit": `${this.pluginTimeoutMs} ms (the lab's own guard; containerd has no per-plugin timeout)`,
        }
      : {};
  }

  /** One network's ADD (libcni AddNetworkList), traced. */
  private attach(sb: PodSandbox, trace: Trace, parent: number, n: GoCniNetwork): Promise<CniResult> {
    const pod = sb.config.name;
    const inputs = {
      network: n.list.name,
      cniVersion: n.list.cniVersion,
      ifName: n.ifName,
      'CNI_ARGS order':
        "containerd builds CNI_ARGS from a Go map, so its order varies from call to call; the lab's is fixed",
      ...this.timeoutNote(),
    };
    return trace.step(
      'cni',
      'CNI ADD',
      { pod, node: this.node, parent, source: SOURCES.cniSetup, inputs },
      async (h) => {
        const r = await this.cni.addNetworkList(
          n.list,
          this.runtimeConf(sb, n.ifName),
          this.pluginTracer(trace, h.id, pod),
        );
        h.output({ result: r });
        return r;
      },
    );
  }

  /**
   * setupPodNetwork: with use_internal_loopback, lo up first; then go-cni Setup (ready(), then every
   * loaded network at once: cni-loopback on lo and the pod network on eth0); then the pod IPs from eth0.
   */
  private async setupPodNetwork(sb: PodSandbox, trace: Trace, parent: number): Promise<void> {
    const step = trace.under({ pod: sb.config.name, node: this.node, parent });
    if (sb.loopback === 'internal') {
      const lo = { source: SOURCES.loopbackUp, inputs: { dev: 'lo', option: 'use_internal_loopback = true' } };
      await step('kernel', 'bringUpLoopback (use_internal_loopback)', lo, () => this.loopbackUp(sb));
    }
    this.goCni.load();
    const networks = this.goCni.networks;
    // go-cni attaches every network concurrently (containerd's default; setup_serially = false)
    const results = await this.goCni.setup((n) => this.attach(sb, trace, parent, n));
    const result = results[networks.findIndex((n) => n.ifName === 'eth0')];
    const ips = { source: SOURCES.podIps, inputs: { interface: 'eth0' } };
    await step('containerd', 'pod IPs from result', ips, async (h) => h.output(this.podIps(sb, result)));
  }

  private async loopbackUp(sb: PodSandbox): Promise<void> {
    await this.world.run({ kind: 'pod', node: this.node, netns: sb.netnsPath }, ['ip', 'link', 'set', 'lo', 'up']);
  }

  /** The pod's IPs: eth0's addresses in the CNI result; only then is CNIResult set (sandbox_run.go). */
  private podIps(sb: PodSandbox, result: CniResult | undefined): { ip: string; additionalIps: string[] } {
    const ips = result && podIpsFromResult(result);
    if (!ips) throw new CriError(`failed to find network info for sandbox "${sb.id}"`);
    sb.ip = ips.ip;
    sb.additionalIps = ips.additionalIps;
    sb.cniResult = result;
    return { ip: ips.ip, additionalIps: ips.additionalIps };
  }

  /** The pause's place: the pod's netns, or the node's for a hostNetwork sandbox. */
  private target(sb: PodSandbox): Target {
    return sb.netnsPath ? { kind: 'pod', node: this.node, netns: sb.netnsPath } : { kind: 'node', node: this.node };
  }

  /** The sandbox container: the native pause in the pod's netns, with its own mount and UTS namespaces. */
  private async startPause(sb: PodSandbox, h: StepHandle): Promise<void> {
    // the sandbox's files at /etc/…, the pod's hostname (native/pause.c); a hostNetwork pod keeps the node's
    const hostname = sb.config.hostNetwork ? undefined : sb.config.hostname;
    const argv = [nativeBinary('pause'), sb.filesDir, ...(hostname ? [hostname] : [])];
    const pause = this.world.spawn(this.target(sb), argv, { newMount: true, newUts: !sb.config.hostNetwork });
    let out = '';
    let err = '';
    pause.on('stdout', (d) => (out += d.toString()));
    pause.on('stderr', (d) => (err += d.toString()));
    sb.pause = pause;
    await pause.started;
    // listening from the spawn on: the line may come before `started` resolves
    const ready = await Promise.race([
      new Promise<boolean>((res) =>
        out.includes(PAUSE_READY) ? res(true) : pause.on('stdout', () => out.includes(PAUSE_READY) && res(true)),
      ),
      pause.exited.then(() => out.includes(PAUSE_READY)),
    ]);
    if (!ready)
      throw new CriError(
        `failed to start sandbox container task "${sb.id}": ${err.trim() || 'the pause process exited'}`,
      );
    h.output({ pid: pause.pid });
  }

  /** startSandboxExitMonitor: a pause that exits on its own makes the sandbox SANDBOX_NOTREADY. */
  private monitorExit(sb: PodSandbox): void {
    void sb.pause?.exited.then(() => {
      if (sb.stopping || sb.state !== 'SANDBOX_READY') return;
      sb.state = 'SANDBOX_NOTREADY';
      for (const fn of this.exitListeners) {
        try {
          fn(sb);
        } catch {
          /* a listener never changes what containerd does */
        }
      }
    });
  }

  /** The undo of setupPodNetwork: teardown, its error ignored while CNIResult is nil (containerd ≥ 1.6.37, 2.x). */
  private async undoTeardown(sb: PodSandbox, trace: Trace, h: StepHandle): Promise<void> {
    try {
      await this.teardownPodNetwork(sb, trace, h.id, sb.netnsPath);
    } catch (e) {
      if (sb.cniResult) throw e;
      h.output({ ignored: `${(e as Error).message} (setup never finished: CNIResult is nil)` });
    }
  }

  /**
   * teardownPodNetwork: go-cni Remove with the config loaded now — ready() (else "cni plugin not
   * initialized"), then DEL of each loaded network in order, skipping errors that say "not found".
   */
  private async teardownPodNetwork(sb: PodSandbox, trace: Trace, parent: number, netns: string): Promise<void> {
    const step = trace.under({ pod: sb.config.name, node: this.node, parent });
    this.goCni.load();
    await this.goCni.remove(
      netns,
      (n) => {
        const del = {
          source: SOURCES.cniRemove,
          inputs: {
            network: n.list.name,
            cniVersion: n.list.cniVersion,
            ifName: n.ifName,
            netns,
            ...this.timeoutNote(),
          },
        };
        return step('cni', 'CNI DEL', del, (h) =>
          this.cni.delNetworkList(
            n.list,
            this.runtimeConf(sb, n.ifName, netns),
            this.pluginTracer(trace, h.id, sb.config.name),
          ),
        );
      },
      (n, e) => {
        const ev = trace.begin('containerd', `skipped DEL error of ${n.list.name}`, {
          parent,
          pod: sb.config.name,
          node: this.node,
          inputs: { rule: 'go-cni Remove skips errors that say "not found"' },
        });
        trace.finish(ev, { error: e.message });
      },
    );
  }

  private netnsExists(sb: PodSandbox): boolean {
    return nodeFolder(this.world, this.node, 'netnsDir').exists(sb.netnsName);
  }

  private async removeNetns(sb: PodSandbox): Promise<void> {
    const r = await this.world.exec({ kind: 'node', node: this.node }, ['ip', 'netns', 'delete', sb.netnsName]);
    if (r.code !== 0 && !/No such file|not found/i.test(r.stderr))
      throw new CriError(`failed to remove network namespace ${sb.netnsPath}: ${r.stderr.trim()}`);
  }

  /** The node's folder of sandbox files, as the engine reaches it (never through a link). */
  private sandboxFiles() {
    return nodeFolder(this.world, this.node, 'sandboxesDir');
  }

  /** setupSandboxFiles (sandbox_run_linux.go): hostname, a copy of the node's hosts, and resolv.conf. */
  private setupSandboxFiles(sb: PodSandbox): Record<string, string> {
    const dir = this.sandboxFiles();
    dir.mkdirp(sb.id);
    const hostname = `${(!sb.config.hostNetwork && sb.config.hostname) || this.node}\n`;
    // the node's /etc/hosts is the host's, read-only in the world: read it as a node would
    const hosts = readFileSync('/etc/hosts', 'utf8');
    const node = nodeFile(this.world, this.node, 'resolvConf');
    const resolv = sb.config.dnsConfig ? resolvConfText(sb.config.dnsConfig) : node.files.readFile(node.rel);
    // as containerd: plain writes, not durable (the sandbox's files end with it)
    const files = { hostname, hosts, 'resolv.conf': resolv };
    for (const [name, text] of Object.entries(files)) dir.writeFileAtomic(`${sb.id}/${name}`, text, { durable: false });
    return { hostname: hostname.trim(), 'resolv.conf': resolv };
  }

  private async stopPause(sb: PodSandbox): Promise<void> {
    const p = sb.pause;
    if (!p || p.hasExited) return;
    sb.stopping = true;
    p.kill(9);
    await p.exited;
  }

  sandbox(id: string): PodSandbox {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new CriError(`an error occurred when try to find sandbox "${id}": not found`, 'NotFound');
    return sb;
  }

  /** getIPs: "" for a hostNetwork sandbox or once its netns is gone (NetNS.Closed()); else the saved IPs. */
  private getIps(sb: PodSandbox): { ip: string; additionalIps: string[]; note?: string } {
    if (sb.config.hostNetwork) return { ip: '', additionalIps: [], note: 'hostNetwork: containerd reports no IP' };
    if (!this.netnsExists(sb)) return { ip: '', additionalIps: [], note: 'the network namespace is closed' };
    return { ip: sb.ip ?? '', additionalIps: sb.additionalIps };
  }

  /** CRI PodSandboxStatus: state, and the IPs getIPs gives. */
  async podSandboxStatus(id: string, trace: Trace, parent?: number) {
    const sb = this.sandbox(id);
    const place = { pod: sb.config.name, node: this.node, ...(parent ? { parent } : {}) };
    const status = { ...place, source: SOURCES.podSandboxStatus, inputs: { sandboxId: id } };
    return trace.step('cri', 'PodSandboxStatus', status, async (h) => {
      const step = trace.under({ pod: sb.config.name, node: this.node, parent: h.id });
      const ips = await step('containerd', 'getIPs', { source: SOURCES.getIps }, async (g) => {
        const r = this.getIps(sb);
        g.output(r);
        return { ip: r.ip, additionalIps: r.additionalIps };
      });
      h.output({ state: sb.state, ip: ips.ip });
      return {
        id,
        state: sb.state,
        attempt: sb.config.attempt ?? 0,
        network: ips,
        netns: sb.netnsPath,
        createdAt: sb.createdAt,
      };
    });
  }

  /**
   * CRI StopPodSandbox (sandbox_stop.go): force-stop its containers, stop the pause if READY or
   * UNKNOWN, then — for a sandbox with a netns — teardownPodNetwork (CNI_NETNS "" once the netns is
   * closed) and remove the netns. Idempotent; a teardown error fails it while CNIResult is set.
   */
  async stopPodSandbox(id: string, trace: Trace, parent?: number): Promise<void> {
    const sb = this.sandboxes.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), node: this.node, ...(parent ? { parent } : {}) };
    const stop = { ...place, source: SOURCES.stopPodSandbox, inputs: { sandboxId: id } };
    await trace.step('cri', 'StopPodSandbox', stop, async (h) => {
      if (!sb) {
        h.output({ note: 'sandbox not found: nothing to stop' });
        return;
      }
      const step = trace.under({ pod: sb.config.name, node: this.node, parent: h.id });
      const running = [...sb.containers.values()].filter((c) => !c.process.hasExited);
      if (running.length)
        await step(
          'containerd',
          'stop containers (forcibly)',
          { inputs: { containers: running.map((c) => c.name) } },
          () => Promise.all(running.map((c) => this.killContainerProcess(c, 0))),
        );
      if (sb.state === 'SANDBOX_READY' || sb.state === 'SANDBOX_UNKNOWN') {
        const pause = { source: SOURCES.stopSandbox, inputs: { pid: sb.pause?.pid } };
        await step('containerd', 'stop sandbox container (pause)', pause, () => this.stopPause(sb));
      }
      sb.state = 'SANDBOX_NOTREADY';
      if (sb.netnsName) {
        const teardown = {
          source: SOURCES.teardownPodNetwork,
          inputs: {
            config: `the config loaded now from ${NODE_PATHS.confDir} (go-cni Remove), not the one used at ADD`,
          },
        };
        await step('containerd', 'teardownPodNetwork', teardown, async (t) => {
          // NetNS.Closed(): a netns already gone gets an empty CNI_NETNS
          const closed = !this.netnsExists(sb);
          const netns = closed ? '' : sb.netnsPath;
          t.output({
            netns,
            ...(closed ? { note: 'the network namespace is closed: DEL runs with an empty CNI_NETNS' } : {}),
          });
          try {
            await this.teardownPodNetwork(sb, trace, t.id, netns);
          } catch (e) {
            if (sb.cniResult)
              throw new CriError(
                `failed to destroy network for sandbox "${sb.id}": ${(e as Error).message}`,
                'Unknown',
                {
                  cause: e,
                },
              );
            t.output({ ignored: `${(e as Error).message} (the network setup never completed: CNIResult is nil)` });
          }
        });
        const rm = { source: SOURCES.removeNetNS, inputs: { path: sb.netnsPath } };
        await step('kernel', 'remove netns', rm, () => this.removeNetns(sb));
      }
      h.output({ state: sb.state });
    });
  }

  /**
   * CRI RemovePodSandbox (sandbox_remove.go): stops it again (a second teardown: the netns is closed, so
   * CNI_NETNS is empty and no cached result is left), then its containers, files, record and name go.
   */
  async removePodSandbox(id: string, trace: Trace, parent?: number): Promise<void> {
    const sb = this.sandboxes.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), node: this.node, ...(parent ? { parent } : {}) };
    const remove = { ...place, source: SOURCES.removePodSandbox, inputs: { sandboxId: id } };
    await trace.step('cri', 'RemovePodSandbox', remove, async (h) => {
      if (!sb) {
        h.output({ note: 'sandbox not found: nothing to remove' });
        return;
      }
      try {
        await this.stopPodSandbox(id, trace, h.id);
      } catch (e) {
        throw new CriError(`failed to forcibly stop sandbox "${id}": ${(e as Error).message}`);
      }
      if (sb.netnsName && this.netnsExists(sb))
        throw new CriError(`sandbox network namespace "${sb.netnsPath}" is not fully closed`);
      sb.containers.clear();
      // as containerd removes the sandbox's root directory
      this.sandboxFiles().rm(sb.id);
      this.sandboxes.delete(id);
      if (this.names.get(sandboxName(sb.config)) === id) this.names.delete(sandboxName(sb.config));
    });
  }

  listPodSandbox(): PodSandbox[] {
    return [...this.sandboxes.values()];
  }

  sandboxState(id: string): SandboxState | undefined {
    return this.sandboxes.get(id)?.state;
  }

  readonly description = 'model';

  get lastCNILoadStatus(): string {
    return this.goCni.lastLoadStatus;
  }

  sandboxPid(id: string): number {
    return this.sandbox(id).pause?.pid ?? 0;
  }

  /** The model runs nothing of its own beyond the sandboxes (which the world ends). */
  async close(): Promise<void> {}

  /** A container's stop: SIGTERM, up to `timeoutSeconds`, then SIGKILL (0: SIGKILL at once). */
  private async killContainerProcess(c: SandboxContainer, timeoutSeconds: number): Promise<string> {
    if (c.process.hasExited) return `${c.name}: already exited`;
    if (timeoutSeconds > 0) {
      c.process.kill(15);
      const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), timeoutSeconds * 1000).unref());
      if ((await Promise.race([c.process.exited, timer])) !== 'timeout') return `${c.name}: exited on SIGTERM`;
    }
    c.process.kill(9);
    await c.process.exited;
    return timeoutSeconds > 0 ? `${c.name}: SIGKILL after ${timeoutSeconds} s` : `${c.name}: SIGKILL`;
  }

  /** CRI StopContainer(containerId, timeout): the stop signal (SIGTERM), the timeout, then SIGKILL. */
  async stopContainer(containerId: string, timeoutSeconds: number, trace: Trace, parent?: number): Promise<string> {
    const found = [...this.sandboxes.values()].flatMap((sb) => {
      const c = sb.containers.get(containerId);
      return c ? [{ sb, c }] : [];
    })[0];
    const place = { ...(found ? { pod: found.sb.config.name } : {}), node: this.node, ...(parent ? { parent } : {}) };
    const inputs = { containerId, timeout: timeoutSeconds, ...(found ? { container: found.c.name } : {}) };
    return trace.step('cri', 'StopContainer', { ...place, source: SOURCES.stopContainer, inputs }, async (h) => {
      if (!found) {
        h.output({ note: 'container not found: nothing to stop' });
        return 'not found';
      }
      const outcome = await this.killContainerProcess(found.c, timeoutSeconds);
      h.output({ outcome });
      return outcome;
    });
  }

  /**
   * CRI ExecSync: the command joins the container's mount and PID namespaces (through its init's parent,
   * `unshare`, which holds them), the pod's netns and the pod's hostname, as runc exec joins a container.
   */
  /** Where and how a command joins a running container (CRI ExecSync and Exec). */
  private execIn(containerId: string, cmd: string[]): { target: Target; argv: string[] } {
    const found = [...this.sandboxes.values()].find((sb) => sb.containers.has(containerId));
    const c = found?.containers.get(containerId);
    if (!found || !c)
      throw new CriError(`an error occurred when try to find container "${containerId}": not found`, 'NotFound');
    if (c.process.hasExited) throw new CriError(`container ${containerId} is not running`, 'FailedPrecondition');
    const ns = (n: string) => `/proc/${c.pid}/ns/${n}`;
    const argv = [
      'nsenter',
      `--mount=${ns('mnt')}`,
      `--pid=${ns('pid_for_children')}`,
      `--uts=${ns('uts')}`,
      '--',
      ...cmd,
    ];
    return { target: this.target(found), argv };
  }

  /** CRI Exec's stream (the runtime's streaming server): the command in the container, its stdin open. */
  execStream(containerId: string, cmd: string[]): WorldProcess {
    const { target, argv } = this.execIn(containerId, cmd);
    return this.world.spawn(target, argv, { stdin: true });
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncAnswer> {
    const { target, argv } = this.execIn(containerId, cmd);
    const r = await this.world.exec(target, argv, timeoutSeconds > 0 ? { timeoutMs: timeoutSeconds * 1000 } : {});
    return { exitCode: r.code ?? 128 + 9, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  }

  /**
   * Starts a container process that joins the sandbox's network and UTS namespaces, with its own PID
   * and mount namespaces, and returns once it runs: its init has said so, so a SIGTERM from then on is
   * handled. Its output goes to `logPath` (on the node) when given, in the CRI log format.
   */
  async startContainer(
    sandboxId: string,
    command: string[],
    logPath?: string,
    name = command[0] ?? 'container',
  ): Promise<SandboxContainer> {
    const sb = this.sandbox(sandboxId);
    if (!sb.pause || sb.pause.hasExited)
      throw new CriError(`sandbox "${sandboxId}" has no running pause process`, 'FailedPrecondition');
    // native/container-init.c: the pod's hostname (the pause's UTS namespace), its own PID and mount
    // namespaces, a read-only /proc and the sandbox's files over /etc/… (containerd's WithPodHostname and
    // WithPodResolvConf), then the command under a tiny init that forwards SIGTERM, so the container stops
    // as a process would outside a PID namespace; the init says CONTAINER_STARTED on stderr once it runs.
    // The node's files are the container's "image".
    const p = this.world.spawn(this.target(sb), [
      nativeBinary('container-init'),
      `/proc/${sb.pause.pid}/ns/uts`,
      sb.filesDir,
      '--',
      ...command,
    ]);
    const log = logPath ? this.containerLog(logPath) : undefined;
    // listen before anything is awaited: the marker can arrive in the same read as "started"
    const running = new Promise<void>((resolve) => {
      let err = '';
      let started = false;
      const onErr = (d: Buffer) => {
        if (started) return log?.write('stderr', d);
        err += d.toString();
        const i = err.indexOf(CONTAINER_STARTED + '\n');
        if (i >= 0) {
          started = true;
          const rest = err.slice(0, i) + err.slice(i + CONTAINER_STARTED.length + 1);
          if (rest) log?.write('stderr', Buffer.from(rest));
          resolve();
        }
      };
      p.on('stderr', onErr);
      p.on('stdout', (d) => log?.write('stdout', d));
      void p.exited.then(() => {
        if (!started && err) log?.write('stderr', Buffer.from(err));
        log?.end();
        resolve();
      });
    });
    await p.started;
    await running;
    const c = { id: randomBytes(32).toString('hex'), name, process: p, pid: p.pid, exited: p.exited };
    sb.containers.set(c.id, c);
    return c;
  }

  /** A container's log on the node, in CRI's format ("<time> <stream> F <line>"), as containerd writes it. */
  private containerLog(logPath: string): { write: (stream: 'stdout' | 'stderr', d: Buffer) => void; end: () => void } {
    if (!logPath.startsWith(NODE_PATHS.podLogsDir + '/') || logPath.includes('..'))
      throw new CriError(`container log path "${logPath}" is outside ${NODE_PATHS.podLogsDir}`);
    const rel = logPath.slice(NODE_PATHS.podLogsDir.length + 1);
    const logs = nodeFolder(this.world, this.node, 'podLogsDir');
    logs.mkdirp(dirname(rel));
    const out: WriteStream = createWriteStream('', { fd: logs.openAppend(rel) });
    out.on('error', () => {});
    const partial = { stdout: '', stderr: '' };
    return {
      write: (stream, d) => {
        const lines = (partial[stream] + d.toString()).split('\n');
        partial[stream] = lines.pop()!;
        for (const l of lines) out.write(`${new Date().toISOString()} ${stream} F ${l}\n`);
      },
      end: () => {
        for (const stream of ['stdout', 'stderr'] as const)
          if (partial[stream]) out.write(`${new Date().toISOString()} ${stream} F ${partial[stream]}\n`);
        out.end();
      },
    };
  }
}

/** What the pause prints once the sandbox's files are mounted and its hostname set. */
const PAUSE_READY = 'podnet: sandbox ready';

/** What a container's init says once it runs (the container's own output follows it): STARTED in native/container-init.c. */
const CONTAINER_STARTED = 'podnet: container started';

/** A plugin's stdin or stdout as JSON where it parses, else as the text it is (for the trace). */
export function safeJson(s: string): unknown {
  const t = s.trim();
  if (!t) return '';
  try {
    return JSON.parse(t);
  } catch {
    return s;
  }
}

export type { TraceEvent };
