// The engine's way into a world's files: beneath world.stateDir, never following a link a lab put
// there (fs/beneath.ts). Messages name a path as the lab sees it ("/etc/cni/net.d on node1").
import { relative } from 'node:path';
import { Beneath } from './beneath.js';
import { NODE_PATHS, WORLD_STATE_MOUNT, type WorldNode } from '../world/world.js';

/** What the engine needs of a world to reach its files. */
export interface WorldFilesOf {
  readonly stateDir: string;
  readonly nodes: ReadonlyMap<string, WorldNode>;
}

export type NodeFolder = keyof WorldNode['host'];

/** Where each of a node's host folders appears in the node. */
const IN_NODE: Record<NodeFolder, string> = {
  confDir: NODE_PATHS.confDir,
  dataDir: NODE_PATHS.dataDir,
  binUpper: NODE_PATHS.binDir,
  netnsDir: NODE_PATHS.netnsDir,
  resolvConf: NODE_PATHS.resolvConf,
  sandboxesDir: NODE_PATHS.sandboxesDir,
  podLogsDir: NODE_PATHS.podLogsDir,
};

/** A path relative to the state folder, as the lab sees it: on its node, or under /run/podnet in the sandbox. */
function shownIn(world: WorldFilesOf, rel: string): string {
  let best: { len: number; text: string } | undefined;
  for (const n of world.nodes.values()) {
    for (const [k, inNode] of Object.entries(IN_NODE) as [NodeFolder, string][]) {
      const r = relative(world.stateDir, n.host[k]);
      if ((rel === r || rel.startsWith(r + '/')) && (!best || r.length > best.len))
        best = { len: r.length, text: `${inNode}${rel.slice(r.length)} on ${n.name}` };
    }
  }
  return best?.text ?? `${WORLD_STATE_MOUNT}/${rel}`;
}

/** The world's whole state folder, walked without following links. */
export function worldFiles(world: WorldFilesOf): Beneath {
  return new Beneath(world.stateDir, (rel) => shownIn(world, rel));
}

/** One of a node's folders, walked from the state folder without following links. */
export function nodeFolder(world: WorldFilesOf, node: string, folder: NodeFolder): Beneath {
  const n = world.nodes.get(node);
  if (!n) throw new Error(`no node "${node}" in this world`);
  return worldFiles(world).at(relative(world.stateDir, n.host[folder]));
}

/** A node's file (its resolv.conf): the world's files and the file's path relative to the state folder. */
export function nodeFile(world: WorldFilesOf, node: string, file: NodeFolder): { files: Beneath; rel: string } {
  const n = world.nodes.get(node);
  if (!n) throw new Error(`no node "${node}" in this world`);
  return { files: worldFiles(world), rel: relative(world.stateDir, n.host[file]) };
}
