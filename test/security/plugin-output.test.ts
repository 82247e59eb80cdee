// A CNI plugin that prints 700 MB: the engine keeps only the first part of its output (in the trace, and so
// in the timeline), says how much was cut, and its memory and event loop stay bounded while it runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, TimelineOperation } from '../../src-main/api/contract.js';
import { createEngine, type Engine } from '../../src-main/engine/engine.js';
import { TerminalService } from '../../src-main/terminal/terminal-service.js';

let engine: Engine;

/** This process's peak RSS since the last reset (VmHWM). */
function peakRss(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

beforeAll(async () => {
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  await engine.api['world.start']({ nodes: 1 });
}, 60_000);
afterAll(async () => {
  await engine?.dispose();
});

describe('a CNI plugin that prints 700 MB', () => {
  it('costs the engine bounded memory, and the trace keeps its first part and says how much was cut', async () => {
    const node = engine.session.runningWorld!.node('node1');
    // a node's own plugin (what a lab adds): 700 MB of "x" on stdout, then a failure
    writeFileSync(
      join(node.host.binUpper, 'loud'),
      '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] || exit 0\nhead -c 700000000 /dev/zero | tr "\\000" x\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    writeFileSync(
      join(node.host.confDir, '10-podnet.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'loud' }] }),
    );
    const done = new Promise<TimelineOperation>((resolve) => {
      const on = (e: EventName, p: unknown) => {
        const o = p as TimelineOperation;
        // the SyncPod (not a garbage collection that may end meanwhile)
        if (e === 'timeline.operation' && o.kind === 'syncPod' && (o.state === 'done' || o.state === 'failed')) {
          engine.events.off('event', on);
          resolve(o);
        }
      };
      engine.events.on('event', on);
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    writeFileSync('/proc/self/clear_refs', '5'); // peak RSS starts again from here
    let stall = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last - 50);
      last = now;
    }, 50);
    const t0 = performance.now();
    const op = await engine.api['timeline.createPod']({ name: 'loud', node: 'node1', stepThrough: false });
    const ended = await done;
    clearInterval(tick);
    const peak = peakRss();
    console.log(
      `700 MB plugin: ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS before ${(before / 2 ** 20).toFixed(0)} MiB, ` +
        `peak ${(peak / 2 ** 20).toFixed(0)} MiB; longest event-loop stall ${stall.toFixed(0)} ms`,
    );
    expect(ended.id).toBe(op.id);
    expect(ended.state).toBe('failed');
    const steps = await engine.api['timeline.steps']({ op: op.id });
    const loud = steps.find((s) => s.name === 'loud ADD')!;
    const d = await engine.api['timeline.detail']({ op: op.id, step: loud.id });
    // the first 64 KiB, and how much more there was (what the plugin printed before its 10 s ran out)
    expect(d.stdout!.startsWith('x'.repeat(1000))).toBe(true);
    const cut = /\n… (\d+\.\d) MB more cut$/.exec(d.stdout!);
    expect(cut, d.stdout!.slice(-80)).not.toBeNull();
    expect(Number(cut![1])).toBeGreaterThan(100);
    console.log(`the trace keeps ${d.stdout!.length} characters of it: "…${d.stdout!.slice(-30)}"`);
    expect(peak - before).toBeLessThan(100 * 2 ** 20);
  }, 120_000);
});
