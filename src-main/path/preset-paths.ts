// The preset's two paths: the client pod's ping to the server pod across nodes (and its reply), and its
// TCP request to the Service's ClusterIP (the DNAT on node1 choosing the server).
import { followPing, followTcp, nodeSpace, type PathResult, type PathSpace } from './follow.js';
import type { PresetWorld } from './preset.js';

export function presetSpaces(p: PresetWorld): PathSpace[] {
  const pod = (x: PresetWorld['client']): PathSpace => ({
    id: `pod:${x.name}`,
    kind: 'pod',
    node: x.node,
    pod: x.name,
    target: x.target,
  });
  return [pod(p.client), nodeSpace('node1'), nodeSpace('node2'), pod(p.server)];
}

export async function followPresetPing(p: PresetWorld): Promise<PathResult> {
  const spaces = presetSpaces(p);
  return followPing(p.world, { spaces, from: spaces[0]!, toSpace: spaces[3]!.id, src: p.client.ip, dst: p.server.ip });
}

export async function followPresetService(p: PresetWorld): Promise<PathResult> {
  const spaces = presetSpaces(p);
  return followTcp(p.world, {
    spaces,
    from: spaces[0]!,
    toSpace: spaces[3]!.id,
    natNode: spaces[1]!,
    src: p.client.ip,
    dst: p.service.ip,
    port: p.service.port,
  });
}

/** Both follows, and where the preset's places are: what `podnet path --json` prints. */
export async function followPreset(p: PresetWorld) {
  const ping = await followPresetPing(p);
  const service = await followPresetService(p);
  const world = {
    client: { pod: p.client.name, node: p.client.node, ip: p.client.ip },
    server: { pod: p.server.name, node: p.server.node, ip: p.server.ip },
    service: p.service,
  };
  return { world, ping, service };
}
