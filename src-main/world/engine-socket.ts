// The one channel from inside a world to its engine: a unix socket the engine listens on in the world's
// root, at ENGINE_SOCKET in every node and pod. It is part of the confinement surface: it answers only the
// requests it is given (podnet path's path.follow), each validated by its contract schema, one JSON line
// in and one out per connection, bounded in size, time and number of connections, every error specific.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync } from 'node:fs';
import type { z } from 'zod';
import { describeIssues } from '../api/contract.js';
import type { World } from './world.js';

/** Where every node and pod of the world finds the engine (on the world's tmpfs, shared by all its nodes). */
export const ENGINE_SOCKET = '/opt/podnet/engine.sock';

export const ENGINE_SOCKET_LIMITS = {
  /** A request is one line of JSON of at most this many bytes (a follow's is ~100). */
  maxRequestBytes: 4096,
  /** Connections open at once; one more is answered "busy" and closed. */
  maxConnections: 4,
  /** The request's line must have come within this long of the connection. */
  requestTimeoutMs: 5000,
} as const;

/** A request the socket serves: its params' schema, and what answers it (given the params as parsed). */
export interface SocketMethod {
  params: z.ZodType;
  run(params: never): Promise<unknown>;
}

type Methods = Record<string, SocketMethod>;

export interface EngineSocket {
  close(): Promise<void>;
}

/** The socket's wire format: a request line and its one answer line. */
export type SocketAnswer = { result: unknown } | { error: { code: string; message: string } };

const errorOf = (code: string, message: string): SocketAnswer => ({ error: { code, message } });

/**
 * Listens on the world's engine socket. Call it as the world starts, before any lab command runs: the path is
 * resolved through the engine's handle on the world's root, which a link made later by a lab would redirect.
 */
export async function listenEngineSocket(world: World, methods: Methods): Promise<EngineSocket> {
  const limits = ENGINE_SOCKET_LIMITS;
  const open = new Set<Socket>();
  const server: Server = createServer((sock) => {
    if (open.size >= limits.maxConnections) {
      sock.end(
        JSON.stringify(
          errorOf(
            'busy',
            `the engine socket has ${limits.maxConnections} connections open already: wait for one to end, then ask again`,
          ),
        ) + '\n',
      );
      sock.on('error', () => {});
      return;
    }
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    let done = false;
    const answer = (a: SocketAnswer) => {
      if (sock.destroyed) return;
      sock.end(JSON.stringify(a) + '\n');
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      answer(errorOf('timeout', `no request line within ${limits.requestTimeoutMs / 1000} s: send one JSON line`));
    }, limits.requestTimeoutMs);
    sock.on('close', () => clearTimeout(timer));
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0 && buf.length <= limits.maxRequestBytes) return;
      done = true;
      clearTimeout(timer);
      sock.pause();
      if (nl < 0 || nl > limits.maxRequestBytes)
        return answer(errorOf('too-large', `a request is one JSON line of at most ${limits.maxRequestBytes} bytes`));
      void handle(buf.subarray(0, nl).toString('utf8'), methods).then(answer);
    });
  });
  const path = world.rootPath(ENGINE_SOCKET);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // only the world's root (the engine's user) may connect
  chmodSync(path, 0o600);
  server.on('error', () => {});
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One request line → its answer: JSON, the known method, its params by the contract's schema, then the run. */
export async function handle(line: string, methods: Methods): Promise<SocketAnswer> {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return errorOf('bad-request', 'the request is not JSON: send {"method": …, "params": {…}} on one line');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return errorOf('bad-request', 'the request is not a JSON object: send {"method": …, "params": {…}}');
  const { method, params, ...rest } = msg as Record<string, unknown>;
  if (Object.keys(rest).length)
    return errorOf(
      'bad-request',
      `unknown field(s) ${Object.keys(rest).slice(0, 5).join(', ')}: send method and params only`,
    );
  if (typeof method !== 'string' || !Object.prototype.hasOwnProperty.call(methods, method))
    return errorOf(
      'unknown-method',
      `${typeof method === 'string' ? `"${method.slice(0, 64)}"` : 'the method'} is not served here: this socket answers ${Object.keys(methods).join(', ')} only`,
    );
  const m = methods[method]!;
  const p = m.params.safeParse(params ?? {});
  if (!p.success) return errorOf('bad-request', `invalid params for ${method}: ${describeIssues(p.error)}`);
  try {
    return { result: await (m.run as (params: unknown) => Promise<unknown>)(p.data) };
  } catch (e) {
    return errorOf('failed', (e as Error).message);
  }
}
