// Soak: pod create/delete cycles across 3 nodes with concurrent workers, through the kubelet (SyncPod,
// KillPod → CRI → containerd → CNI). Every pod must get an IP of its node's range, every IP must be
// released, the engine's memory must stay flat, and the world must end as it started.
// The short form runs in the suite (soak.test.ts); the long form: npm run soak -- [cycles] [workers]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bridgeConfList } from '../../src-main/cni/defaults.js';
import { Kubelet } from '../../src-main/runtime/kubelet.js';
import { hostDiff, hostSnapshot, settledPodLeftovers, strayProcesses } from '../../src-main/runtime/leaks.js';
import { createWorld } from '../../src-main/world/world.js';

export interface SoakOptions {
  cycles: number;
  workers: number;
  nodes?: number;
  /** Called every `every` cycles with a progress line. */
  progress?: (line: string) => void;
}

export interface MemorySample {
  heapUsed: number;
  rss: number;
}

export interface SoakReport {
  cycles: number;
  workers: number;
  nodes: number;
  durationMs: number;
  /** Pods that got no IP, or one outside their node's range. */
  badIps: string[];
  /** Operations that failed, with their error. */
  failures: string[];
  /** Mean engine memory over the first and the last window of cycles (100, or a tenth of a short run). */
  window: number;
  first: MemorySample;
  last: MemorySample;
  /** What pods left on the nodes, processes left in the world, and what the host shows after the world. */
  leftovers: string[];
  hostChanges: string[];
}

const gc = (globalThis as { gc?: () => void }).gc;

function sample(): MemorySample {
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

const mean = (xs: MemorySample[]): MemorySample => ({
  heapUsed: xs.reduce((a, x) => a + x.heapUsed, 0) / Math.max(1, xs.length),
  rss: xs.reduce((a, x) => a + x.rss, 0) / Math.max(1, xs.length),
});

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const nodes = opts.nodes ?? 3;
  const before = hostSnapshot(`world-${process.pid}-`);
  const world = await createWorld({ nodes });
  const badIps: string[] = [];
  const failures: string[] = [];
  const memory: MemorySample[] = [];
  const leftovers: string[] = [];
  const t0 = performance.now();
  try {
    for (const n of world.nodes.values())
      writeFileSync(join(n.host.confDir, '10-podnet.conflist'), bridgeConfList(n.podCidr));
    const kubelet = new Kubelet(world);
    const names = [...world.nodes.keys()];
    let next = 0;
    let done = 0;
    const worker = async () => {
      for (let i = next++; i < opts.cycles; i = next++) {
        const node = names[i % names.length]!;
        const name = `soak-${i}`;
        try {
          const pod = await kubelet.syncPod({ name, node });
          const prefix = world.node(node).podCidr.replace(/\.0\/24$/, '.');
          if (!pod.ip || !pod.ip.startsWith(prefix)) badIps.push(`${name} on ${node}: "${pod.ip}"`);
        } catch (e) {
          failures.push(`SyncPod ${name}: ${(e as Error).message}`);
        }
        try {
          await kubelet.killPod(name);
        } catch (e) {
          failures.push(`KillPod ${name}: ${(e as Error).message}`);
        }
        done++;
        // one sample per cycle: the windows below are means over cycles, not over time
        memory.push(sample());
        if (opts.progress && done % 100 === 0)
          opts.progress(
            `${done}/${opts.cycles} cycles, ${Math.round(performance.now() - t0)} ms, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
          );
      }
    };
    await Promise.all(Array.from({ length: opts.workers }, worker));
    for (const n of names)
      leftovers.push(
        ...(await settledPodLeftovers(world, n, 5000, (items) => items.length > 0)).items.map((x) => `${n}: ${x}`),
      );
    leftovers.push(...(await strayProcesses(world)).map((p) => `process ${p}`));
    if (kubelet.pods.size) leftovers.push(`kubelet still lists ${[...kubelet.pods.keys()].join(', ')}`);
  } finally {
    await world.destroy();
  }
  const window = Math.min(100, Math.max(1, Math.floor(opts.cycles / 10)));
  return {
    cycles: opts.cycles,
    workers: opts.workers,
    nodes,
    durationMs: performance.now() - t0,
    badIps,
    failures,
    window,
    first: mean(memory.slice(0, window)),
    last: mean(memory.slice(-window)),
    leftovers,
    hostChanges: hostDiff(before, hostSnapshot(`world-${process.pid}-`)),
  };
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export function formatSoak(r: SoakReport): string {
  return [
    `soak: ${r.cycles} pod create/delete cycles on ${r.nodes} nodes with ${r.workers} workers in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  first ${r.window} cycles: heap ${MiB(r.first.heapUsed)}, rss ${MiB(r.first.rss)}`,
    `  last ${r.window} cycles:  heap ${MiB(r.last.heapUsed)}, rss ${MiB(r.last.rss)}`,
    `  pods without a proper IP: ${r.badIps.length}; failed operations: ${r.failures.length}; leftovers: ${r.leftovers.length}; host changes: ${r.hostChanges.length}`,
    ...[...r.badIps, ...r.failures, ...r.leftovers, ...r.hostChanges].slice(0, 20).map((x) => `  ! ${x}`),
  ].join('\n');
}

// npm run soak -- [cycles] [workers]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cycles = Number(process.argv[2] ?? 1000);
  const workers = Number(process.argv[3] ?? 6);
  if (!Number.isInteger(cycles) || cycles < 1 || !Number.isInteger(workers) || workers < 1 || workers > 64) {
    console.error('usage: npm run soak -- [cycles (default 1000)] [workers 1..64 (default 6)]');
    process.exit(2);
  }
  const r = await runSoak({ cycles, workers, progress: (l) => console.log(l) });
  console.log(formatSoak(r));
  const clean = !r.badIps.length && !r.failures.length && !r.leftovers.length && !r.hostChanges.length;
  process.exit(clean ? 0 : 1);
}
