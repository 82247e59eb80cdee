// Follow a packet, timed: from "send" (the captures listening) to the path ready (hops parsed, decisions
// read), against the raw floor — the same ping without captures — in the same run; and the packet's own
// time through the path (kernel stamps, first request hop to last). Then the same in the app, in Chromium:
// "Send" clicked → the drawing's last hop on screen, beside the engine's own send → path ready and the
// packet's transit for those very follows, with ratios. `npm run bench` runs it; PATH_UI=0 skips the app part.
import { loadavg } from 'node:os';
import type { Payload } from '../src-main/api/contract.js';
import { buildPresetWorld } from '../src-main/path/preset.js';
import { followPresetPing } from '../src-main/path/preset-paths.js';
import { openSession, startWorld } from '../test/e2e/harness.js';

const RUNS = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main() {
  const p = await buildPresetWorld();
  try {
    const ready: number[] = [];
    const raw: number[] = [];
    const transit: number[] = [];
    const stages = { setup: [] as number[], ping: [] as number[], stop: [] as number[], decide: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // interleaved: the floor and the follow take turns, so the load is the same for both
      const t = performance.now();
      await p.world.run(p.client.target, ['ping', '-c', '1', '-W', '2', '-s', '321', p.server.ip]);
      raw.push(performance.now() - t);
      const r = await followPresetPing(p);
      if (r.drop || r.hops.length !== 20) throw new Error(`follow ${i}: ${r.hops.length} hops, drop ${r.drop?.reason}`);
      const tm = r.timings!;
      ready.push(tm.done - tm.listening);
      transit.push(r.transitMs!);
      stages.setup.push(tm.listening);
      stages.ping.push(tm.sent - tm.listening);
      stages.stop.push(tm.stopped - tm.sent);
      stages.decide.push(tm.done - tm.stopped);
    }
    const m = median(ready);
    console.log(`follow a packet: preset world (2 nodes, VXLAN), ${RUNS} pings; load ${loadavg()[0]!.toFixed(1)}`);
    console.log(`send → path ready, median: ${ms(m)}`);
    console.log(
      `  raw floor, the same ping without captures, median: ${ms(median(raw))}  → ratio ${(m / median(raw)).toFixed(1)}×`,
    );
    console.log(
      `  the packet's own time through the path (request, 10 hops), median: ${median(transit).toFixed(3)} ms`,
    );
    console.log(`  before send: state, counters, captures listening, median: ${ms(median(stages.setup))}`);
    console.log(`  ping (exec into the pod, round trip, exit): ${ms(median(stages.ping))}`);
    console.log(
      `  the captures caught up (the answer seen at the source, then 100 ms quiet), stopped: ${ms(median(stages.stop))}`,
    );
    console.log(`  parse + decisions read from the kernel: ${ms(median(stages.decide))}`);
  } finally {
    await p.destroy();
  }
}

/** The app's side: a free-play world (2 nodes, a pod on each), Send clicked RUNS times in the topology's panel. */
async function inTheApp() {
  const s = await openSession({ width: 1440, height: 900 });
  try {
    const { page } = s;
    await startWorld(page, 2, 60_000);
    const until = async (what: string, ok: () => Promise<boolean>, ms = 90_000) => {
      const end = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > end) throw new Error(`bench: ${what} did not happen within ${ms / 1000} s`);
        await page.waitForTimeout(100);
      }
    };
    await until(
      'the control plane ready',
      async () => (await page.getByTestId('control-plane-state').getAttribute('data-state')) === 'ready',
    );
    await s.engine.api['pod.create']({ name: 'client', node: 'node1' });
    await s.engine.api['pod.create']({ name: 'server', node: 'node2' });
    const world = s.engine.session.runningWorld!;
    const kubelet = s.engine.session.runningKubelet!;
    await until("node1's route to node2's pods", async () =>
      /10\.244\.2\.0\/24 via/.test(await world.run({ kind: 'node', node: 'node1' }, ['ip', 'route', 'show'])),
    );
    const client = kubelet.podByName('client')!;
    const serverIp = kubelet.podByName('server')!.ip;
    const events: Payload<'path.followed'>[] = [];
    s.engine.events.on('event', (name, p) => name === 'path.followed' && events.push(p as Payload<'path.followed'>));

    await page.getByTestId('toolbar-topology').click();
    const tool = page.getByTestId('tool-topology');
    await tool.getByTestId('topo-box-pod:server').waitFor({ timeout: 30_000 });
    await tool.getByTestId('topo-follow').click();
    await tool.getByTestId('path-from').selectOption('pod:client');
    await tool.getByTestId('path-to').selectOption('pod:server');
    const drawn: number[] = [];
    const ready: number[] = [];
    const transit: number[] = [];
    const raw: number[] = [];
    const answered: number[] = [];
    const whole: number[] = [];
    const wire: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // interleaved with the floor: the same ping, no captures, from the engine's side
      const t = performance.now();
      await world.run({ kind: 'pod', node: 'node1', netns: client.netns }, [
        'ping',
        '-c',
        '1',
        '-W',
        '2',
        '-s',
        '321',
        serverIp,
      ]);
      raw.push(performance.now() - t);
      const n = events.length;
      await sendAndWaitDrawn(page, tool);
      const st = await page.evaluate(() =>
        (
          window as unknown as { podnetPath: { stats(): { sentAt: number; resultAt: number; drawnAt: number } } }
        ).podnetPath.stats(),
      );
      const r = events[n]?.result;
      if (!r || r.drop) throw new Error(`follow ${i}: ${r ? `dropped (${r.drop!.reason})` : 'no path.followed event'}`);
      drawn.push(st.drawnAt - st.sentAt);
      answered.push(st.drawnAt - st.resultAt);
      ready.push(r.timings!.done - r.timings!.listening);
      whole.push(r.timings!.done);
      // the request's way to the engine and the result's back (WebSocket, validation), beside the follow itself
      wire.push(st.resultAt - st.sentAt - r.timings!.done);
      transit.push(r.transitMs!);
    }
    if (process.env.PATH_PROFILE === '1') await profileOne(page, tool);
    const d = median(drawn);
    const e = median(ready);
    console.log(
      `\nfollow a packet in the app (Chromium, free-play world: 2 nodes, host-gw routes), ${RUNS} pings; load ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log(`Send clicked → the drawing's last hop on screen, median: ${ms(d)}`);
    console.log(
      `  the engine's send → path ready (captures listening → decisions read), median: ${ms(e)}  → UI/engine ${(d / e).toFixed(2)}×`,
    );
    console.log(
      `  the engine's whole follow (asked → done: state, captures starting, send, stop, decisions), median: ${ms(median(whole))}  → UI/engine whole ${(d / median(whole)).toFixed(2)}×`,
    );
    console.log(`  the page ↔ engine (request and result over the WebSocket, checked), median: ${ms(median(wire))}`);
    console.log(`  the result's arrival in the page → drawn, median: ${ms(median(answered))}`);
    console.log(
      `  raw floor, the same ping without captures, median: ${ms(median(raw))}  → UI/raw ${(d / median(raw)).toFixed(1)}×`,
    );
    console.log(`  the packet's own time through the path, median: ${median(transit).toFixed(3)} ms`);
    expectNoErrors(s.errors);
  } finally {
    await s.close();
  }
}

/** Clicks Send, and waits until the page has drawn the path that follow brought. */
async function sendAndWaitDrawn(page: import('playwright-core').Page, tool: import('playwright-core').Locator) {
  await tool.getByTestId('path-send').click();
  await page.waitForFunction(
    () => {
      const st = (
        window as unknown as { podnetPath: { stats(): { sentAt: number; drawnAt: number } } }
      ).podnetPath.stats();
      return st.drawnAt > st.sentAt;
    },
    null,
    { timeout: 60_000, polling: 50 },
  );
}

/** One more Send under Chromium's CPU profiler: where the page's own time went (self time by function). */
async function profileOne(page: import('playwright-core').Page, tool: import('playwright-core').Locator) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await sendAndWaitDrawn(page, tool);
  const { profile } = await cdp.send('Profiler.stop');
  const dt = profile.timeDeltas ?? [];
  const self = new Map<number, number>();
  (profile.samples ?? []).forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0) / 1000));
  const byName = new Map<string, number>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    byName.set(key, (byName.get(key) ?? 0) + (self.get(n.id) ?? 0));
  }
  const busy = [...byName].filter(([k]) => !/^\((idle|program|garbage collector)\)/.test(k));
  console.log(`  profile of one more follow: the page's JS ${ms(busy.reduce((a, [, v]) => a + v, 0))}; top self time:`);
  for (const [k, v] of busy.sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${ms(v)}  ${k}`);
}

function expectNoErrors(errors: string[]) {
  if (errors.length) throw new Error(`the page logged errors: ${errors.join('\n')}`);
}

await main();
if (process.env.PATH_UI !== '0') await inTheApp();
