// The renderer's side of the contract: a typed client over any transport (Electron IPC or WebSocket).
// Results and events are validated here too: the renderer trusts nothing it did not check.
import {
  ApiError,
  isEvent,
  parsePayload,
  parseResult,
  type EventName,
  type Method,
  type Params,
  type Payload,
  type Result,
} from './contract.js';

/** What a transport offers: send a request, receive events. */
export interface Transport {
  request(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
}

export interface PodnetClient {
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (payload: Payload<E>) => void): () => void;
}

export function createClient(transport: Transport): PodnetClient {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  transport.onEvent((event, payload) => {
    if (!isEvent(event)) return;
    let p: unknown;
    try {
      p = parsePayload(event, payload);
    } catch {
      return; // an event that does not fit the contract is dropped, never acted on
    }
    for (const l of listeners.get(event) ?? []) l(p);
  });
  return {
    async call(method, params) {
      const r = await transport.request(method, params);
      return parseResult(method, r);
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
}

/** Turns a wire error object back into an ApiError. */
export function toApiError(e: { code: string; message: string }): ApiError {
  const code =
    (['bad-request', 'unknown-method', 'failed', 'unauthorized'] as const).find((c) => c === e.code) ?? 'failed';
  return new ApiError(code, e.message);
}
