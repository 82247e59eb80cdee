// The control plane's activity as the engine's parts see it: one record per API request and per watch
// event the lab's API server sent (written by cluster/audit.ts, read by the timeline's control-plane
// lane). Types only: the cluster and the parts above it both import them from here.

/** Where a request or an event points: the resource, with its namespace and name. */
export interface ApiPlace {
  /** pods, nodes, events, … (undefined: discovery, /version, /openapi). */
  resource?: string;
  namespace?: string;
  name?: string;
  /** status, binding. */
  sub?: string;
  /** An EndpointSlice's ready endpoints, by the pods they point to (targetRef): which pod's Ready a write follows. */
  readyPods?: string[];
}

export interface ApiRequestRecord extends ApiPlace {
  audit: 'request';
  /** Wall clock when the request arrived: ms since the epoch, sub-millisecond (performance.timeOrigin + now). */
  at: number;
  ms: number;
  /** The component, from its User-Agent: kubectl, kube-scheduler, kubelet, kube-controller-manager, kube-proxy, … */
  who: string;
  /** What the User-Agent names after the component (a kubelet's loop or node, a controller), if anything. */
  instance?: string;
  /** The API's verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  method: string;
  path: string;
  code: number;
}

export interface ApiWatchRecord extends ApiPlace {
  audit: 'watch';
  at: number;
  /** ADDED, MODIFIED, DELETED. */
  type: string;
  /** The object's resourceVersion. */
  rv: string;
  /** The components it was sent to (one entry per watch). */
  to: string[];
}

export type ApiActivity = ApiRequestRecord | ApiWatchRecord;
