// kube-proxy's nftables mode, as the `nft -f` transaction its syncProxyRules runs (pkg/proxy/nftables/
// proxier.go): the table `ip kube-proxy`, its base chains on the netfilter hooks, the service-ips map
// dispatching ClusterIP . protocol . port to a service- chain, `numgen random mod N vmap` picking an
// endpoint- chain, which DNATs. Each sync here replaces the table whole in one transaction (atomic, as
// kube-proxy's is); kube-proxy keeps it and edits elements. Left out (docs/control-plane.md): NodePort,
// externalIPs, LoadBalancer, the Local traffic policies, conntrack cleanup.
import { clusterEndpoints, endpointString, hash16, type Endpoint, type ServicePort } from './kube-proxy-state.js';

export interface NftablesOptions {
  /** --cluster-cidr: traffic to a ClusterIP from outside it is masqueraded. */
  clusterCidr: string;
  /** The Service CIDR: an unallocated ClusterIP is dropped (cluster-ips-check). */
  serviceCidr?: string;
  masqueradeBit?: number;
}

export const NFT_TABLE = 'kube-proxy';

// hashAndTruncate: the first 8 base32 characters of sha256(name), "-", the name (never truncated at these lengths)
const base = (name: string) => `${hash16(name).slice(0, 8)}-${name}`;
/** servicePortChainNameBase: "HASH-namespace/service/protocol/portName". */
export const nftServiceChain = (sp: Pick<ServicePort, 'namespace' | 'service' | 'protocol' | 'portName'>) =>
  `service-${base(`${sp.namespace}/${sp.service}/${sp.protocol.toLowerCase()}/${sp.portName}`)}`;
const endpointBase = (sp: Pick<ServicePort, 'namespace' | 'service' | 'protocol' | 'portName'>, ep: Endpoint) =>
  base(`${sp.namespace}/${sp.service}/${sp.protocol.toLowerCase()}/${sp.portName}__${ep.ip}/${ep.port}`);
/** servicePortEndpointChainNameBase: "HASH-namespace/service/protocol/portName__IP/port". */
export const nftEndpointChain = (
  sp: Pick<ServicePort, 'namespace' | 'service' | 'protocol' | 'portName'>,
  ep: Endpoint,
) => `endpoint-${endpointBase(sp, ep)}`;

/**
 * The table's base chains (nftablesBaseChains): filter ones before DNAT, so they see the ClusterIP.
 * kube-proxy asks for dstnat-10 and so on; nft takes the names only on the hooks they belong to, so the
 * others are written as their numbers (dstnat is -100, srcnat 100), as `nft list` prints them on a real node.
 */
const BASE_CHAINS: [string, string, string, string][] = [
  ['filter-prerouting', 'filter', 'prerouting', 'dstnat - 10'],
  ['filter-input', 'filter', 'input', '-110'],
  ['filter-forward', 'filter', 'forward', '-110'],
  ['filter-output', 'filter', 'output', '-110'],
  ['filter-output-post-dnat', 'filter', 'output', '-90'],
  ['nat-prerouting', 'nat', 'prerouting', 'dstnat'],
  ['nat-output', 'nat', 'output', '-100'],
  ['nat-postrouting', 'nat', 'postrouting', 'srcnat'],
];

/** nftablesJumpChains: [to, from, match]. */
const JUMP_CHAINS: [string, string, string][] = [
  ['nodeport-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-forward', 'ct state new'],
  ['service-endpoints-check', 'filter-output', 'ct state new'],
  ['firewall-check', 'filter-prerouting', 'ct state new'],
  ['firewall-check', 'filter-output', 'ct state new'],
  ['services', 'nat-output', ''],
  ['services', 'nat-prerouting', ''],
  ['masquerading', 'nat-postrouting', ''],
  ['cluster-ips-check', 'filter-forward', 'ct state new'],
  ['cluster-ips-check', 'filter-output-post-dnat', 'ct state new'],
];

const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/** The whole transaction for `nft -f -`: the table made anew with every chain, set, map and element. */
export function renderNftables(ports: readonly ServicePort[], opts: NftablesOptions): string {
  const T = `ip ${NFT_TABLE}`;
  const mark = `0x${(1 << (opts.masqueradeBit ?? 14)).toString(16).padStart(8, '0')}`;
  const out: string[] = [
    // add, then delete: the table is replaced whole (and the add makes the delete valid on the first sync)
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment ${q('rules for kube-proxy')} ; }`,
  ];
  const chain = (name: string, comment?: string) =>
    out.push(`add chain ${T} ${name}${comment ? ` { comment ${q(comment)} ; }` : ''}`);
  const rule = (c: string, r: string) => out.push(`add rule ${T} ${c} ${r}`);
  for (const [name, type, hook, prio] of BASE_CHAINS)
    out.push(`add chain ${T} ${name} { type ${type} hook ${hook} priority ${prio} ; }`);
  const made = new Set<string>();
  for (const [to, from, match] of JUMP_CHAINS) {
    if (!made.has(to)) chain(to);
    made.add(to);
    rule(from, `${match ? `${match} ` : ''}jump ${to}`);
  }
  for (const c of ['services', 'cluster-ips-check', 'masquerading', 'mark-for-masquerade']) if (!made.has(c)) chain(c);
  rule('mark-for-masquerade', `mark set mark or ${mark}`);
  rule('masquerading', `mark and ${mark} == 0 return`);
  rule('masquerading', `mark set mark xor ${mark}`);
  rule('masquerading', 'masquerade fully-random');
  out.push(`add set ${T} cluster-ips { type ipv4_addr ; comment ${q('Active ClusterIPs')} ; }`);
  out.push(
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment ${q('Reject traffic to invalid ports of ClusterIPs')}`,
  );
  if (opts.serviceCidr)
    out.push(
      `add rule ${T} cluster-ips-check ip daddr { ${opts.serviceCidr} } drop comment ${q('Drop traffic to unallocated ClusterIPs')}`,
    );
  const map = (name: string, type: string, comment: string) =>
    out.push(`add map ${T} ${name} { type ${type} : verdict ; comment ${q(comment)} ; }`);
  map(
    'no-endpoint-services',
    'ipv4_addr . inet_proto . inet_service',
    'vmap to drop or reject packets to services with no endpoints',
  );
  map(
    'no-endpoint-nodeports',
    'inet_proto . inet_service',
    'vmap to drop or reject packets to service nodeports with no endpoints',
  );
  chain('reject-chain', 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  rule('reject-chain', 'reject');
  rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
  rule('nodeport-endpoints-check', 'ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports');
  map(
    'firewall-ips',
    'ipv4_addr . inet_proto . inet_service',
    'destinations that are subject to LoadBalancerSourceRanges',
  );
  rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips');
  map('service-ips', 'ipv4_addr . inet_proto . inet_service', 'ClusterIP, ExternalIP and LoadBalancer IP traffic');
  map('service-nodeports', 'inet_proto . inet_service', 'NodePort traffic');
  rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips');
  rule('services', 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports');

  const clusterIps = new Set<string>();
  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const eps = clusterEndpoints(sp);
    const key = `${sp.clusterIP} . ${proto} . ${sp.port}`;
    if (!clusterIps.has(sp.clusterIP)) out.push(`add element ${T} cluster-ips { ${sp.clusterIP} }`);
    clusterIps.add(sp.clusterIP);
    if (!eps.length) {
      out.push(`add element ${T} no-endpoint-services { ${key} comment ${q(sp.name)} : goto reject-chain }`);
      continue;
    }
    const svc = nftServiceChain(sp);
    const sticky = sp.stickySeconds;
    for (const ep of eps) chain(nftEndpointChain(sp, ep));
    chain(svc);
    out.push(`add element ${T} service-ips { ${key} : goto ${svc} }`);
    rule(
      svc,
      `ip daddr ${sp.clusterIP} ${proto} dport ${sp.port} ip saddr != ${opts.clusterCidr} jump mark-for-masquerade`,
    );
    if (sticky !== undefined) {
      for (const ep of eps)
        out.push(
          `add set ${T} affinity-${endpointBase(sp, ep)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${sticky}s ; }`,
        );
      for (const ep of eps) rule(svc, `ip saddr @affinity-${endpointBase(sp, ep)} goto ${nftEndpointChain(sp, ep)}`);
    }
    rule(
      svc,
      `numgen random mod ${eps.length} vmap { ${eps.map((ep, i) => `${i} : goto ${nftEndpointChain(sp, ep)}`).join(' , ')} }`,
    );
    for (const ep of eps) {
      const c = nftEndpointChain(sp, ep);
      rule(c, `ip saddr ${ep.ip} jump mark-for-masquerade`);
      if (sticky !== undefined) rule(c, `update @affinity-${endpointBase(sp, ep)} { ip saddr }`);
      rule(c, `meta l4proto ${proto} dnat to ${endpointString(ep)}`);
    }
  }
  return out.join('\n') + '\n';
}
