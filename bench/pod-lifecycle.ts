// Benchmark: pod setup and teardown through the engine (kubelet → CRI → containerd → CNI, traced),
// against a raw baseline in the same run and a world of the same shape: a shell loop on the node doing
// `ip netns add`, `ip link set lo up`, the bridge plugin run directly with the same config, and the
// sandbox's files and pause process (the same native pause, in its own mount and UTS namespaces).
// Prints ratios; not part of the test suite. Usage: npm run bench [-- --rounds N] [-- --real-only]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { confListFromText } from '../src-main/cni/conf.js';
import { buildPluginConfig } from '../src-main/cni/libcni.js';
import { bridgeConfList } from '../src-main/cni/defaults.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import type { RealContainerdNode } from '../src-main/runtime/real-containerd.js';
import { podLeftovers } from '../src-main/runtime/leaks.js';
import { nativeBinary, WORLD_NAMESPACES } from '../src-main/world/world-init.js';
import { createWorld, type World } from '../src-main/world/world.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const NODE = 'node1';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rawScript(n: number, tag: string, pause: string): string {
  // Exactly what the engine feeds bridge: the same config (name and cniVersion injected), the same
  // CNI_ARGS, and on DEL the ADD result as prevResult. Results stay in shell variables and DEL's stdin is
  // a here-document, so the raw side runs no process the engine does not (one per command).
  const args = (i: string) =>
    `CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${tag}${i};K8S_POD_INFRA_CONTAINER_ID=${tag}${i};K8S_POD_UID=u${i}"`;
  return [
    'set -e',
    'export CNI_PATH=/opt/cni/bin CNI_IFNAME=eth0',
    'conf=$(cat /var/lib/cni/bench.json)',
    // the pause says "ready" once its mounts are made; the engine waits for that line, and so does this
    `fifo=/var/lib/cni/bench-${tag}.fifo; mkfifo $fifo`,
    'i=0',
    `while [ $i -lt ${n} ]; do`,
    `  ip netns add ${tag}$i`,
    `  ip -n ${tag}$i link set lo up`,
    `  r=$(${args('$i')} CNI_COMMAND=ADD CNI_CONTAINERID=${tag}$i CNI_NETNS=/run/netns/${tag}$i /opt/cni/bin/bridge < /var/lib/cni/bench.json)`,
    '  eval "r$i=\\$r"',
    // setupSandboxFiles and the pause, as containerd's next steps
    `  d=/var/lib/cni/bench-sb-${tag}$i; mkdir $d`,
    `  echo ${tag}$i > $d/hostname; cat /etc/hosts > $d/hosts; printf 'search default.svc.cluster.local svc.cluster.local cluster.local\\nnameserver 10.96.0.10\\noptions ndots:5\\n' > $d/resolv.conf`,
    `  unshare --mount --uts ${pause} $d ${tag}$i > $fifo & eval "p$i=\\$!"`,
    '  read ready < $fifo',
    '  i=$((i+1))',
    'done',
    'i=0',
    `while [ $i -lt ${n} ]; do`,
    '  eval "r=\\$r$i"',
    '  eval "kill -9 \\$p$i; wait \\$p$i" 2>/dev/null || true',
    `  ${args('$i')} CNI_COMMAND=DEL CNI_CONTAINERID=${tag}$i CNI_NETNS=/run/netns/${tag}$i /opt/cni/bin/bridge > /dev/null <<EOF`,
    '${conf%\\}},"prevResult":$r}',
    'EOF',
    `  ip netns delete ${tag}$i`,
    // containerd 2.1's RemovePodSandbox (the kubelet's GC) stops the sandbox again: a second DEL, empty netns, no cache
    `  ${args('$i')} CNI_COMMAND=DEL CNI_CONTAINERID=${tag}$i CNI_NETNS= /opt/cni/bin/bridge > /dev/null < /var/lib/cni/bench.json`,
    `  rm -r /var/lib/cni/bench-sb-${tag}$i`,
    '  i=$((i+1))',
    'done',
    'rm $fifo',
  ].join('\n');
}

async function raw(w: World, n: number, tag: string): Promise<number> {
  const t0 = performance.now();
  await w.run({ kind: 'node', node: NODE }, ['sh', '-c', rawScript(n, tag, nativeBinary('pause'))]);
  return performance.now() - t0;
}

async function engineSequential(k: Kubelet, n: number, tag: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await k.syncPod({ name: `${tag}${i}`, node: NODE });
  for (let i = 0; i < n; i++) await k.killPod(`${tag}${i}`);
  await k.garbageCollect(); // RemovePodSandbox and the pod logs: the same work the raw script does
  return performance.now() - t0;
}

async function engineConcurrent(k: Kubelet, n: number, tag: string): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => k.syncPod({ name: `${tag}${i}`, node: NODE })));
  await Promise.all(Array.from({ length: n }, (_, i) => k.killPod(`${tag}${i}`)));
  await k.garbageCollect();
  return performance.now() - t0;
}

/**
 * World start (2 nodes: the world's own root, its nodes, the underlay) until usable, then its end,
 * against the namespaces alone: `unshare` of the same kinds running `true`.
 */
async function worldStart(n: number): Promise<{ engine: number; raw: number }> {
  const engine: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    spawnSync('unshare', [...WORLD_NAMESPACES, '--mount-proc', 'true']);
    raw.push(performance.now() - t0);
    t0 = performance.now();
    const w = await createWorld({ nodes: 2 });
    await w.destroy();
    engine.push(performance.now() - t0);
  }
  return { engine: median(engine), raw: median(raw) };
}

/** VmRSS of a host process, in MiB (0 if gone). */
function rssMiB(pid: number): number {
  try {
    const kb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/**
 * Per-pod setup + teardown on the real containerd 2.1.9 against the model, in the same run: two
 * one-node worlds with the same config, the same kubelet, 1 pod at a time (alternating).
 */
async function realContainerd(): Promise<void> {
  const conf = bridgeConfList('10.244.1.0/24');
  const mw = await createWorld({ nodes: 1 });
  const rw = await createWorld({ nodes: 1 });
  const model = new Kubelet(mw, { loopback: 'internal', gcDelayMs: 0 });
  const real = new Kubelet(rw, { loopback: 'internal', gcDelayMs: 0 });
  try {
    for (const w of [mw, rw]) writeFileSync(join(w.node(NODE).host.confDir, '10-podnet.conflist'), conf);
    const t0 = performance.now();
    await real.useRealContainerd();
    const start = performance.now() - t0;
    const daemon = (real.cri(NODE) as RealContainerdNode).daemon;
    const idle = rssMiB(rw.hostPid(daemon.process.pid));
    await engineSequential(model, 1, 'w');
    await engineSequential(real, 1, 'w');
    // one pod running: containerd's and its shim's memory
    await real.syncPod({ name: 'mem', node: NODE });
    const shims = (
      await rw.run({ kind: 'node', node: NODE }, ['sh', '-c', "pgrep -f '^/.*containerd-shim-runc-v2' || true"])
    )
      .split('\n')
      .filter(Boolean)
      .map((p) => rssMiB(rw.hostPid(Number(p))));
    await real.killPod('mem');
    await real.garbageCollect();
    const m: number[] = [];
    const r: number[] = [];
    const n = Math.max(5, rounds * 3);
    for (let i = 0; i < n; i++) {
      if (i % 2) {
        m.push(await engineSequential(model, 1, `m${i}`));
        r.push(await engineSequential(real, 1, `r${i}`));
      } else {
        r.push(await engineSequential(real, 1, `r${i}`));
        m.push(await engineSequential(model, 1, `m${i}`));
      }
    }
    const left = [...(await podLeftovers(mw, NODE)).items, ...(await podLeftovers(rw, NODE)).items];
    if (left.length) throw new Error(`the real-containerd benchmark left things behind: ${left.join('; ')}`);
    console.log(
      [
        '',
        `the real containerd ${daemon.version} (median of ${n}, 1 pod at a time, setup + teardown + GC, same kubelet and plugins):`,
        `  containerd started on 1 node (images imported) in ${start.toFixed(0)} ms; containerd RSS idle ${idle.toFixed(0)} MiB; a pod's shim ${shims.map((x) => x.toFixed(0)).join(', ') || '?'} MiB`,
        `  per pod: model ${median(m).toFixed(1)} ms, real containerd ${median(r).toFixed(1)} ms; the model's time as a ratio of the real one: ${(median(m) / median(r)).toFixed(3)} (shown, no target)`,
      ].join('\n'),
    );
  } finally {
    await real.close();
    await mw.destroy();
    await rw.destroy();
  }
}

async function main() {
  const w = await createWorld({ nodes: 1 });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  try {
    const node = w.node(NODE);
    const confText = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
      ],
    });
    writeFileSync(join(node.host.confDir, '10-podnet.conflist'), confText);
    const list = confListFromText(confText);
    writeFileSync(
      join(node.host.dataDir, 'bench.json'),
      buildPluginConfig(list, list.plugins[0]!, undefined, undefined),
    );
    // the kubelet's own collection only when timed (not on its 1 s timer, in the middle of a round)
    const k = new Kubelet(w, { loopback: 'internal', gcDelayMs: 0 });

    // warm up both paths (the first ADD creates cni0)
    await raw(w, 2, 'w');
    await engineSequential(k, 2, 'w');
    const rssBefore = process.memoryUsage().rss;

    const one = { raw: [] as number[], engine: [] as number[] };
    const hundred = { raw: [] as number[], engine: [] as number[], concurrent: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      // alternate the order each round so drift hits both sides alike
      for (let j = 0; j < 10; j++) {
        if ((r + j) % 2) {
          one.raw.push(await raw(w, 1, `r${r}x${j}p`));
          one.engine.push(await engineSequential(k, 1, `e${r}x${j}p`));
        } else {
          one.engine.push(await engineSequential(k, 1, `e${r}x${j}p`));
          one.raw.push(await raw(w, 1, `r${r}x${j}p`));
        }
      }
      hundred.raw.push(await raw(w, 100, `r${r}h`));
      hundred.engine.push(await engineSequential(k, 100, `e${r}h`));
      hundred.concurrent.push(await engineConcurrent(k, 100, `c${r}h`));
    }
    clearInterval(sampler);
    // both sides must have cleaned up after themselves, or the figures compare different work
    const left = (await podLeftovers(w, NODE)).items;
    if (left.length) throw new Error(`the benchmark left things behind: ${left.join('; ')}`);
    const m = {
      oneRaw: median(one.raw),
      oneEngine: median(one.engine),
      hRaw: median(hundred.raw),
      hEngine: median(hundred.engine),
      hConc: median(hundred.concurrent),
    };
    const row = (what: string, engine: number, base: number, target: string, ok: boolean) =>
      `${what.padEnd(44)} ${engine.toFixed(1).padStart(9)} ${base.toFixed(1).padStart(9)} ${(engine / base).toFixed(3).padStart(7)}  ${target.padEnd(7)} ${ok ? 'met' : 'MISSED'}`;
    const lines = [
      `pod lifecycle benchmark: 1 node, bridge + host-local, internal loopback; median of ${rounds} rounds (1-pod: ${rounds * 10} runs)`,
      `node ${process.version}, ${(await import('node:os')).cpus().length} cores, machine load (1 min) ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`,
      '',
      `${'measure'.padEnd(44)} ${'engine ms'.padStart(9)} ${'raw ms'.padStart(9)} ${'ratio'.padStart(7)}  target`,
      row('1 pod, setup + teardown, sequential', m.oneEngine, m.oneRaw, '≤ 1.15', m.oneEngine / m.oneRaw <= 1.15),
      row('100 pods, setup + teardown, sequential', m.hEngine, m.hRaw, '≤ 1.15', m.hEngine / m.hRaw <= 1.15),
      row('100 pods, concurrent pod workers ÷ raw sequential', m.hConc, m.hRaw, '≤ 0.75', m.hConc / m.hRaw <= 0.75),
      '',
      `per pod: engine ${(m.hEngine / 100).toFixed(1)} ms, raw ${(m.hRaw / 100).toFixed(1)} ms, engine concurrent ${(m.hConc / 100).toFixed(1)} ms`,
      `engine process memory: RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before the runs, peak ${(peakRss / 2 ** 20).toFixed(0)} MiB during them (100 pods at once)`,
    ];
    console.log(lines.join('\n'));
  } finally {
    clearInterval(sampler);
    await w.destroy();
  }
  await realContainerd();
  const ws = await worldStart(7);
  console.log(
    `\nworld start (2 nodes) and end, median of 7: ${ws.engine.toFixed(1)} ms; the namespaces alone (unshare … true): ${ws.raw.toFixed(1)} ms; ratio ${(ws.engine / ws.raw).toFixed(1)} (shown, no target)`,
  );
}

// --real-only: just the real containerd's figures (a quicker run)
if (process.argv.includes('--real-only')) await realContainerd();
else await main();
