// containerd's `defer func() { if retErr != nil { undo } }()`, as a LIFO stack: each step that made
// something registers its undo; on failure they run in reverse and the trace says so.

export interface Undo {
  what: string;
  /** May answer at once; a throw is a failed undo either way (awaited in unwind's try). */
  run: () => void | Promise<void>;
}

export class CleanupStack {
  private readonly undos: Undo[] = [];

  defer(what: string, run: () => void | Promise<void>): void {
    this.undos.push({ what, run });
  }

  /** Success: keep what was made. */
  disarm(): void {
    this.undos.length = 0;
  }

  /**
   * Failure: undo in reverse. As containerd's cleanupErr, the first undo that fails stops the rest,
   * so a later StopPodSandbox can finish the cleanup; its error is returned.
   */
  async unwind(onUndo?: (u: Undo, err?: unknown) => void): Promise<unknown> {
    while (this.undos.length) {
      const u = this.undos.pop()!;
      try {
        await u.run();
        onUndo?.(u);
      } catch (e) {
        onUndo?.(u, e);
        this.undos.length = 0;
        return e;
      }
    }
    return undefined;
  }
}
