// ClusterIP allocation as kube-apiserver 1.36 does it (the MultiCIDRServiceAllocator, GA since 1.33):
// every allocated address is an IPAddress object at /registry/ipaddresses/IP, created only if absent
// (an etcd transaction), whose parentRef names its Service; a Service's delete releases it. The range is
// kube's default service CIDR, 10.96.0.0/12; a dynamic address comes from above the range's lower band
// (the first 256 addresses, kept for addresses Services ask for, such as kube-dns' 10.96.0.10).
import type { EtcdStore } from './etcd-store.js';
import type { KubeObject } from './resources.js';

export const SERVICE_CIDR = '10.96.0.0/12';
/** kube-apiserver's own Service (`kubernetes` in default) takes the range's first address. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIPv4 = (s: unknown): s is string => typeof s === 'string' && IPV4.test(s);
/** Rough IPv6 shape: enough to tell a family apart (Go's net.ParseIP decides on a real server). */
export const isIPv6 = (s: unknown): s is string =>
  typeof s === 'string' && /^[0-9a-fA-F:.]+$/.test(s) && s.includes(':');

const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

const [base, bits] = SERVICE_CIDR.split('/') as [string, string];
const FIRST = toInt(base);
const SIZE = 2 ** (32 - Number(bits));
/** The band kept for requested addresses: size/16, at least 16, at most 256 (kube's calculateRangeOffset). */
const BAND = Math.min(Math.max(SIZE / 16, 16), 256);

/** Whether an address is one a Service may have: in the range, neither its network nor its broadcast address. */
export function inServiceRange(ip: string): boolean {
  const n = toInt(ip);
  return n > FIRST && n < FIRST + SIZE - 1;
}

/** The API's Invalid for spec.clusterIPs, as alloc.go words it. */
export class AllocationError extends Error {}

export class ServiceIPs {
  constructor(private readonly store: EtcdStore) {}

  private static key = (ip: string) => `/registry/ipaddresses/${ip}`;

  private static ipAddress(ip: string, svc: KubeObject): string {
    return JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: {
        name: ip,
        labels: {
          'ipaddress.kubernetes.io/ip-family': 'IPv4',
          'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
        },
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      spec: {
        parentRef: { group: '', resource: 'services', namespace: svc.metadata?.namespace, name: svc.metadata?.name },
      },
    });
  }

  /** Takes the Service's requested address, or the next free one; answers the address. */
  async allocate(svc: KubeObject, requested: string | undefined): Promise<string> {
    if (requested) {
      const fail = (why: string) => new AllocationError(`failed to allocate IP ${requested}: ${why}`);
      // the meta-allocator finds no ServiceCIDR that holds the address
      if (!inServiceRange(requested)) throw fail('the provided network does not match the current range');
      const rev = await this.store.putIf(ServiceIPs.key(requested), ServiceIPs.ipAddress(requested, svc), 0);
      if (rev === undefined) throw fail('provided IP is already allocated');
      return requested;
    }
    // a random start above the band, then on through the range (wrapping), as AllocateNext walks it
    const span = SIZE - 1 - BAND;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const ip = toIp(FIRST + BAND + ((start + i) % span));
      const rev = await this.store.putIf(ServiceIPs.key(ip), ServiceIPs.ipAddress(ip, svc), 0);
      if (rev !== undefined) return ip;
      if (i > 64) {
        // a crowded range: find the free ones from the store rather than trying blind
        const { items } = await this.store.list('/registry/ipaddresses/');
        const used = new Set(items.map((s) => s.key.slice('/registry/ipaddresses/'.length)));
        for (let j = 0; j < span; j++) {
          const cand = toIp(FIRST + BAND + ((start + j) % span));
          if (!used.has(cand) && (await this.store.putIf(ServiceIPs.key(cand), ServiceIPs.ipAddress(cand, svc), 0)))
            return cand;
        }
        break;
      }
    }
    throw new AllocationError(`failed to allocate a serviceIP: range is full`);
  }

  /** Releases an address a Service held (nothing if it is gone already). */
  async release(ip: string): Promise<void> {
    const cur = await this.store.get(ServiceIPs.key(ip));
    if (cur) await this.store.deleteIf(ServiceIPs.key(ip), cur.modRevision);
  }
}
