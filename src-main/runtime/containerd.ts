// containerd's CRI service for one node: RunPodSandbox, PodSandboxStatus, StopPodSandbox,
// RemovePodSandbox, ListPodSandbox, Status, and the containers that join a sandbox. Each step is
// traced and, as in sandbox_run.go, registers an undo that runs if a later step fails.
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { CniExecutor, type RuntimeConf } from '../cni/libcni.js';
import { ResultCache } from '../cni/cache.js';
import { loadConfDir, loopbackConfList, type ConfList, type JsonObject } from '../cni/conf.js';
import { podIpsFromResult, type CniResult } from '../cni/result.js';
import type { PluginExecRecord } from '../cni/invoke.js';
import { nodeFile, nodeFolder } from '../fs/world-files.js';
import { NodePluginHost } from '../world/node-plugins.js';
import { nativeBinary } from '../world/world-init.js';
import { NODE_PATHS, shq, type World, type WorldProcess } from '../world/world.js';
import { CleanupStack } from './cleanup.js';
import { resolvConfText, type CriDnsConfig } from './pod-dns.js';
import { SOURCES } from './sources.js';
import type { StepHandle, Trace, TraceEvent } from './trace.js';

/** How the pod's lo comes up: containerd's internal loopback, or the loopback CNI plugin (containerd's default). */
export type LoopbackMode = 'internal' | 'plugin';

export interface PodSandboxConfig {
  name: string;
  namespace: string;
  uid: string;
  /** Capability args: portMappings, bandwidth, … */
  capabilityArgs?: JsonObject;
  /** The pod's hostname (kubelet sets the pod's name); the node's when empty. */
  hostname?: string;
  /** The sandbox's resolv.conf; without it, a copy of the node's (setupSandboxFiles). */
  dnsConfig?: CriDnsConfig;
  /** kubelet's pod log folder (/var/log/pods/<ns>_<name>_<uid>), where container logs go. */
  logDirectory?: string;
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY' | 'SANDBOX_UNKNOWN';

export interface PodSandbox {
  id: string;
  config: PodSandboxConfig;
  node: string;
  state: SandboxState;
  netnsName: string;
  netnsPath: string;
  /** The pod network used at ADD, so DEL runs with the same config. */
  network?: ConfList;
  loopback: LoopbackMode;
  /** Set once CNI ADD has completed (containerd's sandbox.CNIResult). */
  cniResult?: CniResult;
  ip?: string;
  additionalIps: string[];
  pause?: WorldProcess;
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
  /** The network config that would be used, with every file's verdict. */
  configFiles: { file: string; error?: string }[];
  network?: string;
}

export interface CriOptions {
  loopback?: LoopbackMode;
  pluginTimeoutMs?: number;
}

/** A RunPodSandbox error whose undo failed too: the sandbox is kept, SANDBOX_UNKNOWN, for StopPodSandbox. */
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
});

export class CriError extends Error {
  constructor(
    message: string,
    readonly grpcCode: 'AlreadyExists' | 'NotFound' | 'FailedPrecondition' | 'Unknown' = 'Unknown',
  ) {
    super(message);
    this.name = 'CriError';
  }
}

/** CNI_ARGS as containerd builds them (sandbox_run.go). */
function cniArgs(sb: PodSandbox): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', sb.config.namespace],
    ['K8S_POD_NAME', sb.config.name],
    ['K8S_POD_INFRA_CONTAINER_ID', sb.id],
    ['K8S_POD_UID', sb.config.uid],
  ];
}

/** containerd's sandbox name: name_namespace_uid_attempt. */
export const sandboxName = (c: PodSandboxConfig) => `${c.name}_${c.namespace}_${c.uid}_0`;

export class ContainerdNode {
  readonly sandboxes = new Map<string, PodSandbox>();
  /** Reserved sandbox names → sandbox ID (containerd's name index). */
  private readonly names = new Map<string, string>();
  readonly cni: CniExecutor;
  loopback: LoopbackMode;

  constructor(
    readonly world: World,
    readonly node: string,
    opts: CriOptions = {},
  ) {
    this.loopback = opts.loopback ?? 'internal';
    const host = new NodePluginHost(world, node, nodeFolder(world, node, 'binUpper'));
    this.cni = new CniExecutor(host, new ResultCache(nodeFolder(world, node, 'dataDir')), {
      ...(opts.pluginTimeoutMs ? { timeoutMs: opts.pluginTimeoutMs } : {}),
    });
  }

  /** The node's config directory, loaded now (containerd reloads on change). */
  loadNetworkConfig() {
    return loadConfDir(nodeFolder(this.world, this.node, 'confDir'), NODE_PATHS.confDir);
  }

  /** CRI Status: NetworkReady is false (NetworkPluginNotReady) while no valid CNI config is loaded. */
  status(): RuntimeStatus {
    return this.networkState().status;
  }

  /** The node's config, loaded once, with the Status it makes: what RunPodSandbox and Status both need. */
  private networkState(): { status: RuntimeStatus; network?: ConfList } {
    const cfg = this.loadNetworkConfig();
    const configFiles = cfg.files.map((f) => ({
      file: f.file,
      ...(f.error
        ? { error: f.error.reason + (f.error.line ? ` (line ${f.error.line}, column ${f.error.column})` : '') }
        : {}),
    }));
    const runtimeReady: RuntimeCondition = { type: 'RuntimeReady', status: true, reason: '', message: '' };
    let problem: string | undefined;
    if (!cfg.network) {
      const bad = [
        ...(cfg.refused ? [cfg.refused] : []),
        ...cfg.files.filter((f) => f.error).map((f) => f.error!.message),
      ];
      problem = `cni plugin not initialized: no valid network config found in ${NODE_PATHS.confDir}${bad.length ? `; ${bad.join('; ')}` : ''}`;
    } else {
      const needed = [...cfg.network.plugins.map((p) => p.type), ...(this.loopback === 'plugin' ? ['loopback'] : [])];
      const missing = needed.filter((t) => !this.cni.host.findPlugin(t));
      if (missing.length)
        problem = `cni plugin not initialized: plugin binary ${missing.map((m) => `"${m}"`).join(', ')} not found in ${NODE_PATHS.binDir}`;
    }
    const networkReady: RuntimeCondition = problem
      ? {
          type: 'NetworkReady',
          status: false,
          reason: 'NetworkPluginNotReady',
          message: `Network plugin returns error: ${problem}`,
        }
      : { type: 'NetworkReady', status: true, reason: '', message: '' };
    const status: RuntimeStatus = {
      conditions: [runtimeReady, networkReady],
      configFiles,
      ...(cfg.network ? { network: cfg.network.name } : {}),
    };
    return { status, ...(cfg.network ? { network: cfg.network } : {}) };
  }

  networkReady(): RuntimeCondition {
    return this.status().conditions[1]!;
  }

  private runtimeConf(sb: PodSandbox, ifName: string, netns = sb.netnsPath): RuntimeConf {
    return { containerId: sb.id, netns, ifName, args: cniArgs(sb), capabilityArgs: sb.config.capabilityArgs ?? {} };
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

  /** CRI RunPodSandbox, as containerd's sandbox_run.go does it. */
  async runPodSandbox(config: PodSandboxConfig, trace: Trace, parent?: number): Promise<string> {
    const pod = config.name;
    const inputs = { name: config.name, namespace: config.namespace, uid: config.uid };
    const place = { pod, node: this.node, ...(parent ? { parent } : {}) };
    return trace.step('cri', 'RunPodSandbox', { ...place, source: SOURCES.runPodSandbox, inputs }, async (cri) => {
      const step = trace.under({ pod, node: this.node, parent: cri.id });
      const sb = this.newSandbox(config);
      const cleanup = new CleanupStack();
      const undo = (what: string, run: () => Promise<void>) =>
        cleanup.defer(what, () => step('containerd', `undo: ${what}`, { undo: true }, run));
      try {
        // Reserve the name first: a second sandbox with the same name is refused.
        const name = this.reserveSandboxName(sb);
        undo('release sandbox name', async () => void this.names.delete(name));
        cri.output({ sandboxId: sb.id });
        sb.network = this.requireNetworkReady(sb.id);

        const netns = { source: SOURCES.newNetNS, inputs: { path: sb.netnsPath } };
        await step('kernel', 'NewNetNS', netns, (h) => this.newNetNS(sb, h));
        undo('remove network namespace', () => this.removeNetns(sb));

        // Registered before setup: "resource is allocated even if it returns error" (sandbox_run.go).
        undo('teardown pod network (CNI DEL)', () => this.cniDel(sb, trace, cri.id));
        const network = { network: sb.network.name, file: sb.network.file, loopback: sb.loopback };
        const setup = { source: SOURCES.setupPodNetwork, inputs: network };
        await step('containerd', 'setupPodNetwork', setup, (h) => this.setupPodNetwork(sb, trace, h.id));

        // containerd 1.7+: the network is set up first, then the sandbox's files, then its container
        undo('remove sandbox files', async () => this.sandboxFiles().rm(sb.id));
        const files = { source: SOURCES.setupSandboxFiles, inputs: sandboxFilesInputs(sb) };
        await step('containerd', 'setupSandboxFiles', files, async (h) => h.output(this.setupSandboxFiles(sb)));

        const pause = { inputs: { netns: sb.netnsPath, files: sb.filesDir } };
        await step('containerd', 'start sandbox container (pause)', pause, (h) => this.startPause(sb, h));
        undo('stop sandbox container', async () => this.stopPause(sb));

        sb.state = 'SANDBOX_READY';
        this.sandboxes.set(sb.id, sb);
        cleanup.disarm();
        cri.output({ state: sb.state, ip: sb.ip });
        return sb.id;
      } catch (e) {
        const failed = await cleanup.unwind();
        if (failed !== undefined) {
          // As containerd's cleanupErr: keep the sandbox, in an unknown state, for StopPodSandbox to finish.
          sb.state = 'SANDBOX_UNKNOWN';
          this.sandboxes.set(sb.id, sb);
          Object.assign(e as object, { cleanupError: failed, sandboxId: sb.id });
        }
        throw e;
      }
    });
  }

  /** A sandbox not yet made: its id, and the names of its netns and files. */
  private newSandbox(config: PodSandboxConfig): PodSandbox {
    const id = randomBytes(32).toString('hex');
    const netnsName = `cni-${randomUUID()}`;
    return {
      id,
      config,
      node: this.node,
      state: 'SANDBOX_NOTREADY',
      netnsName,
      netnsPath: `${NODE_PATHS.netnsDir}/${netnsName}`,
      loopback: this.loopback,
      additionalIps: [],
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

  /** The pod network, or the error containerd gives while NetworkReady is false. */
  private requireNetworkReady(id: string): ConfList {
    const { status, network } = this.networkState();
    const ready = status.conditions[1]!;
    if (!network || !ready.status)
      throw new CriError(
        `failed to setup network for sandbox "${id}": ${ready.message || 'cni plugin not initialized'}`,
        'FailedPrecondition',
      );
    return network;
  }

  private async newNetNS(sb: PodSandbox, h: StepHandle): Promise<void> {
    await this.world.run({ kind: 'node', node: this.node }, ['ip', 'netns', 'add', sb.netnsName]);
    h.output({ netns: sb.netnsPath });
  }

  /** setupPodNetwork: the loopback (internal, or the plugin's network) and the pod network, then the pod IPs. */
  private async setupPodNetwork(sb: PodSandbox, trace: Trace, parent: number): Promise<void> {
    const pod = sb.config.name;
    const step = trace.under({ pod, node: this.node, parent });
    const add = (list: ConfList, ifName: string) =>
      step('cni', 'CNI ADD', { source: SOURCES.cniSetup, inputs: { network: list.name, ifName } }, async (h) => {
        const r = await this.cni.addNetworkList(
          list,
          this.runtimeConf(sb, ifName),
          this.pluginTracer(trace, h.id, pod),
        );
        h.output({ result: r });
        return r;
      });
    let result: CniResult;
    if (sb.loopback === 'internal') {
      const lo = { source: SOURCES.loopbackUp, inputs: { dev: 'lo' } };
      await step('kernel', 'loopback up', lo, () => this.loopbackUp(sb));
      result = await add(sb.network!, 'eth0');
    } else {
      // go-cni attaches every network concurrently (containerd's default, no setup_serially).
      [, result] = await Promise.all([add(loopbackConfList(), 'lo'), add(sb.network!, 'eth0')]);
    }
    sb.cniResult = result;
    const ips = { source: SOURCES.podIps, inputs: { interface: 'eth0' } };
    await step('containerd', 'pod IPs from result', ips, async (h) => h.output(this.podIps(sb, result)));
  }

  private async loopbackUp(sb: PodSandbox): Promise<void> {
    await this.world.run({ kind: 'pod', node: this.node, netns: sb.netnsPath }, ['ip', 'link', 'set', 'lo', 'up']);
  }

  /** The pod's IPs: eth0's addresses in the CNI result (as containerd's selectPodIPs). */
  private podIps(sb: PodSandbox, result: CniResult): { ip: string; additionalIps: string[] } {
    const ips = podIpsFromResult(result);
    if (!ips)
      throw new CriError(
        `failed to find network info for sandbox "${sb.id}": the CNI result has no IP on interface eth0`,
      );
    sb.ip = ips.ip;
    sb.additionalIps = ips.additionalIps;
    return { ip: ips.ip, additionalIps: ips.additionalIps };
  }

  /** The sandbox container: the native pause in the pod's netns, with its own mount and UTS namespaces. */
  private async startPause(sb: PodSandbox, h: StepHandle): Promise<void> {
    // the sandbox's files at /etc/…, the pod's hostname (native/pause.c)
    const hostname = sb.config.hostname;
    const argv = [nativeBinary('pause'), sb.filesDir, ...(hostname ? [hostname] : [])];
    const pause = this.world.spawn({ kind: 'pod', node: this.node, netns: sb.netnsPath }, argv, {
      newMount: true,
      newUts: true,
    });
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

  /**
   * CNI DEL of every network of the sandbox. From StopPodSandbox (`fromStop`), errors of a sandbox whose
   * setup never finished are ignored (sandbox_stop.go); from RunPodSandbox's undo they count (cleanupErr).
   */
  private async cniDel(
    sb: PodSandbox,
    trace: Trace,
    parent: number,
    netnsGone = false,
    fromStop = false,
  ): Promise<void> {
    const lists: [ConfList, string][] = [];
    if (sb.loopback === 'plugin') lists.push([loopbackConfList(), 'lo']);
    if (sb.network) lists.push([sb.network, 'eth0']);
    const step = trace.under({ pod: sb.config.name, node: this.node, parent });
    for (const [list, ifName] of lists) {
      const del = {
        source: SOURCES.cniRemove,
        inputs: { network: list.name, ifName, netns: netnsGone ? '' : sb.netnsPath },
      };
      await step('cni', 'CNI DEL', del, async (h) => {
        try {
          await this.cni.delNetworkList(
            list,
            this.runtimeConf(sb, ifName, netnsGone ? '' : sb.netnsPath),
            this.pluginTracer(trace, h.id, sb.config.name),
          );
        } catch (e) {
          // A sandbox whose setup never finished has nothing for DEL to find (sandbox_stop.go).
          if (fromStop && !sb.cniResult) {
            h.output({ ignored: `setup never completed: ${(e as Error).message}` });
            return;
          }
          throw e;
        }
      });
    }
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
    const hostname = `${sb.config.hostname || this.node}\n`;
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
    p.kill(9);
    await p.exited;
  }

  sandbox(id: string): PodSandbox {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new CriError(`an error occurred when try to find sandbox "${id}": not found`, 'NotFound');
    return sb;
  }

  /** CRI PodSandboxStatus: the IPs saved at creation (getIPs). */
  async podSandboxStatus(id: string, trace: Trace, parent?: number) {
    const sb = this.sandbox(id);
    const place = { pod: sb.config.name, node: this.node, ...(parent ? { parent } : {}) };
    const status = { ...place, source: SOURCES.podSandboxStatus, inputs: { sandboxId: id } };
    return trace.step('cri', 'PodSandboxStatus', status, async (h) => {
      const step = trace.under({ pod: sb.config.name, node: this.node, parent: h.id });
      const ips = await step('containerd', 'getIPs', { source: SOURCES.getIps }, async (g) => {
        const r = { ip: sb.ip ?? '', additionalIps: sb.additionalIps };
        g.output(r);
        return r;
      });
      h.output({ state: sb.state, ip: ips.ip });
      return { id, state: sb.state, network: ips, netns: sb.netnsPath, createdAt: sb.createdAt };
    });
  }

  /** CRI StopPodSandbox: stop the pause, CNI DEL (reverse, cached result), then remove the netns. Idempotent. */
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
      const pause = { inputs: { pid: sb.pause?.pid } };
      await step('containerd', 'stop sandbox container (pause)', pause, () => this.stopPause(sb));
      const teardown = { source: SOURCES.teardownPodNetwork, inputs: { netns: sb.netnsPath } };
      await step('containerd', 'teardownPodNetwork', teardown, (t) => this.teardownPodNetwork(sb, trace, t));
      const netns = { source: SOURCES.removeNetNS, inputs: { path: sb.netnsPath } };
      await step('kernel', 'remove netns', netns, () => this.removeNetns(sb));
      sb.state = 'SANDBOX_NOTREADY';
      h.output({ state: sb.state });
    });
  }

  /** teardownPodNetwork: CNI DEL of each network, with an empty CNI_NETNS once the netns is gone. */
  private async teardownPodNetwork(sb: PodSandbox, trace: Trace, t: StepHandle): Promise<void> {
    const gone = !this.netnsExists(sb);
    if (gone) t.output({ note: 'the network namespace is already gone: DEL runs with an empty CNI_NETNS' });
    await this.cniDel(sb, trace, t.id, gone, true);
  }

  /** CRI RemovePodSandbox: stops it if needed, then forgets it and releases its name. */
  async removePodSandbox(id: string, trace: Trace, parent?: number): Promise<void> {
    const sb = this.sandboxes.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), node: this.node, ...(parent ? { parent } : {}) };
    const remove = { ...place, source: SOURCES.removePodSandbox, inputs: { sandboxId: id } };
    await trace.step('cri', 'RemovePodSandbox', remove, async (h) => {
      if (!sb) return;
      if (sb.state !== 'SANDBOX_NOTREADY') await this.stopPodSandbox(id, trace, h.id);
      // as containerd removes the sandbox's root directory
      this.sandboxFiles().rm(sb.id);
      this.sandboxes.delete(id);
      this.names.delete(sandboxName(sb.config));
    });
  }

  listPodSandbox(): PodSandbox[] {
    return [...this.sandboxes.values()];
  }

  /**
   * Starts a container process that joins the sandbox's network and UTS namespaces, with its own PID
   * and mount namespaces, and returns once it runs: its init has said so, so a SIGTERM from then on is
   * handled. Its output goes to `logPath` (on the node) when given, in the CRI log format.
   */
  async startContainer(sandboxId: string, command: string[], logPath?: string): Promise<WorldProcess> {
    const sb = this.sandbox(sandboxId);
    if (!sb.pause || sb.pause.hasExited)
      throw new CriError(`sandbox "${sandboxId}" has no running pause process`, 'FailedPrecondition');
    // A tiny init as PID 1 forwards SIGTERM, so the container stops as a process would outside a PID
    // namespace; it reports on stderr once its trap is set and the command started.
    // A TERM landing between the command's fork and exec is taken by the copied trap, so it is re-sent
    // until the command is gone (kubelet's grace period still ends with SIGKILL).
    // (a few times, in the background: kill succeeds on a zombie too; this init exiting ends the loop)
    // First, as containerd's WithPodHostname/WithPodResolvConf mounts: the sandbox's files over /etc/….
    const init = [
      // its own /proc, read-only: the world lets a lab mount proc only as read-only as its spare one
      'mount -t proc -o ro,nosuid,nodev,noexec proc /proc',
      ...sandboxFileMounts(sb.filesDir),
      `trap '(for i in 1 2 3 4 5; do kill -TERM "$c" 2>/dev/null || break; sleep 0.2; done) & wait "$c"; exit $?' TERM INT; "$@" & c=$!; echo ${CONTAINER_STARTED} >&2; wait "$c"`,
    ].join('\n');
    // the node's files are the container's "image"; its hostname is the pod's (the pause's UTS namespace)
    const p = this.world.spawn({ kind: 'pod', node: this.node, netns: sb.netnsPath }, [
      'nsenter',
      `--uts=/proc/${sb.pause.pid}/ns/uts`,
      '--',
      'unshare',
      '--pid',
      '--fork',
      '--mount',
      'sh',
      '-c',
      init,
      'container',
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
    return p;
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

/**
 * Shell lines that bind the sandbox's files over /etc/hostname, /etc/hosts and /etc/resolv.conf in
 * the current (own) mount namespace; a name the node lacks (a host without /etc/hostname) is skipped.
 */
function sandboxFileMounts(dir: string): string[] {
  return ['hostname', 'hosts', 'resolv.conf'].map(
    (f) => `if [ -e /etc/${f} ]; then mount --bind ${shq(`${dir}/${f}`)} /etc/${f} || exit 1; fi`,
  );
}

/** What a container's init says once it runs (the container's own output follows it). */
const CONTAINER_STARTED = 'podnet: container started';

function safeJson(s: string): unknown {
  const t = s.trim();
  if (!t) return '';
  try {
    return JSON.parse(t);
  } catch {
    return s;
  }
}

export type { TraceEvent };
