// The control plane of the app's running world: started in the background once the world runs (so the
// first prompt never waits for etcd), stopped before the world ends. It reports its state (the status
// bar), passes every API request and watch event on (the timeline's control-plane lane), and keeps the
// API's pods (the pods panel and the topology), from a watch, as the app's own component.
import { EventEmitter } from 'node:events';
import type { ApiActivity } from '../api/api-activity.js';
import type { PodInfo, WorldStatus } from '../api/contract.js';
import type { ApiClient } from '../cluster/cluster.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import type { KubeObject } from '../cluster/resources.js';
import type { Kubelet, Pod } from '../runtime/kubelet.js';
import { CONTROL_PLANE, CONTROL_PLANE_MARKERS, type World } from '../world/world.js';

/** A word for sh -c, in single quotes. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The app's User-Agent: its pod watch and the deletes of its pods panel. */
export const APP_AGENT = 'podnet-app/v1.36.0 (linux/amd64) kubernetes/podnet pods-panel';

export type ControlPlaneState = NonNullable<WorldStatus['controlPlane']>;

const ADDRESSES = {
  apiServer: `http://${CONTROL_PLANE.ip}:${CONTROL_PLANE.apiPort}`,
  etcd: `http://${CONTROL_PLANE.ip}:${CONTROL_PLANE.etcdPort}`,
};

export class ControlPlaneHost extends EventEmitter<{ changed: []; pods: []; activity: [ApiActivity] }> {
  private plane: ControlPlane | undefined;
  private app: ApiClient | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;
  private current: ControlPlaneState = { state: 'starting', ...ADDRESSES };
  /** The API's pods by namespace/name, as the app's watch last saw them. */
  readonly pods = new Map<string, KubeObject>();

  constructor(
    private readonly world: World,
    private readonly kubelet: Kubelet,
  ) {
    super();
  }

  get state(): ControlPlaneState {
    return this.current;
  }

  /** Tells kubectl in the nodes that the control plane is on its way: it waits for it, rather than failing. */
  announce(): Promise<void> {
    return this.marker(`: > ${CONTROL_PLANE_MARKERS.starting}`);
  }

  private marker(script: string): Promise<void> {
    return this.world.run({ kind: 'sandbox' }, ['sh', '-c', script]).then(
      () => {},
      () => {},
    );
  }

  /** Starts etcd, the API server and the loops; a failure is the state's error, never the world's. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        const plane = await startControlPlane(this.world, this.kubelet, {
          onActivity: (a) => this.emit('activity', a),
        });
        if (this.stopped) return void (await plane.stop().catch(() => {}));
        this.plane = plane;
        this.app = plane.cluster.as(APP_AGENT);
        const unwatch = this.app.watch('/api/v1/pods', (type, o) => this.onPod(type, o));
        this.unwatch = unwatch;
        this.current = { state: 'ready', ...ADDRESSES };
        plane.cluster.onLost((why) => {
          if (this.stopped) return;
          this.current = { state: 'failed', ...ADDRESSES, error: `the control plane stopped: ${why}` };
          this.emit('changed');
        });
        await this.marker(`rm -f ${CONTROL_PLANE_MARKERS.starting}`);
      } catch (e) {
        if (this.stopped) return;
        const error = `the control plane could not start (kubectl in the nodes has no API server): ${(e as Error).message}`;
        this.current = { state: 'failed', ...ADDRESSES, error };
        const { starting, failed } = CONTROL_PLANE_MARKERS;
        await this.marker(`printf '%s\\n' ${shq(`kubectl: ${error}`)} > ${failed}; rm -f ${starting}`);
      }
      this.emit('changed');
    })();
    return this.starting;
  }

  private unwatch: (() => void) | undefined;
  private podsTimer: NodeJS.Timeout | undefined;

  private onPod(type: string, o: KubeObject): void {
    const key = `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
    if (type === 'DELETED') this.pods.delete(key);
    else if (type === 'ADDED' || type === 'MODIFIED') this.pods.set(key, o);
    else return;
    // a pod's birth is a handful of changes in a few ms: the panel hears of them once
    this.podsTimer ??= setTimeout(() => {
      this.podsTimer = undefined;
      if (!this.stopped) this.emit('pods');
    }, 30);
  }

  /** A pod of the API as the pods panel shows it, with what the kubelet made of it when it has. */
  podInfo(o: KubeObject, made: Pod | undefined): PodInfo {
    const status = (o.status ?? {}) as {
      phase?: string;
      podIP?: string;
      conditions?: { type: string; status: string }[];
    };
    const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : (phases.find((p) => p === status.phase) ?? 'Pending');
    return {
      name: o.metadata?.name ?? '',
      namespace: o.metadata?.namespace ?? 'default',
      node: typeof o.spec?.nodeName === 'string' ? o.spec.nodeName : '',
      ip: status.podIP ?? made?.ip ?? '',
      netns: made?.netns ?? '',
      sandboxId: made?.sandboxId ?? '',
      ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      phase,
      fromApi: true,
    };
  }

  /** A Service of the API's default namespace by name (podnet path's destinations), or undefined. */
  async service(name: string): Promise<KubeObject | undefined> {
    if (!this.app) return undefined;
    // the list, not GET …/services/NAME: a missing one is not an error, and the name never enters a URL
    const list = await this.app.call<{ items?: KubeObject[] }>('GET', '/api/v1/namespaces/default/services');
    return list.items?.find((o) => o.metadata?.name === name);
  }

  /** Whether the API has this pod (the pods panel deletes it through the API then). */
  has(namespace: string, name: string): boolean {
    return this.pods.has(`${namespace}/${name}`);
  }

  /** Deletes a pod as `kubectl delete pod` does: the API marks it, its kubelet stops it, then it goes. */
  async deletePod(namespace: string, name: string): Promise<void> {
    if (!this.app) throw new Error('the control plane is not running');
    await this.app.call('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`);
  }

  /** Stops the loops, the API server and etcd (a start under way is stopped once it is done). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.podsTimer);
    this.unwatch?.();
    this.removeAllListeners();
    const plane = this.plane;
    this.plane = undefined;
    await plane?.stop().catch(() => {});
  }
}
