// The kubelet around the pod, through the real kubectl 1.36: readiness probes (httpGet, tcpSocket, exec)
// run from the node / in the container and gate Ready; a deleted pod runs its preStop hook, then gets the
// stop signal, then SIGKILL at the end of its grace period, then StopPodSandbox (CNI DEL), then goes;
// `kubectl logs` reads the container's CRI log, `kubectl exec` runs in the container; fields the lab does
// not model are refused. As root and as
// `nobody` (podnet cluster), and in process where the kubelet's trace proves the order step by step.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { podnetCli, section, spawnAsNobody } from './helpers.js';

const podnet = (args: string[]) => podnetCli(args, 200_000);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

/** Shell helpers: section marks, and a bounded wait for a condition (no time is asserted). */
const PRELUDE = String.raw`
mark() { echo "=== $1"; }
waitfor() { t=$(($(date +%s) + 60)); until sh -c "$1" >/dev/null 2>&1; do if [ $(date +%s) -gt $t ]; then echo "GAVE UP WAITING: $1"; return 1; fi; sleep 0.1; done; }
`;

const PROBES = String.raw`
mkdir -p /tmp/www-web
cat > /tmp/probes.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: httpd
    image: busybox
    command: [httpd, -f, -p, "80", -h, /tmp/www-web]
    ports: [{name: http, containerPort: 80}]
    readinessProbe:
      httpGet: {path: /ready, port: http}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  containers:
  - name: open
    image: busybox
    command: [httpd, -f, -p, "8080"]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
  - name: closed
    image: busybox
    command: [httpd, -f, -p, "8081"]
    readinessProbe: {tcpSocket: {port: 8082}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: exec}
spec:
  containers:
  - name: good
    image: busybox
    command: [sh, -c, "echo exec-probed > /tmp/exec-ok; echo line one; echo line two; echo line three; exec sleep 1000"]
    readinessProbe: {exec: {command: [cat, /tmp/exec-ok]}, periodSeconds: 1}
  - name: bad
    image: busybox
    command: [sleep, "1000"]
    readinessProbe: {exec: {command: [cat, /nonexistent]}, periodSeconds: 1}
Y
kubectl apply -f /tmp/probes.yaml
waitfor "kubectl get events --field-selector involvedObject.name=web,reason=Unhealthy -o jsonpath='{range .items[*]}{.count}{\"\\n\"}{end}' | grep -qE '^([2-9]|[0-9]{2,})$'"
mark web-notready; kubectl get pod web --no-headers
kubectl get pod web -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.containerStatuses[0].ready}'; echo
mark web-describe; kubectl describe pod web | sed -n '/^Events:/,$p'
echo ok > /tmp/www-web/ready
kubectl wait --for=condition=Ready pod/web --timeout=90s
mark web-ready; kubectl get pod web --no-headers
mark tcp-wait; kubectl wait --for=condition=Ready pod/tcp --timeout=5s >/dev/null 2>&1; echo "tcp ready: $?"
waitfor "kubectl get pod tcp -o jsonpath='{.status.containerStatuses[?(@.name==\"open\")].ready}' | grep -q true"
# the open container's probe may fail too before its server listens (8080): wait for the closed port's event
waitfor "kubectl get events --field-selector involvedObject.name=tcp,reason=Unhealthy -o jsonpath='{range .items[*]}{.message}{\"\\n\"}{end}' | grep -q ':8082: '"
mark tcp; kubectl get pod tcp -o jsonpath='{range .status.containerStatuses[*]}{.name}={.ready} {end}'; echo
kubectl get events --field-selector involvedObject.name=tcp,reason=Unhealthy -o jsonpath='{range .items[*]}{.type} {.message}{"\n"}{end}' | grep ':8082: ' | head -n 1
waitfor "kubectl get pod exec -o jsonpath='{.status.containerStatuses[?(@.name==\"good\")].ready}' | grep -q true"
# the good container's probe may fail too before its file is written: wait for the bad one's event
waitfor "kubectl get events --field-selector involvedObject.name=exec,reason=Unhealthy -o jsonpath='{range .items[*]}{.message}{\"\\n\"}{end}' | grep -q /nonexistent"
mark exec; kubectl get pod exec --no-headers
kubectl get events --field-selector involvedObject.name=exec,reason=Unhealthy -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep /nonexistent | head -n 1
mark logs; kubectl logs exec -c good
mark tail; kubectl logs exec -c good --tail 1
mark no-container; kubectl get --raw /api/v1/namespaces/default/pods/exec/log 2>&1; echo "exit $?"
mark bad-container; kubectl get --raw '/api/v1/namespaces/default/pods/exec/log?container=nope' 2>&1; echo "exit $?"
mark kubectl-default; kubectl logs exec 2>&1 | head -n 2
mark exec-cmd; kubectl exec exec -c good -- sh -c 'hostname; cat /tmp/exec-ok; echo to-stderr >&2; exit 3' 2>/root/exec-err; echo "exit $?"; cat /root/exec-err
mark exec-stdin; echo from-stdin | kubectl exec -i exec -c good -- cat; echo "exit $?"
cat > /tmp/bad.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: c
    image: busybox
    livenessProbe: {tcpSocket: {port: 80}}
    volumeMounts: [{name: v, mountPath: /v}]
    readinessProbe: {grpc: {port: 80}}
    lifecycle: {postStart: {exec: {command: ["true"]}}}
Y
mark refused; kubectl apply -f /tmp/bad.yaml 2>&1; echo "exit $?"
kubectl get pod bad 2>&1
mark end
`;

const TERMINATION = String.raw`
mkdir -p /tmp/www-term; echo ok > /tmp/www-term/ready
cat > /tmp/term.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: httpd
    image: busybox
    command: [sh, -c, "trap 'echo got SIGTERM; kill $p; exit 0' TERM; echo serving; httpd -f -p 80 -h /tmp/www-term & p=$!; wait $p"]
    readinessProbe: {httpGet: {path: /ready, port: 80}, periodSeconds: 1}
    lifecycle:
      preStop:
        exec:
          command: [sh, -c, "echo preStop begins > /proc/1/fd/1; until [ -e /tmp/release-web ]; do sleep 0.1; done; echo preStop ends > /proc/1/fd/1"]
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: ignores-term
    image: busybox
    command: [sh, -c, "trap 'echo SIGTERM ignored' TERM; echo up; while :; do sleep 0.2; done"]
Y
kubectl apply -f /tmp/term.yaml
kubectl wait --for=condition=Ready pod/web pod/stubborn --timeout=90s >/dev/null
IP=$(kubectl get pod web -o jsonpath='{.status.podIP}')
kubectl logs -f web > /tmp/follow-web 2>&1 & FOLLOW=$!
waitfor "grep -q serving /tmp/follow-web"
kubectl delete pod web --wait=false
waitfor "grep -q 'preStop begins' /tmp/follow-web"
mark terminating; kubectl get pod web --no-headers
kubectl get pod web -o jsonpath='{.metadata.deletionGracePeriodSeconds} {.metadata.deletionTimestamp}'; echo
mark serving; wget -q -O- -T 5 "http://$IP/ready"
mark before-release; grep -c SIGTERM /tmp/follow-web
mark released
touch /tmp/release-web
kubectl wait --for=delete pod/web --timeout=90s >/dev/null; echo "web gone: $?"
wait $FOLLOW
mark follow; cat /tmp/follow-web
mark web-events; kubectl get events --field-selector involvedObject.name=web --sort-by=.metadata.name -o jsonpath='{range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}' | grep -v -e Created -e Started -e Scheduled
mark stubborn-delete
kubectl logs -f stubborn > /tmp/follow-stubborn 2>&1 & FOLLOW=$!
kubectl get pod stubborn -w -o jsonpath='{.status.phase} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].state.terminated.exitCode}{"\n"}' > /tmp/watch-stubborn & WATCH=$!
waitfor "grep -q up /tmp/follow-stubborn"
kubectl delete pod stubborn; echo "stubborn gone: $?"
wait $FOLLOW; kill $WATCH
mark stubborn; cat /tmp/follow-stubborn; tail -n 1 /tmp/watch-stubborn
mkdir -p /tmp/www-hook; echo bye > /tmp/www-hook/bye
cat <<'Y' | kubectl apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  containers:
  - name: found
    image: busybox
    command: [httpd, -f, -p, "80", -h, /tmp/www-hook]
    lifecycle: {preStop: {httpGet: {path: /bye, port: 80}}}
  - name: missing
    image: busybox
    command: [httpd, -f, -p, "81", -h, /tmp/www-hook]
    lifecycle: {preStop: {httpGet: {path: /missing, port: 81}}}
Y
kubectl wait --for=condition=Ready pod/hooks --timeout=90s >/dev/null
kubectl delete pod hooks >/dev/null
mark hooks; kubectl get events --field-selector involvedObject.name=hooks --sort-by=.metadata.name -o jsonpath='{range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}' | grep -v -e Created -e Started -e Scheduled | sort
mark cni; ip -o link show type veth | grep -vc ' eth0@'; ls /var/lib/cni/networks/podnet/ | grep -c '^10\.'
mark end
`;

function expectProbes(out: string): void {
  expect(out).not.toContain('GAVE UP WAITING');
  // until the probe passes the container is not ready: 0/1, Ready=False with the kubelet's reason
  expect(section(out, 'web-notready')).toMatch(/^web\s+0\/1\s+Running\s/);
  expect(section(out, 'web-notready')).toMatch(/\nFalse ContainersNotReady false$/);
  expect(section(out, 'web-describe')).toMatch(
    /Warning\s+Unhealthy\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+Readiness probe failed: HTTP probe failed with statuscode: 404/,
  );
  expect(out).toContain('pod/web condition met');
  expect(section(out, 'web-ready')).toMatch(/^web\s+1\/1\s+Running\s/);
  // one container's port answers, the other's probe dials a closed port
  expect(section(out, 'tcp-wait').trim()).toBe('tcp ready: 1');
  expect(section(out, 'tcp')).toMatch(/^open=true closed=false \n/);
  expect(section(out, 'tcp')).toMatch(
    /Warning Readiness probe failed: dial tcp 10\.244\.1\.\d+:8082: connect: connection refused/,
  );
  expect(section(out, 'exec')).toMatch(/^exec\s+1\/2\s+Running\s/);
  expect(section(out, 'exec')).toContain('Readiness probe failed: cat: /nonexistent: No such file or directory');
  expect(section(out, 'logs')).toBe('line one\nline two\nline three');
  expect(section(out, 'tail')).toBe('line three');
  expect(section(out, 'no-container')).toMatch(
    /a container name must be specified for pod exec, choose one of: \[good bad\][\s\S]*exit 1/,
  );
  expect(section(out, 'bad-container')).toMatch(/container nope is not valid for pod exec[\s\S]*exit 1/);
  // kubectl picks the default container itself, then asks for its log
  expect(section(out, 'kubectl-default')).toBe('Defaulted container "good" out of: good, bad\nline one');
  // kubectl exec over WebSocket (v5.channel.k8s.io): in the container (its hostname, its files), stdout,
  // stderr, the exit code from the error stream's Status, and stdin with -i
  // (stdout and stderr apart: kubectl copies its two streams concurrently, so 2>&1 may interleave them either way)
  expect(section(out, 'exec-cmd')).toBe('exec\nexec-probed\nexit 3\nto-stderr\ncommand terminated with exit code 3');
  expect(section(out, 'exec-stdin')).toBe('from-stdin\nexit 0');
  const refused = section(out, 'refused');
  expect(refused).toMatch(/The Pod "bad" is invalid/);
  expect(refused).toContain(
    "spec.containers[0].livenessProbe: this lab's kubelet does not restart containers, so it runs no liveness probe",
  );
  expect(refused).toContain("spec.containers[0].volumeMounts: this lab's kubelet does not model this field");
  expect(refused).toContain("spec.containers[0].readinessProbe.grpc: this lab's kubelet does not model this handler");
  expect(refused).toContain("spec.containers[0].lifecycle.postStart: this lab's kubelet runs preStop hooks only");
  expect(refused).toMatch(/exit 1\nError from server \(NotFound\): pods "bad" not found/);
}

function expectTermination(out: string): void {
  expect(out).not.toContain('GAVE UP WAITING');
  // while preStop runs: Terminating (deletionTimestamp set, what the EndpointSlice controller acts on),
  // readiness still as the probe says (the kubelet keeps probing), still serving, no SIGTERM yet
  expect(section(out, 'terminating')).toMatch(/^web\s+1\/1\s+Terminating\s/);
  expect(section(out, 'terminating')).toMatch(/\n30 \d{4}-\d\d-\d\dT/);
  expect(section(out, 'serving').trim()).toBe('ok');
  expect(section(out, 'before-release').trim()).toBe('0');
  expect(out).toContain('web gone: 0');
  // the container's own log: the hook ran to its end before the stop signal reached the container
  expect(section(out, 'follow')).toMatch(/^serving\npreStop begins\npreStop ends\n(.*\n)*got SIGTERM/);
  // one Killing; any Unhealthy is httpd not listening: before it started, or once SIGTERM stopped it (the
  // probe keeps running while the pod terminates: the readiness that drops too late, as on a real node)
  const events = section(out, 'web-events').trim().split('\n');
  expect(events.filter((e) => !e.includes(' Unhealthy: '))).toEqual(['Normal Killing: Stopping container httpd']);
  for (const e of events.filter((x) => x.includes(' Unhealthy: ')))
    expect(e).toMatch(
      /^Warning Unhealthy: Readiness probe failed: Get "http:\/\/10\.244\.1\.\d+:80\/ready": dial tcp .*: connect: connection refused$/,
    );
  // a container that ignores SIGTERM is killed at the end of its grace period: exit code 137
  expect(out).toContain('stubborn gone: 0');
  // (the shell's own "Terminated", for its sleep, may come on stderr in between)
  expect(section(out, 'stubborn')).toMatch(/^up\n(Terminated\n)?SIGTERM ignored\n/);
  expect(section(out, 'stubborn')).toMatch(/\nFailed false 137\n?$/);
  // httpGet preStop hooks from the node to the pod: a 404 is the hook's failure (its message left out)
  expect(section(out, 'hooks').trim().split('\n')).toEqual([
    'Normal Killing: Stopping container found',
    'Normal Killing: Stopping container missing',
    'Warning FailedPreStopHook: PreStopHook failed',
  ]);
  // StopPodSandbox ran CNI DEL: no pod veth left on the node, host-local released the IPs
  expect(section(out, 'cni').trim()).toBe('0\n0');
}

/** A test running SCRIPT (after PRELUDE) in a one-node cluster as root: its checks on what it printed, and exit 0. */
const asRoot = (script: string, check: (out: string) => void) => async () => {
  const r = await podnet(['cluster', '--nodes', '1', '--', PRELUDE + script]);
  check(r.stdout);
  expect(r.code).toBe(0);
};

/** The same as the unprivileged user (setpriv to nobody). */
const asNobody = (script: string, check: (out: string) => void) => () => {
  const r = spawnAsNobody([process.execPath, PODNET, 'cluster', '--nodes', '1', '--', PRELUDE + script], 200_000);
  check(r.stdout);
  expect(r.status).toBe(0);
};

describe('the kubelet around the pod, with the real kubectl', () => {
  it(
    'as root: readiness probes gate Ready (httpGet, tcpSocket, exec), Unhealthy events, logs, refusals',
    asRoot(PROBES, expectProbes),
    240_000,
  );

  it(
    'as root: delete runs preStop, then SIGTERM, then SIGKILL at the end of grace, then CNI DEL',
    asRoot(TERMINATION, expectTermination),
    240_000,
  );

  it('as an unprivileged user: the probes, logs and refusals', asNobody(PROBES, expectProbes), 240_000);

  it('as an unprivileged user: the termination path', asNobody(TERMINATION, expectTermination), 240_000);
});

describe('the kubelet around the pod, in process (its trace proves the order)', () => {
  /**
   * A world with its control plane, as `podnet cluster --nodes 1` builds it; kubectl runs in node1. The
   * built engine (out/): the API server is started from its built file, next to the module that starts it.
   */
  async function cluster() {
    const built = (m: string) => import(join(ROOT, 'out', 'src-main', m)) as Promise<never>;
    const [{ buildWorld }, { bridgeConfList, DEFAULT_CONF_FILE }, { startControlPlane }] = await Promise.all([
      built('session/world-spec.js') as Promise<typeof import('../src-main/session/world-spec.js')>,
      built('cni/defaults.js') as Promise<typeof import('../src-main/cni/defaults.js')>,
      built('cluster/control-plane.js') as Promise<typeof import('../src-main/cluster/control-plane.js')>,
    ]);
    const { world, kubelet } = await buildWorld({
      nodes: ['node1'],
      loopback: 'plugin',
      configs: { node1: { file: DEFAULT_CONF_FILE, text: bridgeConfList('10.244.1.0/24') } },
      pods: [],
      prepare: [],
    });
    const plane = await startControlPlane(world, kubelet);
    const sh = async (script: string) => {
      const r = await world.exec({ kind: 'node', node: 'node1' }, ['sh', '-c', PRELUDE + script], {
        timeoutMs: 150_000,
      });
      return r.stdout + r.stderr;
    };
    const end = async () => {
      await plane.stop();
      await kubelet.close();
      await world.destroy();
    };
    return { world, kubelet, sh, end };
  }

  it("etcd and the API server run behind the learner's work: each in a session of its own at autogroup nice 10, a command at 0", async () => {
    const { world, end } = await cluster();
    try {
      const out = await world.run({ kind: 'sandbox' }, [
        'sh',
        '-c',
        `for d in /proc/[0-9]*; do
           [ "\${d#/proc/}" = $$ ] && continue
           c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null)
           case "$c" in *etcd\\ --name=podnet*|*api-server-main.js*) echo "$(cat $d/autogroup) $(basename "\${c%% *}")";; esac
         done
         echo "$(cat /proc/self/autogroup) the command"`,
      ]);
      const lines = out
        .trim()
        .split('\n')
        .map((l) => l.replace(/^\/autogroup-\d+ /, ''));
      expect(lines.sort()).toEqual(['nice 0 the command', 'nice 10 etcd', 'nice 10 node']);
      // each its own group: the kernel weighs it against the page's and the terminals' as one
      const groups = out.match(/\/autogroup-\d+/g)!;
      expect(new Set(groups).size).toBe(3);
    } finally {
      await end();
    }
  }, 120_000);

  it('kubectl delete: SetPodStatus, Killing, preStop, StopContainer (SIGKILL at the end of grace), StopPodSandbox, CNI DEL, DELETE', async () => {
    const { kubelet, sh, end } = await cluster();
    try {
      const ops: import('../src-main/runtime/kubelet.js').KubeletOperation[] = [];
      kubelet.observe((op) => ops.push(op));
      const out = await sh(String.raw`
cat <<'Y' | kubectl apply -f -
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: stubborn
    image: busybox
    command: [sh, -c, "trap 'echo ignored' TERM; while :; do sleep 0.2; done"]
    lifecycle: {preStop: {sleep: {seconds: 1}}}
Y
kubectl wait --for=condition=Ready pod/web --timeout=90s
kubectl delete pod web; echo "deleted: $?"`);
      expect(out).toContain('deleted: 0');
      const kill = ops.find((o) => o.kind === 'killPod' && o.pod === 'default/web');
      expect(kill).toBeDefined();
      await kill!.done;
      const events = kill!.trace.events;
      const at = (name: string | RegExp) => {
        const i = events.findIndex((e) => (typeof name === 'string' ? e.name === name : name.test(e.name)));
        expect(i, `step ${name} in ${events.map((e) => e.name).join(', ')}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      const order = [
        at('SetPodStatus (terminating)'),
        at('preStop hook stubborn'),
        at('StopContainer'),
        at('StopPodSandbox'),
        at('CNI DEL'),
        at('SetPodStatus (terminated)'),
        at('DELETE pod (grace 0)'),
      ];
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      // killContainer records Killing before its preStop hook runs (its step holds the hook's)
      const killContainer = events[at('killContainer stubborn')]!;
      expect(killContainer.outputs?.event).toBe('Normal Killing: Stopping container stubborn');
      expect(events[at('preStop hook stubborn')]!.parent).toBe(killContainer.id);
      // the sleep hook took 1 s of the 3 s grace; the container ignored SIGTERM and got SIGKILL after the rest
      expect(events[at('StopContainer')]!.outputs?.outcome).toBe('stubborn: SIGKILL after 2 s');
      expect(events[at('SetPodStatus (terminated)')]!.outputs?.exitCodes).toMatchObject({
        stubborn: { exitCode: 137 },
      });
    } finally {
      await end();
    }
  }, 240_000);

  it("a dead sandbox is rebuilt: SandboxChanged, a new pod IP patched to the status, the old container's log as --previous", async () => {
    const { kubelet, sh, end } = await cluster();
    try {
      const before = await sh(String.raw`
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: c, image: busybox, command: [sh, -c, "echo attempt started; exec sleep 1000"]}]\n' | kubectl apply -f - >/dev/null
kubectl wait --for=condition=Ready pod/web --timeout=90s >/dev/null
kubectl get pod web -o jsonpath='{.status.podIP}'`);
      const ip = before.trim();
      expect(ip).toMatch(/^10\.244\.1\.\d+$/);
      // the pause dies (as if the runtime lost the sandbox): the kubelet's relist rebuilds it
      const sb = kubelet
        .runtime('node1')
        .listPodSandbox()
        .find((s) => s.config.name === 'web');
      sb!.pause!.kill(9);
      const after = await sh(String.raw`
waitfor "kubectl get pod web -o jsonpath='{.status.podIP}' | grep -qv '^${ip}$'"
kubectl wait --for=condition=Ready pod/web --timeout=90s >/dev/null
mark ip; kubectl get pod web -o jsonpath='{.status.podIP}'; echo
mark events; kubectl get events --field-selector involvedObject.name=web --sort-by=.metadata.name -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}'
mark logs; kubectl logs web; kubectl logs web --previous
mark end`);
      expect(after).not.toContain('GAVE UP WAITING');
      expect(section(after, 'ip').trim()).toMatch(/^10\.244\.1\.\d+$/);
      expect(section(after, 'ip').trim()).not.toBe(ip);
      expect(section(after, 'events').trim().split('\n')).toEqual([
        'Scheduled',
        'Created',
        'Started',
        'SandboxChanged',
        'Created',
        'Started',
      ]);
      // the new container's log (attempt 1), then the one before the rebuild (attempt 0)
      expect(section(after, 'logs')).toMatch(/^attempt started\nattempt started(\n|$)/);
    } finally {
      await end();
    }
  }, 240_000);
});

describe("the kubelet server's and the API server's stream formats", () => {
  it('a CRI log reads back as kubectl logs prints it: partial lines joined, times on request', async () => {
    const { criLogText } = await import('../src-main/cluster/kubelet-server.js');
    const raw = [
      '2026-12-04T07:00:00.000000001Z stdout P hel',
      '2026-12-04T07:00:00.000000002Z stdout F lo',
      '2026-12-04T07:00:01.000000000Z stderr F oops',
      'not a CRI line',
      '',
    ].join('\n');
    expect(criLogText(raw, false)).toEqual(['hello', 'oops']);
    expect(criLogText(raw, true)).toEqual([
      '2026-12-04T07:00:00.000000002Z hello',
      '2026-12-04T07:00:01.000000000Z oops',
    ]);
  });

  it("a client's masked, fragmented and long WebSocket frames are read whole; the server's frames are RFC 6455's", async () => {
    const { frame, handshake, readFrames } = await import('../src-main/cluster/websocket.js');
    const { PassThrough } = await import('node:stream');
    const masked = (opcode: number, fin: boolean, payload: Buffer) => {
      const mask = Buffer.from([1, 2, 3, 4]);
      const n = payload.length;
      const len = n < 126 ? Buffer.from([0x80 | n]) : Buffer.from([0x80 | 126, n >> 8, n & 255]);
      const data = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), len, mask, data]);
    };
    const got: [number, string][] = [];
    const socket = new PassThrough();
    const long = Buffer.alloc(300, 'x');
    const bytes = Buffer.concat([
      masked(2, false, Buffer.from([0, 0x61])),
      masked(0, true, Buffer.from('bc')),
      masked(2, true, Buffer.concat([Buffer.from([0]), long])),
      masked(8, true, Buffer.alloc(0)),
    ]);
    readFrames(socket, bytes.subarray(0, 5), (op, p) => got.push([op, p.toString('latin1')]));
    socket.write(bytes.subarray(5));
    expect(got).toEqual([
      [2, '\u0000abc'],
      [2, `\u0000${'x'.repeat(300)}`],
      [8, ''],
    ]);
    expect([...frame(2, Buffer.from('hi'))]).toEqual([0x82, 2, 0x68, 0x69]);
    expect(frame(2, long).subarray(0, 4)).toEqual(Buffer.from([0x82, 126, 1, 44]));
    // RFC 6455's own example key and accept value
    expect(handshake('dGhlIHNhbXBsZSBub25jZQ==', 'v5.channel.k8s.io')).toContain(
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n',
    );
  });
});

/**
 * A pod whose SyncPod fails is synced again after the pod worker's back-off (pod_workers.go completeWork):
 * 10–15 s after a sandbox that could not be made, 1–1.5 s after the network gate. Each failure's event is
 * counted on one Event, as client-go's recorder aggregates them; the pod is ContainerCreating meanwhile.
 */
const RETRY = String.raw`
conf=/etc/cni/net.d/10-podnet.conflist
cp $conf /root/good.conflist
# a plugin that is not there: the config loads (NetworkReady stays true), CNI ADD fails
sed -i 's/"portmap"/"portmapp"/' $conf
kubectl run web --image=busybox --restart=Never
waitfor "kubectl get events --field-selector involvedObject.name=web,reason=FailedCreatePodSandBox -o name | grep -q ."
mark web-pending; kubectl get pod web --no-headers | awk '{print $2, $3}'
kubectl get pod web -o jsonpath='{.status.phase} {.status.reason}|{.status.containerStatuses[0].state.waiting.reason}{"\n"}'
cp /root/good.conflist $conf
# no new request: the kubelet's own retry makes it
waitfor "kubectl get pod web -o jsonpath={.status.phase} | grep -q Running"
mark web-events; kubectl get events --field-selector involvedObject.name=web,reason=FailedCreatePodSandBox -o jsonpath='{.items[0].message}{"\n"}{.items[0].count}{"\n"}{range .items[*]}x{end}{"\n"}'
# no config at all: the network gate (NetworkReady=false); bound by name, past the not-ready taint
rm $conf
waitfor "kubectl get node node1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q False"
kubectl run gated --image=busybox --restart=Never --overrides='{"spec": {"nodeName": "node1"}}'
waitfor "kubectl get events --field-selector involvedObject.name=gated,reason=NetworkNotReady -o jsonpath='{.items[0].count}' | grep -q '^[3-9]'"
mark gated-pending; kubectl get pod gated --no-headers | awk '{print $2, $3}'
kubectl get events --field-selector involvedObject.name=gated,reason=NetworkNotReady -o jsonpath='{.items[0].message}{"\n"}'
cp /root/good.conflist $conf
waitfor "kubectl get pod gated -o jsonpath={.status.phase} | grep -q Running"
mark gated-running; kubectl get pod gated --no-headers | awk '{print $2, $3}'
mark end
`;

function expectRetries(out: string): void {
  expect(out).not.toContain('GAVE UP WAITING');
  expect(section(out, 'web-pending').trim().split('\n')).toEqual([
    '0/1 ContainerCreating',
    // no reason on the pod's status: the sandbox's failure is in the events only, as the kubelet does it
    'Pending |ContainerCreating',
  ]);
  const [message, count, events] = section(out, 'web-events').trim().split('\n');
  expect(message).toMatch(
    /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "\w+": plugin type="portmapp" failed \(add\): failed to find plugin "portmapp" in path \[\/opt\/cni\/bin\]$/,
  );
  // one Event, counted: the first failure, then one per retry 10–15 s apart (a sync on every status write made dozens)
  expect(events).toBe('x');
  expect(Number(count)).toBeGreaterThanOrEqual(1);
  expect(Number(count)).toBeLessThanOrEqual(3);
  const gated = section(out, 'gated-pending').trim().split('\n');
  expect(gated[0]).toBe('0/1 ContainerCreating');
  expect(gated[1]).toMatch(
    /^network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady/,
  );
  expect(section(out, 'gated-running').trim()).toBe('1/1 Running');
}

describe('a pod whose sync failed is synced again by the kubelet', () => {
  it(
    'as root: after a sandbox failure (10–15 s) and after the network gate (1–1.5 s), with counted events',
    asRoot(RETRY, expectRetries),
    240_000,
  );

  it('as an unprivileged user: the same', asNobody(RETRY, expectRetries), 240_000);
});
