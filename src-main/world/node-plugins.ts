// A node as a CNI plugin host: plugins are found in the node's /opt/cni/bin (the host's real
// plugins with the node's own additions on top) and run in the node's namespaces.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { PluginHost, PluginRunResult } from '../cni/invoke.js';
import { NODE_PATHS, type World } from './world.js';

/** Bytes of each of a plugin's streams that are kept (a CNI result is a few KiB); the rest is counted. */
export const PLUGIN_OUTPUT_KEPT = 64 * 1024;

export class NodePluginHost implements PluginHost {
  readonly cniPath = [NODE_PATHS.binDir];

  constructor(
    private readonly world: World,
    readonly nodeName: string,
    /** The node's own plugins (the overlay's upper folder), looked at without following a link. */
    private readonly ownPlugins: { lstat(name: string): Stats | undefined },
  ) {}

  private isExecutable(p: string): boolean {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  }

  findPlugin(type: string): string | undefined {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(type)) return undefined;
    try {
      // the node's own plugins are the lab's files: looked at, never followed (fs/beneath.ts)
      const st = this.ownPlugins.lstat(type);
      if (st) {
        // overlayfs marks a deleted lower file with a 0:0 character device ("whiteout").
        if (st.isCharacterDevice()) return undefined;
        // a link resolves inside the node, where the plugin runs; a file needs an execute bit
        return (st.isFile() && (st.mode & 0o111) !== 0) || st.isSymbolicLink()
          ? join(NODE_PATHS.binDir, type)
          : undefined;
      }
    } catch {
      /* the node's plugin folder is not a folder (a lab replaced it): only the host's plugins count */
    }
    return this.world.pluginDirs.some((d) => this.isExecutable(join(d, type)))
      ? join(NODE_PATHS.binDir, type)
      : undefined;
  }

  describeSearch(): string {
    return `no executable "${NODE_PATHS.binDir}" entry on ${this.nodeName} (it shows the host's ${this.world.pluginDirs.join(', ')} and the node's own plugins)`;
  }

  baseEnv(): Record<string, string> {
    return this.world.baseEnv({ PODNET_NODE: this.nodeName });
  }

  async runPlugin(
    path: string,
    env: Record<string, string>,
    stdin: string,
    timeoutMs: number,
  ): Promise<PluginRunResult> {
    const r = await this.world.exec({ kind: 'node', node: this.nodeName }, [path], {
      env,
      input: stdin,
      timeoutMs,
      timeoutSignal: 9,
      // bounded where it is read: the trace, the timeline and the editor's run panel hold only this
      maxOutputBytes: PLUGIN_OUTPUT_KEPT,
    });
    return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  }
}
