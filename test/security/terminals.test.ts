// Terminals are apart from each other: a shell holds no other terminal's pty master (so it cannot type
// into it), closing a terminal frees its pty while others stay open, and the number of terminals is capped.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sleep, until, withWorld } from '../helpers.js';
import { MAX_TERMINALS, TerminalService } from '../../src-main/terminal/terminal-service.js';

function service(svc: TerminalService) {
  const out = new Map<string, string>();
  svc.on('data', ({ id, data }: { id: string; data: Uint8Array }) =>
    out.set(id, (out.get(id) ?? '') + Buffer.from(data).toString('latin1')),
  );
  const text = (id: string) => out.get(id) ?? '';
  const waitFor = (id: string, s: RegExp) =>
    until(`${String(s)} in ${id}: ${JSON.stringify(text(id).slice(-300))}`, () => s.test(text(id)));
  return { text, waitFor };
}

/** The pty's identity on the engine's side, or undefined once it is freed. */
function ptyInode(name: string): number | undefined {
  try {
    return statSync(name).ino;
  } catch {
    return undefined;
  }
}

describe('terminals are apart', () => {
  it("a world started while terminals are open holds none of their pty masters, nor do its lab's processes", () =>
    withWorld(1, async (w) => {
      const svc = new TerminalService(w, () => undefined);
      const { waitFor } = service(svc);
      try {
        const a = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(a.id, /root@node1:\/# $/);
        // a second world, started by the same engine now that it holds a pty master
        await withWorld(1, async (second) => {
          const r = await second.exec({ kind: 'node', node: 'node1' }, [
            'sh',
            '-c',
            'n=0; for f in /proc/$$/fd/*; do case "$(readlink $f)" in *ptmx|/dev/pts/*) n=$((n+1));; esac; done; echo $n',
          ]);
          expect(r.stdout.trim()).toBe('0');
        });
      } finally {
        svc.dispose();
      }
    }));

  it("terminal B holds no pty master of terminal A's, so it cannot type into A", () =>
    withWorld(1, async (w) => {
      const svc = new TerminalService(w, () => undefined);
      const { text, waitFor } = service(svc);
      try {
        const a = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await waitFor(a.id, /root@node1:\/# $/);
        const b = svc.open({ kind: 'sandbox' }, 80, 24);
        await waitFor(b.id, /root@sandbox:\/# $/);
        // every descriptor of B's shell that is a pty master: write a command into it (typing into A)
        svc.input(
          b.id,
          'n=0; for f in /proc/$$/fd/*; do case "$(readlink $f)" in *ptmx) n=$((n+1)); printf "echo INJECTED-\\$((6*7))\\r" >&"${f##*/}";; esac; done; echo "masters=$n"\r',
        );
        await waitFor(b.id, /masters=\d+\r\n/);
        const masters = Number(/masters=(\d+)/.exec(text(b.id))![1]);
        await sleep(500);
        expect(text(a.id)).not.toContain('INJECTED-42');
        expect(masters).toBe(0);
      } finally {
        svc.dispose();
      }
    }));

  it('closing a terminal frees its pty while later terminals stay open', () =>
    withWorld(1, async (w) => {
      const svc = new TerminalService(w, () => undefined);
      const { waitFor } = service(svc);
      try {
        const ids = [0, 1, 2].map(() => svc.open({ kind: 'sandbox' }, 80, 24).id);
        for (const id of ids) await waitFor(id, /root@sandbox:\/# $/);
        const first = svc.ptyName(ids[0]!);
        const ino = ptyInode(first);
        expect(ino).toBeDefined();
        svc.close(ids[0]!);
        // freed: its /dev/pts entry goes (or, if another pty took the number, it is a new inode)
        await until(`${first} to be freed`, () => ptyInode(first) !== ino, 5000);
      } finally {
        svc.dispose();
      }
    }));

  it(`refuses terminal ${MAX_TERMINALS + 1} with a clear error, and opens again after one closes`, () =>
    withWorld(1, async (w) => {
      const svc = new TerminalService(w, () => undefined);
      try {
        const ids: string[] = [];
        for (let i = 0; i < MAX_TERMINALS; i++) ids.push(svc.open({ kind: 'sandbox' }, 80, 24).id);
        expect(() => svc.open({ kind: 'sandbox' }, 80, 24)).toThrow(
          `cannot open another terminal: ${MAX_TERMINALS} are open, the most there may be is ${MAX_TERMINALS}; close one first`,
        );
        svc.close(ids[0]!);
        expect(svc.open({ kind: 'sandbox' }, 80, 24).exited).toBe(false);
      } finally {
        svc.dispose();
      }
    }));
});
