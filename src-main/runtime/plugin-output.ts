// A node's plugins as the runtime runs them: like NodePluginHost, but a plugin's stdout and stderr are
// bounded where they are read. The first PLUGIN_OUTPUT_KEPT bytes of each are kept and the rest only
// counted, so a plugin that prints 700 MB costs the engine no more than one that prints a result, and
// the trace and the editor's run panel say how much was cut.
import type { PluginRunResult } from '../cni/invoke.js';
import { NodePluginHost } from '../world/node-plugins.js';
import type { World } from '../world/world.js';

/** Bytes of each of a plugin's streams that are kept (a CNI result is a few KiB). */
export const PLUGIN_OUTPUT_KEPT = 64 * 1024;
/** After a timeout's first signal, how long before SIGKILL. */
const KILL_GRACE_MS = 1000;

/** "699.2 MB": a byte count as a reader takes it in. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Keeps the first `limit` bytes of a stream and counts the rest. */
export class KeptOutput {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  private cut = 0;

  constructor(private readonly limit: number = PLUGIN_OUTPUT_KEPT) {}

  push(d: Buffer): void {
    const room = this.limit - this.kept;
    if (room > 0) {
      // a slice would pin the whole chunk: copy the part that is kept
      const part = d.length <= room ? d : Buffer.from(d.subarray(0, room));
      this.parts.push(part);
      this.kept += part.length;
    }
    this.cut += Math.max(0, d.length - Math.max(0, room));
  }

  /** The kept text, and a last line saying how much was cut (if anything was). */
  text(): string {
    const s = Buffer.concat(this.parts).toString();
    return this.cut ? `${s}\n… ${formatBytes(this.cut)} more cut` : s;
  }

  get cutBytes(): number {
    return this.cut;
  }
}

export class BoundedNodePluginHost extends NodePluginHost {
  constructor(
    private readonly runIn: World,
    nodeName: string,
    ownPlugins: ConstructorParameters<typeof NodePluginHost>[2],
  ) {
    super(runIn, nodeName, ownPlugins);
  }

  override async runPlugin(
    path: string,
    env: Record<string, string>,
    stdin: string,
    timeoutMs: number,
  ): Promise<PluginRunResult> {
    const proc = this.runIn.spawn({ kind: 'node', node: this.nodeName }, [path], { env, stdin: true });
    const out = new KeptOutput();
    const err = new KeptOutput();
    proc.on('stdout', (d) => out.push(d));
    proc.on('stderr', (d) => err.push(d));
    await proc.started;
    proc.write(stdin);
    proc.end();
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill(9);
      killTimer = setTimeout(() => proc.kill(9), KILL_GRACE_MS);
    }, timeoutMs);
    const s = await proc.exited;
    clearTimeout(timer);
    clearTimeout(killTimer);
    return { code: s.code, signal: s.signal, stdout: out.text(), stderr: err.text(), timedOut };
  }
}
