// Step-through: a step gate that holds each traced step before it begins until "Next step" or
// "Continue". Steps that run concurrently (go-cni's parallel ADDs) queue and are let go one at a time.
import type { PendingStep, StepGate } from '../runtime/trace.js';

export class StepThrough {
  private readonly waiting: { next: PendingStep; go: () => void }[] = [];
  private free = false;

  /** `paused` is told the step now held (undefined: nothing is held, the operation runs). */
  constructor(private readonly paused: (next: PendingStep | undefined) => void) {}

  readonly gate: StepGate = (next) => {
    if (this.free) return Promise.resolve();
    return new Promise<void>((go) => {
      this.waiting.push({ next, go });
      if (this.waiting.length === 1) this.paused(next);
    });
  };

  /** The step held now, if any. */
  get held(): PendingStep | undefined {
    return this.waiting[0]?.next;
  }

  get released(): boolean {
    return this.free;
  }

  /** Lets the held step begin; false when none is held. */
  next(): boolean {
    const w = this.waiting.shift();
    if (!w) return false;
    this.paused(this.waiting[0]?.next);
    w.go();
    return true;
  }

  /** Lets every step run from now on, without pausing (also what abandoning a session does). */
  continue(): void {
    if (this.free) return;
    this.free = true;
    const all = this.waiting.splice(0);
    this.paused(undefined);
    for (const w of all) w.go();
  }
}
