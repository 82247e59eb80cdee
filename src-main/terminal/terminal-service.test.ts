// Terminals in real worlds: a shell on a node and in a pod, resize, flow control, close and exit.
import { describe, expect, it } from 'vitest';
import { sleep, until, withWorld } from '../../test/helpers.js';
import type { World } from '../world/world.js';
import { DataBuffer, FlowControl } from './flow-control.js';
import { TerminalService } from './terminal-service.js';
import { SCROLLBACK_BYTES } from './scrollback.js';
import { childrenOf, isAlive, sessionMembers } from '../world/procfs.js';
import { existsSync, readFileSync } from 'node:fs';

/** This process's children (node-pty forks each terminal's pty-exec from here). */
const sessionMembersOfChildren = () => childrenOf(process.pid);

/** A service whose output per terminal is collected, with the exits it reported. */
function service(w: World, pods: Record<string, { node: string; netns: string }> = {}) {
  const svc = new TerminalService(w, (name) => pods[name]);
  const out = new Map<string, string>();
  const decoders = new Map<string, TextDecoder>();
  const exits = new Map<string, { code: number | null; signal: number | null }>();
  // output arrives as bytes; a multi-byte character may be split between two pieces
  svc.on('data', ({ id, data }) => {
    const d = decoders.get(id) ?? new TextDecoder();
    decoders.set(id, d);
    out.set(id, (out.get(id) ?? '') + d.decode(data, { stream: true }));
  });
  svc.on('exit', ({ id, code, signal }) => exits.set(id, { code, signal }));
  const text = (id: string) => out.get(id) ?? '';
  const waitFor = (id: string, s: string | RegExp, from = 0) =>
    until(`${JSON.stringify(String(s))} in ${id}: ${JSON.stringify(text(id).slice(-300))}`, () => {
      const t = text(id).slice(from);
      return typeof s === 'string' ? t.includes(s) : s.test(t);
    });
  return { svc, out, exits, text, waitFor };
}

describe('terminals', () => {
  it('hands over a shell started ahead (prepare): at its prompt, at the size asked, in the node; another follows; dispose ends them', () =>
    withWorld(2, async (w) => {
      const { svc, text, waitFor } = service(w);
      // a child may end between the listing and the read (the engine's own short-lived ones)
      const cmdline = (p: number) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      };
      const spares = () => sessionMembersOfChildren().filter((p) => /\/pty-exec\0/.test(cmdline(p)));
      const before = spares().length;
      try {
        svc.prepare(['node1', 'node2']);
        // node1's at once, node2's a moment later: one pty-exec each, at their prompts, no terminal yet
        await until('two shells started ahead', () => spares().length === before + 2);
        expect(svc.list()).toEqual([]);
        await sleep(300);
        const started = spares();
        const t = svc.open({ kind: 'node', node: 'node1' }, 100, 30);
        // the terminal is the shell started ahead: its pty process was there before the request
        expect(started).toContain(svc.pid(t.id));
        // the prompt written before the request goes out at once; bash redraws it at the new size
        await waitFor(t.id, /\rroot@node1:\/# $/);
        // its prompt is on one line: written before the request, then redrawn in place at the new size
        expect(text(t.id)).not.toContain('\n');
        expect(text(t.id).split('\r').at(-1)).toBe('root@node1:/# ');
        svc.input(t.id, 'stty size; hostname; grep -E "Max processes" /proc/self/limits\r');
        await waitFor(t.id, /30 100\r\nnode1\r\nMax processes\s+1000\s+1000/);
        // another is started ahead for the next terminal on node1
        await until('a new shell started ahead on node1', () => spares().length === before + 3);
        const t2 = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(t2.id, 'root@node1:/# ');
        expect(t2.id).not.toBe(t.id);
      } finally {
        svc.dispose();
      }
      await until('every shell, started ahead or taken, to end', () => spares().length === before);
    }));

  it('opens a shell on a node and in a pod, with a prompt that says where, and resizes', () =>
    withWorld(1, async (w) => {
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'add', 'p1']);
      const { svc, text, waitFor } = service(w, { web: { node: 'node1', netns: '/run/netns/p1' } });
      try {
        const node = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        expect(node).toEqual({ id: 't1', title: 'node1', target: { kind: 'node', node: 'node1' }, exited: false });
        await waitFor(node.id, 'root@node1:/# ');
        svc.input(node.id, 'ip -br link\r');
        await waitFor(node.id, /eth0@\S+\s+UP[\s\S]*root@node1:\/# $/);

        const pod = svc.open({ kind: 'pod', pod: 'web' }, 80, 24);
        expect(pod.title).toBe('pod/web');
        await waitFor(pod.id, 'root@pod/web:/# ');
        const from = text(pod.id).length;
        svc.input(pod.id, 'ip -br link; echo "host=$(hostname) node=$PODNET_NODE"\r');
        await waitFor(pod.id, /host=node1 node=node1\r\n/, from);
        const links = text(pod.id)
          .slice(from)
          .split(/\r\n?/)
          .filter((l) => /^\S+\s+(UP|DOWN|UNKNOWN)\b/.test(l));
        expect(
          links.map((l) => l.split(/\s+/)[0]),
          JSON.stringify(text(pod.id).slice(from)),
        ).toEqual(['lo']);

        svc.resize(node.id, 100, 30);
        const mark = text(node.id).length;
        svc.input(node.id, 'stty size\r');
        await waitFor(node.id, '\r30 100\r\n', mark);

        const sandbox = svc.open({ kind: 'sandbox' }, 80, 24);
        await waitFor(sandbox.id, 'root@sandbox:/# ');
        svc.input(sandbox.id, 'ip -br link show underlay0\r');
        await waitFor(sandbox.id, /underlay0\s+UP/);
        expect(svc.list().map((t) => t.id)).toEqual(['t1', 't2', 't3']);
      } finally {
        svc.dispose();
      }
    }));

  it('pauses a flooding shell at the high watermark and lets the rest through as output is acknowledged', () =>
    withWorld(1, async (w) => {
      const { svc, waitFor } = service(w);
      let delivered = 0;
      let autoAck = false;
      try {
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        svc.on('data', ({ id, data }: { id: string; data: Uint8Array }) => {
          if (id !== t.id) return;
          delivered += data.length;
          if (autoAck) svc.ack(id, data.length);
        });
        await waitFor(t.id, 'root@node1:/# ');
        svc.ack(t.id, delivered);
        delivered = 0;
        // twice the window: the pty must be paused well before the command ends
        const flood = 2 * (FlowControl.HighWatermarkBytes as number);
        svc.input(t.id, `yes | head -c ${flood}; echo; echo flood-$((6*7))\r`);
        await until('the high watermark', () => delivered > (FlowControl.HighWatermarkBytes as number));
        await sleep(100);
        const held = delivered;
        await sleep(500);
        expect(delivered).toBe(held);
        // held: at most the watermark, what was merged for sending, and one read in flight
        expect(delivered).toBeLessThan(FlowControl.HighWatermarkBytes + 2 * DataBuffer.FLUSH_BYTES);

        autoAck = true;
        svc.ack(t.id, delivered);
        // the pty turns each "\n" into "\r\n": N bytes of "y\n" are 1.5 N characters
        await waitFor(t.id, /flood-42\r\n/);
        expect(delivered).toBeGreaterThanOrEqual(flood);
      } finally {
        svc.dispose();
      }
    }));

  it("keeps a shell's last output when it exits right after printing it (libuv takes a hang-up after a short read for the end)", () =>
    withWorld(1, async (w) => {
      const { svc, exits, text, waitFor } = service(w);
      try {
        for (let i = 0; i < 3; i++) {
          const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
          await waitFor(t.id, 'root@node1:/# ');
          // 12 kB and the exit, all in the kernel (it holds ~15 KiB of a pty nobody reads) while the engine's
          // thread is busy (node-pty writes from libuv's pool): its first read after is one of 4 KiB, with the
          // pty's last holder gone
          svc.input(t.id, `head -c 12000 /dev/zero | tr '\\0' a; echo; echo tail-$((6*7))-${i}; exit\r`);
          const busy = Date.now() + 500;
          while (Date.now() < busy);
          await until('the exit', () => exits.has(t.id));
          expect(text(t.id)).toMatch(new RegExp(`a\\r\\ntail-42-${i}\\r\\nexit\\r\\n$`));
          svc.close(t.id);
        }
      } finally {
        svc.dispose();
      }
    }));

  it("keeps a shell's last output when it exits while flow control holds its pty paused", () =>
    withWorld(1, async (w) => {
      const { svc, exits, text, waitFor } = service(w);
      try {
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(t.id, 'root@node1:/# ');
        // nothing acknowledged: paused past the high watermark, with the rest (a few KiB: the kernel holds
        // ~15 KiB of a pty nobody reads) in the kernel as the shell exits; node-pty lets go of a pty 200 ms
        // after its process has gone
        svc.input(
          t.id,
          `head -c ${(FlowControl.HighWatermarkBytes as number) + 6_000} /dev/zero | tr '\\0' a; echo; echo tail-$((6*7)); exit\r`,
        );
        await until('the exit', () => exits.has(t.id), 10_000);
        expect(text(t.id)).toMatch(/\r\ntail-42\r\nexit\r\n$/);
      } finally {
        svc.dispose();
      }
    }));

  it('close ends the shell and everything it started; a shell that exits reports its code', () =>
    withWorld(1, async (w) => {
      const { svc, exits, text, waitFor } = service(w);
      try {
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(t.id, 'root@node1:/# ');
        // a background job (its own process group) and a foreground one
        svc.input(t.id, 'sleep 1000 & echo bg=$!\r');
        await waitFor(t.id, /bg=\d+/);
        svc.input(t.id, 'sleep 999\r');
        const pid = svc.pid(t.id);
        await until('the session to hold pty-exec, the shell and two sleeps', () => sessionMembers(pid).length >= 4);
        const members = sessionMembers(pid);
        expect(members).toContain(pid);
        const ps = () => w.run({ kind: 'sandbox' }, ['ps', '-e', '-o', 'args']);
        expect(await ps()).toMatch(/bash --noprofile/);

        svc.close(t.id);
        expect(svc.list()).toEqual([]);
        await until('every process of the terminal to end', () => members.every((p) => !isAlive(p)), 5_000);
        const after = await ps();
        expect(after).not.toMatch(/bash --noprofile/);
        expect(after).not.toMatch(/sleep 99/);
        expect(after).not.toMatch(/sleep 1000/);
        expect(exits.has(t.id)).toBe(false);

        const e = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        expect(e.id).toBe('t2');
        await waitFor(e.id, 'root@node1:/# ');
        svc.input(e.id, 'exit 3\r');
        await until('the exit', () => exits.has(e.id));
        expect(exits.get(e.id)).toEqual({ code: 3, signal: null });
        expect(text(e.id)).toContain('exit');
        expect(svc.list()).toEqual([
          { id: 't2', title: 'node1', target: { kind: 'node', node: 'node1' }, exited: true },
        ]);
        svc.close(e.id);
        expect(svc.list()).toEqual([]);
      } finally {
        svc.dispose();
      }
    }));

  it("a closed terminal's shell is reaped by its pty-exec, never handed to the host's init", () =>
    withWorld(1, async (w) => {
      const { svc, waitFor } = service(w);
      try {
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(t.id, 'root@node1:/# ');
        const pid = svc.pid(t.id);
        const [shell] = childrenOf(pid);
        expect(shell).toBeDefined();
        svc.close(t.id);
        await until('pty-exec to end', () => !isAlive(pid), 5_000);
        // it ended after reaping the shell: an orphan would be the host's init's to reap (this machine's
        // reaps lazily), and the world's init could not end until then
        expect(existsSync(`/proc/${shell}`)).toBe(false);
      } finally {
        svc.dispose();
      }
    }));

  it('echoes a line typed before the first prompt once, and keeps recent output for a view that attaches late', () =>
    withWorld(1, async (w) => {
      const { svc, text, waitFor } = service(w);
      try {
        // typed at once, as the guide's first Run does: the shell has not printed its prompt yet
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        svc.on('data', ({ id, data }: { id: string; data: Uint8Array }) => svc.ack(id, data.length));
        svc.input(t.id, 'echo first-$((20+22))\r');
        await waitFor(t.id, /first-42\r\n[\s\S]*# $/);
        expect(text(t.id).split('echo first-$((20+22))').length - 1, JSON.stringify(text(t.id))).toBe(1);
        expect(text(t.id).indexOf('root@node1:/# ')).toBeLessThan(text(t.id).indexOf('echo first'));

        svc.input(t.id, 'seq 1 200000 | sed s/^/line-/; echo done-$((6*7))\r');
        await waitFor(t.id, /done-42\r\n/);
        await sleep(50); // the merge window
        const kept = new TextDecoder().decode(svc.scrollback(t.id));
        expect(kept.length).toBeGreaterThan(SCROLLBACK_BYTES / 2);
        expect(kept.length).toBeLessThanOrEqual(SCROLLBACK_BYTES);
        // older output dropped: it starts on a line of its own, and ends with what the view saw last
        expect(kept).toMatch(/^line-\d+\r\n/);
        expect(text(t.id).endsWith(kept)).toBe(true);
        expect(kept).toContain('line-200000\r\n');
      } finally {
        svc.dispose();
      }
    }));

  it('says clearly when a target is not there', () =>
    withWorld(1, async (w) => {
      const { svc } = service(w);
      expect(() => svc.open({ kind: 'node', node: 'node9' }, 80, 24)).toThrow(
        'cannot open a terminal on node "node9": no such node (nodes: node1)',
      );
      expect(() => svc.open({ kind: 'pod', pod: 'nope' }, 80, 24)).toThrow(
        'cannot open a terminal in pod "nope": no such pod',
      );
      expect(() => svc.input('t7', 'x')).toThrow('no terminal "t7" (open: none)');
      expect(svc.list()).toEqual([]);
    }));
});
