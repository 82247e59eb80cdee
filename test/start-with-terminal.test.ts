// Free play's "Start world" asks for node1's terminal right behind world.start (issue #18's start path):
// the engine holds that request until the nodes exist and answers it with the shell it started on node1
// then, while the world is still being wired (its configs, the runtime): the prompt need not wait for
// them, and the terminal works before the world is reported running. Real world, real pty; nothing timed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { sessionMembers } from '../src-main/world/procfs.js';

function engine(): Engine {
  return createEngine({ terminals: (w, r) => new TerminalService(w, r) });
}

/** Events in the order the engine sent them, with the terminals' output as text. */
function record(e: Engine) {
  const seen: string[] = [];
  const out = new Map<string, string>();
  e.events.on('event', (ev, p) => {
    if (ev === 'world.changed') {
      const state = (p as { state: string }).state;
      // which nodes had a shell started ahead when the world was reported running
      const svc = (e.session as unknown as { terminals?: { spares: Map<string, unknown> } }).terminals;
      seen.push(
        `world ${state}${state === 'running' ? ` (shells ahead: ${[...(svc?.spares.keys() ?? [])].join()})` : ''}`,
      );
    }
    if (ev === 'terminal.data') {
      const { id, data } = p as { id: string; data: Uint8Array };
      out.set(id, (out.get(id) ?? '') + Buffer.from(data).toString());
    }
  });
  return { seen, text: (id: string) => out.get(id) ?? '' };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a terminal asked for with the world start', () => {
  it("is held until the nodes exist, then answered with node1's shell started ahead, in node1, before the world runs", async () => {
    const e = engine();
    const { seen, text } = record(e);
    try {
      // as the page sends them: the open right behind the start, before the start has begun
      const started = e.api['world.start']({ nodes: 2 });
      const opened = e.api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 100, rows: 30 });
      const order: string[] = [];
      void started.then(() => order.push('start answered'));
      const term = await opened;
      order.push('open answered');
      // answered while the world is still starting: the shell it hands over works already
      expect((await e.api['world.status']({})).state).toBe('starting');
      const svc = (e.session as unknown as { terminals: TerminalService }).terminals;
      const pid = svc.pid(term.id);
      await e.api['terminal.resize']({ id: term.id, cols: 100, rows: 30 });
      expect((await started).state).toBe('running');
      expect(order).toEqual(['open answered', 'start answered']);
      expect(seen[0]).toBe('world starting');
      expect(seen.filter((x) => x.startsWith('world running'))).toHaveLength(1);
      // node1's shell was started ahead once the nodes existed, and the request took it: it runs in
      // node1 at the size asked
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/pty-exec\0/);
      await until('node1 prompt', () => text(term.id).endsWith('root@node1:/# '));
      await e.api['terminal.input']({ id: term.id, data: 'hostname; stty size\r' });
      await until('hostname and size', () => /node1\r\n30 100\r\n/.test(text(term.id)));
      expect(sessionMembers(pid).length).toBeGreaterThan(0);
      // no second node1 shell was started for the request: one more is started ahead later, not at once
      await expect(e.api['terminal.list']({})).resolves.toHaveLength(1);
    } finally {
      await e.dispose();
    }
  }, 60_000);

  it('is refused with the start, when the world cannot start', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'podnet-no-plugins-'));
    const saved = process.env.PODNET_CNI_PATH;
    process.env.PODNET_CNI_PATH = empty;
    const e = engine();
    try {
      const started = e.api['world.start']({ nodes: 1 });
      const opened = e.api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 });
      await expect(started).rejects.toThrow(/no CNI plugins found/);
      await expect(opened).rejects.toThrow(/no world is running: start one first/);
      // and without a start under way, a request is refused at once, as before
      await expect(
        e.api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 }),
      ).rejects.toThrow(/no world is running/);
    } finally {
      if (saved === undefined) delete process.env.PODNET_CNI_PATH;
      else process.env.PODNET_CNI_PATH = saved;
      await e.dispose();
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
