// The control plane of a world, composed: etcd and the API server (Cluster), then each control loop as
// the component it stands for. One place starts them all, for `podnet cluster`, the app's worlds and labs.
import type { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { ApiActivity } from './audit.js';
import { AGENTS, Cluster } from './cluster.js';
import { CONTROL_PLANE_ROUTES_AGENT, startControlPlaneRoutes } from './control-plane-routes.js';
import { startEndpointSliceController } from './endpointslice-controller.js';
import { startKubeProxy, type KubeProxyOptions, type ProxyMode } from './kube-proxy.js';
import { startNodeStatus } from './node-status.js';
import { routesAgent, startPodRoutes } from './pod-routes.js';
import { startPodSync } from './pod-sync.js';
import { startScheduler } from './scheduler.js';

export interface ControlPlane {
  cluster: Cluster;
  /** Stops the loops, then the API server and etcd. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** kube-proxy's mode on every node: iptables (its default) or nftables. */
  proxyMode?: ProxyMode;
  /** Each kube-proxy sync's outcome (what its log would say): an error names the node and what failed. */
  onProxySync?: KubeProxyOptions['onSync'];
  /** Every API request and watch event from the first (the timeline's control-plane lane). */
  onActivity?: (a: ApiActivity) => void;
  /** false leaves out the per-node host-gw route loop (pod-routes.ts): an overlay's own routes carry pod traffic. */
  podRoutes?: boolean;
}

export async function startControlPlane(
  world: World,
  kubelet: Kubelet,
  opts: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const cluster = await Cluster.start(world, opts.onActivity ? { onActivity: opts.onActivity } : {});
  const stops: (() => void)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) s();
    await cluster.stop();
  };
  try {
    stops.push(await startNodeStatus(cluster.as(AGENTS.kubelet('node-status')), world, kubelet));
    stops.push(startScheduler(cluster.as(AGENTS.scheduler)));
    stops.push(startPodSync(cluster.as(AGENTS.kubelet('pod-sync')), world, kubelet));
    stops.push(startEndpointSliceController(cluster.as(AGENTS.controllerManager('endpointslice-controller'))));
    stops.push(startControlPlaneRoutes(cluster.as(CONTROL_PLANE_ROUTES_AGENT), world));
    for (const node of world.nodes.keys()) {
      if (opts.podRoutes !== false) stops.push(await startPodRoutes(cluster.as(routesAgent(node)), world, node));
      stops.push(
        startKubeProxy(cluster.as(AGENTS.kubeProxy(node)), world, node, {
          mode: opts.proxyMode ?? 'iptables',
          ...(opts.onProxySync ? { onSync: opts.onProxySync } : {}),
        }),
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { cluster, stop };
}
