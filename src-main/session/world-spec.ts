// A session's starting world as data (nodes, loopback mode, each node's CNI config, pods, prepare
// commands), and how it is built: the same path for `podnet lab test`, the app and the benchmark.
import { bridgeConfList, DEFAULT_CONF_FILE, defaultPodCidr } from '../cni/defaults.js';
import { Kubelet, type PodSpec } from '../runtime/kubelet.js';
import type { LoopbackMode } from '../runtime/containerd.js';
import type { RuntimeKind } from '../runtime/cri-runtime.js';
import { nodeFolder } from '../fs/world-files.js';
import { createWorld, WorldError, type World } from '../world/world.js';

/** A container's port as a lab writes it (a Kubernetes ContainerPort). */
export interface SpecPort {
  containerPort: number;
  hostPort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
}

/** A pod the world starts with (a lab's `world.pods`, a kubelet line): what the kubelet's syncPod is given. */
export interface SpecPod extends Pick<PodSpec, 'name' | 'node' | 'namespace' | 'dnsPolicy' | 'dnsConfig'> {
  /** A container without a command runs busybox httpd on :80. */
  containers?: { name: string; command?: string[]; ports?: SpecPort[] }[];
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
}

/** The runtime's PodSpec with the fields containerd turns into capability args (annotations, ports) and hostNetwork. */
type FullPodSpec = PodSpec & {
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
  containers?: { name: string; command: string[]; ports?: SpecPort[] }[];
};

export interface WorldSpec {
  nodes: string[];
  loopback: LoopbackMode;
  /** Per-node loopback modes, overriding `loopback`. */
  loopbacks?: Record<string, LoopbackMode>;
  /** The model (default) or the real containerd 2.1.9 on every node; `runtimes` overrides it per node. */
  runtime?: RuntimeKind;
  runtimes?: Record<string, RuntimeKind>;
  /** node → its CNI config file, or undefined for none. */
  configs: Record<string, { file: string; text: string } | undefined>;
  pods: SpecPod[];
  prepare: { on: string; run: string }[];
  /** Seconds each prepare command may run (a lab's world.timeLimits.prepare); PREPARE_TIME_LIMIT_S if not given. */
  prepareTimeLimitS?: number;
  /** The world has the control plane (etcd, the API server, the control loops): a lab's world.controlPlane. */
  controlPlane?: boolean;
}

/** A prepare command that runs longer is stopped, and the world fails to build with a message naming it. */
export const PREPARE_TIME_LIMIT_S = 60;

/** A command as a message quotes it: its first line, shortened. */
export function quoteCommand(run: string): string {
  const line = run.trim().split('\n')[0]!;
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}…` : line) + (run.trim().includes('\n') ? ' …' : '');
}

/** The container every pod of a lab runs (as the app's pod.create does): busybox httpd on :80. */
export const POD_CONTAINERS = [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }];

/** A lab's pod as the kubelet's PodSpec: default containers and commands filled in, absent fields left out. */
export function podSpecOf(p: SpecPod): PodSpec {
  const spec: FullPodSpec = {
    name: p.name,
    node: p.node,
    containers: p.containers
      ? p.containers.map((c) => ({
          name: c.name,
          command: c.command ?? POD_CONTAINERS[0]!.command,
          ...(c.ports ? { ports: c.ports } : {}),
        }))
      : POD_CONTAINERS,
    ...(p.namespace ? { namespace: p.namespace } : {}),
    ...(p.dnsPolicy ? { dnsPolicy: p.dnsPolicy } : {}),
    ...(p.dnsConfig ? { dnsConfig: p.dnsConfig } : {}),
    ...(p.annotations ? { annotations: p.annotations } : {}),
    ...(p.hostNetwork ? { hostNetwork: true } : {}),
  };
  return spec;
}

/** The app's pod (its form): the httpd container, with its port 80 on hostPort if given, annotations, hostNetwork. */
export function formPodSpec(p: {
  name: string;
  node: string;
  hostPort?: number | undefined;
  annotations?: Record<string, string> | undefined;
  hostNetwork?: boolean | undefined;
}): PodSpec {
  // Kubernetes' validation: a hostNetwork pod's hostPort is its containerPort
  if (p.hostNetwork && p.hostPort && p.hostPort !== 80)
    throw new Error(`with hostNetwork the hostPort must equal the containerPort (80), not ${p.hostPort}`);
  return podSpecOf({
    name: p.name,
    node: p.node,
    ...(p.hostPort ? { containers: [{ name: 'httpd', ports: [{ containerPort: 80, hostPort: p.hostPort }] }] } : {}),
    ...(p.annotations && Object.keys(p.annotations).length ? { annotations: p.annotations } : {}),
    ...(p.hostNetwork ? { hostNetwork: true } : {}),
  });
}

/** Writes configs, creates the pods and runs the prepare commands in a fresh world. */
export async function furnishWorld(
  world: World,
  kubelet: Kubelet,
  spec: WorldSpec,
  progress: (what: string) => void = () => {},
): Promise<void> {
  const real = spec.nodes.filter((n) => (spec.runtimes?.[n] ?? spec.runtime) === 'containerd');
  if (real.length) {
    progress(`starting the real containerd 2.1.9 on ${real.join(', ')}`);
    await kubelet.useRealContainerd({ nodes: real });
  }
  progress("writing each node's CNI config");
  for (const n of spec.nodes) {
    const c = spec.configs[n];
    if (c) nodeFolder(world, n, 'confDir').writeFileAtomic(c.file, c.text);
  }
  if (spec.pods.length) progress(`creating pods ${spec.pods.map((p) => p.name).join(', ')}`);
  // One node's pods in order (predictable IPs for the lab's text), nodes concurrently.
  const byNode = new Map<string, SpecPod[]>();
  for (const p of spec.pods) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  await Promise.all(
    [...byNode].map(async ([node, pods]) => {
      for (const p of pods) {
        await kubelet.syncPod(podSpecOf({ ...p, node }));
      }
    }),
  );
  const limitS = spec.prepareTimeLimitS ?? PREPARE_TIME_LIMIT_S;
  for (const [i, p] of spec.prepare.entries()) {
    progress(`prepare ${i + 1}/${spec.prepare.length} on ${p.on}`);
    const r = await world.exec(
      p.on === 'sandbox' ? { kind: 'sandbox' } : { kind: 'node', node: p.on },
      ['sh', '-ec', p.run],
      { timeoutMs: limitS * 1000 },
    );
    if (r.timedOut)
      throw new WorldError(
        `prepare command ${i + 1} on ${p.on} (${quoteCommand(p.run)}) did not finish within its time limit of ${limitS} s and was stopped (a lab sets the limit in lab.yaml: world.timeLimits.prepare)`,
      );
    if (r.code !== 0)
      throw new WorldError(
        `prepare command ${i + 1} on ${p.on} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`,
      );
  }
}

/** The kubelet (and each node's containerd) with the spec's loopback modes. */
export function newKubelet(world: World, spec: WorldSpec): Kubelet {
  return new Kubelet(world, { loopback: spec.loopback, ...(spec.loopbacks ? { loopbackByNode: spec.loopbacks } : {}) });
}

/** A world's control plane, as a layer above this one starts it (cluster/'s startControlPlane). */
export type ControlPlaneStarter = (world: World, kubelet: Kubelet) => Promise<{ stop(): Promise<void> }>;
let controlPlaneStarter: ControlPlaneStarter | undefined;

/** The host (the CLI) says how a control plane starts: buildWorld starts one for a spec that asks (world.controlPlane). */
export function provideControlPlane(start: ControlPlaneStarter): void {
  controlPlaneStarter = start;
}

/** The world's engine socket (podnet path in its nodes), as a layer above this one serves it (path/serve-follows.ts). */
export type EngineSocketServer = (
  world: World,
  kubelet: Kubelet,
  controlPlane: boolean,
) => Promise<{ close(): Promise<void> }>;
let engineSocketServer: EngineSocketServer | undefined;

/** The host (podnet lab) says how a world's engine socket is served: buildWorld serves it from the world's start. */
export function provideEngineSocket(serve: EngineSocketServer): void {
  engineSocketServer = serve;
}

/** A whole lab world from its spec; destroyed again if any step of it fails. */
/** A plain cluster's world: these nodes, each with the default bridge conflist on its own pod CIDR, no pods. */
export function clusterWorldSpec(nodes: string[]): WorldSpec {
  return {
    nodes,
    loopback: 'plugin',
    configs: Object.fromEntries(
      nodes.map((n, i) => [n, { file: DEFAULT_CONF_FILE, text: bridgeConfList(defaultPodCidr(i)) }]),
    ),
    pods: [],
    prepare: [],
  };
}

export async function buildWorld(spec: WorldSpec): Promise<{ world: World; kubelet: Kubelet }> {
  const world = await createWorld({ nodes: spec.nodes });
  try {
    const kubelet = newKubelet(world, spec);
    // bound before any of the lab's commands runs (engine-socket.ts says why); closed as the world ends
    const socket = await engineSocketServer?.(world, kubelet, spec.controlPlane === true);
    if (socket) {
      const destroy = world.destroy.bind(world);
      world.destroy = async () => {
        await socket.close().catch(() => {});
        return destroy();
      };
    }
    try {
      await furnishWorld(world, kubelet, spec);
      if (spec.controlPlane) {
        if (!controlPlaneStarter)
          throw new WorldError(
            'this world asks for a control plane (world.controlPlane: true), and this program starts none: use podnet lab, or the app',
          );
        const plane = await controlPlaneStarter(world, kubelet);
        // the control loops stop before the world ends (their watches would otherwise try again)
        const destroy = world.destroy.bind(world);
        world.destroy = async () => {
          await plane.stop().catch(() => {});
          return destroy();
        };
      }
    } catch (e) {
      await kubelet.close();
      throw e;
    }
    return { world, kubelet };
  } catch (e) {
    await world.destroy();
    throw e;
  }
}
