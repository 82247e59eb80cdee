// Events, recorded as the real components record them (client-go's event recorder: one Event object per
// occurrence here, where the real recorder also aggregates repeats into a count).
import type { ApiClient } from './cluster.js';
import type { KubeObject } from './resources.js';

let lastNano = 0n;
/** Nanoseconds since the epoch, strictly increasing within the process. */
function unixNano(): bigint {
  const t = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNano = t > lastNano ? t : lastNano + 1n;
  return lastNano;
}

export interface EventSource {
  component: string;
  host?: string;
}

/**
 * Records an event about an object; a failure to record is not the caller's failure (as in client-go).
 * Answers the event's name (a recorder that aggregates repeats PATCHes its count).
 */
export function recordEvent(
  cluster: ApiClient,
  about: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  source: EventSource,
): string {
  const ns = about.metadata?.namespace ?? 'default';
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    // client-go names an event NAME.<UnixNano in hex>: the store's key order is the order they happened
    metadata: { name: `${about.metadata?.name}.${unixNano().toString(16)}`, namespace: ns },
    involvedObject: {
      apiVersion: 'v1',
      kind: about.kind ?? 'Pod',
      namespace: ns,
      name: about.metadata?.name,
      uid: about.metadata?.uid,
      resourceVersion: about.metadata?.resourceVersion,
    },
    reason,
    message,
    source,
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  };
  void cluster.call('POST', `/api/v1/namespaces/${ns}/events`, event).catch(() => {});
  return event.metadata.name;
}
