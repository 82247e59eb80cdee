// A node whose pods run on the real containerd 2.1: the kubelet's CRI calls go over gRPC to its socket,
// and each is traced as the model's are — the call with its request and response, then under it the
// containerd log lines it wrote and every plugin call the recording shims saw while it ran.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_PATHS, type World } from '../world/world.js';
import type { ExitStatus } from '../world/world-init.js';
import { ContainerdDaemon } from './containerd-daemon.js';
import { CriCallError } from './cri-client.js';
import type { CriRuntime, ExecSyncAnswer, RunningContainer, SandboxStatusAnswer } from './cri-runtime.js';
import {
  CriError,
  safeJson,
  type ContainerdNode,
  type LoopbackMode,
  type PodSandbox,
  type PodSandboxConfig,
  type RuntimeCondition,
  type RuntimeStatus,
  type SandboxState,
} from './containerd.js';
import { BUSYBOX_IMAGE } from './oci-images.js';
import { readPluginCalls } from './plugin-recorder.js';
import { SOURCES, type SourceRef } from './sources.js';
import type { Trace } from './trace.js';

interface KnownSandbox {
  id: string;
  config: PodSandboxConfig;
  state: SandboxState;
  pid: number;
  netns: string;
}

/** containerd's log line: time="…" level=… msg="…" key=value… */
const LOG_LINE = /^time="([^"]+)" level=(\w+) msg="((?:[^"\\]|\\.)*)"(.*)$/;

/** The CRI request of a sandbox, as the kubelet's generatePodSandboxConfig makes it. */
export function sandboxRequest(c: PodSandboxConfig) {
  return {
    metadata: { name: c.name, uid: c.uid, namespace: c.namespace, attempt: c.attempt ?? 0 },
    hostname: c.hostname ?? '',
    logDirectory: c.logDirectory ?? '',
    ...(c.dnsConfig ? { dnsConfig: c.dnsConfig } : {}),
    portMappings: (c.portMappings ?? []).map((p) => ({
      protocol: p.protocol.toUpperCase(),
      containerPort: p.containerPort,
      hostPort: p.hostPort,
      hostIp: p.hostIP ?? '',
    })),
    labels: {
      'io.kubernetes.pod.name': c.name,
      'io.kubernetes.pod.namespace': c.namespace,
      'io.kubernetes.pod.uid': c.uid,
    },
    annotations: c.annotations ?? {},
    linux: {
      // passed as the kubelet does (containerd gives it to CNI as cgroupPath); the runc shim drops the cgroup itself
      ...(c.cgroupParent ? { cgroupParent: c.cgroupParent } : {}),
      securityContext: { namespaceOptions: { network: c.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
}

export class RealContainerdNode implements CriRuntime {
  readonly kind = 'containerd' as const;
  private readonly known = new Map<string, KnownSandbox>();
  private readonly exitListeners = new Set<(sb: Pick<PodSandbox, 'id'>) => void>();
  private lastStatus: RuntimeStatus | undefined;
  /** Plugin calls already placed in a trace (by their file stem). */
  private readonly seenCalls = new Set<string>();
  private readonly relistTimer: NodeJS.Timeout;

  private constructor(
    readonly world: World,
    readonly daemon: ContainerdDaemon,
    /** The node's model: its view of the config folder (for the editor's per-file findings). */
    private readonly model: ContainerdNode,
  ) {
    // the PLEG's relist: a pause that died turns its sandbox NOTREADY; the kubelet's relist then syncs it
    this.relistTimer = setInterval(() => void this.relist().catch(() => {}), 1000).unref();
  }

  get node(): string {
    return this.daemon.node;
  }

  /** Starts containerd on the model's node and connects to it. */
  static async start(world: World, model: ContainerdNode, opts: { loopback?: LoopbackMode } = {}) {
    const daemon = await ContainerdDaemon.start(world, model.node, opts);
    const node = new RealContainerdNode(world, daemon, model);
    // NetworkReady as containerd says it from the start (the status bar reads it before any pod)
    await node.status().catch(() => undefined);
    return node;
  }

  onSandboxExit(fn: (sb: Pick<PodSandbox, 'id'>) => void): () => void {
    this.exitListeners.add(fn);
    return () => void this.exitListeners.delete(fn);
  }

  private async relist(): Promise<void> {
    if (!this.world.alive || this.daemon.process.hasExited) return clearInterval(this.relistTimer);
    const r = await this.daemon.cri.call<{ items?: { id: string; state: SandboxState }[] }>('ListPodSandbox', {});
    const live = new Map((r.items ?? []).map((i) => [i.id, i.state]));
    for (const sb of this.known.values()) {
      const now = live.get(sb.id);
      if (!now) continue;
      if (sb.state === 'SANDBOX_READY' && now !== 'SANDBOX_READY') {
        sb.state = now;
        for (const fn of this.exitListeners) fn({ id: sb.id });
      }
    }
  }

  /**
   * One CRI call, traced: the call (request → response or the gRPC error), then under it containerd's
   * log lines and the plugin calls made while it ran.
   */
  private async criCall<T>(
    trace: Trace | undefined,
    method: string,
    request: object,
    place: { pod?: string; parent?: number },
    source?: SourceRef,
  ): Promise<T> {
    const call = () =>
      this.daemon.cri.call<T>(method, request).catch((e: unknown) => {
        if (e instanceof CriCallError) {
          const code =
            e.code === 5
              ? 'NotFound'
              : e.code === 6
                ? 'AlreadyExists'
                : e.code === 9
                  ? 'FailedPrecondition'
                  : 'Unknown';
          throw new CriError(e.details, code);
        }
        throw e;
      });
    if (!trace) return call();
    const logFrom = this.daemon.log.length;
    const opts = { ...place, node: this.node, inputs: { request }, ...(source ? { source } : {}) };
    return trace.step('cri', method, opts, async (h) => {
      try {
        const r = await call();
        const id = (r as { podSandboxId?: string }).podSandboxId;
        h.output({ response: r, ...(id ? { sandboxId: id } : {}) });
        return r;
      } finally {
        await this.logSettled(method, logFrom);
        this.placeUnder(trace, h.id, place.pod, logFrom);
      }
    });
  }

  /**
   * containerd logs a call's last line ("… returns successfully", "… failed") just after it answers:
   * waited for briefly, so the line lands under its own call and not the next.
   */
  private async logSettled(method: string, logFrom: number): Promise<void> {
    if (!/^(RunPodSandbox|StopPodSandbox|RemovePodSandbox|CreateContainer|StartContainer|StopContainer)$/.test(method))
      return;
    const done = (l: string) => l.includes(`msg="${method} for`) && /returns|failed/.test(l);
    await this.daemon.waitForLog(logFrom, done, 300);
  }

  /** containerd's log lines from `logFrom` on, and the plugin calls not yet placed, under step `parent`. */
  private placeUnder(trace: Trace, parent: number, pod: string | undefined, logFrom: number): void {
    const o = { parent, node: this.node, ...(pod ? { pod } : {}) };
    for (const line of this.daemon.logSince(logFrom)) {
      const m = LOG_LINE.exec(line);
      if (!m) continue;
      const at = Date.parse(m[1]!);
      const msg = m[3]!.replace(/\\"/g, '"');
      const fields = m[4]!.trim();
      trace.record('containerd', msg.length > 90 ? `${msg.slice(0, 89)}…` : msg, at, at, {
        ...o,
        inputs: { level: m[2], log: line.length > 2000 ? `${line.slice(0, 2000)}…` : line },
        ...(fields ? { outputs: { fields } } : {}),
        ...(m[2] === 'error' ? { error: msg } : {}),
      });
    }
    const dir = this.daemon.recordsDir;
    for (const c of readPluginCalls(dir, this.seenCalls)) {
      const stem = `${c.startNs}.${c.pid}.${c.plugin}`;
      this.seenCalls.add(stem);
      let end = Number(c.startNs / 1_000_000n);
      try {
        end = statSync(join(dir, `${stem}.exit`)).mtimeMs;
      } catch {
        /* gone */
      }
      trace.record('cni', `${c.plugin} ${c.env.CNI_COMMAND ?? ''}`.trim(), Number(c.startNs / 1_000_000n), end, {
        ...o,
        inputs: { env: c.env, stdin: safeJson(c.stdin) },
        outputs: { exitCode: c.exit, stdout: safeJson(c.stdout) },
        ...(c.exit !== 0 ? { error: errorOf(c.stdout) } : {}),
      });
    }
  }

  /** CRI Status (verbose): the real conditions, and containerd's lastCNILoadStatus. */
  async status(): Promise<RuntimeStatus> {
    const r = await this.daemon.cri.call<{
      status: { conditions: { type: string; status: boolean; reason?: string; message?: string }[] };
      info?: Record<string, string>;
    }>('Status', { verbose: true });
    const cond = (type: 'RuntimeReady' | 'NetworkReady'): RuntimeCondition => {
      const c = r.status.conditions.find((x) => x.type === type);
      return { type, status: c?.status ?? false, reason: c?.reason ?? '', message: c?.message ?? '' };
    };
    const configFiles = this.model.loadNetworkConfig().files.map((f) => ({
      file: f.file,
      ...(f.error ? { error: f.error.reason } : {}),
    }));
    this.lastStatus = {
      conditions: [cond('RuntimeReady'), cond('NetworkReady')],
      lastCNILoadStatus: r.info?.lastCNILoadStatus ?? '',
      configFiles,
    };
    return this.lastStatus;
  }

  get description(): string {
    return `containerd ${this.daemon.version.replace(/\+.*$/, '')}`;
  }

  /** containerd's lastCNILoadStatus at the last CRI Status ("OK", or why the config did not load). */
  get lastCNILoadStatus(): string {
    return this.lastStatus?.lastCNILoadStatus ?? '';
  }

  networkReady(): RuntimeCondition {
    return (
      this.lastStatus?.conditions[1] ?? {
        type: 'NetworkReady',
        status: false,
        reason: 'Unknown',
        message: 'no CRI Status yet',
      }
    );
  }

  async runPodSandbox(config: PodSandboxConfig, trace: Trace, parent?: number): Promise<string> {
    if (config.labCapabilityArgs)
      throw new CriError('a lab capability argument cannot reach the real containerd (the CRI has no field for it)');
    const place = { pod: config.name, ...(parent ? { parent } : {}) };
    const r = await this.criCall<{ podSandboxId: string }>(
      trace,
      'RunPodSandbox',
      { config: sandboxRequest(config) },
      place,
      SOURCES.runPodSandbox,
    );
    const id = r.podSandboxId;
    const info = await this.verboseStatus(id);
    this.known.set(id, { id, config, state: 'SANDBOX_READY', pid: info.pid, netns: info.netns });
    return id;
  }

  /** PodSandboxStatus with verbose: containerd's info (its pid, the netns, the CNI result). */
  private async verboseStatus(id: string) {
    const r = await this.daemon.cri.call<{ info?: Record<string, string> }>('PodSandboxStatus', {
      podSandboxId: id,
      verbose: true,
    });
    const info = JSON.parse(r.info?.info ?? '{}') as {
      pid?: number;
      runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
    };
    const path = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
    // containerd pins at /var/run/netns, the node's /run/netns (/var/run links to /run); the engine
    // names it by the folder itself: it reaches it through /proc/PID/root, where a link would leave the world
    const netns = path.replace(/^\/var\/run\/netns\//, `${NODE_PATHS.netnsDir}/`);
    return { pid: info.pid ?? 0, netns };
  }

  async podSandboxStatus(id: string, trace: Trace, parent?: number): Promise<SandboxStatusAnswer> {
    const sb = this.known.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), ...(parent ? { parent } : {}) };
    const r = await this.criCall<{
      status: {
        id: string;
        state: SandboxState;
        metadata?: { attempt?: number };
        network?: { ip?: string; additionalIps?: { ip: string }[] };
      };
    }>(trace, 'PodSandboxStatus', { podSandboxId: id }, place, SOURCES.podSandboxStatus);
    if (sb) sb.state = r.status.state;
    return {
      id,
      state: r.status.state,
      attempt: r.status.metadata?.attempt ?? 0,
      network: {
        ip: r.status.network?.ip ?? '',
        additionalIps: (r.status.network?.additionalIps ?? []).map((a) => a.ip),
      },
      netns: sb?.netns ?? '',
    };
  }

  sandboxState(id: string): SandboxState | undefined {
    return this.known.get(id)?.state;
  }

  /**
   * 0: a pod's terminal and checks enter the node's mounts with the pod's netns — the real pause's own
   * mounts are its image's (the pause binary alone, no shell).
   */
  sandboxPid(): number {
    return 0;
  }

  /** The world PID of the sandbox's pause process (its /proc/PID/root is the sandbox container's root). */
  pausePid(id: string): number {
    return this.known.get(id)?.pid ?? 0;
  }

  async startContainer(sandboxId: string, command: string[], logPath: string, name: string): Promise<RunningContainer> {
    const sb = this.known.get(sandboxId);
    if (!sb) throw new CriError(`an error occurred when try to find sandbox "${sandboxId}": not found`, 'NotFound');
    const dir = sb.config.logDirectory ?? '';
    const rel = dir && logPath.startsWith(dir + '/') ? logPath.slice(dir.length + 1) : logPath;
    const created = await this.criCall<{ containerId: string }>(
      undefined,
      'CreateContainer',
      {
        podSandboxId: sandboxId,
        config: { metadata: { name, attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command, logPath: rel },
        sandboxConfig: sandboxRequest(sb.config),
      },
      {},
    );
    const id = created.containerId;
    await this.criCall(undefined, 'StartContainer', { containerId: id }, {});
    const st = await this.daemon.cri.call<{ info?: Record<string, string> }>('ContainerStatus', {
      containerId: id,
      verbose: true,
    });
    const pid = (JSON.parse(st.info?.info ?? '{}') as { pid?: number }).pid ?? 0;
    let exited: Promise<ExitStatus> | undefined;
    const cri = this.daemon.cri;
    return {
      id,
      name,
      pid,
      // asked only of an init container: ContainerStatus until it has exited
      get exited() {
        exited ??= (async () => {
          for (;;) {
            const s = await cri.call<{ status: { state: string; exitCode?: number } }>('ContainerStatus', {
              containerId: id,
            });
            if (s.status.state === 'CONTAINER_EXITED') return { code: s.status.exitCode ?? 0, signal: null };
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        return exited;
      },
    };
  }

  async stopContainer(containerId: string, timeoutSeconds: number, trace: Trace, parent?: number): Promise<string> {
    const place = { ...(parent ? { parent } : {}) };
    await this.criCall(trace, 'StopContainer', { containerId, timeout: timeoutSeconds }, place, SOURCES.stopContainer);
    const s = await this.daemon.cri
      .call<{ status: { metadata?: { name?: string }; exitCode?: number; reason?: string } }>('ContainerStatus', {
        containerId,
      })
      .catch(() => undefined);
    return s
      ? `${s.status.metadata?.name ?? containerId}: ${s.status.reason ?? 'exited'} (exit ${s.status.exitCode ?? 0})`
      : 'stopped';
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncAnswer> {
    const text = (b: unknown) => (Buffer.isBuffer(b) ? b.toString('utf8') : typeof b === 'string' ? b : '');
    const r = await this.criCall<{ stdout?: unknown; stderr?: unknown; exitCode?: number }>(
      undefined,
      'ExecSync',
      { containerId, cmd, timeout: timeoutSeconds },
      {},
    ).catch((e: Error) => {
      // containerd answers a timed-out ExecSync with DeadlineExceeded ("timeout … exceeded")
      if (/deadline|timeout/i.test(e.message)) return { exitCode: 137, stdout: '', stderr: e.message, timedOut: true };
      throw e;
    });
    return {
      exitCode: r.exitCode ?? 0,
      stdout: text(r.stdout),
      stderr: text(r.stderr),
      timedOut: 'timedOut' in r ? true : false,
    };
  }

  async stopPodSandbox(id: string, trace: Trace, parent?: number): Promise<void> {
    const sb = this.known.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), ...(parent ? { parent } : {}) };
    await this.criCall(trace, 'StopPodSandbox', { podSandboxId: id }, place, SOURCES.stopPodSandbox);
    if (sb) sb.state = 'SANDBOX_NOTREADY';
  }

  async removePodSandbox(id: string, trace: Trace, parent?: number): Promise<void> {
    const sb = this.known.get(id);
    const place = { ...(sb ? { pod: sb.config.name } : {}), ...(parent ? { parent } : {}) };
    await this.criCall(trace, 'RemovePodSandbox', { podSandboxId: id }, place, SOURCES.removePodSandbox);
    this.known.delete(id);
  }

  listPodSandbox(): Pick<PodSandbox, 'id' | 'state' | 'config'>[] {
    return [...this.known.values()];
  }

  async close(): Promise<void> {
    clearInterval(this.relistTimer);
    await this.daemon.stop();
  }
}

/** Starts the real containerd on every node of the kubelet's models (concurrently). */
export async function startRealContainerd(
  world: World,
  models: Map<string, ContainerdNode>,
): Promise<Map<string, RealContainerdNode>> {
  // each with its node's loopback setting (use_internal_loopback)
  const started = await Promise.allSettled(
    [...models.values()].map((m) => RealContainerdNode.start(world, m, { loopback: m.loopback })),
  );
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(ok.map((n) => n.close()));
    throw failed.reason;
  }
  return new Map(ok.map((n) => [n.node, n]));
}

/** A failed plugin's CNI error (code, msg, details), as its stdout carries it. */
function errorOf(stdout: string): string {
  const e = safeJson(stdout);
  if (typeof e === 'object' && e && 'msg' in e) {
    const { msg, details } = e as { msg: string; details?: string };
    return `${msg}${details ? `: ${details}` : ''}`;
  }
  return typeof e === 'string' && e ? e : 'failed';
}
