// The pod's DNS config, as kubelet's GetPodDNS computes it (pkg/kubelet/network/dns/dns.go): from the
// pod's dnsPolicy and dnsConfig, kubelet's --cluster-dns/--cluster-domain and the node's resolv.conf
// (--resolv-conf). The result is the CRI DNSConfig that RunPodSandbox hands to containerd.

export type DnsPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';
export const DNS_POLICIES: readonly DnsPolicy[] = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];

/** The pod's spec.dnsConfig. */
export interface PodDnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/** CRI's DNSConfig: what ends up in the sandbox's resolv.conf. */
export interface CriDnsConfig {
  servers: string[];
  searches: string[];
  /** resolv.conf options, "name" or "name:value" (ndots:5). */
  options: string[];
}

/** kubelet's DNS settings (KubeletConfiguration clusterDNS and clusterDomain, as kubeadm sets them). */
export interface KubeletDns {
  clusterDNS: string[];
  clusterDomain: string;
}

export const DEFAULT_KUBELET_DNS: KubeletDns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' };

/** validation.MaxDNSNameservers and MaxDNSSearchPaths, and the search line's length limit. */
export const DNS_LIMITS = { nameservers: 3, searchPaths: 32, searchListChars: 2048 } as const;

/** ClusterFirst's options (dns.go defaultDNSOptions). */
const DEFAULT_DNS_OPTIONS = ['ndots:5'];

export class PodDnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodDnsError';
  }
}

/** A resolv.conf as kubelet reads it: nameserver lines, the last search line, options lines. */
export function parseResolvConf(text: string): CriDnsConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) servers.push(fields[0]);
    // a later search line replaces an earlier one, as in the resolver
    else if (key === 'search') searches = fields.filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') options.push(...fields);
  }
  return { servers, searches, options };
}

const omitDuplicates = (xs: string[]) => [...new Set(xs)];

/** dns.go mergeDNSOptions: the pod's options override the base's by name (here in first-seen order). */
function mergeOptions(base: string[], pod: { name: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of base) {
    const i = o.indexOf(':');
    if (i >= 0) m.set(o.slice(0, i), o.slice(i + 1));
    else m.set(o, '');
  }
  for (const o of pod) m.set(o.name, o.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

export interface PodDnsInput {
  namespace: string;
  dnsPolicy?: DnsPolicy;
  dnsConfig?: PodDnsConfig;
  /** The pod uses the node's network namespace (none of this lab's pods do). */
  hostNetwork?: boolean;
}

export interface PodDnsResult {
  config: CriDnsConfig;
  /** What kubelet reports as DNSConfigForming events (limits exceeded, no cluster DNS). */
  warnings: string[];
}

/**
 * GetPodDNS: ClusterFirst puts the cluster DNS first, with the search list `<ns>.svc.<domain>
 * svc.<domain> <domain>` plus the node's, and ndots:5; Default takes the node's resolv.conf; None
 * starts empty. The pod's dnsConfig is then appended, and the result cut to the resolver's limits.
 */
export function podDnsConfig(pod: PodDnsInput, kubelet: KubeletDns, nodeResolvConf: string): PodDnsResult {
  const warnings: string[] = [];
  const policy = pod.dnsPolicy ?? 'ClusterFirst';
  if (!DNS_POLICIES.includes(policy))
    throw new PodDnsError(`unknown dnsPolicy "${policy}" (one of ${DNS_POLICIES.join(', ')})`);
  if (policy === 'None' && !pod.dnsConfig)
    throw new PodDnsError('dnsPolicy None needs a dnsConfig: the pod would get an empty resolv.conf');
  const host = parseResolvConf(nodeResolvConf);
  // getPodDNSType: ClusterFirst on the host network falls back to the node's DNS; ClusterFirstWithHostNet does not
  const type =
    policy === 'None'
      ? 'none'
      : policy === 'Default' || (policy === 'ClusterFirst' && pod.hostNetwork)
        ? 'host'
        : 'cluster';
  let config: CriDnsConfig;
  if (type === 'none') config = { servers: [], searches: [], options: [] };
  else if (type === 'cluster' && kubelet.clusterDNS.length) {
    const d = kubelet.clusterDomain;
    const clusterSearch = d ? [`${pod.namespace}.svc.${d}`, `svc.${d}`, d] : [];
    config = {
      servers: [...kubelet.clusterDNS],
      searches: omitDuplicates([...clusterSearch, ...host.searches]),
      options: [...DEFAULT_DNS_OPTIONS],
    };
  } else {
    if (type === 'cluster')
      warnings.push(
        `kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.`,
      );
    config = host;
  }
  if (pod.dnsConfig) {
    const c = pod.dnsConfig;
    config = {
      servers: omitDuplicates([...config.servers, ...(c.nameservers ?? [])]),
      searches: omitDuplicates([...config.searches, ...(c.searches ?? [])]),
      options: mergeOptions(config.options, c.options ?? []),
    };
  }
  // formDNSConfigFitsLimits
  if (config.servers.length > DNS_LIMITS.nameservers) {
    config.servers = config.servers.slice(0, DNS_LIMITS.nameservers);
    warnings.push(
      `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.servers.join(' ')}`,
    );
  }
  let searches = config.searches;
  if (searches.length > DNS_LIMITS.searchPaths) searches = searches.slice(0, DNS_LIMITS.searchPaths);
  while (searches.join(' ').length > DNS_LIMITS.searchListChars) searches = searches.slice(0, -1);
  if (searches.length < config.searches.length) {
    config.searches = searches;
    warnings.push(
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    );
  }
  return { config, warnings };
}

/** The sandbox's resolv.conf as containerd writes it from the DNSConfig (parseDNSOptions). */
export function resolvConfText(c: CriDnsConfig): string {
  let s = '';
  if (c.searches.length) s += `search ${c.searches.join(' ')}\n`;
  for (const n of c.servers) s += `nameserver ${n}\n`;
  if (c.options.length) s += `options ${c.options.join(' ')}\n`;
  return s;
}
