// world-init's channel, both ways: a frame that does not fit (short payload, unknown kind, unknown id,
// impossible length) is dropped with a reason or answered with an error; neither side throws, and the
// world goes on working (only a length no frame can have ends that world, never the engine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, newWorldId, rootSpec, type World } from '../../src-main/world/world.js';
import { WorldInit, type WorldProcess } from '../../src-main/world/world-init.js';

/** The engine's side of the channel, as the frames from world-init reach it. */
interface Channel {
  onData(d: Buffer): void;
  send(type: string, id: number, payload?: Buffer): void;
}

const frame = (type: string, id: number, payload: Buffer = Buffer.alloc(0), len = payload.length + 5) => {
  const h = Buffer.alloc(9);
  h.writeUInt32LE(len, 0);
  h.write(type, 4, 'latin1');
  h.writeUInt32LE(id, 5);
  return Buffer.concat([h, payload]);
};

let world: World;
let init: WorldInit;
beforeAll(async () => {
  world = await createWorld({ nodes: 1 });
  init = (world as unknown as { init: WorldInit }).init;
});
afterAll(() => world.destroy());

describe("world-init's channel", () => {
  it('drops frames from init that do not fit, and the engine goes on', async () => {
    const chan = init as unknown as Channel;
    const p = world.spawn({ kind: 'node', node: 'node1' }, ['sleep', '30']);
    await p.started;
    const bad = [
      frame('X', p.id), // an exit without its code and signal (ERR_BUFFER_OUT_OF_BOUNDS before)
      frame('P', p.id, Buffer.alloc(2)),
      frame('F', p.id, Buffer.alloc(1)),
      frame('R', 0),
      frame('R', 7, Buffer.alloc(4)),
      frame('Z', p.id, Buffer.alloc(8)),
      frame('O', 99_999, Buffer.from('nobody')),
      frame('P', p.id, Buffer.alloc(4)), // a second start
    ];
    for (const b of bad) expect(() => chan.onData(b)).not.toThrow();
    // split across reads, too
    const split = frame('X', p.id, Buffer.alloc(3));
    expect(() => chan.onData(split.subarray(0, 6))).not.toThrow();
    expect(() => chan.onData(split.subarray(6))).not.toThrow();
    expect(init.dropped.length).toBeGreaterThanOrEqual(bad.length + 1);
    expect(init.dropped.join('\n')).toMatch(/'X' with 0 bytes, fewer than 8/);
    expect(p.hasExited).toBe(false);
    p.kill(9);
    expect(await p.exited).toEqual({ code: null, signal: 9 });
    expect((await world.exec({ kind: 'node', node: 'node1' }, ['echo', 'still here'])).stdout).toBe('still here\n');
  });

  it('world-init answers requests it cannot use with an error, and goes on', async () => {
    const chan = init as unknown as Channel;
    // a spawn whose payload is cut short, and a kind init does not know: both answered, nothing started
    const req = world.spawn({ kind: 'node', node: 'node1' }, ['sleep', '30']);
    await req.started;
    chan.send('K', req.id, Buffer.alloc(2)); // a kill without its signal: dropped
    chan.send('Y', 123_456); // unknown kind
    chan.send('S', 123_457, Buffer.from([1, 2, 3])); // a spawn cut short
    chan.send('I', 654_321, Buffer.from('to nobody'));
    // init's answers ('F' for ids the engine never used) reach the engine, which drops them by id
    for (let i = 0; i < 50 && !/id 123457/.test(init.dropped.join('\n')); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(init.dropped.join('\n')).toMatch(/'F' for id 123456/);
    expect(init.dropped.join('\n')).toMatch(/'F' for id 123457/);
    expect(req.hasExited).toBe(false);
    req.kill(9);
    expect(await req.exited).toEqual({ code: null, signal: 9 });
    expect((await world.exec({ kind: 'sandbox' }, ['echo', 'ok'])).stdout).toBe('ok\n');
  });

  it('a length no frame can have ends that world, not the engine', async () => {
    const chan = init as unknown as Channel;
    expect(() => chan.onData(frame('O', 1, Buffer.alloc(0), 2))).not.toThrow();
    await init.exited;
    expect(world.alive).toBe(false);
  });

  it('a command asked for as its world ends: its start fails with the reason, and nothing waits on it', async () => {
    /** Each promise of a command, settled within 5 s (a hang before: its start waited for a 'P' that never came). */
    const settled = (p: WorldProcess) => {
      const within = (x: Promise<string>) =>
        Promise.race([x, new Promise<string>((r) => setTimeout(() => r('still waiting after 5 s'), 5000))]);
      const start = p.started.then(
        () => 'started',
        (e: Error) => e.message,
      );
      return Promise.all([within(start), within(p.exited.then(() => 'exited'))]);
    };
    // a request written to a world already dead, whose end the engine has not read yet: no 'P', no 'X',
    // only the world's end (the thread sleeps without yielding, so the end waits until after the request)
    const killed = await WorldInit.start(rootSpec(newWorldId(), [], undefined));
    process.kill(killed.outerPid!, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const a = killed.spawn({ argv: ['sleep', '30'], env: {} });
    expect(await settled(a)).toEqual(['the world ended before the command started', 'exited']);
    await expect(killed.exec({ argv: ['true'], env: {} })).rejects.toThrow(/the world has ended/);
    // the lifeline closed right after a request: init starts it and sends 'P', which may reach the engine
    // after the world's exit (the race lab-part once hung on)
    for (let i = 0; i < 10; i++) {
      const closed = await WorldInit.start(rootSpec(newWorldId(), [], undefined));
      const b = closed.spawn({ argv: ['sleep', '30'], env: {} });
      void closed.close();
      const [start, exit] = await settled(b);
      expect(start).toMatch(/^(started|the world ended before the command started)$/);
      expect(exit).toBe('exited');
    }
  });
});
