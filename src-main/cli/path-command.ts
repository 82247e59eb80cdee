// podnet path: follow a packet through a preset world — a ping pod → pod across nodes over a VXLAN overlay,
// and a TCP request to a ClusterIP Service — hop by hop, then tear the world down. In a node terminal,
// `podnet path FROM TO` asks the engine (through the world's engine socket) to follow one in the running world.
import { createConnection } from 'node:net';
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';
import type { PathResult } from '../path/follow.js';

const USAGE =
  'usage: podnet path [--json]                         (a preset world: built, followed, torn down)\n' +
  '       podnet path FROM TO [--kind ping|tcp|udp] [--port N] [--json]   (in a node terminal: the running world)\n' +
  '       FROM: pod:NAME | node:NAME   TO: pod:NAME | node:NAME | svc:NAME | ADDR[:PORT] (a bare NAME: pod, node, Service)';

/** How long the CLI waits for the engine's answer (a follow captures in every namespace; a busy machine is slow). */
const ANSWER_TIMEOUT_MS = 180_000;

export async function pathCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let values: { json?: boolean; kind?: string; port?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, kind: { type: 'string' }, port: { type: 'string' } },
    }));
  } catch (e) {
    // node's hint about positionals starting with '-' does not apply: places never start with '-'
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n${USAGE}`);
  }
  if (positionals.length) return followFromNode(positionals, values, out, err);
  if (values.kind !== undefined || values.port !== undefined)
    throw new UsageError(`podnet path: --kind and --port go with FROM TO\n${USAGE}`);
  return preset(values.json === true, out, err);
}

async function followFromNode(
  positionals: string[],
  values: { json?: boolean; kind?: string; port?: string },
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  if (positionals.length !== 2)
    throw new UsageError(`podnet path: FROM TO are two places (given: ${positionals.join(' ')})\n${USAGE}`);
  const [from, to] = positionals as [string, string];
  const kind = values.kind ?? 'ping';
  if (kind !== 'ping' && kind !== 'tcp' && kind !== 'udp')
    throw new UsageError(`podnet path: --kind ${kind}: ping, tcp or udp\n${USAGE}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d{1,5}$/.test(values.port) || port < 1 || port > 65535)
      throw new UsageError(`podnet path: --port ${values.port}: a port is 1 to 65535\n${USAGE}`);
  }
  if (!process.env.PODNET_NODE) {
    err(
      'podnet path FROM TO follows a packet in the running world, so it runs in a node of a lab world (PODNET_NODE is not set): open a terminal on a node, or use the topology\'s "Follow a packet". Without FROM TO, podnet path follows its own preset world\'s packets.',
    );
    return 2;
  }
  const { ENGINE_SOCKET } = await import('../world/engine-socket.js');
  const request = { method: 'path.follow', params: { from, to, kind, ...(port !== undefined ? { port } : {}) } };
  err(`podnet path: following a ${kind === 'ping' ? 'ping' : `${kind.toUpperCase()} packet`} from ${from} to ${to}…`);
  let answer: EngineAnswer;
  try {
    answer = await ask(ENGINE_SOCKET, JSON.stringify(request));
  } catch (e) {
    err(`podnet path: cannot reach the engine at ${ENGINE_SOCKET}: ${(e as Error).message}`);
    return 1;
  }
  if (answer.error || !answer.result) {
    err(`podnet path: ${answer.error?.message ?? 'the engine gave no result'}`);
    return 1;
  }
  const r = answer.result;
  if (values.json) out(JSON.stringify(r, null, 2));
  else {
    const { pathText } = await import('../path/format.js');
    const what = r.kind === 'icmp' ? 'ping' : r.kind.toUpperCase();
    out(pathText(`${what} ${from} → ${to} (${r.to})`, r));
    if (r.limited) out(`note: ${r.limited}`);
  }
  return r.drop ? 1 : 0;
}

/** The engine socket's answer to path.follow (engine-socket.ts's SocketAnswer, its result a PathResult). */
type EngineAnswer = { result?: PathResult; error?: { code: string; message: string } };

/** One request line to the engine socket, its one answer line back. */
function ask(path: string, line: string): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
    }, ANSWER_TIMEOUT_MS);
    sock.on('connect', () => sock.write(line + '\n'));
    sock.on('data', (b) => (buf += b.toString('utf8')));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as EngineAnswer);
      } catch {
        reject(new Error(`the engine's answer is not JSON: ${buf.slice(0, 200)}`));
      }
    });
  });
}

async function preset(json: boolean, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [{ buildPresetWorld }, { followPreset }, { pathText }] = await Promise.all([
    import('../path/preset.js'),
    import('../path/preset-paths.js'),
    import('../path/format.js'),
  ]);
  const t0 = performance.now();
  err('podnet path: building the preset world (2 nodes, VXLAN overlay VNI 1, a pod on each, Service "web")…');
  const preset = await buildPresetWorld();
  try {
    err(`podnet path: world ready in ${Math.round(performance.now() - t0)} ms; following a ping, then a TCP request`);
    const report = await followPreset(preset);
    const { world: where, ping, service } = report;
    if (json) out(JSON.stringify(report, null, 2));
    else {
      out(
        `client ${where.client.ip} (node1) · server ${where.server.ip} (node2) · Service web ${preset.service.ip}:80`,
      );
      out(pathText(`ping pod/client → pod/server`, ping));
      out('');
      out(pathText(`TCP pod/client → Service web ${preset.service.ip}:${preset.service.port}`, service));
    }
    return ping.drop || service.drop ? 1 : 0;
  } finally {
    await preset.destroy();
  }
}
