// The nodes' NetworkReady reaches the UI whichever path sent the last world.changed. The status loop
// (every STATUS_INTERVAL_MS) sends only a change; the control plane's start sends the nodes too, so a
// NotReady sent by it and undone before the loop's next tick must still be followed by a Ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payload } from '../src-main/api/contract.js';
import { bridgeConfList } from '../src-main/cni/defaults.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { STATUS_INTERVAL_MS } from '../src-main/engine/lab-service.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';

let engine: Engine;
const sent: Payload<'world.changed'>[] = [];

beforeAll(() => {
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  engine.events.on('event', (name: string, p: unknown) => {
    if (name === 'world.changed') sent.push(p as Payload<'world.changed'>);
  });
});
afterAll(() => engine?.dispose());

const node1Ready = (w: Payload<'world.changed'>) => w.nodes.find((n) => n.name === 'node1')?.networkReady.status;

async function until<T>(what: string, find: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`no world.changed ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('world.changed and the status loop', () => {
  it('sends Ready after a NotReady that the control plane sent, however soon the file is fixed', async () => {
    const good = bridgeConfList('10.244.1.0/24');
    const broken = good.replace('"portMappings": true\n      }', '"portMappings": true\n      },');
    const w = await engine.api['world.start']({ nodes: 1 });
    expect(w.controlPlane?.state).toBe('starting');
    // broken before the control plane is ready: its "ready" carries node1 NotReady
    await engine.api['config.save']({ node: 'node1', name: '10-podnet.conflist', text: broken });
    const cpSent = await until(
      'with the control plane started',
      () => sent.find((x) => x.controlPlane?.state !== undefined && x.controlPlane.state !== 'starting'),
      60_000,
    );
    expect(cpSent.controlPlane?.state).toBe('ready');
    expect(node1Ready(cpSent)).toBe(false);
    // fixed at once, before the loop has had a tick since the break (when the control plane was quick)
    const from = sent.length;
    await engine.api['config.save']({ node: 'node1', name: '10-podnet.conflist', text: good });
    expect((await engine.api['world.status']({})).nodes[0]!.networkReady.status).toBe(true);
    const readyAgain = await until(
      'with node1 Ready again',
      () => sent.slice(from).find((x) => node1Ready(x) === true),
      2 * STATUS_INTERVAL_MS + 1_000,
    );
    expect(readyAgain.nodes[0]!.lastCNILoadStatus).toBe('OK');
  }, 90_000);
});
