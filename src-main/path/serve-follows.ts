// The engine socket of a world built outside the app's LabService (podnet lab test, podnet lab shell):
// podnet path FROM TO in its nodes is answered here, one follow at a time, its Services read with kubectl.
import { PathFollowParams } from '../api/contract.js';
import type { Kubelet } from '../runtime/kubelet.js';
import { listenEngineSocket, type EngineSocket } from '../world/engine-socket.js';
import type { World } from '../world/world.js';
import type { FollowWorld, WorldPod, WorldService } from './follow-in-world.js';
import { PathFollower } from './path-service.js';

/** The kubelet's pods (not those being deleted), as a follow resolves places. */
export function podsOf(kubelet: Kubelet): () => WorldPod[] {
  return () =>
    [...kubelet.pods.values()]
      .filter((p) => !p.terminating)
      .map((p) => ({ name: p.spec.name, node: p.spec.node, ip: p.ip, netns: p.netns }));
}

/**
 * A Service of the default namespace as the world's own kubectl reads it (in its first node); undefined when
 * there is none. A world without a control plane fails here, with kubectl's reason.
 */
async function serviceViaKubectl(world: World, name: string): Promise<WorldService | undefined> {
  const node = [...world.nodes.keys()][0]!;
  const r = await world.exec({ kind: 'node', node }, ['kubectl', 'get', 'services', '-o', 'json'], {
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`Services are read with kubectl, which failed: ${(r.stderr || r.stdout).trim()}`);
  const list = JSON.parse(r.stdout) as {
    items?: {
      metadata?: { name?: string };
      spec?: { clusterIP?: string; ports?: { port?: number; protocol?: string }[] };
    }[];
  };
  const o = list.items?.find((x) => x.metadata?.name === name);
  return o && worldServiceOf(o);
}

/** A Service object (as the API or kubectl gives it) as a follow needs it: its ClusterIP and ports. */
export function worldServiceOf(o: { spec?: unknown }): WorldService {
  const spec = (o.spec ?? {}) as { clusterIP?: string; ports?: { port?: number; protocol?: string }[] };
  return {
    ...(spec.clusterIP ? { clusterIP: spec.clusterIP } : {}),
    ports: (spec.ports ?? []).map((x) => ({ port: x.port ?? 0, protocol: x.protocol ?? 'TCP' })),
  };
}

/** Listens on the world's engine socket for follows; call it as the world starts, before any lab command. */
export function serveFollows(world: World, kubelet: Kubelet, controlPlane: boolean): Promise<EngineSocket> {
  const follower = new PathFollower();
  const fw: FollowWorld = {
    world,
    pods: podsOf(kubelet),
    ...(controlPlane ? { service: (name: string) => serviceViaKubectl(world, name) } : {}),
  };
  return listenEngineSocket(world, {
    'path.follow': { params: PathFollowParams, run: (p: PathFollowParams) => follower.follow(fw, p) },
  });
}
