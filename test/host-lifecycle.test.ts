// The hosts end cleanly: SIGTERM or Ctrl-C (SIGINT) ends the world and every terminal, and `npm start`
// falls back to the browser host, in one line, where Electron cannot start.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tokenProtocol } from '../src-main/web/server.js';
import { hostSnapshot } from '../src-main/runtime/leaks.js';
import { childrenOf, isAlive } from '../src-main/world/procfs.js';
import { wsText } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');

/** Hosts this file started: killed by PID at the end, even if a test timed out. */
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts a host process and resolves with its URL once it prints it. */
function startHost(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, out: () => out });
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`host exited (${code}) before printing its URL:\n${out}`)));
  });
}

function rpc(url: string) {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/rpc`, ['podnet', tokenProtocol(u.searchParams.get('token')!)], {
    headers: { Origin: `http://${u.host}` },
  });
  let id = 0;
  const call = (method: string, params: unknown) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const my = ++id;
      const on = (d: Buffer, binary: boolean) => {
        if (binary) return; // a terminal's output (api/frames.ts)
        const m = JSON.parse(wsText(d));
        if (m.id === my) {
          ws.off('message', on);
          resolve(m);
        }
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  return new Promise<{ call: typeof call; ws: WebSocket }>((resolve, reject) => {
    ws.once('open', () => resolve({ call, ws }));
    ws.once('error', reject);
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('the browser host on %s', (signal) => {
  it('ends the world and every terminal, and leaves nothing', async () => {
    const { child, url } = await startHost(['out/src-main/web/main.js']);
    const { call, ws } = await rpc(url);
    expect(await call('world.start', { nodes: 2 })).toMatchObject({ result: { state: 'running' } });
    expect(await call('pod.create', { name: 'web', node: 'node1' })).toMatchObject({ result: { name: 'web' } });
    expect(await call('terminal.open', { target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 })).toMatchObject({
      result: { id: 't1' },
    });
    expect(await call('terminal.open', { target: { kind: 'pod', pod: 'web' }, cols: 80, rows: 24 })).toMatchObject({
      result: { id: 't2', title: 'pod/web' },
    });
    // a terminal's pty process is pty-exec, which enters the world and waits for the shell
    // (it is node's own fork for a moment, until it execs pty-exec)
    const cmdline = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return ''; // ended meanwhile
      }
    };
    const ptyExecs = () => childrenOf(child.pid!).filter((p) => /^[^\0]*\/pty-exec\0/.test(cmdline(p)));
    // the one waiting ahead for its orders (pty-reserve.ts) is no terminal yet; it comes and goes with the engine's idle moments
    const terminals = () => ptyExecs().filter((p) => !/^[^\0]*\/pty-exec\0--await\0/.test(cmdline(p)));
    // the two terminals, and the shells started ahead on node1 and node2 (TerminalService.prepare)
    await expect.poll(() => terminals().length, { timeout: 10_000 }).toBe(4);
    const ptys = ptyExecs();
    const marker = `world-${child.pid}-`;
    expect(hostSnapshot(marker).processes.length).toBeGreaterThan(0);
    ws.close();
    child.kill(signal);
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(ptys.filter(isAlive)).toEqual([]);
    expect(hostSnapshot(marker).processes).toEqual([]);
  }, 60_000);
});

describe('npm start', () => {
  it('says in one line that Electron cannot start here, and starts the browser host instead', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const { child, out } = await startHost(['scripts/start.mjs'], env);
    // after set-up's own lines (podnet start: …), which start.mjs runs in the same process
    const lines = out()
      .split('\n')
      .filter((l) => !l.startsWith('podnet start: '));
    expect(lines[0]).toMatch(
      /^Electron cannot start here: (its binary was not downloaded|there is no display).*\. Starting the browser host instead\.$/,
    );
    expect(lines[1]).toMatch(/^Podnet Lab is running\. Open http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 30_000);
});
