// podnet trace: the seed walkthrough in a fresh world. SyncPod, the pod's addresses and routes,
// KillPod, then proof that nothing is left, on the nodes and on the host.
import { UsageError } from './usage-error.js';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { confListFromFileText } from '../cni/conf.js';
import { bridgeConfList, DEFAULT_CONF_FILE } from '../cni/defaults.js';
import type { LoopbackMode } from '../runtime/containerd.js';
import { Kubelet, type Pod } from '../runtime/kubelet.js';
import { hostDiff, hostSnapshot, settledPodLeftovers, strayProcesses } from '../runtime/leaks.js';
import { formatTimeline } from '../runtime/trace-format.js';
import { MODELLED_LINE } from '../runtime/sources.js';
import { containerdPackageVersion, describePluginSet } from '../world/paths.js';
import type { RuntimeKind } from '../runtime/cri-runtime.js';
import type { RealContainerdNode } from '../runtime/real-containerd.js';
import { Trace } from '../runtime/trace.js';
import { nodeFolder } from '../fs/world-files.js';
import { createWorld, type World } from '../world/world.js';

export interface TraceScenario {
  nodes: number;
  pods: number;
  configFile?: string;
  loopback: LoopbackMode;
  json: boolean;
  /** The model (default) or the real containerd 2.1. */
  runtime?: RuntimeKind;
}

export async function traceCommand(sc: TraceScenario, print: (s: string) => void): Promise<boolean> {
  let config: { name: string; text: string } | undefined;
  if (sc.configFile) {
    let text: string;
    try {
      text = readFileSync(sc.configFile, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --config ${sc.configFile}: ${(e as Error).message}`);
    }
    const name = basename(sc.configFile);
    if (!/\.(conf|conflist|json)$/.test(name))
      throw new UsageError(`--config ${name}: a CNI config file ends in .conf, .conflist or .json`);
    confListFromFileText(sc.configFile, text); // a broken file fails here, with file:line:column
    config = { name, text };
  }
  const before = hostSnapshot(`world-${process.pid}-`);
  const world = await createWorld({ nodes: sc.nodes });
  const report: Record<string, unknown> = { scenario: sc };
  let ok = true;
  try {
    for (const n of world.nodes.values()) {
      nodeFolder(world, n.name, 'confDir').writeFileAtomic(
        config?.name ?? DEFAULT_CONF_FILE,
        config?.text ?? bridgeConfList(n.podCidr),
      );
    }
    // the garbage collection is run explicitly below, after the KillPods, so the trace shows it in its place
    const kubelet = new Kubelet(world, { loopback: sc.loopback, gcDelayMs: 0 });
    const nodes = [...world.nodes.keys()];
    const text = (s: string) => !sc.json && print(s);
    let runtimeLine = `modelled: ${MODELLED_LINE}`;
    if (sc.runtime === 'containerd') {
      const t0 = performance.now();
      await kubelet.useRealContainerd();
      const ms = Math.round(performance.now() - t0);
      const real = [...kubelet.cris.values()][0] as RealContainerdNode;
      report.containerd = { version: real.daemon.version, package: containerdPackageVersion(), startMs: ms };
      runtimeLine = `runtime: the real containerd ${real.daemon.version} (Debian ${containerdPackageVersion() ?? '?'}), started on ${nodes.length} node${nodes.length > 1 ? 's' : ''} in ${ms} ms; kubelet modelled`;
    }
    text(
      `podnet trace (${runtimeLine}; ${describePluginSet()}): ${sc.nodes} node${sc.nodes > 1 ? 's' : ''}, ${sc.pods} pod${sc.pods > 1 ? 's' : ''}, loopback ${sc.loopback}, config ${config?.name ?? `${DEFAULT_CONF_FILE} (bridge + host-local, portmap)`}\n`,
    );
    const pods: Pod[] = [];
    const setups: unknown[] = [];
    for (let i = 0; i < sc.pods; i++) {
      const name = i === 0 ? 'web' : `web-${i + 1}`;
      const node = nodes[i % nodes.length]!;
      const trace = new Trace();
      text(`── SyncPod ${name} on ${node} ${'─'.repeat(60)}`);
      try {
        const pod = await kubelet.syncPod(
          { name, node, containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }] },
          trace,
        );
        pods.push(pod);
        text(formatTimeline(trace));
        const addr = await world.run({ kind: 'pod', node, netns: pod.netns }, ['ip', 'addr']);
        const route = await world.run({ kind: 'pod', node, netns: pod.netns }, ['ip', 'route']);
        text(
          `\n$ ip addr      (in pod ${name}, ${pod.netns} on ${node})\n${addr.trimEnd()}\n$ ip route\n${route.trimEnd()}\n`,
        );
        setups.push({
          pod: name,
          node,
          ip: pod.ip,
          netns: pod.netns,
          trace: trace.events,
          ipAddr: addr,
          ipRoute: route,
        });
      } catch (e) {
        ok = false;
        text(formatTimeline(trace));
        text(`\n✗ SyncPod ${name} failed: ${(e as Error).message}\n`);
        setups.push({ pod: name, node, error: (e as Error).message, trace: trace.events });
      }
    }
    report.setup = setups;
    const teardowns: unknown[] = [];
    for (const pod of pods) {
      const trace = new Trace();
      text(`── KillPod ${pod.spec.name} on ${pod.spec.node} ${'─'.repeat(60)}`);
      try {
        await kubelet.killPod(pod.spec.name, 'default', trace);
      } catch (e) {
        ok = false;
        text(`✗ KillPod failed: ${(e as Error).message}`);
      }
      text(formatTimeline(trace) + '\n');
      teardowns.push({ pod: pod.spec.name, trace: trace.events });
    }
    report.teardown = teardowns;
    const gc = new Trace();
    text(`── GarbageCollect (the kubelet's, later: every minute on a real node) ${'─'.repeat(20)}`);
    await kubelet.garbageCollect(gc).catch((e: Error) => {
      ok = false;
      text(`✗ GarbageCollect failed: ${e.message}`);
    });
    text(formatTimeline(gc) + '\n');
    report.garbageCollect = gc.events;
    // the real containerd ends here: what it leaves behind counts as left
    await kubelet.close();
    const left = await leftovers(world);
    report.leftovers = left;
    if (left.length) ok = false;
    text(
      left.length
        ? `✗ Left behind in the world:\n${left.map((l) => `  - ${l}`).join('\n')}`
        : `✓ Nothing left on the nodes: no veth, no pod netns, no IP reservation, no cached result, no pod process (cni0 stays: the bridge plugin never deletes it).`,
    );
  } finally {
    await world.destroy();
  }
  const after = hostSnapshot(world.id);
  const diff = hostDiff(before, after);
  report.hostDiff = diff;
  if (diff.length) ok = false;
  report.ok = ok;
  if (sc.json) print(JSON.stringify(report, null, 2));
  else
    print(
      diff.length
        ? `✗ The host changed:\n${diff.map((d) => `  - ${d}`).join('\n')}`
        : `✓ World destroyed; the host is unchanged: same interfaces, no named netns, no mount, no process of the world.`,
    );
  return ok;
}

async function leftovers(world: World): Promise<string[]> {
  const out: string[] = [];
  for (const n of world.nodes.keys()) out.push(...(await settledPodLeftovers(world, n)).items.map((i) => `${n}: ${i}`));
  out.push(...(await strayProcesses(world)).map((p) => `process ${p}`));
  return out;
}
