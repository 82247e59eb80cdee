// kube-proxy: its rules as kube-proxy writes them (chain names from its hash, rule order, probabilities,
// comments), applied in real world nodes (iptables-save and nft list show them; a ClusterIP answered by
// pods on both nodes, from a node and from a pod), and end to end with the real kubectl — as root and as nobody.
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bridgeConfList, DEFAULT_CONF_FILE } from '../src-main/cni/defaults.js';
import {
  endpointChain,
  ensureScript,
  probability,
  renderIptables,
  serviceChain,
} from '../src-main/cluster/kube-proxy-iptables.js';
import { nftEndpointChain, nftServiceChain, renderNftables } from '../src-main/cluster/kube-proxy-nftables.js';
import { servicePorts } from '../src-main/cluster/kube-proxy-state.js';
import { NodeRules, startKubeProxy } from '../src-main/cluster/kube-proxy.js';
import type { ApiClient } from '../src-main/cluster/cluster.js';
import { createWorld } from '../src-main/world/world.js';
import { nodeObject } from '../src-main/cluster/node-status.js';
import { installRoutes } from '../src-main/cluster/pod-routes.js';
import type { KubeObject } from '../src-main/cluster/resources.js';
import { buildWorld } from '../src-main/session/world-spec.js';
import { podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 180_000);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

/**
 * kube-proxy's chain hash, derived here without the code under test: sha256, then RFC 4648 base32 of
 * its first 10 bytes (80 bits: exactly 16 characters, the 16 kube-proxy keeps).
 */
function kubeHash(s: string): string {
  const bits = BigInt('0x' + createHash('sha256').update(s).digest().subarray(0, 10).toString('hex'));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 15; i >= 0; i--) out += alphabet[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

/** A Service as the API returns it (kube-apiserver's shape, ClusterIP allocated). */
function service(
  name: string,
  clusterIP: string,
  ports: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], selector: { app: name }, ports, ...extra },
  } as KubeObject;
}

type Cond = { ready?: boolean; serving?: boolean; terminating?: boolean };
/** An EndpointSlice as the EndpointSlice controller writes it. */
function slice(
  svc: string,
  ports: Record<string, unknown>[],
  endpoints: [string, Cond, string?][],
  name = `${svc}-abcde`,
) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.map(([ip, conditions, nodeName]) => ({
      addresses: [ip],
      conditions,
      ...(nodeName ? { nodeName } : {}),
    })),
  } as KubeObject;
}

const READY = { ready: true, serving: true, terminating: false };
const OPTS = { clusterCidr: '10.244.0.0/16' };

describe("kube-proxy's iptables rules, rendered", () => {
  it("chain names are kube-proxy's hash: the ones every real cluster shows for kubernetes and kube-dns", () => {
    const spn = (ns: string, svc: string, portName: string, protocol: 'TCP' | 'UDP') => ({
      name: `${ns}/${svc}:${portName}`,
      protocol,
    });
    // seen in `iptables-save` on any kubeadm cluster
    expect(serviceChain(spn('default', 'kubernetes', 'https', 'TCP'))).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(serviceChain(spn('kube-system', 'kube-dns', 'dns', 'UDP'))).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(serviceChain(spn('kube-system', 'kube-dns', 'metrics', 'TCP'))).toBe('KUBE-SVC-JD5MR3NA4I4DYORP');
    // and as derived here: ServicePortName.String() + protocol (+ "IP:port" for an endpoint)
    expect(serviceChain({ name: 'default/web', protocol: 'TCP' })).toBe(`KUBE-SVC-${kubeHash('default/webtcp')}`);
    expect(endpointChain({ name: 'default/web', protocol: 'TCP' }, { ip: '10.244.1.2', port: 8080 })).toBe(
      `KUBE-SEP-${kubeHash('default/webtcp10.244.1.2:8080')}`,
    );
    expect(probability(3)).toBe('0.3333333333');
  });

  it('a Service with three ready endpoints: the exact lines, in order, with 1/3, 1/2, then unconditional', () => {
    const ports = servicePorts(
      [service('web', '10.96.0.50', [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }])],
      [
        slice(
          'web',
          [{ name: 'http', port: 8080, protocol: 'TCP' }],
          [
            ['10.244.2.2', READY, 'node2'],
            ['10.244.1.10', READY, 'node1'],
            ['10.244.1.2', READY, 'node1'],
            // not ready and not terminating: left out
            ['10.244.1.9', { ready: false, serving: false, terminating: false }, 'node1'],
          ],
        ),
      ],
    );
    const svc = `KUBE-SVC-${kubeHash('default/web:httptcp')}`;
    // endpoints in kube-proxy's byEndpoint order: by the "IP:port" string (so .1.10 before .1.2)
    const [s0, s1, s2] = (['10.244.1.10:8080', '10.244.1.2:8080', '10.244.2.2:8080'] as const).map(
      (e) => [e, `KUBE-SEP-${kubeHash(`default/web:httptcp${e}`)}`] as const,
    ) as [readonly [string, string], readonly [string, string], readonly [string, string]];
    const seps = [s0, s1, s2];
    const nat = renderIptables(ports, OPTS).split('*nat\n')[1]!;
    const lines = nat.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
    ]);
    expect(lines).toContain(`:${svc} - [0:0]`);
    const rules = lines.filter(
      (l) => l.startsWith(`-A ${svc} `) || l.startsWith('-A KUBE-SEP-') || l.includes(`-j ${svc}`),
    );
    expect(rules).toEqual([
      `-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.50 --dport 80 -j ${svc}`,
      `-A ${svc} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.50 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
      `-A ${svc} -m comment --comment "default/web:http -> ${s0[0]}" -m statistic --mode random --probability 0.3333333333 -j ${s0[1]}`,
      `-A ${svc} -m comment --comment "default/web:http -> ${s1[0]}" -m statistic --mode random --probability 0.5000000000 -j ${s1[1]}`,
      `-A ${svc} -m comment --comment "default/web:http -> ${s2[0]}" -j ${s2[1]}`,
      ...seps.flatMap(([e, c]) => [
        `-A ${c} -m comment --comment default/web:http -s ${e.split(':')[0]} -j KUBE-MARK-MASQ`,
        `-A ${c} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination ${e}`,
      ]),
    ]);
    // the masquerade machinery, and KUBE-NODEPORTS last in KUBE-SERVICES
    expect(nat).toContain('-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN\n');
    expect(nat).toContain('-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000\n');
    expect(nat).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n');
    expect(lines.filter((l) => l.startsWith('-A KUBE-SERVICES')).at(-1)).toContain('-j KUBE-NODEPORTS');
    expect(nat.trimEnd().endsWith('COMMIT')).toBe(true);
  });

  it('no ready endpoint: serving-and-terminating ones are used; none at all: a REJECT in filter, no nat chain', () => {
    const ports = servicePorts(
      [service('a', '10.96.0.51', [{ port: 80 }]), service('b', '10.96.0.52', [{ port: 80 }])],
      [
        slice(
          'a',
          [{ name: '', port: 80, protocol: 'TCP' }],
          [
            ['10.244.1.3', { ready: false, serving: true, terminating: true }],
            ['10.244.1.4', { ready: false, serving: false, terminating: true }],
          ],
        ),
        slice('b', [{ name: '', port: 80, protocol: 'TCP' }], [['10.244.1.5', { ready: false, serving: false }]]),
      ],
    );
    const text = renderIptables(ports, OPTS);
    const [filter, nat] = text.split('*nat\n') as [string, string];
    expect(nat).toContain(
      `-A KUBE-SVC-${kubeHash('default/atcp')} -m comment --comment "default/a -> 10.244.1.3:80" -j KUBE-SEP-`,
    );
    expect(nat).not.toContain('10.244.1.4');
    expect(filter).toContain(
      '-A KUBE-SERVICES -m comment --comment "default/b has no endpoints" -m tcp -p tcp -d 10.96.0.52 --dport 80 -j REJECT\n',
    );
    expect(nat).not.toContain('10.96.0.52');
  });

  it("the stale chains of a gone endpoint are flushed and deleted; other tables' chains are not touched", () => {
    const gone = `KUBE-SEP-${kubeHash('default/webtcp10.244.2.2:80')}`;
    const text = renderIptables(
      servicePorts(
        [service('web', '10.96.0.50', [{ port: 80 }])],
        [slice('web', [{ name: '', port: 80, protocol: 'TCP' }], [['10.244.1.2', READY]])],
      ),
      { ...OPTS, existingNatChains: ['PREROUTING', 'CNI-HOSTPORT-DNAT', gone, 'KUBE-SERVICES'] },
    );
    expect(text).toContain(`:${gone} - [0:0]\n`);
    expect(text).toContain(`-X ${gone}\n`);
    expect(text).not.toContain('CNI-HOSTPORT-DNAT');
    expect(text).not.toMatch(/^:(PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD) /m);
  });

  it('ClientIP affinity: the recent-match rules before the random ones, and --set in each endpoint chain', () => {
    const text = renderIptables(
      servicePorts(
        [
          service('s', '10.96.0.53', [{ port: 80 }], {
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
          }),
        ],
        [
          slice(
            's',
            [{ name: '', port: 80, protocol: 'TCP' }],
            [
              ['10.244.1.2', READY],
              ['10.244.2.2', READY],
            ],
          ),
        ],
      ),
      OPTS,
    );
    const sep = `KUBE-SEP-${kubeHash('default/stcp10.244.1.2:80')}`;
    expect(text).toContain(`-m recent --name ${sep} --rcheck --seconds 60 --reap -j ${sep}`);
    expect(text).toContain(
      `-A ${sep} -m comment --comment default/s -m recent --name ${sep} --set -m tcp -p tcp -j DNAT`,
    );
  });
});

describe("kube-proxy's full sync: the jumps it ensures", () => {
  it('on a node without them: the canary chains, each jump chain and its jump; once all are there: nothing', () => {
    const script = ensureScript('');
    expect(script).toContain('iptables -w -t mangle -N KUBE-PROXY-CANARY');
    expect(script).toContain(
      "iptables -w -t nat -I PREROUTING '-m' 'comment' '--comment' 'kubernetes service portals' '-j' 'KUBE-SERVICES'",
    );
    expect(script.match(/-N KUBE-SERVICES/g)).toHaveLength(2); // filter and nat
    const save = [
      '*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT',
      '*filter\n:KUBE-PROXY-CANARY - [0:0]',
      ...['KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'].map(
        (c) => `:${c} - [0:0]`,
      ),
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'COMMIT',
      '*nat\n:KUBE-PROXY-CANARY - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      'COMMIT',
    ].join('\n');
    // as iptables-save prints a node kube-proxy has synced: nothing to add
    expect(ensureScript(save)).toBe('');
    expect(ensureScript(save.replace(/^-A POSTROUTING .*\n/m, ''))).toBe(
      "set -e\niptables -w -t nat -I POSTROUTING '-m' 'comment' '--comment' 'kubernetes postrouting rules' '-j' 'KUBE-POSTROUTING'",
    );
  });
});

describe("kube-proxy's nftables rules, rendered", () => {
  it("table ip kube-proxy: the service-ips map, numgen random mod N vmap, kube-proxy's chain names", () => {
    const ports = servicePorts(
      [service('web', '10.96.0.50', [{ name: 'http', port: 80 }])],
      [
        slice(
          'web',
          [{ name: 'http', port: 80, protocol: 'TCP' }],
          [
            ['10.244.1.2', READY],
            ['10.244.2.2', READY],
          ],
        ),
      ],
    );
    const sp = ports[0]!;
    // hashAndTruncate: 8 base32 characters of the name's sha256, "-", the name
    const svc = `service-${kubeHash('default/web/tcp/http').slice(0, 8)}-default/web/tcp/http`;
    expect(nftServiceChain(sp)).toBe(svc);
    const ep1 = `endpoint-${kubeHash('default/web/tcp/http__10.244.1.2/80').slice(0, 8)}-default/web/tcp/http__10.244.1.2/80`;
    expect(nftEndpointChain(sp, sp.endpoints[0]!)).toBe(ep1);
    const text = renderNftables(ports, OPTS);
    expect(text).toContain(`add element ip kube-proxy service-ips { 10.96.0.50 . tcp . 80 : goto ${svc} }`);
    expect(text).toContain(
      `add rule ip kube-proxy ${svc} numgen random mod 2 vmap { 0 : goto ${ep1} , 1 : goto ${nftEndpointChain(sp, sp.endpoints[1]!)} }`,
    );
    expect(text).toContain(`add rule ip kube-proxy ${ep1} meta l4proto tcp dnat to 10.244.1.2:80`);
    expect(text).toContain('add rule ip kube-proxy nat-prerouting jump services');
  });
});

/** Each pod serves its own name (busybox httpd over a folder of its own), so a client sees which one answered. */
const NAMED_HTTPD = (name: string) => [
  'sh',
  '-c',
  `mkdir -p /tmp/${name} && echo ${name} > /tmp/${name}/index.html && exec httpd -f -p 80 -h /tmp/${name}`,
];

describe('kube-proxy in real world nodes (hand-built Service and EndpointSlice)', () => {
  it('iptables then nftables: a ClusterIP answered by pods on both nodes, from a node and from a pod; no endpoints: refused; an endpoint removed: its rules go', async () => {
    const names = ['node1', 'node2'];
    const { world, kubelet } = await buildWorld({
      nodes: names,
      loopback: 'plugin',
      configs: Object.fromEntries(
        names.map((n, i) => [n, { file: DEFAULT_CONF_FILE, text: bridgeConfList(`10.244.${i + 1}.0/24`) }]),
      ),
      pods: [
        { name: 'web1', node: 'node1', containers: [{ name: 'httpd', command: NAMED_HTTPD('web1') }] },
        { name: 'web2', node: 'node2', containers: [{ name: 'httpd', command: NAMED_HTTPD('web2') }] },
        { name: 'client', node: 'node1', containers: [{ name: 'sleep', command: ['sleep', '3600'] }] },
      ],
      prepare: [],
    });
    try {
      // the routes from the Node objects as the kubelet registers them (spec.podCIDR, InternalIP)
      const nodes = names.map((n) => nodeObject(world, kubelet, n));
      for (const n of names) await installRoutes(world, n, nodes);
      const ip = (p: string) => kubelet.pods.get(`default/${p}`)!.ip;
      const client = kubelet.pods.get('default/client')!;
      const sh = (node: string, cmd: string) =>
        world.exec({ kind: 'node', node }, ['sh', '-c', cmd], { timeoutMs: 60_000 });
      const inClient = (cmd: string) =>
        world.exec({ kind: 'pod', node: 'node1', netns: client.netns }, ['sh', '-c', cmd], { timeoutMs: 60_000 });
      const twenty = (url: string) => `for i in $(seq 20); do wget -qO- -T 3 ${url} 2>&1; done`;

      // routes: node2 reaches node1's pod CIDR via node1's underlay address, and has the Service CIDR
      expect((await sh('node2', 'ip route')).stdout).toMatch(/^10\.244\.1\.0\/24 via 192\.0\.2\.11 dev eth0/m);
      expect((await sh('node2', 'ip route')).stdout).toMatch(/^10\.96\.0\.0\/12 dev eth0/m);
      // pod → pod across nodes, with the default bridge conflist (isGateway, no ipMasq)
      expect((await inClient(`wget -qO- -T 3 http://${ip('web2')}/`)).stdout.trim()).toBe('web2');

      const services = [service('web', '10.96.0.50', [{ port: 80 }]), service('empty', '10.96.0.51', [{ port: 80 }])];
      const both = slice(
        'web',
        [{ name: '', port: 80, protocol: 'TCP' }],
        [
          [ip('web1'), READY, 'node1'],
          [ip('web2'), READY, 'node2'],
        ],
      );
      const none = slice(
        'empty',
        [{ name: '', port: 80, protocol: 'TCP' }],
        [[ip('web1'), { ready: false, serving: false }]],
      );
      const rules = names.map((n) => new NodeRules(world, n));
      for (const r of rules) await r.sync(services, [both, none]);

      const svc = `KUBE-SVC-${kubeHash('default/webtcp')}`;
      const sep = (p: string) => `KUBE-SEP-${kubeHash(`default/webtcp${ip(p)}:80`)}`;
      const [first, second] = [ip('web1'), ip('web2')].sort((a, b) => (`${a}:80` < `${b}:80` ? -1 : 1));
      const save = (await sh('node2', 'iptables-save -t nat')).stdout;
      // as iptables-save prints kube-proxy's rules on a real node
      expect(save).toContain(
        `-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j ${svc}\n`,
      );
      expect(save).toContain(
        `-A ${svc} -m comment --comment "default/web -> ${first}:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-`,
      );
      expect(save).toContain(`-A ${svc} -m comment --comment "default/web -> ${second}:80" -j KUBE-SEP-`);
      expect(save).toContain(
        `-A ${sep('web2')} -p tcp -m comment --comment "default/web" -m tcp -j DNAT --to-destination ${ip('web2')}:80\n`,
      );
      expect(save).toContain('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n');
      expect(save).toContain(
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n',
      );

      // from node2 and from the client pod on node1: both backends answer over repeated requests
      const fromNode = (await sh('node2', twenty('http://10.96.0.50/'))).stdout.split('\n').filter(Boolean);
      expect(new Set(fromNode)).toEqual(new Set(['web1', 'web2']));
      const fromPod = (await inClient(twenty('http://10.96.0.50/'))).stdout.split('\n').filter(Boolean);
      expect(new Set(fromPod)).toEqual(new Set(['web1', 'web2']));

      // no ready endpoint: REJECT in filter, so the client is refused at once
      expect((await sh('node2', 'iptables-save -t filter')).stdout).toContain(
        '-A KUBE-SERVICES -d 10.96.0.51/32 -p tcp -m comment --comment "default/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n',
      );
      expect((await sh('node2', 'wget -O- -T 3 http://10.96.0.51/ 2>&1; echo "exit $?"')).stdout).toMatch(
        /Connection refused[\s\S]*exit [1-9]/,
      );

      // a partial sync (another Service added) leaves web's chains, and their counters, as they were
      const dnatCount = async () =>
        Number(
          /^\[(\d+):\d+\] -A KUBE-SEP-\S+ .*DNAT/m.exec((await sh('node2', 'iptables-save -c -t nat')).stdout)?.[1],
        );
      const counted = await dnatCount();
      expect(counted).toBeGreaterThan(0);
      const extra = service('extra', '10.96.0.52', [{ port: 81 }]);
      for (const r of rules) await r.sync([...services, extra], [both, none]);
      expect(await dnatCount()).toBe(counted);
      expect((await sh('node2', 'iptables-save -t filter')).stdout).toContain('"default/extra has no endpoints"');

      // tables flushed behind kube-proxy's back: the canary chains are gone, and a full sync puts everything back
      await sh('node2', 'iptables -t nat -F && iptables -t nat -X');
      expect(await rules[1]!.intact()).toBe(false);
      await rules[1]!.sync(services, [both, none], true);
      expect(await rules[1]!.intact()).toBe(true);
      expect((await sh('node2', 'iptables-save -t nat')).stdout).toContain(`-j ${svc}\n`);

      // web2 leaves the slice: its chain goes, the rest stays, web1 answers alone
      const one = slice('web', [{ name: '', port: 80, protocol: 'TCP' }], [[ip('web1'), READY, 'node1']]);
      for (const r of rules) await r.sync(services, [one, none]);
      const after = (await sh('node2', 'iptables-save -t nat')).stdout;
      expect(after).not.toContain(sep('web2'));
      expect(after).toContain(`-A ${svc} -m comment --comment "default/web -> ${ip('web1')}:80" -j ${sep('web1')}\n`);
      expect(new Set((await sh('node2', twenty('http://10.96.0.50/'))).stdout.split('\n').filter(Boolean))).toEqual(
        new Set(['web1']),
      );

      // nftables mode: kube-proxy's iptables chains cleared (as --cleanup would), then the table ip kube-proxy
      for (const n of names) await sh(n, 'iptables -t nat -F && iptables -t nat -X && iptables -F && iptables -X');
      const nft = names.map((n) => new NodeRules(world, n, { mode: 'nftables' }));
      for (const r of nft) await r.sync(services, [both, none]);
      const ruleset = (await sh('node2', 'nft list table ip kube-proxy')).stdout;
      expect(ruleset).toMatch(
        /map service-ips \{[\s\S]*10\.96\.0\.50 \. tcp \. 80 : goto service-[A-Z2-7]{8}-default\/web\/tcp\//,
      );
      expect(ruleset).toMatch(
        /numgen random mod 2 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-default\/web\/tcp\/__10\.244\.\d\.2\/80, 1 : goto endpoint-/,
      );
      expect(new Set((await sh('node2', twenty('http://10.96.0.50/'))).stdout.split('\n').filter(Boolean))).toEqual(
        new Set(['web1', 'web2']),
      );
      expect(new Set((await inClient(twenty('http://10.96.0.50/'))).stdout.split('\n').filter(Boolean))).toEqual(
        new Set(['web1', 'web2']),
      );
      expect((await sh('node2', 'wget -O- -T 3 http://10.96.0.51/ 2>&1; echo "exit $?"')).stdout).toMatch(
        /Connection refused[\s\S]*exit [1-9]/,
      );
    } finally {
      await kubelet.close();
      await world.destroy();
    }
  }, 240_000);
});

/** The whole path with the real kubectl: pods and a Service applied, the EndpointSlice, kube-proxy's rules, answers. */
const E2E = String.raw`
mark() { echo "=== $1"; }
pod() { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: {app: %s}}\nspec:\n  nodeName: %s\n  containers: [{name: c, image: busybox, command: [sh, -c, "%s"]}]\n' "$1" "$2" "$3" "$4" | kubectl apply -f - >/dev/null; }
serve() { echo "mkdir -p /tmp/$1 && echo $1 > /tmp/$1/index.html && exec httpd -f -p 80 -h /tmp/$1"; }
pod web1 web node1 "$(serve web1)"
pod web2 web node2 "$(serve web2)"
pod client client node2 "exec sleep 3600"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: empty}\nspec:\n  selector: {app: nothing}\n  ports: [{port: 80}]\n' | kubectl apply -f -
kubectl wait --for=condition=Ready pod/web1 pod/web2 pod/client --timeout=60s >/dev/null
IP=$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')
EMPTY=$(kubectl get svc empty -o jsonpath='{.spec.clusterIP}')
# kube-proxy writes once the slice lists both pods
for i in $(seq 100); do [ "$(backends)" = 2 ] && break; sleep 0.1; done
mark ip; echo "$IP"
mark rules; rules
mark node; for i in $(seq 20); do wget -qO- -T 3 "http://$IP/"; done
CIP=$(kubectl get pod client -o jsonpath='{.status.podIP}')
for ns in /run/netns/*; do nsenter --net="$ns" ip -4 -o addr show | grep -q " $CIP/" && NS=$ns; done
mark pod; for i in $(seq 20); do nsenter --net="$NS" wget -qO- -T 3 "http://$IP/"; done
mark empty; wget -O- -T 3 "http://$EMPTY/" 2>&1; echo "exit $?"
mark dns; nsenter --net="$NS" nslookup web.default.svc.cluster.local 10.96.0.10 2>&1
mark dns-rules; dnsrules
kubectl delete pod web2 >/dev/null
for i in $(seq 100); do [ "$(backends)" = 1 ] && break; sleep 0.1; done
mark after; rules
mark node-after; for i in $(seq 10); do wget -qO- -T 3 "http://$IP/"; done
mark end
`;
/** Each mode's rules as a learner reads them, and how many backends the web Service has there. */
const IPTABLES_RULES = String.raw`
rules() { iptables-save -t nat | grep -e 'default/web'; iptables-save -t filter | grep 'has no endpoints'; }
backends() { iptables-save -t nat | grep -c 'default/web -> '; }
dnsrules() { iptables-save -t nat | grep -e '-A KUBE-SERVICES .*kube-dns'; }
`;
const NFT_RULES = String.raw`
rules() { nft list table ip kube-proxy; }
backends() { nft list table ip kube-proxy | grep numgen | grep 'default/web/' | grep -o 'goto endpoint' | wc -l; }
dnsrules() { nft list map ip kube-proxy service-ips | grep -o '10.96.0.10 [^,]*'; }
`;

const answers = (out: string, name: string) => section(out, name).split('\n').filter(Boolean);

function expectServiceWorks(out: string): void {
  const ip = section(out, 'ip').trim();
  expect(ip).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
  expect(new Set(answers(out, 'node'))).toEqual(new Set(['web1', 'web2']));
  expect(new Set(answers(out, 'pod'))).toEqual(new Set(['web1', 'web2']));
  expect(section(out, 'empty')).toMatch(/Connection refused[\s\S]*exit [1-9]/);
  // a pod's DNS query to kube-dns' ClusterIP goes through kube-proxy's UDP rules to the DNS stand-in
  expect(section(out, 'dns')).toMatch(new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}\\b`));
  expect(new Set(answers(out, 'node-after'))).toEqual(new Set(['web1']));
}

describe('kube-proxy end to end: the real kubectl, the API, the EndpointSlice controller, kube-proxy on each node', () => {
  it('as root (iptables mode): kubectl apply of pods and a Service, then node2 and a pod on node2 are answered by both; a pod deleted leaves the rules', async () => {
    const r = await podnet(['cluster', '--on', 'node2', '--', IPTABLES_RULES + E2E]);
    expect(r.stderr).toMatch(/kube-proxy in iptables mode on every node/);
    expectServiceWorks(r.stdout);
    const ip = section(r.stdout, 'ip').trim();
    const svc = `KUBE-SVC-${kubeHash('default/webtcp')}`;
    const rules = section(r.stdout, 'rules');
    expect(rules).toContain(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j ${svc}`,
    );
    expect(rules).toMatch(
      new RegExp(
        `-A ${svc} -m comment --comment "default/web -> 10\\.244\\.1\\.\\d+:80" -m statistic --mode random --probability 0\\.50000000000 -j KUBE-SEP-`,
      ),
    );
    expect(rules).toContain(
      '--comment "default/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    );
    expect(section(r.stdout, 'after')).not.toMatch(/10\.244\.2\.\d+:80/);
    // kube-dns' chains carry the names they have on every kubeadm cluster
    expect(section(r.stdout, 'dns-rules')).toContain(
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    );
    expect(section(r.stdout, 'dns-rules')).toContain(
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4',
    );
    expect(r.code).toBe(0);
  }, 200_000);

  it('as an unprivileged user, the same', () => {
    const r = spawnAsNobody(
      [process.execPath, PODNET, 'cluster', '--on', 'node2', '--', IPTABLES_RULES + E2E],
      180_000,
    );
    expectServiceWorks(r.stdout);
    expect(r.status).toBe(0);
  }, 200_000);

  it('--proxy-mode nftables: table ip kube-proxy, the same answers', async () => {
    const r = await podnet(['cluster', '--on', 'node2', '--proxy-mode', 'nftables', '--', NFT_RULES + E2E]);
    expect(r.stderr).toMatch(/kube-proxy in nftables mode on every node/);
    expectServiceWorks(r.stdout);
    const ip = section(r.stdout, 'ip').trim();
    expect(section(r.stdout, 'rules')).toMatch(
      new RegExp(`${ip.replace(/\./g, '\\.')} \\. tcp \\. 80 : goto service-[A-Z2-7]{8}-default/web/tcp/`),
    );
    expect(r.code).toBe(0);
  }, 200_000);

  it("a sync that fails (a learner's rule holds a chain kube-proxy deletes) is reported, retried each second, and recovers", async () => {
    const r = await podnet([
      'cluster',
      '--nodes',
      '1',
      '--',
      String.raw`
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec:\n  containers: [{name: c, image: busybox}]\n' | kubectl apply -f - >/dev/null
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n' | kubectl apply -f - >/dev/null
for i in $(seq 100); do iptables-save -t nat | grep -q "default/web -> " && break; sleep 0.1; done
SEP=$(iptables-save -t nat | grep -- '-A KUBE-SEP-.*default/web' | head -1 | awk '{print $2}')
iptables -t nat -I OUTPUT -d 192.0.2.99 -j "$SEP"
kubectl delete pod web --wait >/dev/null
sleep 2
echo "=== held"; iptables-save -t nat | grep -c "^:$SEP "
iptables -t nat -D OUTPUT -d 192.0.2.99 -j "$SEP"
sleep 2
echo "=== released"; iptables-save -t nat | grep -c "^:$SEP "
echo "=== end"`,
    ]);
    expect(r.stderr).toMatch(/podnet cluster: kube-proxy on node1: iptables-restore failed: /);
    expect(r.stderr).toContain('podnet cluster: kube-proxy on node1 synced again');
    expect(section(r.stdout, 'held').trim()).toBe('1');
    expect(section(r.stdout, 'released').trim()).toBe('0');
  }, 200_000);

  it('--proxy-mode other: a usage error that names the modes', async () => {
    const r = await podnet(['cluster', '--proxy-mode', 'ipvs', '--', 'true']);
    expect(r.stderr).toContain('--proxy-mode must be iptables or nftables');
    expect(r.code).not.toBe(0);
  }, 60_000);
});

describe("kube-proxy's loop when the API server ends a watch", () => {
  it('the reopened watch replays only what exists: a Service deleted in the gap is found by a fresh list, and its rules go', async () => {
    // a stand-in for the API server's watch timeout (30 min): it lists a mutable store and lets the test end and reopen
    // the watches as Cluster.watch does (current objects as ADDED, no DELETED for what went in between)
    const store = {
      services: new Map<string, KubeObject>(),
      slices: new Map<string, KubeObject>(),
    };
    const watchers = new Map<string, (type: string, o: KubeObject) => void>();
    const which = (path: string) => (path.includes('endpointslices') ? 'slices' : 'services');
    let lists = 0;
    const scriptedApiServer: ApiClient = {
      call: async <T>(_m: string, path: string) => {
        lists++;
        return { items: [...store[which(path)].values()] } as T;
      },
      watch: (path, on) => {
        watchers.set(which(path), on);
        for (const o of store[which(path)].values()) on('ADDED', o);
        return () => watchers.delete(which(path));
      },
    };
    const put = (kind: 'services' | 'slices', o: KubeObject, rv: number) => {
      o.metadata!.resourceVersion = String(rv);
      store[kind].set(o.metadata!.name!, o);
      watchers.get(kind)?.('ADDED', o);
    };
    const world = await createWorld({ nodes: 1 });
    const synced: string[] = [];
    const stop = startKubeProxy(scriptedApiServer, world, 'node1', { onSync: (r) => synced.push(r.error ?? 'ok') });
    const rulesNow = async () => await world.run({ kind: 'node', node: 'node1' }, ['iptables-save', '-t', 'nat']);
    const until = async (what: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await what()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await what()).toBe(true);
    };
    try {
      put('services', service('a', '10.96.0.60', [{ port: 80 }]), 10);
      put('slices', slice('a', [{ name: '', port: 80, protocol: 'TCP' }], [['10.244.1.2', READY]]), 11);
      await until(async () => (await rulesNow()).includes('"default/a cluster IP"'));
      const listed = lists;
      // the watch ends and reopens (Cluster.watch calls the same callback again); Service a was deleted in the gap,
      // so the replay has the slice alone, unchanged: kube-proxy lists again and writes a's rules no more
      store.services.delete('a');
      for (const kind of ['services', 'slices'] as const)
        for (const o of store[kind].values()) watchers.get(kind)!('ADDED', o);
      await until(async () => !(await rulesNow()).includes('default/a'));
      expect(lists).toBe(listed + 2);
    } finally {
      stop();
      await world.destroy();
    }
    expect(synced.every((s) => s === 'ok')).toBe(true);
  }, 60_000);

  it("after a burst of two syncs, a change waits for the minimum sync period (kube-proxy's BoundedFrequencyRunner)", async () => {
    const store = { services: new Map<string, KubeObject>(), slices: new Map<string, KubeObject>() };
    const watchers = new Map<string, (type: string, o: KubeObject) => void>();
    const which = (path: string) => (path.includes('endpointslices') ? 'slices' : 'services');
    const scriptedApiServer: ApiClient = {
      call: async <T>(_m: string, path: string) => ({ items: [...store[which(path)].values()] }) as T,
      watch: (path, on) => {
        watchers.set(which(path), on);
        return () => watchers.delete(which(path));
      },
    };
    const put = (name: string, ip: string) => {
      const svc = service(name, ip, [{ port: 80 }]);
      svc.metadata!.resourceVersion = String(store.services.size + 10);
      store.services.set(name, svc);
      watchers.get('services')?.('ADDED', svc);
    };
    const world = await createWorld({ nodes: 1 });
    const synced: string[] = [];
    // a long period, so that the bucket cannot refill while the test looks
    const stop = startKubeProxy(scriptedApiServer, world, 'node1', {
      minSyncPeriodMs: 8000,
      onSync: (r) => synced.push(r.error ?? 'ok'),
    });
    const rulesNow = async () => await world.run({ kind: 'node', node: 'node1' }, ['iptables-save', '-t', 'filter']);
    const until = async (what: () => Promise<boolean>, tries = 300) => {
      for (let i = 0; i < tries && !(await what()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await what()).toBe(true);
    };
    try {
      await until(async () => synced.length >= 1); // the first sync: one of the burst's two
      put('a', '10.96.0.61'); // the second, at once
      await until(async () => (await rulesNow()).includes('"default/a has no endpoints"'));
      expect(synced).toEqual(['ok', 'ok']);
      put('b', '10.96.0.62'); // the bucket is empty: b waits for the period
      await new Promise((r) => setTimeout(r, 1500));
      expect(await rulesNow()).not.toContain('default/b');
      expect(synced).toHaveLength(2);
      put('c', '10.96.0.63'); // and is written with what came meanwhile, in one sync
      await until(async () => (await rulesNow()).includes('"default/c has no endpoints"'));
      expect(await rulesNow()).toContain('"default/b has no endpoints"');
      expect(synced).toEqual(['ok', 'ok', 'ok']);
    } finally {
      stop();
      await world.destroy();
    }
  }, 60_000);
});
