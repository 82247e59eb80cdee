// The cluster DNS stand-in (the part of CoreDNS's kubernetes plugin a pod's resolver meets): it answers
// A queries for Service names — NAME.NS.svc.cluster.local → the ClusterIP (a headless Service: its ready
// endpoints' addresses), and A-B-C-D.NS.pod.cluster.local → A.B.C.D ("pods insecure", kubeadm's default) —
// NXDOMAIN (with the zone's SOA) for any other name in cluster.local, NXDOMAIN for names outside it (it
// forwards nothing). It runs in the API server's process, on the control plane's address, port 53 (UDP and
// TCP), fed from the API's own watch, and registers the kube-dns Service (10.96.0.10) with its EndpointSlice.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import type { ApiServer, WatchEvent } from './api-server.js';
import { ENDPOINTSLICES, NAMESPACES, SERVICES, type Endpoint, type KubeObject } from './resources.js';
import { isIPv4 } from './service-ips.js';

export const CLUSTER_DOMAIN = 'cluster.local';
export const KUBE_DNS_IP = '10.96.0.10';
/** CoreDNS's kubernetes plugin: `ttl 5` for records; its SOA says 30. */
const TTL = 5;
const SOA_TTL = 30;

const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

export interface Question {
  name: string;
  type: number;
  class: number;
}

/** What the records say about one name: the addresses, none (the name exists, no record of that type), or no such name. */
export type Answer = { rcode: number; addresses: string[]; authoritative: boolean };

/** The names the cluster has, kept from the API's watch. */
export class ClusterNames {
  /** name.ns → the Service */
  private readonly services = new Map<string, KubeObject>();
  /** ns/name → the slice (for headless Services' endpoints) */
  private readonly slices = new Map<string, KubeObject>();
  private readonly namespaces = new Set<string>();

  apply(e: Pick<WatchEvent, 'type' | 'object'> & { kind: 'Service' | 'EndpointSlice' | 'Namespace' }): void {
    const m = e.object.metadata ?? {};
    if (e.kind === 'Namespace') {
      if (e.type === 'DELETED') this.namespaces.delete(m.name!);
      else this.namespaces.add(m.name!);
    } else if (e.kind === 'Service') {
      const k = `${m.name}.${m.namespace}`;
      if (e.type === 'DELETED') this.services.delete(k);
      else this.services.set(k, e.object);
    } else {
      const k = `${m.namespace}/${m.name}`;
      if (e.type === 'DELETED') this.slices.delete(k);
      else this.slices.set(k, e.object);
    }
  }

  private readyAddresses(name: string, ns: string): string[] {
    const out: string[] = [];
    for (const s of this.slices.values())
      if (
        s.metadata?.namespace === ns &&
        s.metadata.labels?.['kubernetes.io/service-name'] === name &&
        s.addressType === 'IPv4'
      )
        for (const ep of (s.endpoints ?? []) as Endpoint[])
          if (ep.conditions?.ready !== false) out.push(...ep.addresses);
    return [...new Set(out)];
  }

  /** Looks a name up as CoreDNS's kubernetes plugin would (A records; other types have none). */
  resolve(qname: string, qtype: number): Answer {
    const name = qname.toLowerCase().replace(/\.$/, '');
    const zone = `.${CLUSTER_DOMAIN}`;
    if (name !== CLUSTER_DOMAIN && !name.endsWith(zone))
      return { rcode: RCODE.NXDOMAIN, addresses: [], authoritative: false };
    const labels = name === CLUSTER_DOMAIN ? [] : name.slice(0, -zone.length).split('.');
    const nodata: Answer = { rcode: RCODE.NOERROR, addresses: [], authoritative: true };
    const nx: Answer = { rcode: RCODE.NXDOMAIN, addresses: [], authoritative: true };
    const wantsA = qtype === TYPE.A || qtype === TYPE.ANY;
    // the zone and its empty non-terminals (svc, pod, a namespace) exist, with no address
    if (labels.length === 0) return nodata;
    const kind = labels[labels.length - 1];
    if (kind !== 'svc' && kind !== 'pod') return nx;
    if (labels.length === 1) return nodata;
    const ns = labels[labels.length - 2]!;
    if (labels.length === 2) return this.namespaces.has(ns) ? nodata : nx;
    if (labels.length !== 3) return nx;
    const first = labels[0]!;
    if (kind === 'pod') {
      const ip = first.replace(/-/g, '.');
      if (!isIPv4(ip)) return nx;
      return wantsA ? { ...nodata, addresses: [ip] } : nodata;
    }
    const svc = this.services.get(`${first}.${ns}`);
    if (!svc) return nx;
    if (!wantsA) return nodata;
    const ip = svc.spec?.clusterIP;
    if (ip === 'None') return { ...nodata, addresses: this.readyAddresses(first, ns) };
    return { ...nodata, addresses: typeof ip === 'string' && isIPv4(ip) ? [ip] : [] };
  }
}

// ---- the wire format (RFC 1035) ----

function readName(buf: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf[at];
    if (len === undefined) throw new Error('name runs past the message');
    if (len === 0) {
      if (end < 0) end = at + 1;
      return { name: labels.join('.'), end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = at + 2;
      at = ((len & 0x3f) << 8) | buf[at + 1]!;
      continue;
    }
    if (at + 1 + len > buf.length) throw new Error('label runs past the message');
    labels.push(buf.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  throw new Error('name has too many labels');
}

function writeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function rr(name: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(ttl, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name, head, rdata]);
}

function soa(): Buffer {
  const nums = Buffer.alloc(20);
  nums.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  nums.writeUInt32BE(7200, 4);
  nums.writeUInt32BE(1800, 8);
  nums.writeUInt32BE(86400, 12);
  nums.writeUInt32BE(SOA_TTL, 16);
  const rdata = Buffer.concat([writeName(`ns.dns.${CLUSTER_DOMAIN}`), writeName(`hostmaster.${CLUSTER_DOMAIN}`), nums]);
  return rr(writeName(CLUSTER_DOMAIN), TYPE.SOA, SOA_TTL, rdata);
}

/** Answers one query message; undefined for what is not a query at all (too short to answer). */
export function answer(query: Buffer, names: ClusterNames, maxSize = 512): Buffer | undefined {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response: not ours to answer
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & 0x0100;
  const header = (rcode: number, aa: boolean, counts: [number, number, number, number]) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(0x8000 | (opcode << 11) | (aa ? 0x0400 : 0) | rd | rcode, 2);
    counts.forEach((c, i) => h.writeUInt16BE(c, 4 + i * 2));
    return h;
  };
  const qd = query.readUInt16BE(4);
  let q: Question;
  let qEnd: number;
  try {
    if (qd !== 1) throw new Error('one question');
    const { name, end } = readName(query, 12);
    if (end + 4 > query.length) throw new Error('short question');
    q = { name, type: query.readUInt16BE(end), class: query.readUInt16BE(end + 2) };
    qEnd = end + 4;
  } catch {
    return header(RCODE.FORMERR, false, [0, 0, 0, 0]);
  }
  const question = query.subarray(12, qEnd);
  // EDNS: the client's OPT says how large an answer it takes over UDP
  const ar = query.readUInt16BE(10);
  let edns = false;
  if (ar > 0 && query.length >= qEnd + 11 && query[qEnd] === 0 && query.readUInt16BE(qEnd + 1) === TYPE.OPT) {
    edns = true;
    maxSize = Math.max(maxSize, query.readUInt16BE(qEnd + 3));
  }
  const opt = edns ? rr(Buffer.from([0]), TYPE.OPT, 0, Buffer.alloc(0)) : Buffer.alloc(0);
  if (edns) opt.writeUInt16BE(1232, 3);
  if (opcode !== 0) return Buffer.concat([header(RCODE.NOTIMP, false, [1, 0, 0, edns ? 1 : 0]), question, opt]);
  const a =
    q.class === 1 || q.class === 255
      ? names.resolve(q.name, q.type)
      : { rcode: RCODE.NXDOMAIN, addresses: [], authoritative: false };
  // each answer's name points at the question's (offset 12)
  const records = a.addresses.map((ip) =>
    rr(Buffer.from([0xc0, 0x0c]), TYPE.A, TTL, Buffer.from(ip.split('.').map(Number))),
  );
  const authority = a.authoritative && !records.length ? [soa()] : [];
  let out = Buffer.concat([
    header(a.rcode, a.authoritative, [1, records.length, authority.length, edns ? 1 : 0]),
    question,
    ...records,
    ...authority,
    opt,
  ]);
  if (out.length > maxSize) {
    // truncated: the client asks again over TCP
    out = Buffer.concat([header(a.rcode, a.authoritative, [1, 0, 0, 0]), question]);
    out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2);
  }
  return out;
}

// ---- the server ----

export interface ClusterDns {
  stop(): Promise<void>;
}

/** kube-dns in kube-system at 10.96.0.10, and its EndpointSlice to this server (which is not a pod: no selector). */
async function registerKubeDns(api: ApiServer, host: string): Promise<void> {
  const exists = (e: unknown) => {
    if (!(e instanceof Error && /already exists|already allocated/.test(e.message))) throw e;
  };
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  ];
  await api
    .create(
      { resource: SERVICES, namespace: 'kube-system' },
      {
        metadata: {
          name: 'kube-dns',
          labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        },
        spec: { clusterIP: KUBE_DNS_IP, ports: ports.map((p) => ({ ...p, targetPort: 53 })) },
      },
    )
    .catch(exists);
  await api
    .create(
      { resource: ENDPOINTSLICES, namespace: 'kube-system' },
      {
        metadata: {
          name: 'kube-dns',
          labels: {
            'kubernetes.io/service-name': 'kube-dns',
            // not the EndpointSlice controller's: the stand-in keeps its own slice, as the API server keeps kubernetes'
            'endpointslice.kubernetes.io/managed-by': 'cluster-dns.podnet.lab',
          },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [host], conditions: { ready: true, serving: true, terminating: false } }],
        ports,
      },
    )
    .catch(exists);
}

/** Starts the DNS stand-in on HOST:53 (UDP and TCP), fed from the API server's watch of Services and EndpointSlices. */
export async function startClusterDns(api: ApiServer, host: string, port = 53): Promise<ClusterDns> {
  const names = new ClusterNames();
  const stops: (() => void)[] = [];
  for (const [resource, kind] of [
    [SERVICES, 'Service'],
    [ENDPOINTSLICES, 'EndpointSlice'],
    [NAMESPACES, 'Namespace'],
  ] as const) {
    const { items, revision } = await api.list({ resource });
    for (const o of items) names.apply({ type: 'ADDED', object: o, kind });
    stops.push(api.watch({ resource }, revision, (e) => names.apply({ ...e, kind })));
  }
  await registerKubeDns(api, host);

  const udp: Socket = createSocket('udp4');
  udp.on('message', (msg, from) => {
    const out = answer(msg, names);
    if (out) udp.send(out, from.port, from.address);
  });
  await new Promise<void>((res, rej) => {
    udp.once('error', rej);
    udp.bind(port, host, () => {
      udp.off('error', rej);
      res();
    });
  });
  const tcp: Server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.setTimeout(10_000, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const out = answer(msg, names, 65535);
        if (!out) return conn.destroy();
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        conn.write(Buffer.concat([len, out]));
      }
    });
  });
  await new Promise<void>((res, rej) => tcp.once('error', rej).listen(port, host, res));
  return {
    stop: async () => {
      for (const s of stops) s();
      udp.close();
      await new Promise<void>((res) => tcp.close(() => res()));
    },
  };
}
