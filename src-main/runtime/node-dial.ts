// The kubelet's network actions, made from the node's network namespace as the kubelet makes them: an
// HTTP GET (prober/http, the httpGet lifecycle hook) and a TCP dial (prober/tcp) to the pod's IP. Each is
// one bash in the node (bash's /dev/tcp is a plain connect()), and errors read as Go's net errors read.
import type { World } from '../world/world.js';

export interface DialResult {
  ok: boolean;
  /** What the kubelet reports: the probe's output on success, its error on failure. */
  message: string;
  statusCode?: number;
}

/** The User-Agent kubelet's prober sends (kube-probe/<major>.<minor>). */
export const PROBE_USER_AGENT = 'kube-probe/1.36';

const HTTP_GET = String.raw`
exec 3<>"/dev/tcp/$1/$2" || exit 97
{ printf 'GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nConnection: close\r\n' "$3" "$4" "$5"
  shift 5; for h in "$@"; do printf '%s\r\n' "$h"; done; printf '\r\n'; } >&3
IFS= read -r line <&3 || exit 98
printf '%s\n' "$line"`;

const TCP_DIAL = String.raw`exec 3<>"/dev/tcp/$1/$2" || exit 97`;

/** bash's connect error ("connect: Connection refused") as Go's net package words it ("connect: connection refused"). */
function connectError(stderr: string): string {
  const m = /connect: ([^\n]+)/.exec(stderr);
  const why = (m?.[1] ?? stderr.trim().split('\n').pop() ?? 'failed').replace(/^\w/, (c) => c.toLowerCase());
  return `connect: ${why}`;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** A TCP connect from the node to host:port within timeoutSeconds (prober/tcp's DoTCPProbe). */
export async function tcpDial(world: World, node: string, host: string, port: number, timeoutSeconds: number) {
  const r = await world.exec({ kind: 'node', node }, ['bash', '-c', TCP_DIAL, 'dial', host, String(port)], {
    timeoutMs: timeoutSeconds * 1000,
  });
  const at = `dial tcp ${hostPort(host, port)}`;
  if (r.timedOut) return { ok: false, message: `${at}: i/o timeout` };
  if (r.code !== 0) return { ok: false, message: `${at}: ${connectError(r.stderr)}` };
  return { ok: true, message: '' };
}

/**
 * An HTTP GET from the node (prober/http's DoHTTPProbe): 200–399 is success. Redirects are not followed:
 * a 3xx counts as success, as the kubelet counts a redirect to another host.
 */
export async function httpGet(
  world: World,
  node: string,
  opts: {
    host: string;
    port: number;
    path?: string;
    headers?: { name: string; value: string }[];
    timeoutSeconds: number;
  },
): Promise<DialResult> {
  const path = opts.path || '/';
  const hp = hostPort(opts.host, opts.port);
  const url = `http://${hp}${path.startsWith('/') ? '' : '/'}${path}`;
  const headers = (opts.headers ?? []).map((h) => `${h.name}: ${h.value}`);
  const hostHeader = opts.headers?.find((h) => h.name.toLowerCase() === 'host')?.value ?? hp;
  const argv = ['bash', '-c', HTTP_GET, 'probe', opts.host, String(opts.port), path, hostHeader, PROBE_USER_AGENT];
  const r = await world.exec({ kind: 'node', node }, [...argv, ...headers.filter((h) => !/^host:/i.test(h))], {
    timeoutMs: opts.timeoutSeconds * 1000,
  });
  if (r.timedOut)
    return {
      ok: false,
      message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    };
  if (r.code === 97) return { ok: false, message: `Get "${url}": dial tcp ${hp}: ${connectError(r.stderr)}` };
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(r.stdout);
  if (r.code !== 0 || !m) return { ok: false, message: `Get "${url}": EOF` };
  const statusCode = Number(m[1]);
  if (statusCode >= 200 && statusCode < 400) return { ok: true, message: '', statusCode };
  return { ok: false, message: `HTTP probe failed with statuscode: ${statusCode}`, statusCode };
}
