// kube-proxy's iptables mode, as text: what its syncProxyRules writes with `iptables-restore --noflush`
// (pkg/proxy/iptables/proxier.go), for the Services a ClusterIP serves. Chain names, rule order, arguments
// and comments are kube-proxy's own, so `iptables-save` in a lab node reads as it does on a real node.
// Left out (docs/control-plane.md): NodePort, externalIPs, LoadBalancer and the Local traffic policies
// (their chains stay empty), KUBE-FIREWALL (the kubelet's) and conntrack cleanup.
import { clusterEndpoints, endpointString, hash16, type Endpoint, type ServicePort } from './kube-proxy-state.js';

export interface IptablesOptions {
  /** --cluster-cidr: traffic to a ClusterIP from outside it is masqueraded (LocalTrafficDetector by CIDR). */
  clusterCidr: string;
  /** --iptables-masquerade-bit (14 by default: mark 0x4000). */
  masqueradeBit?: number;
  /** The nat table's chains now (iptables-save -t nat): kube-proxy's stale service chains among them are deleted. */
  existingNatChains?: readonly string[];
  /** KUBE-SVC chains whose service did not change since the last sync: their chains are not rewritten (a partial sync). */
  unchanged?: ReadonlySet<string>;
}

/** A jump kube-proxy ensures from a built-in chain (iptablesJumpChains): EnsureChain, then EnsureRule(Prepend). */
export interface JumpRule {
  table: 'filter' | 'nat';
  chain: string;
  from: string;
  args: string[];
}

// pkg/proxy/iptables/proxier.go: portProtoHash, servicePortPolicyClusterChain, servicePortEndpointChainName —
// sha256 of ServicePortName.String() + lowercase protocol (+ the endpoint's "IP:port"), base32, first 16 characters.
export const serviceChain = (sp: Pick<ServicePort, 'name' | 'protocol'>) =>
  `KUBE-SVC-${hash16(sp.name + sp.protocol.toLowerCase())}`;
export const endpointChain = (sp: Pick<ServicePort, 'name' | 'protocol'>, ep: Pick<Endpoint, 'ip' | 'port'>) =>
  `KUBE-SEP-${hash16(sp.name + sp.protocol.toLowerCase() + endpointString(ep))}`;

/** computeProbability: 1/n with ten decimals (%0.10f). */
export const probability = (n: number) => (1 / n).toFixed(10);

/** The mark as NewProxier formats it (%#08x of 1<<bit). */
export const masqueradeMark = (bit = 14) => `0x${(1 << bit).toString(16).padStart(8, '0')}`;

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** iptablesJumpChains in kube-proxy's order (each is prepended, so the last one ends up first); KUBE-FIREWALL is the kubelet's. */
export const JUMPS: readonly JumpRule[] = [
  {
    table: 'filter',
    chain: 'KUBE-EXTERNAL-SERVICES',
    from: 'INPUT',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes externally-visible service portals'],
  },
  {
    table: 'filter',
    chain: 'KUBE-EXTERNAL-SERVICES',
    from: 'FORWARD',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes externally-visible service portals'],
  },
  {
    table: 'filter',
    chain: 'KUBE-NODEPORTS',
    from: 'INPUT',
    args: ['-m', 'comment', '--comment', 'kubernetes health check service ports'],
  },
  {
    table: 'filter',
    chain: 'KUBE-SERVICES',
    from: 'FORWARD',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes service portals'],
  },
  {
    table: 'filter',
    chain: 'KUBE-SERVICES',
    from: 'OUTPUT',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes service portals'],
  },
  {
    table: 'filter',
    chain: 'KUBE-FORWARD',
    from: 'FORWARD',
    args: ['-m', 'comment', '--comment', 'kubernetes forwarding rules'],
  },
  {
    table: 'filter',
    chain: 'KUBE-PROXY-FIREWALL',
    from: 'INPUT',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes load balancer firewall'],
  },
  {
    table: 'filter',
    chain: 'KUBE-PROXY-FIREWALL',
    from: 'OUTPUT',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes load balancer firewall'],
  },
  {
    table: 'filter',
    chain: 'KUBE-PROXY-FIREWALL',
    from: 'FORWARD',
    args: [...NEW, '-m', 'comment', '--comment', 'kubernetes load balancer firewall'],
  },
  {
    table: 'nat',
    chain: 'KUBE-SERVICES',
    from: 'OUTPUT',
    args: ['-m', 'comment', '--comment', 'kubernetes service portals'],
  },
  {
    table: 'nat',
    chain: 'KUBE-SERVICES',
    from: 'PREROUTING',
    args: ['-m', 'comment', '--comment', 'kubernetes service portals'],
  },
  {
    table: 'nat',
    chain: 'KUBE-POSTROUTING',
    from: 'POSTROUTING',
    args: ['-m', 'comment', '--comment', 'kubernetes postrouting rules'],
  },
];

/** The prefixes of the chains kube-proxy makes per service and endpoint (isServiceChainName). */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|SEP|FW|EXT)-/;

/** An argument as iptables-restore reads it: quoted when it has a space (kube-proxy writes those quoted itself). */
const arg = (a: string) => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a);
const line = (...args: string[]) => args.map(arg).join(' ');

/** The whole input kube-proxy gives iptables-restore --noflush on a full sync: its filter chains, then its nat chains. */
export function renderIptables(ports: readonly ServicePort[], opts: IptablesOptions): string {
  const mark = masqueradeMark(opts.masqueradeBit);
  const filterChains = [
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FORWARD',
    'KUBE-NODEPORTS',
    'KUBE-PROXY-FIREWALL',
  ];
  const filterRules: string[] = [];
  const natChains = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
  const natRules: string[] = [
    line('-A', 'KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN'),
    // clear the mark, so a packet that traverses the stack again is not masqueraded twice
    line('-A', 'KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', mark),
    line(
      '-A',
      'KUBE-POSTROUTING',
      '-m',
      'comment',
      '--comment',
      'kubernetes service traffic requiring SNAT',
      '-j',
      'MASQUERADE',
      '--random-fully',
    ),
    line('-A', 'KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', mark),
  ];
  const active = new Set<string>();

  for (const sp of ports) {
    const proto = sp.protocol.toLowerCase();
    const eps = clusterEndpoints(sp);
    const svcChain = serviceChain(sp);
    const match = ['-m', proto, '-p', proto, '-d', sp.clusterIP, '--dport', String(sp.port)];
    if (!eps.length) {
      // no usable endpoint: no nat chains, a REJECT in filter (the client gets "connection refused" at once)
      filterRules.push(
        line(
          '-A',
          'KUBE-SERVICES',
          '-m',
          'comment',
          '--comment',
          `${sp.name} has no endpoints`,
          ...match,
          '-j',
          'REJECT',
        ),
      );
      continue;
    }
    const clusterIpComment = ['-m', 'comment', '--comment', `${sp.name} cluster IP`];
    natRules.push(line('-A', 'KUBE-SERVICES', ...clusterIpComment, ...match, '-j', svcChain));
    active.add(svcChain);
    for (const ep of eps) active.add(endpointChain(sp, ep));
    // unchanged since the last sync: left out of the restore, so --noflush keeps the chains and their counters
    if (opts.unchanged?.has(svcChain)) continue;
    natChains.push(svcChain);
    // off-cluster traffic to a ClusterIP is masqueraded: the reply must come back through this node
    natRules.push(
      line('-A', svcChain, ...clusterIpComment, ...match, '!', '-s', opts.clusterCidr, '-j', 'KUBE-MARK-MASQ'),
    );
    // writeServiceToEndpointRules: affinity first, then 1/n, 1/(n-1), …, the last one unconditional
    if (sp.stickySeconds !== undefined)
      for (const ep of eps)
        natRules.push(
          line(
            '-A',
            svcChain,
            '-m',
            'comment',
            '--comment',
            `${sp.name} -> ${endpointString(ep)}`,
            '-m',
            'recent',
            '--name',
            endpointChain(sp, ep),
            '--rcheck',
            '--seconds',
            String(sp.stickySeconds),
            '--reap',
            '-j',
            endpointChain(sp, ep),
          ),
        );
    eps.forEach((ep, i) => {
      const chance =
        i < eps.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(eps.length - i)] : [];
      natRules.push(
        line(
          '-A',
          svcChain,
          '-m',
          'comment',
          '--comment',
          `${sp.name} -> ${endpointString(ep)}`,
          ...chance,
          '-j',
          endpointChain(sp, ep),
        ),
      );
    });
    for (const ep of eps) {
      const sep = endpointChain(sp, ep);
      natChains.push(sep);
      const head = ['-A', sep, '-m', 'comment', '--comment', sp.name];
      // hairpin: a pod that reaches itself through its Service is masqueraded, or its reply would skip the NAT
      natRules.push(line(...head, '-s', ep.ip, '-j', 'KUBE-MARK-MASQ'));
      const affinity = sp.stickySeconds !== undefined ? ['-m', 'recent', '--name', sep, '--set'] : [];
      natRules.push(
        line(...head, ...affinity, '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', endpointString(ep)),
      );
    }
  }

  // chains of services and endpoints that are gone: a chain line flushes each, then -X deletes it
  for (const c of opts.existingNatChains ?? [])
    if (SERVICE_CHAIN.test(c) && !active.has(c)) {
      natChains.push(c);
      natRules.push(line('-X', c));
    }
  natRules.push(
    line(
      '-A',
      'KUBE-SERVICES',
      '-m',
      'comment',
      '--comment',
      'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
      '-m',
      'addrtype',
      '--dst-type',
      'LOCAL',
      '-j',
      'KUBE-NODEPORTS',
    ),
  );
  filterRules.push(
    line('-A', 'KUBE-FORWARD', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'),
    line(
      '-A',
      'KUBE-FORWARD',
      '-m',
      'comment',
      '--comment',
      'kubernetes forwarding rules',
      '-m',
      'mark',
      '--mark',
      `${mark}/${mark}`,
      '-j',
      'ACCEPT',
    ),
    line(
      '-A',
      'KUBE-FORWARD',
      '-m',
      'comment',
      '--comment',
      'kubernetes forwarding conntrack rule',
      '-m',
      'conntrack',
      '--ctstate',
      'RELATED,ESTABLISHED',
      '-j',
      'ACCEPT',
    ),
  );
  const chainLine = (c: string) => `:${c} - [0:0]`;
  return [
    '*filter',
    ...filterChains.map(chainLine),
    ...filterRules,
    'COMMIT',
    '*nat',
    ...natChains.map(chainLine),
    ...natRules,
    'COMMIT',
    '',
  ].join('\n');
}

/** The nat table's chain names in iptables-save output. */
export function chainsOf(save: string): string[] {
  return [...save.matchAll(/^:(\S+) /gm)].map((m) => m[1]!);
}

/** The empty chain kube-proxy keeps in mangle, nat and filter: gone means someone flushed the tables (ipt.Monitor). */
export const CANARY = 'KUBE-PROXY-CANARY';
const CANARY_TABLES = ['mangle', 'nat', 'filter'];

/** A shell test that every canary chain is still there (exit 0), as kube-proxy's monitor checks every sync period. */
export const canaryCheckScript = () =>
  CANARY_TABLES.map((t) => `iptables -w -t ${t} -S ${CANARY} >/dev/null 2>&1`).join(' && ');

/** One table's part of iptables-save output (from `*table` to its COMMIT). */
export function tableOf(save: string, table: string): string {
  const at = save.indexOf(`*${table}\n`);
  if (at < 0) return '';
  const end = save.indexOf('\nCOMMIT', at);
  return save.slice(at, end < 0 ? undefined : end);
}

/**
 * What a full sync must add before its restore (kube-proxy's EnsureChain/EnsureRule, and the canary
 * chains), read from `iptables-save` of every table: a shell script of the missing pieces, or '' when
 * all are there. A jump is present when its line is, as iptables-save prints it (its arguments are
 * written here in that order already).
 */
export function ensureScript(save: string, jumps: readonly JumpRule[] = JUMPS): string {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const out: string[] = [];
  for (const t of CANARY_TABLES)
    if (!new RegExp(`^:${CANARY} `, 'm').test(tableOf(save, t))) out.push(`iptables -w -t ${t} -N ${CANARY}`);
  const made = new Set<string>();
  for (const j of jumps) {
    const table = tableOf(save, j.table);
    const key = `${j.table}/${j.chain}`;
    if (!made.has(key) && !new RegExp(`^:${j.chain} `, 'm').test(table))
      out.push(`iptables -w -t ${j.table} -N ${j.chain}`);
    made.add(key);
    if (!table.split('\n').includes(line('-A', j.from, ...j.args, '-j', j.chain)))
      out.push(`iptables -w -t ${j.table} -I ${j.from} ${[...j.args, '-j', j.chain].map(q).join(' ')}`);
  }
  return out.length ? ['set -e', ...out].join('\n') : '';
}
