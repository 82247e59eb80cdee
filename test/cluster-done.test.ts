// Issue #16's "done when", in one world and one node terminal's commands, with the real kubectl: nodes
// Ready; a pod with a readiness probe and a Service applied; the pod Ready, its IP, its EndpointSlice; the
// Service's ClusterIP answered from the other node; and `kubectl delete pod` takes the pod out of the
// slice before its container gets SIGTERM (the container asks the API at that moment) — as root and as nobody.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 240_000);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

// run on node2; the pod is held to node1, so the Service's answer crosses nodes
const SCRIPT = String.raw`
mark() { echo "=== $1"; }
mark nodes; kubectl get nodes --no-headers
cat > /tmp/web.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  nodeSelector: {kubernetes.io/hostname: node1}
  terminationGracePeriodSeconds: 10
  containers:
  - name: httpd
    image: busybox
    command:
    - sh
    - -c
    - |
      trap 'kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath="{range .items[*].endpoints[*]}{.addresses[0]} ready={.conditions.ready} serving={.conditions.serving} terminating={.conditions.terminating}{end}" > /tmp/at-sigterm 2>&1; exit 0' TERM
      httpd -p 80 -h /
      while :; do sleep 0.2; done
    readinessProbe:
      httpGet: {path: /etc/hostname, port: 80}
      periodSeconds: 1
    lifecycle:
      preStop:
        exec: {command: [sleep, "2"]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
Y
mark apply; kubectl apply -f /tmp/web.yaml
mark wait; kubectl wait --for=condition=Ready pod/web --timeout=60s
mark wide; kubectl get pod web -o wide --no-headers
mark ip; kubectl get pod web -o jsonpath='{.status.podIP}'; echo
mark slices; kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]} ready={.conditions.ready}{"\n"}{end}'
mark cluster-ip; kubectl get svc web -o jsonpath='{.spec.clusterIP}'; echo
# kube-proxy programs node2 after the slice changes (its min-sync-period paces it, as the real one's does): ask until it answers
mark answer; cip=$(kubectl get svc web -o jsonpath='{.spec.clusterIP}'); for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- -T 2 "http://$cip/etc/hostname" && break; sleep 0.3; done
mark delete; rm -f /tmp/at-sigterm; kubectl delete pod web --wait=true
mark at-sigterm; cat /tmp/at-sigterm; echo
mark end
`;

function expectDone(out: string): void {
  expect(section(out, 'nodes')).toMatch(/^node1\s+Ready\s.*\nnode2\s+Ready\s/);
  expect(section(out, 'apply').trim()).toBe('pod/web created\nservice/web created');
  expect(section(out, 'wait').trim()).toBe('pod/web condition met');
  const ip = section(out, 'ip').trim();
  expect(ip).toMatch(/^10\.244\.1\.\d+$/);
  expect(section(out, 'wide')).toMatch(
    new RegExp(`^web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+node1\\s`),
  );
  expect(section(out, 'slices').trim()).toBe(`${ip} ready=true`);
  expect(section(out, 'cluster-ip').trim()).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
  // busybox httpd serves the node's / with the pod's own /etc/hostname bound over it
  expect(section(out, 'answer').trim()).toBe('web');
  expect(section(out, 'delete').trim()).toMatch(/^pod "web" deleted/);
  // when the container got SIGTERM, the slice no longer had it ready (terminating, or gone)
  const at = section(out, 'at-sigterm').trim();
  expect(at).not.toMatch(/ready=true/);
  expect(at === '' || /ready=false serving=(true|false) terminating=true/.test(at)).toBe(true);
}

describe("issue #16's done-when: kubectl apply of a pod with a readiness probe and a Service, answered across nodes", () => {
  it('as root', async () => {
    const r = await podnet(['cluster', '--on', 'node2', '--', SCRIPT]);
    expect(r.stderr).toMatch(/podnet cluster: 2 nodes/);
    expectDone(r.stdout);
    expect(r.code).toBe(0);
  }, 300_000);

  it('as an unprivileged user', () => {
    const r = spawnAsNobody([process.execPath, PODNET, 'cluster', '--on', 'node2', '--', SCRIPT], 240_000);
    expectDone(r.stdout);
    expect(r.status).toBe(0);
  }, 300_000);
});
