// kubectl's typed clients (kubectl create service …, kubectl create namespace) send protobuf request bodies: the
// lab's API server reads them into the same object a JSON manifest gives, and a Service made so is served
// (EndpointSlice, kube-proxy's rules, an answer through its ClusterIP) — as root and as an unprivileged user.
import { describe, expect, it } from 'vitest';
import { PODNET, podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 200_000);
const API = 'http://192.0.2.10:6443/api/v1/namespaces/default/services';

const SCRIPT = String.raw`
mark() { echo "=== $1"; }
mark type; kubectl create service clusterip web --tcp=80:80 -v=8 2>&1 | grep -o 'Content-Type: application/vnd.kubernetes.protobuf' | head -1
kubectl create namespace made-by-protobuf >/dev/null
mark namespaces; kubectl get ns made-by-protobuf -o name
cat > /tmp/same.yaml <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: made-by-yaml}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: made-by-yaml
  labels: {app: web}
spec:
  type: ClusterIP
  selector: {app: web}
  ports: [{name: 80-80, protocol: TCP, port: 80, targetPort: 80}]
Y
kubectl create -f /tmp/same.yaml 2>&1 >/dev/null
mark svc-proto; kubectl get svc web -o json
mark svc-yaml; kubectl -n made-by-yaml get svc web -o json
mark ns-proto; kubectl get ns made-by-protobuf -o json
mark ns-yaml; kubectl get ns made-by-yaml -o json
mark nodeport; kubectl create service nodeport np --tcp=80:80 2>&1; echo "exit $?"
mark nodeport-yaml; printf 'apiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n' | kubectl apply -f - 2>&1; echo "exit $?"
mark loadbalancer; kubectl create service loadbalancer lb --tcp=80:80 2>&1; echo "exit $?"
mark externalname; kubectl create service externalname ext --external-name=example.com 2>&1; echo "exit $?"
mark malformed; printf 'k8s\000\022\200' | curl -s -XPOST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @- ${API}; echo
mark wrong-magic; printf '{"kind":"Service"}' | curl -s -XPOST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @- ${API}; echo
mark cbor; printf '\331\331\367' | curl -s -XPOST -H 'Content-Type: application/cbor' --data-binary @- ${API}; echo
mark services; kubectl get svc -A -o name

kubectl run web --image=busybox --labels=app=web >/dev/null
kubectl run client --image=busybox --command -- sleep 3600 >/dev/null
kubectl wait --for=condition=Ready pod/web pod/client --timeout=60s >/dev/null
until [ -n "$(kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}')" ]; do sleep 0.2; done
IP=$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')
mark slice; kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].endpoints[0].addresses[0]} {.items[0].ports[0].port}'; echo
mark pod-ip; kubectl get pod web -o jsonpath='{.status.podIP}'; echo
mark rules; for i in $(seq 50); do iptables-save -t nat | grep -q "default/web:80-80 cluster IP" && break; sleep 0.2; done; iptables-save -t nat | grep -c "default/web:80-80"
mark answer; kubectl exec client -- wget -q -S -O /dev/null -T 5 "http://$IP/" 2>&1 | grep -m1 -o 'HTTP/1.[01] [0-9]*'
mark end
`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The object less what differs between any two creates (uid, times, revision, the allocated IP) and the namespace. */
function comparable(text: string): Json {
  const o = JSON.parse(text) as Json;
  for (const k of ['uid', 'creationTimestamp', 'resourceVersion', 'namespace']) delete o.metadata[k];
  if (o.spec) for (const k of ['clusterIP', 'clusterIPs']) delete o.spec[k];
  return o;
}

function expectProtobuf(out: string): void {
  // kubectl did send protobuf, and the server read it
  expect(section(out, 'type').trim()).toBe('Content-Type: application/vnd.kubernetes.protobuf');
  expect(section(out, 'namespaces').trim()).toBe('namespace/made-by-protobuf');
  // the same object as the one applied from a manifest
  const proto = comparable(section(out, 'svc-proto'));
  expect(proto.spec.ports).toEqual([{ name: '80-80', protocol: 'TCP', port: 80, targetPort: 80 }]);
  expect(proto).toEqual(comparable(section(out, 'svc-yaml')));
  expect(JSON.parse(section(out, 'svc-proto')).spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
  const ns = comparable(section(out, 'ns-proto'));
  const nsYaml = comparable(section(out, 'ns-yaml'));
  expect(ns.metadata).toEqual({
    name: 'made-by-protobuf',
    labels: { 'kubernetes.io/metadata.name': 'made-by-protobuf' },
  });
  expect({ ...ns, metadata: {} }).toEqual({ ...nsYaml, metadata: {} });
  // refused as the JSON path refuses the same object
  const refusal =
    /Service "np" is invalid: spec\.type: Unsupported value: "NodePort": supported values: "ClusterIP" \(this lab's API server models ClusterIP Services/;
  expect(section(out, 'nodeport')).toMatch(refusal);
  expect(section(out, 'nodeport')).toMatch(/exit 1$/m);
  expect(section(out, 'nodeport-yaml')).toMatch(refusal);
  expect(section(out, 'loadbalancer')).toMatch(
    /Service "lb" is invalid: spec\.type: Unsupported value: "LoadBalancer"[\s\S]*exit 1/,
  );
  expect(section(out, 'externalname')).toMatch(
    /Service "ext" is invalid: spec\.externalName: this lab's API server does not model this field[\s\S]*exit 1/,
  );
  // malformed protobuf: 400 saying what and where; a content type it does not read: 415 saying what it reads
  expect(JSON.parse(section(out, 'malformed'))).toMatchObject({
    code: 400,
    reason: 'BadRequest',
    message:
      'the request body is not a well-formed protobuf object: runtime.Unknown.raw: truncated varint at offset 5 (the body ends at 6)',
  });
  expect(JSON.parse(section(out, 'wrong-magic')).message).toMatch(/does not start with Kubernetes' protobuf magic/);
  expect(JSON.parse(section(out, 'cbor'))).toMatchObject({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: expect.stringMatching(
      /reads application\/json and application\/vnd\.kubernetes\.protobuf \(Service, Namespace, .*\) request bodies, not application\/cbor$/,
    ),
  });
  // nothing stored by the refused and malformed bodies
  expect(section(out, 'services').trim().split('\n').sort()).toEqual([
    'service/kube-dns',
    'service/kubernetes',
    'service/web',
    'service/web',
  ]);
  // the protobuf-made Service is served: its slice has the pod, kube-proxy wrote its rules, it answers
  const podIp = section(out, 'pod-ip').trim();
  expect(section(out, 'slice').trim()).toBe(`${podIp} 80`);
  expect(Number(section(out, 'rules').trim())).toBeGreaterThan(0);
  expect(section(out, 'answer').trim()).toMatch(/^HTTP\/1\.[01] \d{3}$/);
}

describe("kubectl's protobuf request bodies, read by the lab's API server", () => {
  it('as root: create service/namespace by protobuf equal their manifests, refusals, 400/415, the Service answers', async () => {
    const r = await podnet(['cluster', '--nodes', '1', '--', SCRIPT]);
    expectProtobuf(r.stdout);
    expect(r.code).toBe(0);
  }, 240_000);

  it('as an unprivileged user, the same', () => {
    const r = spawnAsNobody([process.execPath, PODNET, 'cluster', '--nodes', '1', '--', SCRIPT], 200_000);
    expectProtobuf(r.stdout);
    expect(r.status).toBe(0);
  }, 240_000);
});
