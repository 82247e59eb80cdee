// Follow a packet, timed: from "send" (the captures listening) to the path ready (hops parsed, decisions
// read), against the raw floor — the same ping without captures — in the same run; and the packet's own
// time through the path (kernel stamps, first request hop to last). Not in npm scripts yet.
import { loadavg } from 'node:os';
import { buildPresetWorld } from '../src-main/path/preset.js';
import { followPresetPing } from '../src-main/path/preset-paths.js';

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

await main();
