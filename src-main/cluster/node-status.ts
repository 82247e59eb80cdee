// The kubelet's node status: it registers each world node with the API server, then reports its Ready
// condition from the runtime's NetworkReady every 10 s (nodeStatusUpdateFrequency) and as soon as it
// changes. The not-ready taint is kept with it (in a real cluster the node lifecycle controller does that).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arch, release } from 'node:os';
import type { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import type { KubeObject } from './resources.js';

export const NODE_STATUS_PERIOD_MS = 10_000;
const NOT_READY_TAINT = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** The CRI's runtime as `kubectl get nodes -o wide` prints it: containerd://2.1.9, or the model's own name. */
const runtimeVersion = (description: string) =>
  description === 'model' ? 'podnet-model://containerd-2.1' : `containerd://${description.replace(/^containerd /, '')}`;

const goArch = () => ({ x64: 'amd64', arm64: 'arm64' })[arch() as 'x64' | 'arm64'] ?? arch();

type Ipam = { subnet?: string; ranges?: { subnet?: string }[][] };
type Plugin = { ipam?: Ipam };

/**
 * The node's pod CIDR (spec.podCIDR): the IPv4 range its CNI config hands out (host-local's first range,
 * in the first config file as the runtime loads them, by name), else the world's convention 10.244.N.0/24.
 * (In a real cluster the node IPAM controller assigns it and the CNI config follows; here the config is the lab's.)
 */
export function podCidrOf(world: World, name: string): string {
  const n = world.node(name);
  try {
    const files = readdirSync(n.host.confDir)
      .filter((f) => /\.(conf|conflist|json)$/.test(f))
      .sort();
    for (const f of files) {
      const conf = JSON.parse(readFileSync(join(n.host.confDir, f), 'utf8')) as Plugin & { plugins?: Plugin[] };
      for (const p of conf.plugins ?? [conf]) {
        const subnet = p.ipam?.ranges?.[0]?.[0]?.subnet ?? p.ipam?.subnet;
        if (subnet && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) return subnet;
      }
      // the runtime loads the first file only: its range or none
      break;
    }
  } catch {
    /* no readable config: the world's convention */
  }
  return n.podCidr;
}

/** The Node as its kubelet reports it now. */
export function nodeObject(
  world: World,
  kubelet: Kubelet,
  name: string,
  now = new Date(),
  podCidr = podCidrOf(world, name),
): KubeObject {
  const n = world.node(name);
  const net = kubelet.nodeNetworkReady(name);
  const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const ready = net.status
    ? { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
    : {
        status: 'False',
        reason: 'KubeletNotReady',
        message: `container runtime network not ready: NetworkReady=false reason:${net.reason} message:${net.message}`,
      };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch(),
      },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr], ...(net.status ? {} : { taints: [NOT_READY_TAINT] }) },
    status: {
      conditions: [{ type: 'Ready', ...ready, lastHeartbeatTime: ts, lastTransitionTime: ts }],
      addresses: [
        { type: 'InternalIP', address: n.underlayIp },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.36.0-podnet',
        containerRuntimeVersion: runtimeVersion(kubelet.runtimeOf(name)),
        kernelVersion: release(),
        osImage: osImage(),
        operatingSystem: 'linux',
        architecture: goArch(),
      },
    },
  };
}

/** Registers every node, then keeps each one's status; answers the stop. */
export async function startNodeStatus(cluster: ApiClient, world: World, kubelet: Kubelet): Promise<() => void> {
  /** Each node's Ready status as last reported, and since when (the condition's lastTransitionTime). */
  const last = new Map<string, { ready: string; since: string }>();
  /** spec.podCIDR, fixed at registration (the API keeps it immutable once set). */
  const cidrs = new Map([...world.nodes.keys()].map((n) => [n, podCidrOf(world, n)]));
  const readyOf = (node: KubeObject) => (node.status!.conditions as Record<string, string>[])[0]!;
  const report = async (name: string, heartbeat: boolean) => {
    const node = nodeObject(world, kubelet, name, new Date(), cidrs.get(name));
    const ready = readyOf(node);
    const prev = last.get(name);
    if (!heartbeat && prev?.ready === ready.status) return;
    // the transition time moves only when the condition does
    if (prev && prev.ready === ready.status) ready.lastTransitionTime = prev.since;
    last.set(name, { ready: ready.status!, since: ready.lastTransitionTime! });
    const merge = 'application/merge-patch+json';
    await cluster.call('PATCH', `/api/v1/nodes/${name}`, { spec: { taints: node.spec!.taints ?? null } }, merge);
    await cluster.call('PATCH', `/api/v1/nodes/${name}/status`, { status: node.status }, merge);
  };
  for (const name of world.nodes.keys()) {
    const node = nodeObject(world, kubelet, name, new Date(), cidrs.get(name));
    await cluster.call('POST', '/api/v1/nodes', node);
    last.set(name, { ready: readyOf(node).status!, since: readyOf(node).lastTransitionTime! });
  }
  let stopped = false;
  const tick = (heartbeat: boolean) => {
    for (const name of world.nodes.keys()) void report(name, heartbeat).catch(() => {});
  };
  const heartbeat = setInterval(() => !stopped && tick(true), NODE_STATUS_PERIOD_MS);
  // NetworkReady changes with the CRI Status the kubelet makes every 5 s: a look each second reports it promptly
  const change = setInterval(() => !stopped && tick(false), 1000);
  return () => {
    stopped = true;
    clearInterval(heartbeat);
    clearInterval(change);
  };
}
