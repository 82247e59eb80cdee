// What kube-proxy builds from the API before it writes any rule (pkg/proxy's ServiceChangeTracker and
// EndpointSliceCache): one entry per Service port with a ClusterIP, and that port's endpoints from every
// EndpointSlice labelled with the Service's name, sorted by "IP:port" as endpointsMapFromEndpointInfo does.
// Then CategorizeEndpoints (pkg/proxy/topology.go): the ready endpoints, or, when none is ready, the
// serving-and-terminating ones; none at all makes the Service REJECT.
import { createHash } from 'node:crypto';
import type { KubeObject } from './resources.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

export interface ServicePort {
  /** ServicePortName.String(): "ns/name", then ":port" when the port has a name. */
  name: string;
  namespace: string;
  service: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** ClientIP session affinity's timeout in seconds (spec.sessionAffinityConfig), or undefined without affinity. */
  stickySeconds?: number;
  /** Every endpoint of this port, sorted by "IP:port" (kube-proxy's byEndpoint). */
  endpoints: Endpoint[];
}

/** "IP:port", as net.JoinHostPort writes an IPv4 endpoint (BaseEndpointInfo.String()). */
export const endpointString = (e: Pick<Endpoint, 'ip' | 'port'>) => `${e.ip}:${e.port}`;

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

type SlicePort = { name?: string | null; port?: number | null; protocol?: string | null };
type SliceEndpoint = {
  addresses?: string[];
  nodeName?: string;
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
};

/** The endpoints of every service port, from the EndpointSlices (endpointInfoByServicePort, addEndpoints). */
function endpointsByPort(slices: KubeObject[]): Map<string, Map<string, Endpoint>> {
  const byPort = new Map<string, Map<string, Endpoint>>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    const ns = s.metadata?.namespace;
    if (!svc || !ns || s.addressType !== 'IPv4') continue;
    for (const p of (s.ports ?? []) as SlicePort[]) {
      // the API server defaults a port's name to "" and its protocol to TCP; a nil or 0 port is ignored
      if (!p.port) continue;
      const key = `${ns}/${svc}${p.name ? `:${p.name}` : ''}/${p.protocol ?? 'TCP'}`;
      const set = byPort.get(key) ?? new Map<string, Endpoint>();
      byPort.set(key, set);
      for (const e of (s.endpoints ?? []) as SliceEndpoint[]) {
        const ip = e.addresses?.[0];
        if (!ip) continue;
        const c = e.conditions ?? {};
        const terminating = c.terminating === true;
        const ep: Endpoint = {
          ip,
          port: p.port,
          // a nil condition counts as true (ready, serving); terminating only when set
          ready: c.ready !== false,
          serving: c.serving !== false,
          terminating,
          ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        };
        // the same IP:port in two slices: the one that is not terminating wins
        if (!set.has(endpointString(ep)) || !terminating) set.set(endpointString(ep), ep);
      }
    }
  }
  return byPort;
}

/** Every Service port kube-proxy proxies (an IPv4 ClusterIP; not headless, not ExternalName), with its endpoints. */
export function servicePorts(services: KubeObject[], slices: KubeObject[]): ServicePort[] {
  const eps = endpointsByPort(slices);
  const out: ServicePort[] = [];
  for (const s of services) {
    const ns = s.metadata?.namespace ?? 'default';
    const name = s.metadata?.name ?? '';
    const ip = s.spec?.clusterIP;
    if (typeof ip !== 'string' || !IPV4.test(ip) || s.spec?.type === 'ExternalName') continue;
    const affinity =
      s.spec?.sessionAffinity === 'ClientIP'
        ? ((s.spec.sessionAffinityConfig as { clientIP?: { timeoutSeconds?: number } } | undefined)?.clientIP
            ?.timeoutSeconds ?? 10800)
        : undefined;
    for (const p of (s.spec?.ports ?? []) as { name?: string; port: number; protocol?: Protocol }[]) {
      const portName = p.name ?? '';
      const protocol = p.protocol ?? 'TCP';
      const spn = `${ns}/${name}${portName ? `:${portName}` : ''}`;
      const endpoints = [...(eps.get(`${spn}/${protocol}`)?.values() ?? [])].sort((a, b) =>
        endpointString(a) < endpointString(b) ? -1 : endpointString(a) > endpointString(b) ? 1 : 0,
      );
      out.push({
        name: spn,
        namespace: ns,
        service: name,
        portName,
        protocol,
        clusterIP: ip,
        port: p.port,
        ...(affinity !== undefined ? { stickySeconds: affinity } : {}),
        endpoints,
      });
    }
  }
  // kube-proxy walks a Go map (no order); sorted here, so a sync that changes nothing writes the same text
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
}

/**
 * The endpoints traffic to the ClusterIP may go to (CategorizeEndpoints for the Cluster traffic policy):
 * the ready ones; if none is ready, the ones still serving while terminating.
 */
export function clusterEndpoints(sp: ServicePort): Endpoint[] {
  const ready = sp.endpoints.filter((e) => e.ready);
  return ready.length ? ready : sp.endpoints.filter((e) => e.serving && e.terminating);
}

/** The first 16 characters of base32(sha256(s)), RFC 4648 alphabet (Go's base32.StdEncoding). */
export function hash16(s: string): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(s).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return out;
}
