// The control plane in the app's free-play world (engine level, built engine in a child process): the
// node1 terminal's real kubectl sees the nodes Ready and applies a pod that reaches Running; the
// timeline's control-plane lane has the API requests in the order the seeds give (kubectl's create,
// the watch event, the scheduler's binding, the kubelet's SyncPod, its status write, then the Service's
// EndpointSlice and kube-proxy's watch of it), and the pods
// panel is sent the pod from Pending to Running. As root and as nobody.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { worldSpecOf } from '../src-main/labs/lab-world.js';
import { lintLab } from '../src-main/labs/loader.js';
import { lastJsonOf } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/app-control-plane.mjs');
const LAB = join(import.meta.dirname, 'fixtures/lab-control-plane');
const PODNET = join(import.meta.dirname, '..', 'bin', 'podnet.mjs');

interface Report {
  before: string | null;
  states: string[];
  text: string;
  op: { kind: string; state: string; node: string; title?: string };
  steps: { component: string; name: string; start: number; end: number | null; summary?: string }[];
  kinds: string[];
  deleted: { state: string; steps: string[] };
  podsAfter: string[];
  podEventsAfter: string[][];
  pods: { name: string; node: string; ip: string; phase?: string; ready: boolean; fromApi?: boolean }[];
  podEvents: string[][];
}

describe.each([
  ['as root', false],
  ['as nobody', true],
])('the control plane in a free-play world (%s)', (_, asNobody) => {
  it('kubectl in node1 works; the apply is on the timeline in order; the pods panel gets the pod', () => {
    const argv = ['env', '-i', `PATH=${process.env.PATH}`, 'HOME=/tmp', process.execPath, CHILD];
    const r = lastJsonOf<{ report: Report }>(argv, asNobody, 240_000).report;
    r.text = r.text.replace(/\r\n/g, '\n'); // a pty's line ends
    // started in the background: the world was reported running before the control plane was ready
    expect(r.before).toBe('starting');
    expect(r.states).toEqual(['starting', 'ready']);
    expect(r.text).toMatch(/NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode1\s+Ready\s[^\n]*\nnode2\s+Ready\s/);
    expect(r.text).toContain('pod/web created');
    expect(r.text).toContain('pod/web condition met');
    expect(r.text).toMatch(/\nweb\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d\.\d+\s+node\d/);

    expect(r.op).toMatchObject({ kind: 'apiCreate', state: 'done', title: 'kubectl create pod default/web' });
    const at = (re: RegExp, component = 'apiserver') => {
      const i = r.steps.findIndex((s) => s.component === component && re.test(s.name));
      expect(i, `no ${component} step ${re} in ${r.steps.map((s) => s.name).join(' | ')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const create = at(/^kubectl create pods default\/web 201$/);
    const added = at(/^watch ADDED pods default\/web → .*kube-scheduler/);
    const bind = at(/^kube-scheduler create pods\/binding default\/web 201$/);
    const bound = r.steps.findIndex(
      (s, i) => i > bind - 1 && /^watch MODIFIED pods default\/web → .*kubelet/.test(s.name),
    );
    const sync = at(/^SyncPod$/, 'kubelet');
    const status = at(/^kubelet patch pods\/status default\/web 200$/);
    expect(create).toBeLessThan(added);
    expect(added).toBeLessThan(bind);
    expect(bound).toBeGreaterThan(-1);
    expect(sync).toBeGreaterThan(bind);
    expect(status).toBeGreaterThan(sync);
    // then the Service's EndpointSlice, written by the controller, and kube-proxy's watch of it
    const slice = at(/^kube-controller-manager (update|create) endpointslices default\/web-\w{5} 20[01]$/);
    const proxied = at(/^watch MODIFIED endpointslices default\/web-\w{5} → .*kube-proxy/);
    expect(slice).toBeGreaterThan(status);
    expect(proxied).toBeGreaterThan(slice);
    // the slice's change that joined this pod's operation lists it as ready (that is why it joined)
    expect(r.steps[slice]!.summary).toMatch(/ · ready: (.*, )?web(, |$)/);
    expect(r.steps[proxied]!.summary).toMatch(/ · ready: (.*, )?web(, |$)/);
    // every request took its time, on one axis with the kubelet's SyncPod
    for (const s of r.steps) expect(s.end).not.toBeNull();
    // the API server's clock is another process's (performance.timeOrigin + now): they agree to a millisecond or two
    expect(r.steps[sync]!.end!).toBeLessThanOrEqual(r.steps[status]!.start + 5);

    // the pods panel: the API's pod, from Pending to Running on its node with its IP
    expect(r.pods).toEqual([
      expect.objectContaining({ name: 'web', phase: 'Running', ready: true, fromApi: true, node: r.op.node }),
    ]);
    const seen = r.podEvents.flat();
    expect(seen.some((p) => p.startsWith('web:Pending:'))).toBe(true);
    expect(seen.at(-1)).toMatch(new RegExp(`^web:Running:${r.op.node}:10\\.244\\.\\d\\.\\d+$`));

    // kubectl delete: its own operation, with the kubelet's KillPod between the API's mark and the final delete
    expect(r.deleted.state).toBe('done');
    const d = (re: RegExp) => r.deleted.steps.findIndex((x) => re.test(x));
    const del = [
      /^apiserver:kubectl delete pods default\/web 200$/,
      /^apiserver:watch MODIFIED pods default\/web → .*kubelet/,
      /^kubelet:KillPod$/,
      /^apiserver:kubelet delete pods default\/web 200$/,
      /^apiserver:watch DELETED pods default\/web/,
    ].map(d);
    expect(
      del.every((i) => i >= 0),
      r.deleted.steps.join('\n'),
    ).toBe(true);
    expect([...del].sort((a, b) => a - b)).toEqual(del);
    expect(r.podsAfter).toEqual([]);
    // the pods panel saw it Terminating, then gone
    expect(r.podEventsAfter.flat().some((p) => p.startsWith('web:Terminating:'))).toBe(true);
    expect(r.podEventsAfter.at(-1)).toEqual([]);
  }, 260_000);
});

describe('a lab that asks for the control plane (world.controlPlane: true)', () => {
  it('passes lab lint, and its world spec asks for it; a lab without the key keeps a bare world', () => {
    const { lab, errors } = lintLab(LAB);
    expect(errors).toEqual([]);
    expect(worldSpecOf(lab!).controlPlane).toBe(true);
    const bare = lintLab(join(import.meta.dirname, '..', 'labs', '01-network-namespaces')).lab!;
    expect(worldSpecOf(bare).controlPlane).toBeUndefined();
  });

  it('lab test: kubectl apply in its node reaches Running, checked by kubectl', () => {
    const r = spawnSync(process.execPath, [PODNET, 'lab', 'test', LAB], { encoding: 'utf8', timeout: 240_000 });
    expect(r.stdout).toMatch(/ok\s+step 1: A pod from kubectl/);
    expect(r.stdout).toMatch(/passed \(1\/1 steps/);
    expect(r.status).toBe(0);
  }, 260_000);
});
