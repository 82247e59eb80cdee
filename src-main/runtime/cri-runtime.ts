// What the kubelet needs of a node's container runtime, over the CRI: the model (ContainerdNode, step
// by step, faults) and the real containerd 2.1 (RealContainerdNode, over gRPC) both provide it.
import type { ExitStatus } from '../world/world-init.js';
import type { PluginExecRecord } from '../cni/invoke.js';
import type { PodSandbox, PodSandboxConfig, RuntimeCondition, RuntimeStatus, SandboxState } from './containerd.js';
import type { Trace } from './trace.js';

export type RuntimeKind = 'model' | 'containerd';

/** A container as the kubelet tracks it once started. */
export interface RunningContainer {
  id: string;
  name: string;
  /** Its main process, as the world numbers it (0 where the runtime does not say). */
  pid: number;
  exited: Promise<ExitStatus>;
}

export interface SandboxStatusAnswer {
  id: string;
  state: SandboxState;
  attempt: number;
  network: { ip: string; additionalIps: string[] };
  /** The pod's network namespace path on the node ("" on the host network). */
  netns: string;
}

/** CRI ExecSync's answer: the command's exit code and output (timedOut: it was still running at the timeout). */
export interface ExecSyncAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CriRuntime {
  readonly kind: RuntimeKind;
  readonly node: string;
  /** What the node's pods run on, as the status bar says it: "model" or "containerd 2.1.9". */
  readonly description: string;
  /** containerd's lastCNILoadStatus (crictl info): "OK", or why the last config load failed. */
  readonly lastCNILoadStatus: string;
  onSandboxExit(fn: (sb: Pick<PodSandbox, 'id'>) => void): () => void;
  status(onExec?: (r: PluginExecRecord) => void): Promise<RuntimeStatus>;
  networkReady(): RuntimeCondition;
  runPodSandbox(config: PodSandboxConfig, trace: Trace, parent?: number): Promise<string>;
  podSandboxStatus(id: string, trace: Trace, parent?: number): Promise<SandboxStatusAnswer>;
  /** The sandbox's state as last known (undefined: gone). */
  sandboxState(id: string): SandboxState | undefined;
  /** The world PID whose mount and UTS namespaces a pod's terminal enters (the model's pause; 0: the node's). */
  sandboxPid(id: string): number;
  startContainer(sandboxId: string, command: string[], logPath: string, name: string): Promise<RunningContainer>;
  stopContainer(containerId: string, timeoutSeconds: number, trace: Trace, parent?: number): Promise<string>;
  /** CRI ExecSync: a command in the container's namespaces (exec probes, preStop exec hooks); 0 s: no timeout. */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncAnswer>;
  stopPodSandbox(id: string, trace: Trace, parent?: number): Promise<void>;
  removePodSandbox(id: string, trace: Trace, parent?: number): Promise<void>;
  listPodSandbox(): Pick<PodSandbox, 'id' | 'state' | 'config'>[];
  /** Ends what the runtime itself runs (the real containerd's daemon); the model has nothing to end. */
  close(): Promise<void>;
}
