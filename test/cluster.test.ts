// The control plane around the pod, first part: the real kubectl 1.36 in a node talks to the lab's API
// server, which stores in the real etcd (Debian 12's 3.4) — as root and as an unprivileged user.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Cluster, ClusterError } from '../src-main/cluster/cluster.js';
import { createWorld, WORLD_STATE_MOUNT } from '../src-main/world/world.js';
import { failure, podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 180_000);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

/** Each command's output between markers, so one world answers every question. */
const SCRIPT = String.raw`
mark() { echo "=== $1"; }
mark nodes; kubectl get nodes
mark version; kubectl version
cat > /tmp/web.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: httpd
    image: busybox
Y
mark apply; kubectl apply -f /tmp/web.yaml
mark again; kubectl apply -f /tmp/web.yaml; kubectl wait --for=condition=Ready pod/web --timeout=30s >/dev/null
mark wide; kubectl get pods -o wide
mark jsonpath; kubectl get pod web -o jsonpath='{.status.phase} {.spec.schedulerName} {.metadata.labels.app}'; echo
mark etcd-keys; etcdctl get /registry --prefix --keys-only
mark etcd-value; etcdctl get /registry/pods/default/web --print-value-only
cat > /tmp/affinity.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: picky}
spec:
  affinity: {}
  containers: [{name: c, image: busybox}]
Y
mark unmodelled; kubectl apply -f /tmp/affinity.yaml 2>&1; echo "exit $?"
mark empty; printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: empty}\nspec: {containers: []}\n' | kubectl apply -f - 2>&1; echo "exit $?"
mark deployment; printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n' | kubectl apply --validate=false -f - 2>&1; echo "exit $?"
mark no-ns; kubectl -n nowhere run x --image=busybox 2>&1; echo "exit $?"
mark raw; kubectl get --raw /apis/apps/v1 2>&1; echo "exit $?"
mark after-bad; kubectl get pods -o name
mark delete; kubectl delete pod web
mark gone; kubectl get pod web 2>&1; echo "exit $?"
mark end
`;

function expectCluster(out: string): void {
  expect(section(out, 'nodes')).toMatch(
    /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode1\s+Ready\s+<none>\s+\S+\s+v1\.36\.0-podnet\nnode2\s+Ready\s/,
  );
  expect(section(out, 'version')).toMatch(/Client Version: v1\.36\.\d+\n[\s\S]*Server Version: v1\.36\.0-podnet/);
  expect(section(out, 'apply').trim()).toBe('pod/web created');
  expect(section(out, 'again').trim()).toBe('pod/web unchanged');
  expect(section(out, 'wide')).toMatch(
    /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\nweb\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d\.\d+\s+node\d/,
  );
  expect(section(out, 'jsonpath').trim()).toBe('Running default-scheduler web');
  const keys = section(out, 'etcd-keys').split('\n').filter(Boolean);
  expect(keys.filter((k) => !k.startsWith('/registry/events/'))).toEqual([
    '/registry/endpointslices/default/kubernetes',
    '/registry/endpointslices/kube-system/kube-dns',
    '/registry/ipaddresses/10.96.0.1',
    '/registry/ipaddresses/10.96.0.10',
    '/registry/minions/node1',
    '/registry/minions/node2',
    '/registry/namespaces/default',
    '/registry/namespaces/kube-node-lease',
    '/registry/namespaces/kube-public',
    '/registry/namespaces/kube-system',
    '/registry/pods/default/web',
    '/registry/services/specs/default/kubernetes',
    '/registry/services/specs/kube-system/kube-dns',
  ]);
  // Scheduled, Created, Started: named as client-go names events (NAME.<UnixNano in hex>)
  expect(keys.filter((k) => /^\/registry\/events\/default\/web\.[0-9a-f]{16,}$/.test(k))).toHaveLength(3);
  // JSON in the store, where kube-apiserver writes protobuf (docs/control-plane.md says so)
  expect(JSON.parse(section(out, 'etcd-value'))).toMatchObject({
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
  });
  expect(section(out, 'unmodelled')).toMatch(
    /The Pod "picky" is invalid: spec\.affinity: this lab's API server does not model this field \(a Pod's spec here may have: containers, /,
  );
  expect(section(out, 'unmodelled')).toMatch(/exit 1$/m);
  expect(section(out, 'empty')).toMatch(/The Pod "empty" is invalid: spec\.containers: Required value[\s\S]*exit 1/);
  expect(section(out, 'deployment')).toMatch(/no matches for kind "Deployment" in version "apps\/v1"[\s\S]*exit 1/);
  expect(section(out, 'no-ns')).toMatch(/Error from server \(NotFound\): namespaces "nowhere" not found[\s\S]*exit 1/);
  expect(section(out, 'raw')).toMatch(/does not serve \/apis\/apps\/v1: it serves the core group[\s\S]*exit 1/);
  // the refused creates left nothing behind
  expect(section(out, 'after-bad').trim()).toBe('pod/web');
  expect(section(out, 'delete').trim()).toMatch(/^pod "web" deleted/);
  expect(section(out, 'gone')).toMatch(/Error from server \(NotFound\): pods "web" not found[\s\S]*exit 1/);
}

describe('podnet cluster: the real kubectl against the lab API server and the real etcd', () => {
  it('as root: nodes Ready, a pod applied and run, read back (wide, jsonpath, etcd), refused with the API error, deleted', async () => {
    const r = await podnet(['cluster', '--', SCRIPT]);
    expect(r.stderr).toMatch(
      /podnet cluster: 2 nodes in \d+ ms, the control plane \(etcd, API server, scheduler, EndpointSlice controller, CoreDNS stand-in, kubelet watch\) in \d+ ms/,
    );
    expectCluster(r.stdout);
    expect(r.code).toBe(0);
  }, 200_000);

  it('as an unprivileged user, the same', () => {
    const r = spawnAsNobody([process.execPath, PODNET, 'cluster', '--', SCRIPT], 180_000);
    expect(r.stderr).toMatch(
      /the control plane \(etcd, API server, scheduler, EndpointSlice controller, CoreDNS stand-in, kubelet watch\) in \d+ ms/,
    );
    expectCluster(r.stdout);
    expect(r.status).toBe(0);
  }, 200_000);

  it("a node that is NotReady is reported so, with containerd's reason and the not-ready taint", async () => {
    // no CNI config left on node1 (where the command runs): go-cni has nothing to load, so NetworkReady is false there
    const r = await podnet([
      'cluster',
      '--',
      "rm /etc/cni/net.d/*; sleep 7; kubectl get nodes; kubectl get node node1 -o jsonpath='{.spec.taints}'; echo; kubectl get node node1 -o jsonpath='{.status.conditions[0].message}'",
    ]);
    expect(r.stdout).toMatch(/node1\s+NotReady\s/);
    expect(r.stdout).toMatch(/node2\s+Ready\s/);
    expect(r.stdout).toContain('"key":"node.kubernetes.io/not-ready"');
    expect(r.stdout).toMatch(
      /container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized/,
    );
  }, 200_000);

  it('a command of several words keeps each word whole, and the world ends without a kube-proxy complaint', async () => {
    const r = await podnet(['cluster', '--nodes', '1', '--', 'sh', '-c', 'echo one; echo "two  words" $0', "it's"]);
    expect(r.stdout).toBe("one\ntwo  words it's\n");
    expect(r.stderr).toMatch(/podnet cluster: 1 node in \d+ ms/);
    expect(r.stderr).not.toMatch(/kube-proxy on node1/);
    expect(r.code).toBe(0);
  }, 120_000);

  it("a world without a control plane: kubectl says so, and does not reach for the host's", async () => {
    const world = await createWorld({ nodes: 1 });
    try {
      const r = await world.exec({ kind: 'node', node: 'node1' }, ['sh', '-c', 'command -v kubectl; kubectl get pods']);
      expect(r.stdout.trim()).toBe('/opt/podnet/bin/kubectl');
      expect(r.stderr.trim()).toBe(
        "kubectl: this world has no control plane (no API server runs in it): free-play worlds, labs whose lab.yaml has world.controlPlane: true and 'podnet cluster' have one, see docs/control-plane.md",
      );
      expect(r.code).toBe(1);
    } finally {
      await world.destroy();
    }
  }, 60_000);

  it('etcd that cannot start: the error is etcd’s own last words, and the API server started beside it is ended too', async () => {
    const world = await createWorld({ nodes: 1 });
    try {
      // etcd's data folder is a file: etcd exits at once, while the API server is still waiting for it
      await world.run({ kind: 'sandbox' }, ['sh', '-c', `: > ${WORLD_STATE_MOUNT}/etcd`]);
      const err = await failure(Cluster.start(world));
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.message).toMatch(/^etcd exited \(code \d+\): .*data/);
      // etcd's exit, not the 20 s wait for a line that never comes
      expect(err.message).not.toMatch(/did not become ready/);
      const left = await world.run({ kind: 'sandbox' }, [
        'sh',
        '-c',
        'for d in /proc/[0-9]*; do tr "\\0" " " < $d/cmdline 2>/dev/null; echo; done',
      ]);
      expect(left).not.toMatch(/api-server-main|etcd --name/);
    } finally {
      await world.destroy();
    }
  }, 60_000);

  it('kubectl apply → scheduled, SyncPod, status.podIP, Ready (kubectl wait); kubectl delete → KillPod, then gone', async () => {
    const r = await podnet([
      'cluster',
      '--',
      String.raw`
W=$(mktemp); kubectl get pods --watch -o jsonpath='{.metadata.name} {.spec.nodeName}/{.status.conditions[?(@.type=="PodScheduled")].status}{"\n"}' > "$W" 2>&1 & P=$!
for n in a b; do printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers: [{name: httpd, image: busybox}]\n' $n | kubectl apply -f -; done
kubectl wait --for=condition=Ready pod/a pod/b --timeout=30s
kill $P; echo "=== watch"; cat "$W"; rm -f "$W"
echo "=== wide"; kubectl get pods -o wide --no-headers
A=$(kubectl get pod a -o jsonpath='{.status.podIP}')
echo "=== ip a"; ip -4 -o route get "$A" | grep -o 'dev [a-z0-9]*'
echo "=== http"; wget -q -S -O /dev/null -T 3 "http://$A/" 2>&1 | grep -m1 -o 'HTTP/1.[01] [0-9]*'
echo "=== sched"; kubectl get pod a -o jsonpath='{.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status} {.status.hostIP}'; echo
echo "=== describe"; kubectl describe pod a | sed -n '/^Events:/,$p'
echo "=== delete"; kubectl delete pod a b
echo "=== after"; kubectl get pods 2>&1; ip -o link show type veth | grep -vc ' eth0@'
echo "=== end"`,
    ]);
    expect(r.stdout).toMatch(/pod\/a condition met\npod\/b condition met/);
    // one pod on each node: the scheduler spreads them
    const wide = section(r.stdout, 'wide');
    expect(wide).toMatch(/^a\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d\.\d+\s+node\d/m);
    expect(new Set([...wide.matchAll(/\s(node\d)\s/g)].map((m) => m[1]))).toEqual(new Set(['node1', 'node2']));
    // the binding sets the node and PodScheduled in one write: no watcher sees a pod on a node, not yet scheduled
    const seen = section(r.stdout, 'watch').trim().split('\n');
    expect(seen.filter((l) => /^a node\d\//.test(l)).length, seen.join('\n')).toBeGreaterThan(0);
    expect(seen.filter((l) => /^[ab] node\d\/(?!True$)/.test(l))).toEqual([]);
    const [node, scheduled, hostIP] = section(r.stdout, 'sched').trim().split(' ');
    expect(scheduled).toBe('True');
    expect(hostIP).toBe(node === 'node1' ? '192.0.2.11' : '192.0.2.12');
    if (node === 'node1') {
      expect(section(r.stdout, 'ip a').trim()).toBe('dev cni0');
      // busybox httpd answers (404: it serves an empty folder)
      expect(section(r.stdout, 'http').trim()).toMatch(/^HTTP\/1\.[01] \d{3}$/);
    }
    // the scheduler's and the kubelet's events, in the order they happened, as kubectl describe shows them
    expect(section(r.stdout, 'describe')).toMatch(
      /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n[\s-]+\n\s+Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/a to node\d\n\s+Normal\s+Created\s+\S+\s+kubelet\s+Created container: httpd\n\s+Normal\s+Started\s+\S+\s+kubelet\s+Started container httpd/,
    );
    expect(section(r.stdout, 'delete')).toMatch(/pod "a" deleted[\s\S]*pod "b" deleted/);
    // gone from the API, and KillPod took node1's pod veth with it (eth0, the node's underlay veth, stays)
    expect(section(r.stdout, 'after').trim()).toBe('No resources found in default namespace.\n0');
  }, 200_000);

  it("a NotReady node gets no pods: Unschedulable with the scheduler's reason, then scheduled once it is Ready", async () => {
    const r = await podnet([
      'cluster',
      '--nodes',
      '1',
      '--',
      String.raw`
cp /etc/cni/net.d/10-podnet.conflist /tmp/saved.conflist
rm /etc/cni/net.d/10-podnet.conflist
until kubectl get node node1 --no-headers | grep -q NotReady; do sleep 0.5; done
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: httpd, image: busybox}]\n' | kubectl apply -f -
sleep 2
echo "=== pending"; kubectl get pod web -o jsonpath='{.status.phase} {.status.conditions[0].reason}: {.status.conditions[0].message}'; echo
cp /tmp/saved.conflist /etc/cni/net.d/10-podnet.conflist
kubectl wait --for=condition=Ready pod/web --timeout=30s
echo "=== running"; kubectl get pod web -o jsonpath='{.spec.nodeName} {.status.phase} {.status.podIP}'; echo
echo "=== end"`,
    ]);
    expect(section(r.stdout, 'pending').split('\n')[0]).toBe(
      'Pending Unschedulable: 0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    expect(r.stdout).toContain('pod/web condition met');
    expect(section(r.stdout, 'running').trim()).toMatch(/^node1 Running 10\.244\.1\.\d+$/);
  }, 200_000);
});
