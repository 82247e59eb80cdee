// A running lab session as the engine's parts see it: the world, its kubelet, and the event channel.
// Each part of the contract (netview, timeline, CNI editor, labs) is a SessionPart: it is attached
// when a world is running and detached before the world ends, and it serves its own requests.
import type { EventEmitter } from 'node:events';
import type { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { WorldSpec } from './world-spec.js';
import type { EventName, Payload, PodnetApi, WorldStatus } from '../api/contract.js';
import type { ApiActivity } from '../api/api-activity.js';

export type EngineEvents = EventEmitter<{ event: [EventName, unknown] }>;

export interface Session {
  readonly world: World;
  readonly kubelet: Kubelet;
  /** Sends an event to every client (validated against the contract by the client on arrival). */
  emit<E extends EventName>(event: E, payload: Payload<E>): void;
  /** Every event of the session, for parts that react to others' events (pods.changed, world.changed). */
  readonly events: EngineEvents;
  /** Tells every client the pod list changed (after a part created or deleted a pod through the kubelet). */
  podsChanged(): void;
  /**
   * Every API request and watch event of the world's control plane, once it runs (a free-play world's,
   * a lab's that asks for one); returns the unsubscribe. Absent in a world without one.
   */
  onApiActivity?(fn: (a: ApiActivity) => void): () => void;
}

/** What a part may ask of the session beyond a running world: to start one afresh from a spec (labs do). */
export interface WorldHost {
  /** `asker`: the part that asks goes on once it is attached to the new world (the others attach alongside). */
  restartFrom(spec: WorldSpec, asker?: SessionPart): Promise<WorldStatus>;
  /** Sends an event to every client whether or not a world runs (the lab catalogue changes without one). */
  broadcast?<E extends EventName>(event: E, payload: Payload<E>): void;
}

/** A part of the engine that lives with a world. Its request methods are named as in the contract. */
export interface SessionPart extends Partial<PodnetApi> {
  /** Called once, when the engine is made, for parts that start worlds themselves. */
  bind?(host: WorldHost): void;
  /** Called once the world is running. */
  attach(session: Session): void | Promise<void>;
  /** Called before the world ends (stop, reset, quit). Must not throw. */
  detach(): void | Promise<void>;
}
