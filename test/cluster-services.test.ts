// Services, EndpointSlices, the EndpointSlice controller and the cluster DNS stand-in, through the real
// kubectl 1.36 in a `podnet cluster` world — as root and as an unprivileged user.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 240_000);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');
/** kube-proxy (branch cp-proxy) DNATs 10.96.0.10:53 to the stand-in; until it is merged, pods reach it at its own address. */

/** A DNS query (id 0x1234, RD, one question, type A, class IN) over TCP: its 2-byte length, then the message. */
function tcpQuery(name: string): string {
  const q = Buffer.concat([
    Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  const msg = Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
  // printf's octal escapes: every shell's printf reads them
  return [...msg].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

const SLICE_STATE = String.raw`{range .items[*].endpoints[*]}{.targetRef.name}={.conditions.ready},{.conditions.serving},{.conditions.terminating} {end}`;

const SCRIPT = String.raw`
mark() { echo "=== $1"; }
cat > /tmp/web.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers: [{name: httpd, image: busybox, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
spec:
  containers: [{name: httpd, image: busybox, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: slow, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "trap '' TERM; while :; do sleep 1; done"]
    ports: [{name: http, containerPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: other, labels: {app: other}}
spec:
  containers: [{name: httpd, image: busybox}]
Y
mark apply; kubectl apply -f /tmp/web.yaml
kubectl wait --for=condition=Ready pod/web-1 pod/web-2 pod/slow pod/other --timeout=60s >/dev/null
mark svc; kubectl get svc
mark svc-wide; kubectl get svc web -o wide
mark svc-spec; kubectl get svc web -o jsonpath='{.spec.type} {.spec.sessionAffinity} {.spec.ports[0].protocol} {.spec.ports[0].targetPort} {.spec.ipFamilies[0]} {.spec.ipFamilyPolicy} {.spec.internalTrafficPolicy} {.spec.clusterIPs[0]}'; echo
mark pod-ips; kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}={.status.podIP} {end}'; echo
until [ "$(kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}' | wc -w)" = 3 ]; do sleep 0.2; done
mark slices; kubectl get endpointslices -l kubernetes.io/service-name=web
mark slice-meta; kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name} {.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by} {.items[0].metadata.labels.tier} {.items[0].addressType} {.items[0].ports[0].name}:{.items[0].ports[0].port}/{.items[0].ports[0].protocol}'; echo
mark slice-state; kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}'; echo
mark selectors
kubectl get pods -l 'app in (web,other)' -o name | wc -l
kubectl get pods -l 'app notin (web)' -o name
kubectl get pods -l 'app!=web' -o name
kubectl get pods -l '!app' -o name | wc -l
kubectl get pods -l app -o name | wc -l
kubectl get pods -l 'app==other' -o name
kubectl get pods -l 'app=(x' 2>&1; echo "exit $?"

kubectl get endpointslices -l kubernetes.io/service-name=web -w -o json > /tmp/watch.json 2>/tmp/watch.err & W=$!
sleep 1
kubectl delete pod slow --wait=false >/dev/null
until kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}' | grep -q 'slow=false'; do sleep 0.2; done
mark terminating
kubectl get pod slow -o jsonpath='{.metadata.deletionTimestamp}' | grep -c T
kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}'; echo
kubectl wait --for=delete pod/slow --timeout=60s >/dev/null
until ! kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}' | grep -q slow; do sleep 0.2; done
mark after-slow; kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}'; echo
sleep 0.5; kill $W
mark watch; cat /tmp/watch.json

mark delete-pod; kubectl delete pod web-1 >/dev/null
until [ "$(kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}' | wc -w)" = 1 ]; do sleep 0.2; done
kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='${SLICE_STATE}'; echo

svc() { printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n%s\n  ports: [{port: 80}]\n' "$1" "$2"; }
mark dup; svc dup '  clusterIP: 10.96.0.10' | kubectl apply -f - 2>&1; echo "exit $?"
mark dup-raw; printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"dup"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":80}]}}' | kubectl create --raw /api/v1/namespaces/default/services -f - -v=8 2>&1 | grep 'Response Body'
mark range; svc far '  clusterIP: 10.200.0.1' | kubectl apply -f - 2>&1; echo "exit $?"
mark type; svc np '  type: NodePort' | kubectl apply -f - 2>&1; echo "exit $?"
mark field; svc ext '  externalIPs: [1.2.3.4]' | kubectl apply -f - 2>&1; echo "exit $?"
mark fixed; svc fixed '  clusterIP: 10.96.0.50' | kubectl apply -f - 2>&1
mark change; svc fixed '  clusterIP: 10.96.0.51' | kubectl apply -f - 2>&1; echo "exit $?"
mark services; kubectl get svc -A -o name

WEB_IP=$(kubectl get svc web -o jsonpath='{.spec.clusterIP}')
mark dns; nslookup web.default.svc.cluster.local 192.0.2.10 2>&1; echo "exit $?"
mark dns-kubernetes; nslookup kubernetes.default.svc.cluster.local 192.0.2.10 2>&1; echo "exit $?"
mark dns-unknown; nslookup nope.default.svc.cluster.local 192.0.2.10 2>&1; echo "exit $?"
mark dns-outside; nslookup example.com 192.0.2.10 2>&1; echo "exit $?"
mark dns-tcp; printf '${tcpQuery('web.default.svc.cluster.local')}' | nc -w 3 192.0.2.10 53 | od -An -v -tu1 | tr -s ' \n' ' '; echo
mark web-ip; echo "$WEB_IP"

mark delete-svc; kubectl delete svc web
until [ -z "$(kubectl get endpointslices -l kubernetes.io/service-name=web -o name)" ]; do sleep 0.2; done
mark released; etcdctl get /registry/ipaddresses/$WEB_IP --keys-only | grep -c . ; nslookup web.default.svc.cluster.local 192.0.2.10 >/dev/null 2>&1; echo "dns exit $?"
mark again; svc web2 "  clusterIP: $WEB_IP" | kubectl apply -f - 2>&1
mark end
`;

/** `kubectl get -w -o json`'s stream: one pretty-printed object after another. */
function watchObjects(text: string): Record<string, unknown>[] {
  return text
    .split(/(?<=^\})\n/m)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => JSON.parse(s) as Record<string, unknown>);
}

const ipToRange = (ip: string) => {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 && b >= 96 && b <= 111;
};

function expectServices(out: string): void {
  expect(section(out, 'apply').trim().split('\n')).toEqual([
    'service/web created',
    'pod/web-1 created',
    'pod/web-2 created',
    'pod/slow created',
    'pod/other created',
  ]);
  // the Service table as kube-apiserver prints it; kubernetes and the allocated ClusterIP
  const svc = section(out, 'svc');
  expect(svc).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
  expect(svc).toMatch(/^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\S+$/m);
  const webIp = /^web\s+ClusterIP\s+(10\.\d+\.\d+\.\d+)\s+<none>\s+80\/TCP\s+\S+$/m.exec(svc)?.[1];
  expect(webIp, svc).toBeDefined();
  expect(ipToRange(webIp!)).toBe(true);
  expect(section(out, 'web-ip').trim()).toBe(webIp);
  expect(section(out, 'svc-wide')).toMatch(/SELECTOR\n/);
  expect(section(out, 'svc-wide')).toMatch(/^web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP\s+\S+\s+app=web$/m);
  // the defaults the real registry fills in
  expect(section(out, 'svc-spec').trim()).toBe(`ClusterIP None TCP http IPv4 SingleStack Cluster ${webIp}`);

  // the slice lists exactly the ready pods' IPs (not other's), port 80 resolved from the named targetPort
  const podIps = Object.fromEntries(
    section(out, 'pod-ips')
      .trim()
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
  expect(Object.keys(podIps).sort()).toEqual(['slow', 'web-1', 'web-2']);
  const slices = section(out, 'slices');
  expect(slices).toMatch(/^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
  const row = /^(web-[a-z0-9]{5})\s+IPv4\s+80\s+(\S+)\s+\S+$/m.exec(slices);
  expect(row, slices).not.toBeNull();
  expect(row![2]!.split(',').sort()).toEqual(Object.values(podIps).sort());
  expect(section(out, 'slice-meta').trim()).toBe('Service/web endpointslice-controller.k8s.io front IPv4 http:80/TCP');
  expect(section(out, 'slice-state').trim().split(' ').sort()).toEqual([
    'slow=true,true,false',
    'web-1=true,true,false',
    'web-2=true,true,false',
  ]);

  // label selectors: in, notin, !=, !key, key, ==; a malformed one is the API's BadRequest
  expect(section(out, 'selectors').trim().split('\n')).toEqual([
    '4',
    'pod/other',
    'pod/other',
    '0',
    '4',
    'pod/other',
    expect.stringMatching(
      /^Error from server \(BadRequest\): .*unable to parse requirement: invalid label value "\(x"/,
    ),
    'exit 1',
  ]);

  // during the grace period: not ready, still serving, terminating (the controller's rule)
  const term = section(out, 'terminating').trim().split('\n');
  expect(term[0]).toBe('1');
  expect(term[1]!.trim().split(' ').sort()).toEqual([
    'slow=false,true,true',
    'web-1=true,true,false',
    'web-2=true,true,false',
  ]);
  expect(section(out, 'after-slow').trim().split(' ').sort()).toEqual([
    'web-1=true,true,false',
    'web-2=true,true,false',
  ]);
  // the watch saw the slice change: slow ready, then slow terminating, then slow gone
  const seen = watchObjects(section(out, 'watch')).map((o) =>
    Object.fromEntries(
      ((o.endpoints ?? []) as { targetRef: { name: string }; conditions: Record<string, boolean> }[]).map((e) => [
        e.targetRef.name,
        `${e.conditions.ready},${e.conditions.serving},${e.conditions.terminating}`,
      ]),
    ),
  );
  expect(seen[0]).toMatchObject({ slow: 'true,true,false' });
  const t = seen.findIndex((s) => s.slow === 'false,true,true');
  expect(t, JSON.stringify(seen)).toBeGreaterThan(0);
  expect(seen.slice(t + 1).some((s) => !('slow' in s))).toBe(true);
  // a pod deleted leaves the slice
  expect(section(out, 'delete-pod').trim()).toBe('web-2=true,true,false');

  // errors: the API's Invalid, with the real messages (and the lab's where it does not model a thing)
  expect(section(out, 'dup')).toMatch(
    /The Service "dup" is invalid: spec\.clusterIPs: Invalid value: \[\]string\{"10\.96\.0\.10"\}: failed to allocate IP 10\.96\.0\.10: provided IP is already allocated\nexit 1/,
  );
  // the body as the server sent it (kubectl -v=8 logs it Go-quoted)
  const quoted = /"Response Body" body=("(?:[^"\\]|\\.)*")/.exec(section(out, 'dup-raw'))?.[1];
  const raw = JSON.parse(JSON.parse(quoted ?? '""') as string);
  expect(raw).toMatchObject({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Invalid',
    code: 422,
    details: { name: 'dup', kind: 'Service', causes: [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs' }] },
  });
  expect(section(out, 'range')).toMatch(
    /The Service "far" is invalid: spec\.clusterIPs: Invalid value: \[\]string\{"10\.200\.0\.1"\}: failed to allocate IP 10\.200\.0\.1: the provided network does not match the current range\nexit 1/,
  );
  expect(section(out, 'type')).toMatch(
    /The Service "np" is invalid: spec\.type: Unsupported value: "NodePort": supported values: "ClusterIP" \(this lab's API server models ClusterIP Services[^\n]*\nexit 1/,
  );
  expect(section(out, 'field')).toMatch(
    /The Service "ext" is invalid: spec\.externalIPs: this lab's API server does not model this field \(a Service's spec here may have: selector, ports, type, clusterIP, [^\n]*\nexit 1/,
  );
  expect(section(out, 'fixed').trim()).toBe('service/fixed created');
  expect(section(out, 'change')).toMatch(
    /The Service "fixed" is invalid: spec\.clusterIPs\[0\]: Invalid value: \[\]string\{"10\.96\.0\.51"\}: may not change once set\nexit 1/,
  );
  // the refused creates left nothing behind
  expect(section(out, 'services').trim().split('\n').sort()).toEqual([
    'service/fixed',
    'service/kube-dns',
    'service/kubernetes',
    'service/web',
  ]);

  // DNS: a Service name → its ClusterIP; NXDOMAIN for an unknown one and for names outside the cluster
  expect(section(out, 'dns')).toMatch(
    new RegExp(`Name:\\s+web\\.default\\.svc\\.cluster\\.local\\nAddress:\\s+${webIp!.replace(/\./g, '\\.')}\\n`),
  );
  expect(section(out, 'dns')).toMatch(/exit 0$/);
  expect(section(out, 'dns-kubernetes')).toMatch(/Address:\s+10\.96\.0\.1\n/);
  expect(section(out, 'dns-unknown')).toMatch(/can't find nope\.default\.svc\.cluster\.local: NXDOMAIN[\s\S]*exit 1$/);
  expect(section(out, 'dns-outside')).toMatch(/can't find example\.com: NXDOMAIN[\s\S]*exit 1$/);
  // over TCP: the length, our id, QR|AA|RD and NOERROR, one answer whose last 4 bytes are the ClusterIP
  const tcp = section(out, 'dns-tcp').trim().split(' ').map(Number);
  expect(tcp.slice(2, 6)).toEqual([0x12, 0x34, 0x85, 0x00]);
  expect(tcp.slice(8, 10)).toEqual([0, 1]);
  expect(tcp.slice(-4).join('.')).toBe(webIp);
  expect(tcp[0]! * 256 + tcp[1]!).toBe(tcp.length - 2);

  // a Service deleted: its slices go, its address is released (etcd), its name is gone from DNS, the address is free again
  expect(section(out, 'delete-svc').trim()).toMatch(/^service "web" deleted/);
  expect(section(out, 'released').trim().split('\n')).toEqual(['0', 'dns exit 1']);
  expect(section(out, 'again').trim()).toBe('service/web2 created');
}

describe('Services, EndpointSlices, the EndpointSlice controller and the DNS stand-in, with the real kubectl', () => {
  it('as root', async () => {
    const r = await podnet(['cluster', '--', SCRIPT]);
    expectServices(r.stdout);
    expect(r.code).toBe(0);
  }, 260_000);

  it('as an unprivileged user, the same', () => {
    const r = spawnAsNobody([process.execPath, PODNET, 'cluster', '--', SCRIPT], 240_000);
    expectServices(r.stdout);
    expect(r.status).toBe(0);
  }, 260_000);

  it('discovery: kube-system has kube-dns at 10.96.0.10 with its slice, default has kubernetes; the groups kubectl finds; a label-selected watch', async () => {
    const r = await podnet([
      'cluster',
      '--nodes',
      '1',
      '--',
      String.raw`
echo "=== svc"; kubectl get svc -A
echo "=== slices"; kubectl get endpointslices -A
echo "=== api-resources"; kubectl api-resources --api-group=discovery.k8s.io; kubectl api-resources | grep -E '^(services|endpointslices) '
echo "=== all"; kubectl get all -o name
echo "=== keys"; etcdctl get /registry --prefix --keys-only | grep -E 'services|endpointslices|ipaddresses'
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: web}}\nspec:\n  containers: [{name: c, image: busybox}]\n' | kubectl apply -f - >/dev/null
kubectl get pods -l app=web -w --output-watch-events > /tmp/w.out 2>&1 & W=$!
until grep -q ADDED /tmp/w.out; do sleep 0.1; done
kubectl label pod a app=other --overwrite >/dev/null
until grep -q DELETED /tmp/w.out; do sleep 0.1; done
kubectl label pod a app=web --overwrite >/dev/null
until [ "$(grep -c ADDED /tmp/w.out)" = 2 ]; do sleep 0.1; done
kill $W
echo "=== relabel"; grep -E '^(ADDED|DELETED) ' /tmp/w.out | awk '{print $1, $2}'
echo "=== end"`,
    ]);
    const svc = section(r.stdout, 'svc');
    expect(svc).toMatch(/^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s/m);
    expect(svc).toMatch(/^kube-system\s+kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP\s/m);
    const slices = section(r.stdout, 'slices');
    expect(slices).toMatch(/^NAMESPACE\s+NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\n/);
    expect(slices).toMatch(/^default\s+kubernetes\s+IPv4\s+6443\s+192\.0\.2\.10\s/m);
    expect(slices).toMatch(/^kube-system\s+kube-dns\s+IPv4\s+53,53\s+192\.0\.2\.10\s/m);
    expect(section(r.stdout, 'api-resources')).toMatch(
      /endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice[\s\S]*services\s+svc\s+v1\s+true\s+Service/,
    );
    expect(section(r.stdout, 'all').trim()).toBe('service/kubernetes');
    expect(section(r.stdout, 'keys').split('\n').filter(Boolean)).toEqual([
      '/registry/endpointslices/default/kubernetes',
      '/registry/endpointslices/kube-system/kube-dns',
      '/registry/ipaddresses/10.96.0.1',
      '/registry/ipaddresses/10.96.0.10',
      '/registry/services/specs/default/kubernetes',
      '/registry/services/specs/kube-system/kube-dns',
    ]);
    // a label-selected watch: a change out of the selection is DELETED, back into it ADDED (the watch cache's filter)
    expect(section(r.stdout, 'relabel').trim().split('\n')).toEqual(['ADDED a', 'DELETED a', 'ADDED a']);
  }, 200_000);
  it("a pod's query reaches the stand-in from the pod's own address (the control plane routes pod CIDRs back)", async () => {
    const r = await podnet([
      'cluster',
      '--',
      String.raw`
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n' | kubectl apply -f - >/dev/null
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, labels: {app: web}}\nspec:\n  nodeName: node1\n  containers: [{name: c, image: busybox}]\n' | kubectl apply -f - >/dev/null
kubectl wait --for=condition=Ready pod/web-1 --timeout=60s >/dev/null
P=$(ip netns list | awk '{print $1}' | head -1)
echo "=== src"; ip netns exec $P ip -4 -o addr show eth0 | awk '{print $4}'
echo "=== web-ip"; kubectl get svc web -o jsonpath='{.spec.clusterIP}'; echo
echo "=== dns"; ip netns exec $P nslookup web.default.svc.cluster.local 192.0.2.10 2>&1; echo "exit $?"
echo "=== end"`,
    ]);
    expect(section(r.stdout, 'src').trim()).toMatch(/^10\.244\.1\.\d+\/24$/);
    const ip = section(r.stdout, 'web-ip').trim();
    expect(section(r.stdout, 'dns')).toContain(`Name:\tweb.default.svc.cluster.local\nAddress: ${ip}\n`);
    expect(section(r.stdout, 'dns')).toMatch(/exit 0$/);
  }, 200_000);

  // skipped until kube-proxy is merged: the pod's resolver asks 10.96.0.10, which only its DNAT makes the stand-in
  it("a pod's resolver (glibc, ClusterFirst: search default.svc.cluster.local …, ndots:5) finds Services through kube-dns' ClusterIP", async () => {
    const r = await podnet([
      'cluster',
      '--',
      String.raw`
cat > /tmp/probe.sh <<'P'
cat /etc/resolv.conf > /tmp/resolv.out
for n in web web.default web.default.svc kubernetes.default nope.default; do getent hosts $n || echo "$n: rc=$?"; done > /tmp/names.out 2>&1
exec sleep 100
P
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n' | kubectl apply -f - >/dev/null
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec:\n  nodeName: node1\n  containers: [{name: c, image: busybox, command: [sh, /tmp/probe.sh]}]\n' | kubectl apply -f - >/dev/null
kubectl wait --for=condition=Ready pod/client --timeout=60s >/dev/null
until [ -s /tmp/names.out ] && grep -q nope /tmp/names.out; do sleep 0.2; done
echo "=== web-ip"; kubectl get svc web -o jsonpath='{.spec.clusterIP}'; echo
echo "=== resolv"; cat /tmp/resolv.out
echo "=== names"; cat /tmp/names.out
echo "=== end"`,
    ]);
    const ip = section(r.stdout, 'web-ip').trim();
    expect(section(r.stdout, 'resolv')).toMatch(/nameserver 10\.96\.0\.10/);
    expect(
      section(r.stdout, 'names')
        .trim()
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ')),
    ).toEqual([
      `${ip} web.default.svc.cluster.local`,
      `${ip} web.default.svc.cluster.local`,
      `${ip} web.default.svc.cluster.local`,
      '10.96.0.1 kubernetes.default.svc.cluster.local',
      'nope.default: rc=2',
    ]);
  }, 200_000);
});
