// The workshop's Kubernetes manifests (deploy/k8s/workshop.yaml) through kubectl 1.36's client-side dry run
// (pinned/, never the host's), and what they must say: one seat server per pod in its own user namespace, no
// privilege, the same relaxations the podman test runs with (the seccomp profile's file, /proc unmasked), the
// image's port, probes, resources, a Service per server, an Ingress for the front and each server.
// A client-side dry run still maps each kind to its resource through the API server's discovery: no API server
// runs here with these groups, so kubectl reads a stand-in discovery cache (fakeDiscoveryCache) naming the
// resources as Kubernetes 1.36 serves them. What it does not check: fields against the API's schema (that needs
// the server's OpenAPI; --validate=false), admission (Pod Security), and anything a real cluster would run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { controlPlaneBinDir } from '../src-main/world/paths.js';
import { CONTAINER_PORT, seccompProfile, UNMASKED } from '../src-main/workshop/container-image.js';

const ROOT = join(import.meta.dirname, '..');
const MANIFESTS = join(ROOT, 'deploy/k8s/workshop.yaml');
const KUBECTL = join(controlPlaneBinDir() ?? join(ROOT, 'pinned/control-plane/bin'), 'kubectl');
/** Nothing listens here: kubectl must find everything it asks for in the cache. */
const SERVER = '127.0.0.1:1';
let home: string;

/** The resources the manifests use, as a 1.36 API server's discovery lists them (a stand-in for the server). */
function fakeDiscoveryCache(dir: string): void {
  const groups: Record<string, [name: string, kind: string, namespaced: boolean][]> = {
    v1: [
      ['namespaces', 'Namespace', false],
      ['secrets', 'Secret', true],
      ['services', 'Service', true],
    ],
    'apps/v1': [
      ['statefulsets', 'StatefulSet', true],
      ['deployments', 'Deployment', true],
    ],
    'networking.k8s.io/v1': [
      ['ingresses', 'Ingress', true],
      ['networkpolicies', 'NetworkPolicy', true],
    ],
  };
  const base = join(dir, 'discovery', SERVER.replace(':', '_'));
  const version = (gv: string) => ({ groupVersion: gv, version: 'v1' });
  writeFileSync(
    (mkdirSync(base, { recursive: true }), join(base, 'servergroups.json')),
    JSON.stringify({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: Object.keys(groups).map((gv) => ({
        name: gv.includes('/') ? gv.split('/')[0] : '',
        versions: [version(gv)],
        preferredVersion: version(gv),
      })),
    }),
  );
  for (const [gv, resources] of Object.entries(groups)) {
    mkdirSync(join(base, gv), { recursive: true });
    writeFileSync(
      join(base, gv, 'serverresources.json'),
      JSON.stringify({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: resources.map(([name, kind, namespaced]) => ({
          name,
          singularName: kind.toLowerCase(),
          namespaced,
          kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        })),
      }),
    );
  }
}

function dryRun(file: string) {
  return spawnSync(
    KUBECTL,
    [
      ...['--server', `http://${SERVER}`, '--cache-dir', join(home, 'cache')],
      ...['create', '--dry-run=client', '--validate=false', '-o', 'yaml', '-f', file],
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } },
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
let objects: Obj[] = [];
const one = (kind: string, name: string): Obj => objects.find((o) => o.kind === kind && o.metadata.name === name);

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'podnet-k8s-dry-run-'));
  fakeDiscoveryCache(join(home, 'cache'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the workshop’s Kubernetes manifests', () => {
  it('pass kubectl 1.36’s client-side dry run, which refuses a kind the API does not serve', () => {
    expect(execFileSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' })).toMatch(/Client Version: v1\.36\./);
    const r = dryRun(MANIFESTS);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // what kubectl would have sent, one YAML document an object
    objects = parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(objects.length).toBe(parseAllDocuments(readFileSync(MANIFESTS, 'utf8')).length);
    // the same dry run fails on a kind no API group serves
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, readFileSync(MANIFESTS, 'utf8').replace('kind: StatefulSet', 'kind: StatefullSet'));
    const refused = dryRun(bad);
    expect(refused.status).not.toBe(0);
    // (kubectl's cache lacks the kind, so it asks the API server, which is not there: the document is not recognized)
    expect(refused.stderr).toMatch(/unable to recognize "[^"]*bad\.yaml"/);
    expect(refused.stdout).not.toMatch(/kind: StatefullSet/);
  });

  it('run each seat server in its own user namespace, without privilege, with the relaxations the podman test uses', () => {
    const seat = one('StatefulSet', 'seat');
    const pod = seat.spec.template.spec;
    expect(pod.hostUsers).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true });
    // the profile the podman test runs with, by its file name in the kubelet's seccomp folder
    expect(pod.securityContext.seccompProfile).toEqual({
      type: 'Localhost',
      localhostProfile: seccompProfile().split('/').pop(),
    });
    const [c] = pod.containers;
    expect(c.securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      procMount: 'Unmasked',
    });
    // podman's unmask list is /proc's masked paths and two of /sys: what procMount: Unmasked lifts
    expect(UNMASKED.filter((p) => !p.startsWith('/proc/'))).toEqual(['/sys/firmware', '/sys/dev/block']);
    expect(c.args).toEqual(expect.arrayContaining(['--port', String(CONTAINER_PORT), '--host', '0.0.0.0']));
    expect(c.ports[0].containerPort).toBe(CONTAINER_PORT);
    expect(c.readinessProbe.httpGet.path).toBe('/healthz');
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.env.map((e: Obj) => e.name)).toEqual(
      expect.arrayContaining(['PODNET_ROOM_CODE', 'PODNET_INSTRUCTOR_TOKEN']),
    );
  });

  it('give each seat server a Service and an Ingress host, and the front every server', () => {
    const n = one('StatefulSet', 'seat').spec.replicas as number;
    expect(n).toBeGreaterThan(1);
    const ingress = one('Ingress', 'workshop');
    const hosts = ingress.spec.rules.map((r: Obj) => [r.host, r.http.paths[0].backend.service.name]);
    expect(hosts[0]).toEqual(['workshop.example', 'front']);
    const front = one('Deployment', 'front').spec.template.spec.containers[0];
    const servers = front.args[front.args.indexOf('--servers') + 1].split(',');
    expect(servers.length).toBe(n);
    for (let i = 0; i < n; i++) {
      expect(one('Service', `seat-${i}`).spec.selector).toEqual({ 'statefulset.kubernetes.io/pod-name': `seat-${i}` });
      expect(hosts).toContainEqual([`seat-${i}.workshop.example`, `seat-${i}`]);
      expect(servers[i]).toBe(`http://seat-${i}.seats.podnet-workshop.svc:8080=https://seat-${i}.workshop.example`);
    }
    expect(one('Deployment', 'front').spec.template.spec.hostUsers).toBe(false);
  });

  it('ship the seccomp profile scripts/workshop-seccomp.mjs makes from this system’s default', () => {
    const base = '/usr/share/containers/seccomp.json';
    expect(existsSync(base), `${base} (Debian's golang-github-containers-common, with podman)`).toBe(true);
    const copy = join(home, 'profile.json');
    execFileSync('node', [join(ROOT, 'scripts/workshop-seccomp.mjs'), base, copy]);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(seccompProfile(), 'utf8'));
  });
});
