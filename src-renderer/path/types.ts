// What a followed packet is, as the engine gives it: the contract's own schemas (`path.follow`), named here once.
import type { PathFollowParams, PathHopMsg, PathResultMsg } from '../../src-main/api/contract.ts';

export type PathResult = PathResultMsg;
export type Hop = PathHopMsg;
export type Decision = Hop['decision'];
export type SeenPacket = Hop['packet'];
export type Drop = NonNullable<PathResult['drop']>;

/** What the form asks the engine to follow (the contract's `path.follow` params). */
export type FollowRequest = PathFollowParams;
