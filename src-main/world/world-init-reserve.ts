// A world's sandbox started ahead (world.prepare): world-init up, its root built, nothing of a world in it
// yet. The next start (free play's or a lab's) takes it instead of spawning its own, so the ~35 ms of
// unshare and world-init are off the path from "Start world" to a prompt. One at most; it ends with the engine.
import { hostPluginDirs } from './paths.js';
import { DEFAULT_LIMITS, newWorldId, rootSpec } from './world.js';
import { WorldInit, type RootSpec, type WorldLimits } from './world-init.js';

interface Ahead {
  /** The root and limits it was made with: a start with others does not take it. */
  key: string;
  id: string;
  init: Promise<WorldInit | undefined>;
}

/** What makes two sandboxes alike: every part of the root but the id, and the limits. */
function keyOf(root: RootSpec, limits: WorldLimits): string {
  return JSON.stringify({ root: { ...root, id: '' }, limits });
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
    const root = rootSpec(newWorldId(), pluginDirs, undefined);
    const key = keyOf(root, full);
    if (this.ahead?.key === key) return;
    this.drop();
    // a sandbox that cannot start is no reserve: the start that would have taken it fails with the reason
    const init = WorldInit.start(root, full).catch(() => undefined);
    this.ahead = { key, id: root.id, init };
  }

  /**
   * The sandbox started ahead for this root (its id aside) and these limits, now the caller's; undefined
   * when there is none, it was made for another root, or it has ended since (killed from outside: a start
   * makes its own).
   */
  async take(root: RootSpec, limits: WorldLimits): Promise<{ id: string; init: WorldInit } | undefined> {
    const a = this.ahead;
    if (!a || a.key !== keyOf(root, limits)) return undefined;
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
