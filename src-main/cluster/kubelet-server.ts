// The kubelet's server (the real one listens on the node's :10250): here, for each node, a unix socket in
// the world's state folder that the API server reaches at /run/podnet/kubelet-NODE.sock, serving
// GET /containerLogs/NS/POD/CONTAINER?tailLines=&follow=&timestamps=&previous= from the container's CRI
// log under /var/log/pods (the kubelet reads the same files: pkg/kubelet/kuberuntime/logs).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFolder } from '../fs/world-files.js';
import type { Kubelet, Pod } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';

/** The kubelet socket of a node, as a process in the world's sandbox (the API server) reaches it. */
export const kubeletSocketInWorld = (node: string) => `/run/podnet/kubelet-${node}.sock`;
const socketName = (node: string) => `kubelet-${node}.sock`;

/** A CRI log line: "<RFC 3339 time> <stream> <P|F> <text>" (P: a partial line, continued by the next). */
const CRI_LINE = /^(\S+) (stdout|stderr) ([PF]) (.*)$/;

/** The text a CRI log holds, line by line as kubectl logs prints it (with the time when asked). */
export function criLogText(raw: string, timestamps: boolean): string[] {
  const out: string[] = [];
  let partial = '';
  for (const line of raw.split('\n')) {
    const m = CRI_LINE.exec(line);
    if (!m) continue;
    partial += m[4];
    if (m[3] === 'P') continue;
    out.push(timestamps ? `${m[1]} ${partial}` : partial);
    partial = '';
  }
  return out;
}

const MAX_LOG = 16 << 20;

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(message);
}

/** Starts one kubelet server per node; answers the stop. */
export function startKubeletServers(world: World, kubelet: Kubelet): () => void {
  const servers: Server[] = [];
  for (const node of world.nodes.keys()) {
    const path = join(world.stateDir, socketName(node));
    rmSync(path, { force: true });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://kubelet');
      const m = /^\/(containerLogs|exec)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (!m) return fail(res, 404, `the lab's kubelet serves /containerLogs and /exec only`);
      const [ns, name, container] = m.slice(2).map(decodeURIComponent) as [string, string, string];
      const pod = kubelet.pods.get(`${ns}/${name}`);
      if (!pod || pod.spec.node !== node) return fail(res, 404, `pod "${ns}/${name}" is not on ${node}`);
      if (m[1] === 'exec') return serveExec(kubelet, pod, container, url.searchParams.getAll('command'), req, res);
      if (req.method !== 'GET') return fail(res, 405, 'container logs are read with GET');
      try {
        serveLog(world, pod, container, url.searchParams, res);
      } catch (e) {
        if (res.headersSent) res.end();
        else fail(res, 500, `the kubelet could not read the log: ${(e as Error).message}`);
      }
    });
    // a socket that cannot be made leaves `kubectl logs` answering that the kubelet cannot be reached
    server.on('error', () => {});
    server.listen(path);
    servers.push(server);
  }
  return () => {
    for (const s of servers) s.close();
  };
}

function serveLog(world: World, pod: Pod, container: string, q: URLSearchParams, res: ServerResponse): void {
  const ns = pod.spec.namespace ?? 'default';
  const previous = q.get('previous') === 'true';
  const attempt = pod.attempt - (previous ? 1 : 0);
  if (attempt < 0)
    return fail(res, 400, `previous terminated container "${container}" in pod "${pod.spec.name}" not found`);
  const rel = `${ns}_${pod.spec.name}_${pod.uid}/${container}/${attempt}.log`;
  const logs = nodeFolder(world, pod.spec.node, 'podLogsDir');
  const timestamps = q.get('timestamps') === 'true';
  const tail = q.has('tailLines') ? Number(q.get('tailLines')) : -1;
  const follow = q.get('follow') === 'true' && !previous;
  let raw: string;
  try {
    raw = logs.readFile(rel, { maxBytes: MAX_LOG });
  } catch (e) {
    return fail(res, 404, `no log for container "${container}" of pod "${pod.spec.name}": ${(e as Error).message}`);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  // only whole lines are printed: a line still being written comes with the next read
  const whole = (s: string) => s.slice(0, s.lastIndexOf('\n') + 1);
  let seen = whole(raw).length;
  const first = criLogText(whole(raw), timestamps);
  const lines = tail >= 0 ? first.slice(Math.max(0, first.length - tail)) : first;
  if (lines.length) res.write(lines.join('\n') + '\n');
  const running = pod.containers.find((c) => c.name === container);
  if (!follow || !running) return void res.end();
  // -f: new lines as they come, until the container has stopped (as the kubelet's follow does)
  let exited = false;
  void running.exited.then(() => (exited = true));
  const timer = setInterval(() => {
    let now: string;
    try {
      now = logs.readFile(rel, { maxBytes: MAX_LOG });
    } catch {
      now = '';
    }
    const more = whole(now.slice(seen));
    if (more) {
      seen += more.length;
      res.write(criLogText(more, timestamps).join('\n') + '\n');
    }
    if (exited || !now) {
      clearInterval(timer);
      res.end();
    }
  }, 200);
  res.on('close', () => clearInterval(timer));
}

/**
 * /exec: the command in the container (the model's CRI Exec stream), stdin from the request body; the answer
 * is one JSON line per chunk of output ({"s":1|2,"d":base64}), then {"exit":N} or {"error":"…"}.
 */
function serveExec(
  kubelet: Kubelet,
  pod: Pod,
  container: string,
  command: string[],
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const ctr = pod.containers.find((c) => c.name === container);
  if (!ctr) return fail(res, 404, `container "${container}" of pod "${pod.spec.name}" is not running`);
  if (!command.length) return fail(res, 400, 'exec names a command');
  if (kubelet.cri(pod.spec.node).kind !== 'model')
    return fail(
      res,
      400,
      `exec is served for pods on the lab's containerd model; ${pod.spec.node} runs the real containerd`,
    );
  let p: ReturnType<ReturnType<Kubelet['runtime']>['execStream']>;
  try {
    p = kubelet.runtime(pod.spec.node).execStream(ctr.id, command);
  } catch (e) {
    return fail(res, 400, (e as Error).message);
  }
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Transfer-Encoding': 'chunked' });
  const send = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
  p.on('stdout', (d: Buffer) => send({ s: 1, d: d.toString('base64') }));
  p.on('stderr', (d: Buffer) => send({ s: 2, d: d.toString('base64') }));
  req.on('data', (d: Buffer) => p.write(d));
  req.on('end', () => p.end());
  // the client gone (kubectl ended): the command ends too
  res.on('close', () => p.kill(9));
  p.started.catch((e: Error) => send({ error: e.message }));
  void p.exited.then((s) => {
    send({ exit: s.code ?? 128 + (s.signal ?? 9) });
    res.end();
  });
}
