// The control-plane lane's pure parts: who sent a request (from its User-Agent), where it points (the
// resource with namespace and name), the step the timeline draws for a request and for a watch event,
// and which lanes an operation shows.
import { describe, expect, it } from 'vitest';
import { placeOf, readyPodsOf, whoOf } from '../src-main/cluster/audit.js';
import { AGENTS } from '../src-main/cluster/cluster.js';
import { apiStep, podKeyOf, slicePod, withoutApp } from '../src-main/timeline/api-lane.js';
import { lanesOf } from '../src-renderer/timeline/layout.js';

describe('the API activity lines', () => {
  it('names the component from its User-Agent, as client-go writes it', () => {
    expect(whoOf('kubectl/v1.36.4 (linux/amd64) kubernetes/8a1b2c3')).toEqual({ who: 'kubectl' });
    expect(whoOf(AGENTS.scheduler)).toEqual({ who: 'kube-scheduler', instance: 'scheduler' });
    expect(whoOf(AGENTS.kubelet('node1'))).toEqual({ who: 'kubelet', instance: 'node1' });
    expect(whoOf(AGENTS.controllerManager('endpointslice'))).toEqual({
      who: 'kube-controller-manager',
      instance: 'endpointslice',
    });
    expect(whoOf(AGENTS.kubeProxy('node2'))).toEqual({ who: 'kube-proxy', instance: 'node2' });
    expect(whoOf(undefined)).toEqual({ who: 'unknown' });
  });

  it('reads the resource, namespace, name and subresource from the path', () => {
    expect(placeOf('/api/v1/namespaces/default/pods/web/status')).toEqual({
      watchPath: false,
      resource: 'pods',
      namespace: 'default',
      name: 'web',
      sub: 'status',
    });
    expect(placeOf('/api/v1/watch/nodes')).toEqual({ watchPath: true, resource: 'nodes' });
    expect(placeOf('/openapi/v3')).toEqual({ watchPath: false });
    // a group's resources: the EndpointSlice controller's and kube-proxy's
    expect(placeOf('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-hk7fz')).toEqual({
      watchPath: false,
      resource: 'endpointslices',
      namespace: 'default',
      name: 'web-hk7fz',
    });
    expect(placeOf('/apis/discovery.k8s.io/v1/endpointslices')).toEqual({
      watchPath: false,
      resource: 'endpointslices',
    });
    expect(placeOf('/apis/discovery.k8s.io/v1')).toEqual({ watchPath: false });
  });
});

describe('the control-plane lane', () => {
  const base = 1_000_000;
  it('draws a request as a bar (who, verb, resource, code, duration) and a watch event as a tick', () => {
    const req = apiStep(
      {
        audit: 'request',
        at: base + 12.5,
        ms: 3.25,
        who: 'kube-scheduler',
        verb: 'create',
        method: 'POST',
        path: '/api/v1/namespaces/default/pods/web/binding',
        resource: 'pods',
        namespace: 'default',
        name: 'web',
        sub: 'binding',
        code: 201,
      },
      7,
      base,
    );
    expect(req.step).toMatchObject({
      id: 7,
      component: 'apiserver',
      name: 'kube-scheduler create pods/binding default/web 201',
      start: 12.5,
      end: 15.75,
    });
    expect(req.step.error).toBeUndefined();
    expect(JSON.parse(req.detail.outputs!)).toEqual({ code: 201, ms: 3.25 });
    const watch = apiStep(
      {
        audit: 'watch',
        at: base + 20,
        type: 'MODIFIED',
        resource: 'pods',
        namespace: 'default',
        name: 'web',
        rv: '42',
        to: ['kube-scheduler', 'kubelet pod-sync', 'kubelet pod-sync'],
      },
      8,
      base,
    );
    expect(watch.step).toMatchObject({
      name: 'watch MODIFIED pods default/web → kube-scheduler, kubelet pod-sync',
      start: 20,
      end: 20,
    });
    expect(watch.step.summary).toBe('resourceVersion 42: sent on 3 watches');
  });

  it("marks a refusal as an error, but not a get's 404 (kubectl apply asks first)", () => {
    const r = (verb: string, code: number) =>
      apiStep({ audit: 'request', at: base, ms: 1, who: 'kubectl', verb, method: 'GET', path: '/x', code }, 1, base)
        .step.error;
    expect(r('get', 404)).toBeUndefined();
    expect(r('create', 422)).toMatch(/^422: the API server refused GET \/x$/);
  });

  it("groups by pod (its events too), and leaves the app's own watch out", () => {
    const ev = { audit: 'watch' as const, at: 0, type: 'ADDED', rv: '1', to: ['podnet-app'] };
    expect(podKeyOf({ ...ev, resource: 'events', namespace: 'default', name: 'web.18edfa832f2e6739' })).toBe(
      'default/web',
    );
    expect(podKeyOf({ ...ev, resource: 'pods', name: 'web' })).toBe('default/web');
    expect(podKeyOf({ ...ev, resource: 'nodes', name: 'node1' })).toBeUndefined();
    expect(withoutApp(ev)).toBeUndefined();
    expect(withoutApp({ ...ev, to: ['podnet-app', 'kubectl'] })).toMatchObject({ to: ['kubectl'] });
  });

  it('shows the control-plane lane only when there are API steps, the node lanes when there are kubelet steps', () => {
    const s = (component: 'apiserver' | 'kubelet') => ({ id: 1, component, name: 'x', start: 0, summary: '' });
    expect(lanesOf([s('kubelet')]).map((l) => l.component)).toEqual(['kubelet', 'cri', 'containerd', 'cni', 'kernel']);
    expect(lanesOf([s('apiserver')]).map((l) => l.component)).toEqual(['apiserver']);
    expect(lanesOf([s('apiserver'), s('kubelet')])).toHaveLength(6);
    expect(lanesOf([])).toHaveLength(5);
  });
});

describe('which pod an EndpointSlice change follows', () => {
  const open = { creates: ['default/a', 'default/b'], deletes: ['default/old'] };
  it('is the pod it newly lists as ready, even when another pod’s create ends later', () => {
    expect(slicePod(['default/a'], [], open)).toBe('default/a');
    expect(slicePod(['default/a', 'default/b'], ['default/a'], open)).toBe('default/b');
    // the same ready set again (the watch events of that write): b's create is the latest that fits
    expect(slicePod(['default/a'], undefined, open)).toBe('default/a');
  });
  it('is the pod it stopped listing when a deletion is under way', () => {
    expect(slicePod(['default/a'], ['default/a', 'default/old'], open)).toBe('default/old');
    expect(slicePod([], ['default/old'], { creates: [], deletes: ['default/old', 'default/x'] })).toBe('default/old');
  });
  it('is none when no open operation fits', () => {
    expect(slicePod(['default/z'], ['default/z'], { creates: ['default/a'], deletes: [] })).toBeUndefined();
  });
});

describe('an EndpointSlice’s ready pods, as the audit records them', () => {
  it('lists the ready endpoints’ pods (a missing ready counts as ready), not the rest', () => {
    expect(
      readyPodsOf({
        endpoints: [
          { conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a' } },
          { conditions: {}, targetRef: { kind: 'Pod', name: 'b' } },
          { conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'c' } },
          { conditions: { ready: true } },
        ],
      }),
    ).toEqual(['a', 'b']);
    expect(readyPodsOf({ endpoints: null })).toEqual([]);
  });
});
