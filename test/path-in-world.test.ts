// Follow a packet in the running world (issue #21): the engine's path.follow for each kind — ping pod → pod on
// one node and across nodes, node → pod, TCP to a Service (its DNAT from the firewall's trace), UDP to a pod's
// port — each hop proved against the namespace's own `ip -json` view; a dropped packet's reason; the errors;
// `podnet path FROM TO` in a node through the engine socket, and the socket's attacks; as root and as nobody.
// Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PathResult } from '../src-main/path/follow.js';
import { expectLegs, lastJsonOf, legOf } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/path-in-world.mjs');

interface KernelView {
  links: {
    ifindex: number;
    ifname: string;
    link_index?: number;
    master?: string;
    linkinfo?: { info_kind?: string };
  }[];
  addrs: { ifname: string; addr_info: { local: string; prefixlen: number; family: string }[] }[];
  routes: { dst: string; gateway?: string; dev: string }[];
}
type Try<T> = { result: T; error?: undefined } | { error: string; result?: undefined };
interface Report {
  pods: Record<string, { node: string; ip: string; netns: string }>;
  svcIp: string;
  follows: Record<'sameNode' | 'crossNode' | 'nodeToPod' | 'service' | 'udp', Try<PathResult>>;
  errors: Record<string, { error: string | null } | { first: string; second: { error: string } }>;
  cli: { code: number; stdout: string; stderr: string };
  cliJson: { code: number; stdout: string; stderr: string };
  cliError: { code: number; stdout: string; stderr: string };
  attacks: Record<string, string>;
  flood: string;
  afterFlood: string;
  broken: Try<PathResult>;
  unsent: Try<PathResult>;
  kernel: Record<string, KernelView>;
  nat: string;
  raw: string;
  procs: string[];
  underlay: Record<string, string>;
  followed: { request: { from: string; to: string; kind: string; port?: number }; hops: number; drop: string | null }[];
}

const hostState = () => ({
  links: execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }),
  netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }),
  socket: existsSync('/opt/podnet/engine.sock'),
});

const ok = (t: Try<PathResult>): PathResult => {
  expect(t.error).toBeUndefined();
  return t.result!;
};

/** The veth in a node whose peer is the pod's eth0 (the pod's eth0 names its peer's ifindex). */
function peerOf(r: Report, pod: string, node: string): string {
  const eth0 = r.kernel[`pod:${pod}`]!.links.find((l) => l.ifname === 'eth0')!;
  return r.kernel[`node:${node}`]!.links.find((l) => l.ifindex === eth0.link_index)!.ifname;
}

const addrsOf = (k: KernelView, ifname: string) =>
  k.addrs.find((a) => a.ifname === ifname)?.addr_info.map((a) => `${a.local}/${a.prefixlen}`) ?? [];

/** Every hop's interface is the kernel's, in that namespace, of the kind and bridge the path says. */
function expectHopsAreTheKernels(r: Report, res: PathResult): void {
  for (const h of res.hops) {
    const k = r.kernel[h.space]!;
    const link = k.links.find((l) => l.ifname === h.ifname);
    expect(link, `${h.space} ${h.ifname}`).toBeDefined();
    expect(h.kind).toBe(link!.linkinfo?.info_kind);
    expect(h.master).toBe(link!.master);
    if (h.ifname === 'cni0')
      expect(addrsOf(k, 'cni0')).toContain(h.node === 'node1' ? '10.244.1.1/24' : '10.244.2.1/24');
    if (h.space.startsWith('node:') && h.ifname === 'eth0')
      expect(addrsOf(k, 'eth0')).toContain(`${r.underlay[h.node]}/24`);
    if (h.space.startsWith('pod:')) expect(addrsOf(k, 'eth0')).toContain(`${r.pods[h.pod!]!.ip}/24`);
  }
}

/** node1 → node2 over the underlay: the hop's route is node1's kernel route to node2's pod CIDR (host-gw). */
function expectUnderlayRoute(r: Report, res: PathResult): void {
  const kernelRoute = r.kernel['node:node1']!.routes.find((x) => x.dst === '10.244.2.0/24')!;
  expect(kernelRoute).toMatchObject({ gateway: r.underlay.node2, dev: 'eth0' });
  const out = res.hops.find((h) => h.leg === 'request' && h.space === 'node:node1' && h.ifname === 'eth0')!;
  expect(out.decision.route).toMatchObject({ ok: true, dev: 'eth0', via: r.underlay.node2 });
  expect(out.decision.neigh).toMatchObject({ dst: r.underlay.node2, dev: 'eth0' });
}

function expectReport(r: Report): void {
  const { client, peer, web } = r.pods as Record<'client' | 'peer' | 'web', Report['pods'][string]>;
  const vc = peerOf(r, 'client', 'node1');
  const vp = peerOf(r, 'peer', 'node1');
  const vw = peerOf(r, 'web', 'node2');

  // ping on one node: client's eth0 → its veth → cni0 bridges it to peer's veth → peer's eth0, and back
  const same = ok(r.follows.sameNode);
  const sameThere = ['pod:client eth0 out', `node:node1 ${vc} in`, `node:node1 ${vp} out`, 'pod:peer eth0 in'];
  expectLegs(same, sameThere);
  expect(same).toMatchObject({ kind: 'icmp', to: peer.ip });
  expect(same.drop).toBeUndefined();
  expectHopsAreTheKernels(r, same);
  // the bridge's FDB sends peer's MAC out of peer's veth
  const bridged = same.hops.find((h) => h.leg === 'request' && h.ifname === vp)!;
  expect(bridged.decision.fdb).toMatchObject({ dev: vp, master: 'cni0' });

  // ping across nodes: routed by node1 to node2's underlay address, bridged to web there
  const cross = ok(r.follows.crossNode);
  const crossThere = [
    'pod:client eth0 out',
    `node:node1 ${vc} in`,
    'node:node1 cni0 in',
    'node:node1 eth0 out',
    'node:node2 eth0 in',
    'node:node2 cni0 out',
    `node:node2 ${vw} out`,
    'pod:web eth0 in',
  ];
  expectLegs(cross, crossThere);
  expectHopsAreTheKernels(r, cross);
  expectUnderlayRoute(r, cross);
  for (const h of cross.hops)
    expect([h.packet.src, h.packet.dst]).toEqual(h.leg === 'request' ? [client.ip, web.ip] : [web.ip, client.ip]);
  expect(cross.hops.find((h) => h.space === 'pod:web' && h.direction === 'in')!.decision.route?.type).toBe('local');
  expect(cross.captured).toEqual(
    expect.arrayContaining(['pod:client', 'pod:web', 'pod:peer', 'node:node1', 'node:node2']),
  );
  expect(cross.limited).toBeUndefined();

  // node → pod: sent by node1's own stack from its underlay address (the kernel's choice of source)
  const fromNode = ok(r.follows.nodeToPod);
  const nodeThere = [
    'node:node1 eth0 out',
    'node:node2 eth0 in',
    'node:node2 cni0 out',
    `node:node2 ${vw} out`,
    'pod:web eth0 in',
  ];
  expectLegs(fromNode, nodeThere);
  expect(fromNode.hops[0]!.packet).toMatchObject({ src: r.underlay.node1, dst: web.ip });
  expectHopsAreTheKernels(r, fromNode);
  expectUnderlayRoute(r, fromNode);

  // TCP to the Service: the SYN leaves for the ClusterIP; node1's DNAT (the kernel's own trace) picks web
  const svc = ok(r.follows.service);
  expect(svc.kind).toBe('tcp');
  expect(svc.to).toBe(`${r.svcIp}:80`);
  expect(svc.hops[0]!.packet).toMatchObject({ src: client.ip, dst: r.svcIp });
  expect(svc.hops[0]!.packet.l4).toMatchObject({ proto: 'tcp', dport: 80, flags: 'S' });
  expect(legOf(svc, 'request')).toEqual(crossThere);
  expectHopsAreTheKernels(r, svc);
  const natHop = svc.hops.find((h) => h.decision.nat)!;
  expect(natHop).toMatchObject({ space: 'node:node1', ifname: 'cni0', direction: 'in' });
  expect(natHop.decision.nat).toMatchObject({ source: 'trace', backend: `${web.ip}:80` });
  expect(natHop.decision.rewritten).toMatchObject({ field: 'destination', from: r.svcIp, to: web.ip });
  const sep = natHop.decision.nat!.endpointChain!;
  expect(r.nat).toMatch(new RegExp(`^-A ${sep} .*-j DNAT --to-destination ${web.ip.replace(/\./g, '\\.')}:80$`, 'm'));
  expect(r.nat).toContain(`-A ${natHop.decision.nat!.serviceChain} `);
  // the reply: conntrack gives it the ClusterIP back in node1
  const unnat = svc.hops.find((h) => h.leg === 'reply' && h.decision.rewritten)!;
  expect(unnat).toMatchObject({ space: 'node:node1', ifname: 'cni0', direction: 'out' });
  expect(unnat.decision.rewritten).toMatchObject({ field: 'source', from: web.ip, to: r.svcIp });
  expect(svc.hops.at(-1)!.packet).toMatchObject({ src: r.svcIp, dst: client.ip });

  // UDP to web's port 5353: one datagram from a port of client's, all the way in (nothing listens: no answer)
  const udp = ok(r.follows.udp);
  expect(udp.kind).toBe('udp');
  expect(legOf(udp, 'request')).toEqual(crossThere);
  for (const h of udp.hops) expect(h.packet.l4).toMatchObject({ proto: 'udp', dport: 5353 });
  expect(new Set(udp.hops.map((h) => h.packet.l4.sport)).size).toBe(1);
  expect(udp.marker).toBe(`UDP source port ${udp.hops[0]!.packet.l4.sport}`);
  expect(udp.drop).toBeUndefined();
  expectHopsAreTheKernels(r, udp);

  // a broken route: node1 without its route to node2's pods: last seen entering node1's cni0, no route
  const broken = ok(r.broken);
  expect(broken.drop).toMatchObject({ space: 'node:node1', reason: 'no route', lastSeen: { ifname: 'cni0' } });
  expect(broken.drop!.detail).toMatch(/^ip route get 10\.244\.2\.\d+ from 10\.244\.1\.\d+ iif cni0: .*unreachable/i);
  // nothing left client: its own kernel had no route (no hop seen)
  const unsent = ok(r.unsent);
  expect(unsent.hops).toEqual([]);
  expect(unsent.drop).toMatchObject({ space: 'pod:client', reason: 'no route' });
  expect(unsent.drop!.lastSeen).toBeUndefined();
  expect(unsent.drop!.detail).toMatch(/^ip route get 10\.244\.2\.\d+ from 10\.244\.1\.\d+: .*unreachable/i);

  // the errors, each saying what is wrong and what to do
  const e = r.errors as Record<string, { error: string | null }>;
  expect(e.notRunning!.error).toBe('no world is running: start one first, then follow a packet in it');
  expect(e.unknownPlace!.error).toMatch(/^pod:nope: no pod of that name in the running world \(it has .*pod:client/);
  expect(e.unknownTo!.error).toMatch(/^svc:nope: no Service of that name/);
  expect(e.fromAddress!.error).toMatch(/^10\.0\.0\.1: a packet is sent from a pod or a node, not an address/);
  expect(e.noPort!.error).toBe('pod:web: a TCP follow needs a port: give --port N, or name ADDR:PORT or a Service');
  expect(e.headless!.error).toMatch(/^svc:headless: Service headless has no ClusterIP \(a headless Service\)/);
  expect(e.udpService!.error).toMatch(/port 53 is UDP: follow it with --kind udp$/);
  expect(e.badParams!.error).toMatch(/^invalid params for path\.follow: from: a place/);
  expect(e.extraField!.error).toMatch(/^invalid params for path\.follow: .*Unrecognized key.*argv/);
  expect(e.badPort!.error).toMatch(/^invalid params for path\.follow: port: a port is 1 to 65535/);
  expect(e.longPlace!.error).toMatch(/^invalid params for path\.follow: from: /);
  const two = r.errors.twoAtOnce as { first: string; second: { error: string } };
  expect(two.first).toBe('ok');
  expect(two.second.error).toMatch(/^a follow is already running \(pod:client → pod:peer\): wait for it to end/);

  // podnet path in node1, through the engine socket: format.ts's text, ≤ 100 columns
  expect(r.cli.code, r.cli.stderr).toBe(0);
  expect(r.cli.stdout).toMatch(
    new RegExp(
      `^TCP pod:client → svc:web \\(${r.svcIp.replace(/\./g, '\\.')}:80\\) \\(TCP source port \\d+; 16 hops; [\\d.]+ ms\\)$`,
      'm',
    ),
  );
  expect(r.cli.stdout).toMatch(/^ {30}DNAT → 10\.244\.2\.\d+:80 \(from the trace\)$/m);
  expect(
    r.cli.stdout
      .trimEnd()
      .split('\n')
      .filter((l) => l.length > 100),
  ).toEqual([]);
  expect(r.cliJson.code, r.cliJson.stderr).toBe(0);
  const j = JSON.parse(r.cliJson.stdout) as PathResult;
  expect(legOf(j, 'request')).toEqual(crossThere);
  expect(r.cliError.code).toBe(1);
  expect(r.cliError.stderr).toMatch(/podnet path: nowhere: no pod, node or Service of that name in the running world/);

  // the socket's attacks, from inside the world: each refused with its reason, nothing run
  const code = (s: string) => (JSON.parse(s) as { error: { code: string } }).error.code;
  expect(code(r.attacks.garbage!)).toBe('bad-request');
  expect(code(r.attacks.notObject!)).toBe('bad-request');
  expect(code(r.attacks.oversize!)).toBe('too-large');
  expect(r.attacks.unknownMethod).toContain('"world.stop\\" is not served here: this socket answers path.follow only');
  expect(code(r.attacks.unknownMethod!)).toBe('unknown-method');
  expect(r.attacks.execAttempt).toMatch(/Unrecognized key.*argv/);
  expect(code(r.attacks.badPlace!)).toBe('bad-request');
  expect(code(r.attacks.silent!)).toBe('timeout');
  // a flood of 12 silent connections: 4 held (then timed out), 8 answered busy at once; the socket still serves
  const flood = (JSON.parse(r.flood) as string[]).map(code).sort();
  expect(flood).toEqual([...Array(8).fill('busy'), ...Array(4).fill('timeout')].sort());
  expect(JSON.parse(r.afterFlood)).toMatchObject({
    error: { code: 'failed', message: expect.stringMatching(/^nowhere: no pod/) },
  });

  // every page heard of each follow made, the node terminal's too, with the request as validated
  expect(r.followed.map((f) => `${f.request.from} ${f.request.to} ${f.request.kind}`)).toEqual(
    expect.arrayContaining(['pod:client svc:web tcp', 'client web ping', 'pod:client pod:web udp']),
  );
  expect(r.followed.find((f) => f.drop === 'no route')).toBeDefined();
  for (const f of r.followed)
    expect(Object.keys(f.request).sort()).toEqual(expect.arrayContaining(['from', 'kind', 'to']));

  // no capture, fakeroot or trace reader left in the world; no TRACE rule left
  expect(r.procs.filter((c) => /tcpdump|fakeroot|faked|xtables/.test(c))).toEqual([]);
  expect(r.raw).not.toContain('TRACE');
}

describe('follow a packet in the running world', () => {
  for (const asNobody of [false, true])
    it(`ping, TCP to a Service, UDP, a drop, the errors, podnet path and the engine socket — as ${asNobody ? 'nobody' : 'root'}`, () => {
      const before = hostState();
      const report = lastJsonOf<{ report?: Report; error?: string }>([process.execPath, CHILD], asNobody, 400_000);
      expect(report.error).toBeUndefined();
      expectReport(report.report!);
      expect(hostState()).toEqual(before);
    }, 420_000);
});
