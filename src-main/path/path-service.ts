// One follow at a time against the running world, whoever asks (a page's path.follow, a node terminal's
// `podnet path FROM TO` through the world's engine socket): a second is refused while one runs, since each
// follow starts a capture in every namespace and the world's processes are bounded.
import type { PathFollowParams, PathResultMsg } from '../api/contract.js';
import { followInWorld, FollowError, type FollowWorld } from './follow-in-world.js';
import type { PathResult } from './follow.js';

// the engine's type and the contract's schema describe one thing: a change to either fails here, at build time
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameResult: Same<PathResult, PathResultMsg> = true;
void sameResult;

export class PathFollower {
  private running: PathFollowParams | undefined;

  /** Follows one packet; throws FollowError for a follow that cannot be made (no world, one already running). */
  async follow(w: FollowWorld | undefined, req: PathFollowParams): Promise<PathResult> {
    if (!w) throw new FollowError('no world is running: start one first, then follow a packet in it');
    if (this.running)
      throw new FollowError(
        `a follow is already running (${this.running.from} → ${this.running.to}): wait for it to end, then ask again`,
      );
    this.running = req;
    try {
      return await followInWorld(w, req);
    } finally {
      this.running = undefined;
    }
  }

  get busy(): boolean {
    return this.running !== undefined;
  }
}
