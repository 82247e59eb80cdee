// The engine's side of following a packet: the contract's `path.follow` request and `path.followed` event.
import type { PodnetClient } from '../../src-main/api/client.ts';
import type { FollowRequest, PathResult } from './types.ts';

export interface FollowChannel {
  follow(req: FollowRequest): Promise<PathResult>;
  onFollowed(listener: (r: PathResult) => void): () => void;
}

export function followChannel(client: PodnetClient): FollowChannel {
  return {
    follow: (req) => client.call('path.follow', req),
    onFollowed: (l) => client.on('path.followed', (p) => l(p.result)),
  };
}
