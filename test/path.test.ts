// Follow a packet (issue #21): the preset world's cross-node ping over the VXLAN overlay, the TCP request to
// the ClusterIP Service with its DNAT from the firewall's own trace, and a dropped packet — real namespaces,
// the real kernel, checked against each namespace's own view; as root and as nobody. Needs `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PathResult } from '../src-main/path/follow.js';
import { expectLegs, lastJsonOf, spawnAsNobody } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/path-world.mjs');
const PODNET = join(import.meta.dirname, '..', 'bin', 'podnet.mjs');

interface KernelLink {
  ifindex: number;
  ifname: string;
  link_index?: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number } };
}
interface Report {
  ping: PathResult;
  service: PathResult;
  dropped: PathResult;
  noNeighbour: PathResult;
  ruled: PathResult;
  kernel: Record<
    string,
    { links: KernelLink[]; addrs: { ifname: string; addr_info: { local: string; prefixlen: number }[] }[] }
  >;
  nat: string;
  raw: string;
  procs: string[];
  underlay: Record<string, string>;
  client: { ip: string };
  server: { ip: string };
  svc: { ip: string; port: number };
}

const hostState = () => ({
  links: execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }),
  netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }),
});

/** The veth in a node whose peer is the pod's eth0 (the pod's eth0 names its peer's ifindex). */
function peerOf(r: Report, pod: string, node: string): string {
  const eth0 = r.kernel[pod]!.links.find((l) => l.ifname === 'eth0')!;
  return r.kernel[node]!.links.find((l) => l.ifindex === eth0.link_index)!.ifname;
}

function expectOverlayPath(r: Report, res: PathResult): void {
  const v1 = peerOf(r, 'pod:client', 'node:node1');
  const v2 = peerOf(r, 'pod:server', 'node:node2');
  const there = [
    'pod:client eth0 out',
    `node:node1 ${v1} in`,
    'node:node1 cni0 in',
    'node:node1 flannel.1 out',
    'node:node1 eth0 out',
    'node:node2 eth0 in',
    'node:node2 flannel.1 in',
    'node:node2 cni0 out',
    `node:node2 ${v2} out`,
    'pod:server eth0 in',
  ];
  expectLegs(res, there);
  for (const h of res.hops) {
    // each hop's interface is the kernel's, in that namespace, of the kind the path says
    const k = r.kernel[h.space]!;
    const link = k.links.find((l) => l.ifname === h.ifname);
    expect(link, `${h.space} ${h.ifname}`).toBeDefined();
    const addrs = k.addrs.find((a) => a.ifname === h.ifname)?.addr_info.map((a) => `${a.local}/${a.prefixlen}`) ?? [];
    if (h.ifname === 'cni0') {
      expect(link!.linkinfo?.info_kind).toBe('bridge');
      expect(addrs).toContain(h.node === 'node1' ? '10.244.1.1/24' : '10.244.2.1/24');
    } else if (h.ifname === 'flannel.1') {
      expect(link!.linkinfo?.info_kind).toBe('vxlan');
      expect(link!.linkinfo?.info_data).toMatchObject({ id: 1, port: 4789 });
    } else if (h.ifname.startsWith('veth')) {
      expect(link!.linkinfo?.info_kind).toBe('veth');
      expect(link!.master).toBe('cni0');
      expect(h.master).toBe('cni0');
    } else if (h.space.startsWith('node:')) {
      expect(h.ifname).toBe('eth0');
      expect(addrs).toContain(`${r.underlay[h.node]}/24`);
      // the underlay carries the overlay: VNI 1, UDP 4789, outer addresses the nodes' underlay IPs
      const other = h.node === 'node1' ? 'node2' : 'node1';
      const [src, dst] = (h.leg === 'request') === (h.node === 'node1') ? [h.node, other] : [other, h.node];
      expect(h.vxlan?.vni).toBe(1);
      expect(h.packet).toMatchObject({ src: r.underlay[src], dst: r.underlay[dst] });
      expect(h.packet.l4).toMatchObject({ proto: 'udp', dport: 4789 });
    } else {
      expect(link!.linkinfo?.info_kind).toBe('veth');
      expect(addrs).toContain(h.space === 'pod:client' ? `${r.client.ip}/24` : `${r.server.ip}/24`);
    }
  }
  // what moved it on, from the kernel: node1 routes node2's pods via node2's VTEP onlink out of flannel.1,
  // whose neighbour is node2's VTEP MAC and whose FDB sends that MAC to node2's underlay address
  const vtep = res.hops.find((h) => h.leg === 'request' && h.ifname === 'flannel.1' && h.direction === 'out')!;
  expect(vtep.decision.route).toMatchObject({ ok: true, dev: 'flannel.1', via: '10.244.2.0' });
  expect(vtep.decision.neigh).toMatchObject({ dst: '10.244.2.0', lladdr: '02:42:0a:f4:02:00', state: ['PERMANENT'] });
  expect(vtep.decision.fdb).toMatchObject({ mac: '02:42:0a:f4:02:00', dst: r.underlay.node2 });
  const toPod = res.hops.find((h) => h.leg === 'request' && h.space === 'node:node2' && h.master)!;
  expect(toPod.decision.fdb?.dev).toBe(v2);
  expect(res.hops.find((h) => h.space === 'pod:server' && h.direction === 'in')!.decision.route?.type).toBe('local');
}

function expectReport(r: Report): void {
  // the ping: pod → veth → cni0 → VXLAN → underlay → … → pod, and the reply the same way back
  expectOverlayPath(r, r.ping);
  expect(r.ping.drop).toBeUndefined();
  for (const h of r.ping.hops) {
    const inner = h.vxlan?.inner ?? h.packet;
    expect(inner.l4.icmp?.type).toBe(h.leg === 'request' ? 'echo request' : 'echo reply');
    expect([inner.src, inner.dst]).toEqual(
      h.leg === 'request' ? [r.client.ip, r.server.ip] : [r.server.ip, r.client.ip],
    );
  }

  // the Service: the client sends to the ClusterIP; node1's DNAT (from the kernel's trace) picks node2's pod
  expectOverlayPath(r, r.service);
  const first = r.service.hops[0]!;
  expect(first.packet).toMatchObject({ src: r.client.ip, dst: r.svc.ip });
  expect(first.packet.l4).toMatchObject({ proto: 'tcp', dport: r.svc.port, flags: 'S' });
  const natHop = r.service.hops.find((h) => h.decision.nat)!;
  expect(natHop.space).toBe('node:node1');
  const nat = natHop.decision.nat!;
  expect(nat.source).toBe('trace');
  expect(nat.serviceChain).toMatch(/^KUBE-SVC-[A-Z0-9]{16}$/);
  expect(nat.endpointChain).toMatch(/^KUBE-SEP-[A-Z0-9]{16}$/);
  expect(nat.backend).toBe(`${r.server.ip}:80`);
  // that chain's DNAT, as kube-proxy wrote it in node1, sends to node2's pod
  expect(r.nat).toMatch(
    new RegExp(`^-A ${nat.endpointChain} .*-j DNAT --to-destination ${r.server.ip.replace(/\./g, '\\.')}:80$`, 'm'),
  );
  expect(r.nat).toContain(`-A ${nat.serviceChain} `);
  expect(r.service.hops.find((h) => h.space === 'pod:server')!.packet.dst).toBe(r.server.ip);
  expect(r.service.hops.at(-1)!.packet).toMatchObject({ src: r.svc.ip, dst: r.client.ip });
  // on the way back, node1's conntrack gives the reply the ClusterIP as its source (seen from cni0 on)
  const unnat = r.service.hops.find((h) => h.leg === 'reply' && h.decision.rewritten)!;
  expect(unnat).toMatchObject({ space: 'node:node1', ifname: 'cni0', direction: 'out' });
  expect(unnat.decision.rewritten).toMatchObject({ field: 'source', from: r.server.ip, to: r.svc.ip });
  // the TRACE rule added for the follow is gone
  expect(r.raw).not.toContain('TRACE');

  // a dropped packet: with node1's route to node2's pods removed, last seen entering node1's cni0: no route
  expect(r.dropped.drop).toMatchObject({ reason: 'no route', lastSeen: { space: 'node:node1', ifname: 'cni0' } });
  expect(r.dropped.drop!.detail).toMatch(/^ip route get 10\.244\.2\.\d+ from 10\.244\.1\.\d+ iif cni0: .*unreachable/i);
  expect(r.dropped.hops.filter((h) => h.space !== 'pod:client' && h.space !== 'node:node1')).toEqual([]);

  // no neighbour: node1's entry for node2's VTEP removed; the packet waits on ARP in node1, never leaving it
  expect(r.noNeighbour.drop).toMatchObject({ reason: 'no neighbour', lastSeen: { space: 'node:node1' } });
  expect(r.noNeighbour.drop!.detail).toMatch(/neighbour 10\.244\.2\.0 on flannel\.1: (none|FAILED|INCOMPLETE)/);
  // a rule: node1's FORWARD DROP for ICMP to the server, named by its counter
  expect(r.ruled.drop).toMatchObject({
    reason: 'rule',
    lastSeen: { space: 'node:node1', ifname: 'cni0' },
    detail: `-A FORWARD -d ${r.server.ip}/32 -p icmp -j DROP`,
  });

  // no capture, fakeroot or trace reader left in the world
  expect(r.procs.filter((c) => /tcpdump|fakeroot|faked|xtables/.test(c))).toEqual([]);
}

describe('follow a packet in the preset world', () => {
  it('podnet path FROM TO outside a node says to open a node terminal; a bad option or kind is refused with the usage', () => {
    const r = spawnSync(process.execPath, [PODNET, 'path', 'pod/a', 'pod/b'], {
      encoding: 'utf8',
      env: { ...process.env, PODNET_NODE: '' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^podnet path FROM TO follows a packet in the running world, so it runs in a node .*open a terminal on a node/,
    );
    expect(spawnSync(process.execPath, [PODNET, 'path', '--bogus'], { encoding: 'utf8' }).stderr).toMatch(
      /Unknown option '--bogus'\nusage: podnet path \[--json\]/,
    );
    const kind = spawnSync(process.execPath, [PODNET, 'path', 'a', 'b', '--kind', 'sctp'], { encoding: 'utf8' });
    expect(kind.status).toBe(2);
    expect(kind.stderr).toMatch(/--kind sctp: ping, tcp or udp\nusage: podnet path/);
    const port = spawnSync(process.execPath, [PODNET, 'path', '--port', '80'], { encoding: 'utf8' });
    expect(port.stderr).toMatch(/--kind and --port go with FROM TO/);
  });

  for (const asNobody of [false, true])
    it(`the ping, the Service's DNAT, a dropped packet, against the kernel — as ${asNobody ? 'nobody' : 'root'}`, () => {
      const before = hostState();
      expectReport(lastJsonOf<Report>([process.execPath, CHILD], asNobody, 180_000));
      expect(hostState()).toEqual(before);
    }, 200_000);

  it('podnet path prints one line per hop in 100 columns, and leaves the host as it was (root)', () => {
    const before = hostState();
    const r = spawnSync(process.execPath, [PODNET, 'path'], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.length > 100)).toEqual([]);
    expect(r.stdout).toMatch(/^ping pod\/client → pod\/server \(ICMP id \d+, 349 bytes; 20 hops; [\d.]+ ms\)$/m);
    expect(r.stdout).toMatch(/^ {2}node1 {7}flannel\.1 → {5}10\.244\.1\.\d+ > 10\.244\.2\.\d+ ICMP request/m);
    expect(r.stdout).toMatch(/^ {2}node1 {7}eth0 → {10}192\.0\.2\.11 > 192\.0\.2\.12 UDP:4789 VNI 1$/m);
    expect(r.stdout).toMatch(/^ {30}DNAT → 10\.244\.2\.\d+:80 \(from the trace\)$/m);
    expect(r.stdout).toMatch(/^ {30}KUBE-SVC-\w+ → KUBE-SEP-\w+$/m);
    expect(hostState()).toEqual(before);
  }, 200_000);

  it('podnet path --json as nobody: the full structure, and the host as it was', () => {
    const before = hostState();
    const r = spawnAsNobody([process.execPath, PODNET, 'path', '--json'], 180_000);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { ping: PathResult; service: PathResult; world: { service: { ip: string } } };
    expect(j.ping.hops.filter((h) => h.leg === 'request').map((h) => h.ifname)).toEqual([
      'eth0',
      expect.stringMatching(/^veth/),
      'cni0',
      'flannel.1',
      'eth0',
      'eth0',
      'flannel.1',
      'cni0',
      expect.stringMatching(/^veth/),
      'eth0',
    ]);
    expect(j.ping.hops.filter((h) => h.leg === 'reply')).toHaveLength(10);
    expect(j.service.hops[0]!.packet.dst).toBe(j.world.service.ip);
    expect(j.service.hops.find((h) => h.decision.nat)!.decision.nat!.backend).toMatch(/^10\.244\.2\.\d+:80$/);
    expect(hostState()).toEqual(before);
  }, 200_000);
});
