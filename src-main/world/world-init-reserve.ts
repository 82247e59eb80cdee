// A world's sandbox started ahead (world.prepare): world-init up, its root built, nothing of a world in it
// yet. The next free-play start takes it instead of spawning its own, so the ~35 ms of unshare and
// world-init are off the path from "Start world" to a prompt. One at most; it ends with the engine.
import { hostPluginDirs } from './paths.js';
import { DEFAULT_LIMITS, newWorldId, rootSpec } from './world.js';
import { WorldInit, type WorldLimits } from './world-init.js';

interface Ahead {
  /** The root and limits it was made with: a start with others does not take it. */
  key: string;
  id: string;
  init: Promise<WorldInit | undefined>;
}

/** What makes two sandboxes alike: every part of the root but the id, and the limits. */
function keyOf(pluginDirs: string[], workDir: string | undefined, limits: WorldLimits): string {
  const { id: _id, ...root } = rootSpec('', pluginDirs, workDir);
  return JSON.stringify({ root, limits });
}

export class WorldInitReserve {
  private ahead: Ahead | undefined;
  private disposed = false;

  /** Whether a sandbox is started or starting ahead (for tests and the benchmark). */
  get held(): boolean {
    return this.ahead !== undefined;
  }

  /** The PID of the sandbox held ahead (its `unshare`), once started: for tests. */
  async pid(): Promise<number | undefined> {
    return (await this.ahead?.init)?.outerPid;
  }

  /** Starts a free-play sandbox (no lab folder) with these limits, unless one like it is there already. */
  prepare(limits: Partial<WorldLimits> = {}): void {
    if (this.disposed) return;
    const pluginDirs = hostPluginDirs();
    if (pluginDirs.length === 0) return; // the start says why, with its fix
    const full: WorldLimits = { ...DEFAULT_LIMITS, ...limits };
    const key = keyOf(pluginDirs, undefined, full);
    if (this.ahead?.key === key) return;
    this.drop();
    const id = newWorldId();
    // a sandbox that cannot start is no reserve: the start that would have taken it fails with the reason
    const init = WorldInit.start(rootSpec(id, pluginDirs, undefined), full).catch(() => undefined);
    this.ahead = { key, id, init };
  }

  /**
   * The sandbox started ahead for this root and these limits, now the caller's; undefined when there is
   * none, it was made for another root, or it has ended since (killed from outside: a start makes its own).
   */
  async take(
    pluginDirs: string[],
    workDir: string | undefined,
    limits: WorldLimits,
  ): Promise<{ id: string; init: WorldInit } | undefined> {
    const a = this.ahead;
    if (!a || a.key !== keyOf(pluginDirs, workDir, limits)) return undefined;
    this.ahead = undefined;
    const init = await a.init;
    if (!init || init.isClosed || !init.outerPid) {
      await init?.close();
      return undefined;
    }
    return { id: a.id, init };
  }

  /** Ends the sandbox held ahead, if any. */
  private drop(): void {
    const a = this.ahead;
    this.ahead = undefined;
    void a?.init.then((i) => i?.close());
  }

  /** Ends it, and prepares no more. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const a = this.ahead;
    this.ahead = undefined;
    await (await a?.init)?.close();
  }
}
