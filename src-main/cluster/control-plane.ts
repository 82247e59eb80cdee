// The control plane of a world, composed: etcd and the API server (Cluster), then each control loop as
// the component it stands for. One place starts them all, for `podnet cluster`, the app's worlds and labs.
import type { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { ApiActivity } from './audit.js';
import { AGENTS, Cluster } from './cluster.js';
import { startNodeStatus } from './node-status.js';
import { startPodSync } from './pod-sync.js';
import { startScheduler } from './scheduler.js';

export interface ControlPlane {
  cluster: Cluster;
  /** Stops the loops, then the API server and etcd. */
  stop(): Promise<void>;
}

export async function startControlPlane(
  world: World,
  kubelet: Kubelet,
  /** onActivity: every API request and watch event from the first (the timeline's control-plane lane). */
  opts: { onActivity?: (a: ApiActivity) => void } = {},
): Promise<ControlPlane> {
  const cluster = await Cluster.start(world, opts);
  const stops: (() => void)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) s();
    await cluster.stop();
  };
  try {
    stops.push(await startNodeStatus(cluster.as(AGENTS.kubelet('node-status')), world, kubelet));
    stops.push(startScheduler(cluster.as(AGENTS.scheduler)));
    stops.push(startPodSync(cluster.as(AGENTS.kubelet('pod-sync')), world, kubelet));
  } catch (e) {
    await stop();
    throw e;
  }
  return { cluster, stop };
}
