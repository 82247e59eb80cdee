// The control plane of a world: the real etcd and the lab's API server, both in the world's sandbox
// namespace at the control plane's underlay address, started step by step with an undo for each step
// (containerd's sandbox style). The engine reaches the API server through its unix socket in the
// world's state folder; kubectl in the nodes reaches it on the underlay. Nothing listens on the host.
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { appRoot, controlPlaneBinDir } from '../world/paths.js';
import {
  CONTROL_PLANE,
  KUBECONFIG_PATH,
  UNDERLAY,
  WORLD_STATE_MOUNT,
  worldKubeconfig,
  type World,
} from '../world/world.js';
import type { WorldProcess } from '../world/world-init.js';
import type { KubeObject } from './resources.js';
import { AUDIT_PREFIX, parseActivity, type ApiActivity } from './audit.js';

export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

const SANDBOX = { kind: 'sandbox' } as const;
const ETCD_DIR = `${WORLD_STATE_MOUNT}/etcd`;
/**
 * A daemon runs behind the learner's own work: its session (world-init gives every command one, and the
 * kernel schedules each session as a group) at nice 10. etcd's and the API server's start (a Node.js
 * process) took the CPU a page and a terminal needed in the seconds after a start; `nice` alone would
 * only rank the daemon within its own session. Raising a nice value needs no privilege, but the kernel
 * takes one such write per 100 ms from the whole system (EAGAIN otherwise): etcd's and the API server's
 * start together, so a refused write is tried again.
 */
const BACKGROUND = [
  'sh',
  '-c',
  '[ -e /proc/self/autogroup ] && for i in 1 2 3 4 5 6 7 8 9 10; do echo 10 2>/dev/null > /proc/self/autogroup && break; sleep 0.03; done; exec "$@"',
  'sh',
];
const API_SOCKET = 'apiserver.sock';

/**
 * The API server's entry, compiled: beside this module (tsc's out/src-main), else where `npm run build`
 * puts it (vitest runs the sources; electron-vite bundles the app's main into one file).
 */
function apiServerMain(): string {
  const beside = fileURLToPath(new URL('./api-server-main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = join(appRoot(), 'out', 'src-main', 'cluster', 'api-server-main.js');
  if (existsSync(built)) return built;
  throw new ClusterError(`the API server's program is not built (${built}): run npm run build`);
}

/** A daemon in the sandbox, with its output kept (the last 64 KiB) for the error that names why it stopped. */
class Daemon {
  private out = '';
  private readonly waiters = new Set<() => void>();
  constructor(
    readonly name: string,
    readonly process: WorldProcess,
  ) {
    const keep = (b: Buffer) => {
      this.out = (this.out + b.toString('utf8')).slice(-65536);
      for (const w of this.waiters) w();
    };
    process.on('stdout', (b: Buffer) => (this.activity ? this.readActivity(b, keep) : keep(b)));
    process.on('stderr', keep);
  }

  /** Its last lines of output, for a message that says why it stopped. */
  lastWords(): string {
    return this.out.trim().split('\n').slice(-5).join(' | ');
  }

  /** Resolves once a line matches; rejects, with the daemon's last words, if it exits or takes too long. */
  ready(match: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: string) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(new ClusterError(`${this.name} ${err}: ${this.out.trim().split('\n').slice(-5).join(' | ')}`));
        else resolve();
      };
      const check = () => match.test(this.out) && done();
      const timer = setTimeout(() => done(`did not become ready within ${timeoutMs / 1000} s`), timeoutMs);
      this.waiters.add(check);
      void this.process.exited.then((s) => done(`exited (code ${s.code ?? `signal ${s.signal}`})`));
      check();
    });
  }

  // ---- the API server's activity lines (audit.ts), for the timeline's control-plane lane ----
  /** Set for the API server: each activity line goes here (unparsed), the rest of its output is kept as text. */
  activity: ((line: string) => void) | undefined;
  private partial = '';

  private readActivity(b: Buffer, keep: (b: Buffer) => void): void {
    const lines = (this.partial + b.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    const text: string[] = [];
    for (const line of lines) {
      if (line.startsWith(AUDIT_PREFIX)) this.activity?.(line);
      else text.push(`${line}\n`);
    }
    if (text.length) keep(Buffer.from(text.join('')));
  }

  async stop(): Promise<void> {
    this.process.kill(15);
    const t = setTimeout(() => this.process.kill(9), 3000);
    await this.process.exited;
    clearTimeout(t);
  }
}

/** What a control loop needs of the API: requests and watches, sent as one component (its User-Agent). */
export interface ApiClient {
  call<T = KubeObject>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  watch(path: string, on: (type: string, o: KubeObject) => void): () => void;
}

/** The User-Agent each real component sends (client-go's default: binary/version (os/arch) kubernetes/commit). */
export const AGENTS = {
  engine: 'podnet-engine/v1.36.0',
  scheduler: 'kube-scheduler/v1.36.0 (linux/amd64) kubernetes/podnet/scheduler',
  kubelet: (node: string) => `kubelet/v1.36.0 (linux/amd64) kubernetes/podnet ${node}`,
  controllerManager: (controller: string) =>
    `kube-controller-manager/v1.36.0 (linux/amd64) kubernetes/podnet/${controller}`,
  kubeProxy: (node: string) => `kube-proxy/v1.36.0 (linux/amd64) kubernetes/podnet ${node}`,
} as const;

export class Cluster implements ApiClient {
  private readonly daemons: Daemon[] = [];
  private constructor(readonly world: World) {}

  /** The API server's socket, as the engine reaches it. */
  get socket(): string {
    return join(this.world.stateDir, API_SOCKET);
  }

  /** Starts etcd, then the API server; a step that fails undoes the ones before it. */
  static async start(world: World, opts: { onActivity?: (a: ApiActivity) => void } = {}): Promise<Cluster> {
    const bin = controlPlaneBinDir();
    if (!bin)
      throw new ClusterError(
        'the control plane is not set up: kubectl and etcd are fetched by `npm run setup` (pinned/control-plane)',
      );
    const c = new Cluster(world);
    if (opts.onActivity) c.onActivity(opts.onActivity);
    const undo: (() => Promise<unknown>)[] = [];
    try {
      const addr = `${CONTROL_PLANE.ip}/${UNDERLAY.mask}`;
      await world.run(SANDBOX, ['ip', 'addr', 'add', addr, 'dev', UNDERLAY.bridge]);
      undo.push(() => world.exec(SANDBOX, ['ip', 'addr', 'del', addr, 'dev', UNDERLAY.bridge]));

      const client = `http://${CONTROL_PLANE.ip}:${CONTROL_PLANE.etcdPort}`;
      const etcd = c.spawn('etcd', [
        join(bin, 'etcd'),
        '--name=podnet',
        `--data-dir=${ETCD_DIR}`,
        `--listen-client-urls=http://127.0.0.1:${CONTROL_PLANE.etcdPort},${client}`,
        `--advertise-client-urls=${client}`,
        '--listen-peer-urls=http://127.0.0.1:2380',
        '--initial-advertise-peer-urls=http://127.0.0.1:2380',
        '--initial-cluster=podnet=http://127.0.0.1:2380',
        // etcd maps its database at the quota plus a tenth (10 GiB without one): within the world's address-space bound
        '--quota-backend-bytes=134217728',
        '--logger=zap',
        '--log-outputs=stderr',
      ]);
      undo.push(() => etcd.stop());

      // started beside etcd, not after it: Node.js's own start overlaps etcd's (its bootstrap waits for etcd)
      const main = apiServerMain();
      const api = c.spawn('the API server', [
        process.execPath,
        main,
        `${CONTROL_PLANE.ip}:${CONTROL_PLANE.apiPort}`,
        `${WORLD_STATE_MOUNT}/${API_SOCKET}`,
        `http://127.0.0.1:${CONTROL_PLANE.etcdPort}`,
      ]);
      // parsed only when someone follows (the app's timeline); podnet cluster and the benchmark do not
      api.activity = (line) => {
        if (!c.activityListeners.size) return;
        const a = parseActivity(line);
        if (a) c.activityListeners.forEach((fn) => fn(a));
      };
      undo.push(() => api.stop());
      await etcd.ready(/serving client traffic/, 20_000);
      await api.ready(/podnet-apiserver: serving/, 20_000);
      // kubectl in the nodes finds the API server from here on (its wrapper says so while there is none)
      await world.run(SANDBOX, ['sh', '-c', `cat > ${KUBECONFIG_PATH}`], { input: worldKubeconfig() });
      // a daemon that ends on its own (killed in a terminal, the world at its process limit) is reported
      for (const d of c.daemons)
        void d.process.exited.then((st) => {
          if (c.stopping) return;
          const why = `${d.name} exited (${st.code !== null ? `code ${st.code}` : `signal ${st.signal}`}): ${d.lastWords()}`;
          for (const fn of c.lostListeners) fn(why);
        });
      return c;
    } catch (e) {
      for (const u of undo.reverse()) await u().catch(() => {});
      throw e;
    }
  }

  private readonly activityListeners = new Set<(a: ApiActivity) => void>();
  private readonly lostListeners = new Set<(why: string) => void>();
  private stopping = false;

  /** Called with why, if etcd or the API server ends while the control plane should be running. */
  onLost(fn: (why: string) => void): void {
    this.lostListeners.add(fn);
  }

  /** Every API request and watch event, as the API server reports them (audit.ts); returns the unsubscribe. */
  onActivity(fn: (a: ApiActivity) => void): () => void {
    this.activityListeners.add(fn);
    return () => void this.activityListeners.delete(fn);
  }

  private spawn(name: string, argv: string[]): Daemon {
    const env = { ...this.world.envFor(SANDBOX), ELECTRON_RUN_AS_NODE: '1' };
    const d = new Daemon(name, this.world.spawn(SANDBOX, [...BACKGROUND, ...argv], { env }));
    this.daemons.push(d);
    return d;
  }

  /** The API as one component sees it: every request and watch carries its User-Agent. */
  as(userAgent: string): ApiClient {
    return {
      call: (method, path, body, contentType) => this.request(userAgent, method, path, body, contentType),
      watch: (path, on) => this.watchAs(userAgent, path, on),
    };
  }

  /** One API request from the engine, over the socket. */
  call<T = KubeObject>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return this.request(AGENTS.engine, method, path, body, contentType);
  }

  watch(path: string, on: (type: string, o: KubeObject) => void): () => void {
    return this.watchAs(AGENTS.engine, path, on);
  }

  private request<T>(
    userAgent: string,
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'User-Agent': userAgent };
      if (body !== undefined) headers['Content-Type'] = contentType;
      const req = request({ socketPath: this.socket, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let v: unknown;
          try {
            v = JSON.parse(text);
          } catch {
            return reject(
              new ClusterError(`the API server answered ${method} ${path} with non-JSON: ${text.slice(0, 200)}`),
            );
          }
          if ((res.statusCode ?? 500) >= 400)
            return reject(
              new ClusterError((v as { message?: string }).message ?? `${method} ${path}: ${res.statusCode}`),
            );
          resolve(v as T);
        });
      });
      req.on('error', (e) => reject(new ClusterError(`the API server cannot be reached: ${e.message}`)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /**
   * A watch from the engine: the current objects as ADDED, then every change, until the stop is called
   * (it starts again if the API server ends the stream, as an informer does).
   */
  private watchAs(userAgent: string, path: string, on: (type: string, o: KubeObject) => void): () => void {
    let stopped = false;
    let current: ReturnType<typeof request> | undefined;
    const open = () => {
      if (stopped) return;
      let buf = '';
      current = request(
        { socketPath: this.socket, method: 'GET', path: `${path}?watch=true`, headers: { 'User-Agent': userAgent } },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              try {
                const e = JSON.parse(line) as { type: string; object: KubeObject };
                on(e.type, e.object);
              } catch {
                /* a torn line cannot happen on one stream; nothing to act on */
              }
            }
          });
          res.on('end', () => setTimeout(open, 100));
        },
      );
      current.on('error', () => !stopped && setTimeout(open, 500));
      current.end();
    };
    open();
    this.stops.add(() => {
      stopped = true;
      current?.destroy();
    });
    return () => {
      stopped = true;
      current?.destroy();
    };
  }

  private readonly stops = new Set<() => void>();

  /** Stops the API server, then etcd (the world's end takes the rest). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.stops) s();
    await this.world.exec(SANDBOX, ['rm', '-f', KUBECONFIG_PATH]).catch(() => {});
    for (const d of this.daemons.reverse()) await d.stop().catch(() => {});
    this.daemons.length = 0;
  }
}
