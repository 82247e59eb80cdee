// The engine's side of following a packet: the contract's `path.follow` request and `path.followed` event.
import type { PodnetClient } from '../../src-main/api/client.ts';
import type { FollowRequest, PathResult } from './types.ts';

export interface FollowChannel {
  follow(req: FollowRequest): Promise<PathResult>;
  onFollowed(listener: (r: PathResult) => void): () => void;
}

// TODO(pathengine merge): typed once the contract has path.follow / path.followed
type Loose = {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
};

/** The event carries a result, bare or as `{ result }`. */
const resultOf = (p: unknown): PathResult =>
  (p && typeof p === 'object' && 'hops' in p ? p : (p as { result: PathResult }).result) as PathResult;

export function followChannel(client: PodnetClient): FollowChannel {
  const c = client as unknown as Loose;
  return {
    follow: async (req) => resultOf(await c.call('path.follow', req)),
    onFollowed: (l) => c.on('path.followed', (p) => l(resultOf(p))),
  };
}
