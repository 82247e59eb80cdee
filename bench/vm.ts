// Benchmark: the bundled VM (docs/vm.md). Cold boot → the guest's engine ready (against this host starting the
// same engine in a new Node process); then world start (1 node)
// and pod setup (pod.create, SyncPod through the real plugins) through the contract over the WebSocket,
// inside the guest vs the same requests to an engine on this host (the raw floor), taken in the same run
// and printed as ratios; and the image's sizes. Usage: npm run bench:vm [-- --rounds N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createEngine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { hostArch } from '../src-main/vm/guest-spec.js';
import { mb, readManifest } from '../src-main/vm/image.js';
import { startVmSession } from '../src-main/vm/vm-host.js';
import { PROTOCOL, startWebHost, tokenProtocol } from '../src-main/web/server.js';

const arg = (name: string, dflt: number) =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt;
const ROUNDS = arg('--rounds', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The contract over the WebSocket, as the page speaks it. */
async function connect(port: number, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, [PROTOCOL, tokenProtocol(token)], {
    origin: `http://127.0.0.1:${port}`,
  });
  await new Promise<void>((res, rej) => (ws.once('open', () => res()), ws.once('error', rej)));
  let next = 1;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse((data as Buffer).toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.rej(new Error(m.error.message));
    else p.res(m.result);
  });
  return {
    request: (method: string, params: unknown = {}) =>
      new Promise<unknown>((res, rej) => {
        const id = next++;
        pending.set(id, { res, rej });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** The raw floor of a cold boot: this host starting the same engine's web host (a new Node process) until it listens. */
async function hostEngineStart(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(import.meta.dirname, '../src-main/web/main.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const ms = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (/Open http:/.test(out)) res(performance.now() - t0);
    });
    child.once('exit', (c) => rej(new Error(`the host's engine exited (${c}) before it listened: ${out}`)));
  });
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return ms;
}

/** World start and pod setup, ROUNDS times: the medians in ms. */
async function measure(port: number, token: string): Promise<{ world: number; pod: number }> {
  const c = await connect(port, token);
  const world: number[] = [];
  const pod: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      await c.request('world.start', { nodes: 1 });
      world.push(performance.now() - t);
      t = performance.now();
      await c.request('pod.create', { name: 'web', node: 'node1' });
      pod.push(performance.now() - t);
      await c.request('world.stop');
    }
  } finally {
    c.close();
  }
  return { world: median(world), pod: median(pod) };
}

async function main() {
  console.log(`podnet bench:vm — ${ROUNDS} rounds; load average before: ${load()}`);
  const starts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) starts.push(await hostEngineStart());
  const hostStart = median(starts);
  // the raw floor: the same engine and web host on this host
  const engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  const host = await startWebHost({
    api: engine.api,
    events: engine.events,
    rendererDir: join(import.meta.dirname, '../renderer'),
  });
  const onHost = await measure(host.port, host.token);
  await host.close();
  await engine.dispose();
  console.log(
    `host:  engine start → listening ${hostStart.toFixed(0)} ms, world start ${onHost.world.toFixed(0)} ms, pod setup ${onHost.pod.toFixed(0)} ms (load ${load()})`,
  );

  const t0 = performance.now();
  // a progress folder of the run's own: the bench opens no lab
  const progressDir = mkdtempSync(join(tmpdir(), 'podnet-bench-progress-'));
  const s = await startVmSession(() => {}, progressDir);
  const boot = performance.now() - t0;
  try {
    console.log(
      `VM (QEMU ${s.vm.accelerator.toUpperCase()}, guest kernel ${s.kernel}): cold boot → engine ready ${(boot / 1000).toFixed(1)} s (load ${load()})`,
    );
    const inVm = await measure(s.port, s.token);
    console.log(`guest: world start ${inVm.world.toFixed(0)} ms, pod setup ${inVm.pod.toFixed(0)} ms (load ${load()})`);
    console.log(
      `ratios guest/host: cold boot → engine ready ×${(boot / hostStart).toFixed(0)} the host's engine start, world start ×${(inVm.world / onHost.world).toFixed(1)}, pod setup ×${(inVm.pod / onHost.pod).toFixed(1)}`,
    );
  } finally {
    await s.vm.stop();
    rmSync(progressDir, { recursive: true, force: true });
  }
  const m = readManifest(hostArch());
  if (m)
    console.log(
      `image (${m.arch}): vmlinuz ${mb(m.sizes.kernel)} + initrd.zst ${mb(m.sizes.initrd)} = ${mb(m.sizes.kernel + m.sizes.initrd)} to download; root ${mb(m.sizes.root)} unpacked`,
    );
  console.log(`load average after: ${load()}`);
}

await main();
