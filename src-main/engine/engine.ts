// The engine both hosts serve: the lab session (world, pods, terminals) and the parts that live with
// it, joined into the one contract. Hosts and tests build it here, so they all serve the same thing.
import { requests, type Method, type PodnetApi } from '../api/contract.js';
import { NetviewPart } from '../netview/netview-part.js';
import { LabService, type TerminalFactory } from './lab-service.js';
import { LabsPart } from '../labs/lab-part.js';
import { ProgressStore } from '../labs/progress.js';
import { composeApi } from './compose-api.js';
import type { EngineEvents, SessionPart } from '../session/session.js';
import { TimelinePart } from '../timeline/timeline-part.js';
import { ConfigEditorPart } from '../config/editor-part.js';
import type { WorldLimits } from '../world/world.js';

export interface Engine {
  readonly api: PodnetApi;
  readonly events: EngineEvents;
  readonly session: LabService;
  /** Ends the session: every part, every terminal, the world. */
  dispose(): Promise<void>;
}

export interface EngineOptions {
  terminals: TerminalFactory;
  /** Parts beyond the defaults (tests add theirs). */
  parts?: SessionPart[];
  /** Bounds for the session's worlds (DEFAULT_LIMITS where not given). */
  worldLimits?: Partial<WorldLimits>;
  /** Where this engine's labs and progress are (a workshop seat has its own progress folder). */
  labs?: { dir?: string; progressDir?: string };
  /** The terminals' process kept waiting ahead (pty-reserve.ts), where the host made one: ended with the engine. */
  ptyReserve?: { dispose(): void };
}

/** The parts every engine has; each serves its own slice of the contract. */
function defaultParts(labs: EngineOptions['labs'] = {}): SessionPart[] {
  const progress = labs.progressDir ? new ProgressStore(labs.progressDir) : undefined;
  return [new TimelinePart(), new ConfigEditorPart(), new NetviewPart(), new LabsPart(labs.dir, progress)];
}

export function createEngine(opts: EngineOptions): Engine {
  const parts = [...defaultParts(opts.labs), ...(opts.parts ?? [])];
  const session = new LabService(opts.terminals, parts, opts.worldLimits);
  for (const p of parts) p.bind?.(session);
  // a part's requests wait until it is attached to the running world (it is reported running before)
  const gated = parts.map((part) => gate(part, () => session.partAttached(part)));
  const api = composeApi([session, ...gated], Object.keys(requests) as Method[]);
  const dispose = async () => {
    await session.dispose();
    opts.ptyReserve?.dispose();
  };
  return { api, events: session, session, dispose };
}

/** The part's request methods (named as the contract's), each waiting for `ready` first. */
function gate(part: SessionPart, ready: () => Promise<void>): object {
  const methods: Record<string, (p: unknown) => Promise<unknown>> = {};
  for (const m of Object.keys(requests)) {
    const fn = (part as unknown as Record<string, ((p: unknown) => Promise<unknown>) | undefined>)[m];
    if (typeof fn === 'function') methods[m] = async (p) => (await ready(), fn.call(part, p));
  }
  return methods;
}
