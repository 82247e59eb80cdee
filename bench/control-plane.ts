// Benchmark: the cluster around the pod. `kubectl apply` of a pod (the real kubectl, in node1) → the pod
// Ready in the API, median over 20 pods, with the share of each stage as the engine sees it (kubectl →
// stored, stored → bound by the scheduler, bound → the kubelet's SyncPod begins, SyncPod, → Ready in the
// API); against the raw layer in the same run: the same pods' SyncPod called on the kubelet directly.
// Then `kubectl apply` of a pod and a Service → the ClusterIP answering from the other node (the
// EndpointSlice controller and kube-proxy included), against a pod made by SyncPod directly → its pod IP
// answering from the other node. Then the API server's and etcd's memory with 200 pods. Usage: npm run bench (after pod-lifecycle), or
// npm run -s build && node out/bench/control-plane.js [--pods N]
import { loadavg } from 'node:os';
import { startControlPlane } from '../src-main/cluster/control-plane.js';
import { MIN_SYNC_PERIOD_MS, SYNC_BURST } from '../src-main/cluster/kube-proxy.js';
import type { KubeObject } from '../src-main/cluster/resources.js';
import { buildWorld, clusterWorldSpec } from '../src-main/session/world-spec.js';

const arg = (name: string, dflt: number) =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt;
const PODS = arg('--pods', 20);
const MANY = 200;
const NODES = ['node1', 'node2'];
const SANDBOX = { kind: 'sandbox' } as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const podYaml = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: web\n    image: busybox\n    command: [httpd, -f, -p, "80"]\n`;

interface Marks {
  apply: number;
  created?: number;
  bound?: number;
  syncStart?: number;
  syncDone?: number;
  ready?: number;
}

const isReady = (o: KubeObject) =>
  Array.isArray(o.status?.conditions) &&
  (o.status.conditions as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');

async function main() {
  const { world, kubelet } = await buildWorld(clusterWorldSpec(NODES));
  const t0 = performance.now();
  const plane = await startControlPlane(world, kubelet);
  const startMs = performance.now() - t0;
  try {
    const marks = new Map<string, Marks>();
    const waiters = new Map<string, () => void>();
    const stopWatch = plane.cluster.watch('/api/v1/pods', (type, o) => {
      const m = marks.get(o.metadata?.name ?? '');
      if (!m) return;
      const t = performance.now();
      if (type === 'ADDED') m.created ??= t;
      if (typeof o.spec?.nodeName === 'string') m.bound ??= t;
      if (isReady(o) && m.ready === undefined) {
        m.ready = t;
        waiters.get(o.metadata!.name!)?.();
      }
    });
    const unobserve = kubelet.observe((op) => {
      const m = marks.get(op.name);
      if (!m || op.kind !== 'syncPod') return;
      m.syncStart ??= performance.now();
      void op.done.then(() => (m.syncDone ??= performance.now()));
    });

    // the raw layer: the kubelet's SyncPod called directly, the same pod shape, on the same nodes
    const direct: number[] = [];
    for (let i = 0; i < PODS; i++) {
      const t = performance.now();
      await kubelet.syncPod({
        name: `direct${i}`,
        node: NODES[i % 2]!,
        containers: [{ name: 'web', command: ['httpd', '-f', '-p', '80'] }],
      });
      direct.push(performance.now() - t);
    }
    for (let i = 0; i < PODS; i++) await kubelet.killPod(`direct${i}`);

    // kubectl's own floor: the binary's start and one API round trip
    const floor: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await world.run({ kind: 'node', node: 'node1' }, ['kubectl', 'get', 'namespace', 'default', '-o', 'name']);
      floor.push(performance.now() - t);
    }

    const total: number[] = [];
    const stages = {
      stored: [] as number[],
      bound: [] as number[],
      watch: [] as number[],
      sync: [] as number[],
      status: [] as number[],
    };
    for (let i = 0; i < PODS; i++) {
      const name = `web${i}`;
      const m: Marks = { apply: 0 };
      marks.set(name, m);
      const ready = new Promise<void>((res) => waiters.set(name, res));
      m.apply = performance.now();
      await world.run({ kind: 'node', node: 'node1' }, ['kubectl', 'apply', '-f', '-'], { input: podYaml(name) });
      await Promise.race([
        ready,
        new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} was not Ready within 60 s`)), 60_000)),
      ]);
      if (m.syncDone === undefined) await new Promise((r) => setTimeout(r, 5));
      total.push(m.ready! - m.apply);
      stages.stored.push(m.created! - m.apply);
      // the kubelet's watch may hear of the binding before the benchmark's own watch does
      const bound = Math.min(m.bound!, m.syncStart!);
      stages.bound.push(bound - m.created!);
      stages.watch.push(m.syncStart! - bound);
      stages.sync.push((m.syncDone ?? m.ready!) - m.syncStart!);
      stages.status.push(m.ready! - (m.syncDone ?? m.ready!));
    }
    unobserve();

    const t = median(total);
    const d = median(direct);
    console.log(
      `control plane: ${NODES.length} nodes, started in ${ms(startMs)}; ${PODS} pods; load ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log(`kubectl apply → pod Ready (API), median: ${ms(t)}`);
    console.log(`  raw layer, SyncPod called directly, median: ${ms(d)}  → ratio ${(t / d).toFixed(2)}×`);
    console.log(`  kubectl's floor (start + one GET), median: ${ms(median(floor))}`);
    const share = (name: string, xs: number[]) =>
      console.log(
        `  ${name.padEnd(44)} ${ms(median(xs)).padStart(10)}  ${((median(xs) / t) * 100).toFixed(0).padStart(3)} %`,
      );
    share('kubectl → the pod stored (ADDED seen)', stages.stored);
    share('stored → bound (scheduler)', stages.bound);
    share('bound → SyncPod begins (kubelet watch)', stages.watch);
    share('SyncPod (CRI → CNI → containers)', stages.sync);
    share('SyncPod done → Ready in the API (status PATCH)', stages.status);
    console.log("  (the seeds: kubectl apply → a process running, 'somewhere around 300 ms')");

    // → a Service answering: a pod and its Service applied on node1, the ClusterIP asked from node2 (each try
    // cut at 0.2 s: before kube-proxy's rules a ClusterIP's SYN goes unanswered, and wget's -T is whole seconds)
    const SERVICES = PODS;
    const untilAnswer = (url: string) => [
      'sh',
      '-c',
      `i=0; until timeout 0.2 wget -qO- ${url} >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 3000 ] || exit 1; sleep 0.005; done`,
    ];
    const svcTotal: number[] = [];
    const svcRaw: number[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const t = performance.now();
      const pod = await kubelet.syncPod({
        name: `rawsvc${i}`,
        node: 'node1',
        containers: [{ name: 'web', command: ['httpd', '-f', '-p', '80'] }],
      });
      const raw = await world.exec({ kind: 'node', node: 'node2' }, untilAnswer(`http://${pod.ip}/etc/hostname`));
      if (raw.code !== 0) throw new Error(`rawsvc${i} never answered on ${pod.ip}`);
      svcRaw.push(performance.now() - t);
      await kubelet.killPod(`rawsvc${i}`);
    }
    for (let i = 0; i < SERVICES; i++) {
      // a quiet cluster, as one learner's apply finds it: kube-proxy's sync bucket (two, then one a second) is full
      await new Promise((r) => setTimeout(r, MIN_SYNC_PERIOD_MS * SYNC_BURST));
      const name = `svc${i}`;
      const yaml =
        podYaml(name).replace(`name: ${name}\n`, `name: ${name}\n  labels: {app: ${name}}\n`) +
        `  nodeName: node1\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  selector: {app: ${name}}\n  ports: [{port: 80}]\n`;
      const t = performance.now();
      await world.run({ kind: 'node', node: 'node1' }, ['kubectl', 'apply', '-f', '-'], { input: yaml });
      const svc = await plane.cluster.call<KubeObject>('GET', `/api/v1/namespaces/default/services/${name}`);
      const r = await world.exec(
        { kind: 'node', node: 'node2' },
        untilAnswer(`http://${String(svc.spec?.clusterIP)}/etc/hostname`),
      );
      if (r.code !== 0) throw new Error(`the Service ${name} never answered`);
      svcTotal.push(performance.now() - t);
    }
    const st = median(svcTotal);
    const sr = median(svcRaw);
    console.log(
      `kubectl apply of a pod and a Service → its ClusterIP answers from node2, median of ${SERVICES}: ${ms(st)}`,
    );
    console.log(
      `  raw layer, SyncPod directly → the pod IP answers from node2, median: ${ms(sr)}  → ratio ${(st / sr).toFixed(2)}×`,
    );

    // memory with 200 pods in the API, all bound and running
    const more = MANY - PODS;
    for (let i = 0; i < more; i++)
      await plane.cluster.call('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `many${i}` },
        spec: { containers: [{ name: 'web', image: 'busybox', command: ['httpd', '-f', '-p', '80'] }] },
      });
    const deadline = Date.now() + 600_000;
    let running = 0;
    while (Date.now() < deadline) {
      const list = await plane.cluster.call<{ items: KubeObject[] }>('GET', '/api/v1/pods');
      running = list.items.filter((p) => p.status?.phase === 'Running').length;
      if (running >= MANY) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const rss = async (match: string) => {
      const r = await world.exec(SANDBOX, [
        'sh',
        '-c',
        `for p in /proc/[0-9]*; do if grep -q '${match}' $p/cmdline 2>/dev/null; then grep VmRSS $p/status; fi; done`,
      ]);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
      return `${(kb / 1024).toFixed(1)} MiB`;
    };
    // a bracket in the pattern keeps grep from matching the shell's own command line
    console.log(
      `with ${running} pods Running in the API: the API server's RSS ${await rss('[a]pi-server-main')}, etcd's ${await rss('[d]ata-dir=')}`,
    );
    stopWatch();
  } finally {
    await plane.stop();
    await kubelet.close();
    await world.destroy();
  }
}

await main();
