// Benchmark: the EndpointSlice controller's lag — a pod's Ready status seen on a watch → the slice that lists
// it ready — against the raw floor taken in the same run, interleaved: one API write (a label PATCH) → its
// own watch event. The controller's path is a watch hop, one slice write and another watch hop, so the ratio
// says how much it adds over the API's own write. Prints the medians, the ratio and the load average.
// Usage: node out/bench/endpointslice-lag.js [--pods N]
import { loadavg } from 'node:os';
import { startControlPlane } from '../src-main/cluster/control-plane.js';
import type { KubeObject } from '../src-main/cluster/resources.js';
import { buildWorld, clusterWorldSpec } from '../src-main/session/world-spec.js';

const N = Number(process.argv[process.argv.indexOf('--pods') + 1]) || 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const names = ['node1', 'node2'];
const { world, kubelet } = await buildWorld(clusterWorldSpec(names));
const plane = await startControlPlane(world, kubelet);
const api = plane.cluster;
try {
  const readyAt = new Map<string, number>();
  const inSliceAt = new Map<string, number>();
  const floor: number[] = [];
  let probe: { id: string; t0: number } | undefined;
  const stops = [
    api.watch('/api/v1/pods', (_t, p: KubeObject) => {
      const ready = ((p.status?.conditions ?? []) as { type: string; status: string }[]).some(
        (c) => c.type === 'Ready' && c.status === 'True',
      );
      if (ready && !readyAt.has(p.metadata!.name!)) readyAt.set(p.metadata!.name!, performance.now());
    }),
    api.watch('/apis/discovery.k8s.io/v1/endpointslices', (_t, s: KubeObject) => {
      for (const e of (s.endpoints ?? []) as { targetRef?: { name: string }; conditions?: { ready?: boolean } }[])
        if (e.conditions?.ready && e.targetRef && !inSliceAt.has(e.targetRef.name))
          inSliceAt.set(e.targetRef.name, performance.now());
    }),
    api.watch('/api/v1/namespaces', (_t, n: KubeObject) => {
      if (probe && n.metadata?.labels?.probe === probe.id) {
        floor.push(performance.now() - probe.t0);
        probe = undefined;
      }
    }),
  ];
  await api.call('POST', '/api/v1/namespaces/default/services', {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  });
  for (let i = 0; i < N; i++) {
    await api.call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: `web-${i}`, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    probe = { id: String(i), t0: performance.now() };
    await api.call(
      'PATCH',
      '/api/v1/namespaces/default',
      { metadata: { labels: { probe: String(i) } } },
      'application/merge-patch+json',
    );
    while (probe) await sleep(5);
    await sleep(150);
  }
  const until = Date.now() + 60_000;
  while (inSliceAt.size < N && Date.now() < until) await sleep(50);
  for (const s of stops) s();
  const lags = [...readyAt].filter(([n]) => inSliceAt.has(n)).map(([n, t]) => inSliceAt.get(n)! - t);
  const lag = median(lags);
  const raw = median(floor);
  console.log(`pods: ${N}, in a slice: ${inSliceAt.size}`);
  console.log(`Ready → in the slice (ready): median ${lag.toFixed(1)} ms, max ${Math.max(...lags).toFixed(1)} ms`);
  console.log(`raw floor, one API write → its watch event: median ${raw.toFixed(1)} ms`);
  console.log(
    `ratio: ${(lag / raw).toFixed(2)}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await plane.stop();
  await kubelet.close();
  await world.destroy();
}
