// A running lab session as the engine's parts see it: the world, its kubelet, and the event channel.
// Each part of the contract (netview, timeline, CNI editor, labs) is a SessionPart: it is attached
// when a world is running and detached before the world ends, and it serves its own requests.
import type { EventEmitter } from 'node:events';
import type { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { WorldSpec } from '../labs/world-spec.js';
import type { EventName, Method, Payload, PodnetApi, WorldStatus } from './contract.js';

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
}

/** What a part may ask of the session beyond a running world: to start one afresh from a spec (labs do). */
export interface WorldHost {
  restartFrom(spec: WorldSpec): Promise<WorldStatus>;
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

/** Joins the parts' request methods into the whole contract; every method must have exactly one owner. */
export function composeApi(parts: readonly object[], methods: readonly Method[]): PodnetApi {
  const api: Record<string, unknown> = {};
  for (const m of methods) {
    const owners = parts.filter((p) => typeof (p as Record<string, unknown>)[m] === 'function');
    if (owners.length !== 1)
      throw new Error(`contract method ${m} has ${owners.length} implementations (needs exactly one)`);
    const owner = owners[0] as Record<string, (p: unknown) => Promise<unknown>>;
    api[m] = (p: unknown) => owner[m]!(p);
  }
  return api as PodnetApi;
}
