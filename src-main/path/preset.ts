// The preset world `podnet path` follows packets through: 2 nodes joined by a flannel-style VXLAN overlay
// (lab 10's commands), a pod on each made through the API, and a ClusterIP Service in front of node2's pod.
import { defaultPodCidr } from '../cni/defaults.js';
import type { ControlPlane } from '../cluster/control-plane.js';
import type { KubeObject } from '../cluster/resources.js';
import type { Kubelet } from '../runtime/kubelet.js';
import type { Target, World } from '../world/world.js';

export const VXLAN = { dev: 'flannel.1', vni: 1, port: 4789 } as const;
export const PRESET_NODES = ['node1', 'node2'] as const;
/** A VTEP's fixed MAC (flannel publishes each node's in a Node annotation; fixed keeps the output the same each run). */
export const vtepMacOf = (i: number) => `02:42:0a:f4:0${i + 1}:00`;
const vtepAddrOf = (i: number) => `10.244.${i + 1}.0`;

export interface PresetPod {
  name: string;
  node: string;
  ip: string;
  target: Target & { kind: 'pod' };
}

export interface PresetWorld {
  world: World;
  kubelet: Kubelet;
  plane: ControlPlane;
  /** The client pod on node1, the server pod (httpd on :80) on node2. */
  client: PresetPod;
  server: PresetPod;
  service: { name: string; ip: string; port: number };
  /** Stops the control plane and the kubelet, and destroys the world: nothing left on the host. */
  destroy(): Promise<void>;
}

/** The commands flanneld's vxlan backend leaves on node i: its VTEP, and per other node a route, a neighbour, an FDB entry. */
export function overlayCommands(i: number, underlayIps: string[]): string[][] {
  const cmds: string[][] = [];
  cmds.push(
    [
      'ip',
      'link',
      'add',
      VXLAN.dev,
      'address',
      vtepMacOf(i),
      'type',
      'vxlan',
      'id',
      String(VXLAN.vni),
      'local',
      underlayIps[i]!,
      'dev',
      'eth0',
      'dstport',
      String(VXLAN.port),
      'nolearning',
    ],
    ['ip', 'addr', 'add', `${vtepAddrOf(i)}/32`, 'dev', VXLAN.dev],
    ['ip', 'link', 'set', VXLAN.dev, 'up'],
  );
  underlayIps.forEach((ip, j) => {
    if (j === i) return;
    cmds.push(
      ['ip', 'route', 'replace', defaultPodCidr(j), 'via', vtepAddrOf(j), 'dev', VXLAN.dev, 'onlink'],
      ['ip', 'neigh', 'replace', vtepAddrOf(j), 'lladdr', vtepMacOf(j), 'dev', VXLAN.dev, 'nud', 'permanent'],
      ['bridge', 'fdb', 'append', vtepMacOf(j), 'dev', VXLAN.dev, 'dst', ip],
    );
  });
  return cmds;
}

const podManifest = (name: string, node: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: {
    nodeName: node,
    containers: [
      {
        name: 'httpd',
        image: 'busybox',
        command: ['httpd', '-f', '-p', '80'],
        ports: [{ name: 'http', containerPort: 80 }],
      },
    ],
  },
});

/** Waits until check() gives a value, polling; the error says what never came. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`podnet path: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function buildPresetWorld(): Promise<PresetWorld> {
  const [{ buildWorld, clusterWorldSpec }, { startControlPlane }] = await Promise.all([
    import('../session/world-spec.js'),
    import('../cluster/control-plane.js'),
  ]);
  const names = [...PRESET_NODES];
  const { world, kubelet } = await buildWorld(clusterWorldSpec(names));
  let plane: ControlPlane | undefined;
  const destroy = async () => {
    await plane?.stop();
    await kubelet.close();
    await world.destroy();
  };
  try {
    const underlay = names.map((n) => world.nodes.get(n)!.underlayIp);
    for (const [i, n] of names.entries())
      for (const cmd of overlayCommands(i, underlay)) await world.run({ kind: 'node', node: n }, cmd);
    // the overlay's routes carry pod traffic: no host-gw routes (pod-routes.ts) alongside them
    plane = await startControlPlane(world, kubelet, { podRoutes: false });
    const api = plane.cluster;
    await api.call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await api.call('POST', '/api/v1/namespaces/default/pods', podManifest('client', 'node1', { app: 'client' }));
    await api.call('POST', '/api/v1/namespaces/default/pods', podManifest('server', 'node2', { app: 'web' }));
    const podIp = (name: string) =>
      until(`pod ${name} getting its IP`, async () => {
        const o = await api.call('GET', `/api/v1/namespaces/default/pods/${name}`);
        return typeof o.status?.podIP === 'string' && kubelet.podByName(name)?.netns ? o.status.podIP : undefined;
      });
    const presetPod = async (name: string, node: string): Promise<PresetPod> => {
      const ip = await podIp(name);
      return { name, node, ip, target: { kind: 'pod', node, netns: kubelet.podByName(name)!.netns } };
    };
    const client = await presetPod('client', 'node1');
    const server = await presetPod('server', 'node2');
    const svc = await api.call('GET', '/api/v1/namespaces/default/services/web');
    const service = { name: 'web', ip: svc.spec!.clusterIP as string, port: 80 };
    // kube-proxy's rules for the Service, with the server as its endpoint, on node1 (where the client's packet is DNATed)
    await until("kube-proxy writing the Service's endpoint on node1", async () => {
      const r = await world.exec({ kind: 'node', node: 'node1' }, ['iptables-save', '-t', 'nat']);
      return r.stdout.includes(`--to-destination ${server.ip}:80`) ? true : undefined;
    });
    return { world, kubelet, plane, client, server, service, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
