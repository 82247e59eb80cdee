// A namespace's `ip monitor`, as the lab's checks need it: only a trigger. Any event means "evaluate the
// step's checks again", and the evaluation reads what its checks look at; a whole read of the namespace
// per burst (as netview's NetMonitor does, to diff) would only decide what the evaluation finds anyway.
import { monitorReady, spawnMonitor } from '../netview/monitor.js';
import type { Target, World, WorldProcess } from '../world/world.js';

export class ChangeTrigger {
  private stderr = '';
  private closed = false;

  private constructor(
    readonly process: WorldProcess,
    onChange: () => void,
  ) {
    // an event is an unindented line (its continuation lines are indented)
    process.on('stdout', (d) => {
      if (!this.closed && /^\S/m.test(d.toString())) onChange();
    });
    process.on('stderr', (d) => {
      if (this.stderr.length < 4096) this.stderr += d.toString();
    });
  }

  /** Starts `ip monitor` in the namespace; resolves once it has subscribed (a change from then on is heard). */
  static async start(
    world: World,
    target: Target,
    onChange: () => void,
    readyTimeoutMs = 5000,
  ): Promise<ChangeTrigger> {
    const t = new ChangeTrigger(spawnMonitor(world, target), onChange);
    try {
      await monitorReady(world, t.process, () => t.stderr, readyTimeoutMs);
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  /** Stops it by its handle and waits for it to end. */
  async close(): Promise<void> {
    this.closed = true;
    this.process.kill(15);
    await this.process.exited;
  }
}
