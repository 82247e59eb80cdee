// The API server's writes against the real etcd, with another writer's change landing between a write's
// read and its compare-and-swap: what GuaranteedUpdate does in kube-apiserver (read again, change again,
// write) and what it refuses (a resourceVersion given that is no longer current).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../vm/qemu.js';
import { controlPlaneBinDir } from '../world/paths.js';
import { ApiServer, type WatchEvent } from './api-server.js';
import { EtcdStore } from './etcd-store.js';
import { PODS, type KubeObject } from './resources.js';

/** The real etcd store, where the next compare-and-swap on `key` first lets another writer change it. */
class StoreWithARacingWriter extends EtcdStore {
  races: { key: string; change: (o: KubeObject) => void }[] = [];

  override async putIf(key: string, value: string, expect: number): Promise<number | undefined> {
    const i = this.races.findIndex((r) => r.key === key);
    if (i >= 0) {
      const [race] = this.races.splice(i, 1);
      const cur = (await this.get(key))!;
      const o = JSON.parse(cur.value) as KubeObject;
      race!.change(o);
      await super.putIf(key, JSON.stringify(o), cur.modRevision);
    }
    return super.putIf(key, value, expect);
  }
}

const bin = controlPlaneBinDir();
const route = { resource: PODS, namespace: 'default', name: 'web' };
const KEY = '/registry/pods/default/web';

describe("the API server's writes, with another write between a read and its swap", () => {
  let etcd: ChildProcess;
  let dir: string;
  let store: StoreWithARacingWriter;
  let api: ApiServer;
  const events: WatchEvent[] = [];

  beforeAll(async () => {
    if (!bin)
      throw new Error('the control plane is not set up: etcd is fetched by `npm run setup` (pinned/control-plane)');
    dir = mkdtempSync(join(tmpdir(), 'podnet-etcd-test-'));
    // etcd takes no port 0
    const [client, peer] = [await freePort(), await freePort()];
    etcd = spawn(
      join(bin, 'etcd'),
      [
        '--name=test',
        `--data-dir=${dir}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=test=http://127.0.0.1:${peer}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let said = '';
    await new Promise<void>((ready, fail) => {
      etcd.stderr!.on('data', (d: Buffer) => {
        said += d.toString();
        if (said.includes('serving client traffic') || said.includes('serving insecure client requests')) ready();
      });
      etcd.once('exit', (code) => fail(new Error(`etcd ended (${code}) before it served: ${said.slice(-2000)}`)));
    });
    store = new StoreWithARacingWriter(`http://127.0.0.1:${client}`);
    api = new ApiServer(store, '127.0.0.1:6443');
    await api.bootstrap();
    api.watch({ resource: PODS, namespace: 'default' }, 0, (e) => events.push(e));
  }, 30_000);

  afterAll(() => {
    etcd?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const newPod = async () => {
    await api.delete(route, 0).catch(() => {});
    events.length = 0;
    return api.create(
      { resource: PODS, namespace: 'default' },
      { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    );
  };
  /** A kubelet's status write: the pod's phase. */
  const kubeletSetsPhase = (phase: string) => ({
    key: KEY,
    change: (o: KubeObject) => void (o.status = { ...o.status, phase }),
  });

  it('a replace that gives no resourceVersion is made again on the object as it is now; the other write stays', async () => {
    const created = await newPod();
    store.races.push(kubeletSetsPhase('Running'));
    const body = structuredClone(created);
    delete body.metadata!.resourceVersion;
    body.metadata!.labels = { app: 'web' };
    const out = await api.update(route, body);
    expect(out.metadata?.labels).toEqual({ app: 'web' });
    // an update keeps the status as stored: the kubelet's, written in between
    expect(out.status?.phase).toBe('Running');
    const stored = await api.get(route);
    expect(stored.metadata?.labels).toEqual({ app: 'web' });
    expect(stored.status?.phase).toBe('Running');
    expect(stored.metadata?.resourceVersion).toBe(out.metadata?.resourceVersion);
    expect(events.at(-1)).toMatchObject({ type: 'MODIFIED', object: { metadata: { labels: { app: 'web' } } } });
  });

  it('a replace that gives a resourceVersion no longer current is refused (409), and writes nothing', async () => {
    const created = await newPod();
    store.races.push(kubeletSetsPhase('Running'));
    const body = structuredClone(created);
    body.metadata!.labels = { app: 'web' };
    const refused = await api.update(route, body).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(String((refused as Error).message)).toContain('the object has been modified');
    const stored = await api.get(route);
    expect(stored.metadata?.labels).toBeUndefined();
    expect(stored.status?.phase).toBe('Running');
    expect(events.filter((e) => e.type === 'MODIFIED')).toEqual([]);
  });

  it('a merge patch is applied again to the object as it is now; the other write stays', async () => {
    await newPod();
    store.races.push(kubeletSetsPhase('Running'));
    const out = await api.patch(route, { metadata: { annotations: { note: 'x' } } });
    expect(out.metadata?.annotations).toEqual({ note: 'x' });
    expect(out.status?.phase).toBe('Running');
  });

  it('a patch that gives a resourceVersion no longer current is refused (409), and writes nothing', async () => {
    const created = await newPod();
    store.races.push(kubeletSetsPhase('Running'));
    const rv = created.metadata!.resourceVersion;
    const refused = await api
      .patch(route, { metadata: { resourceVersion: rv, labels: { app: 'web' } } })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 409, reason: 'Conflict' });
    const stored = await api.get(route);
    expect(stored.metadata?.labels).toBeUndefined();
    expect(stored.status?.phase).toBe('Running');
    // the current one lets it through
    const out = await api.patch(route, {
      metadata: { resourceVersion: stored.metadata?.resourceVersion, labels: { app: 'web' } },
    });
    expect(out.metadata?.labels).toEqual({ app: 'web' });
  });

  it('a binding over a status write: the node and PodScheduled in the one event, the status write kept', async () => {
    await newPod();
    store.races.push(kubeletSetsPhase('Pending'));
    await api.bind({ ...route, sub: 'binding' }, { target: { name: 'node1' } });
    const stored = await api.get(route);
    expect(stored.spec?.nodeName).toBe('node1');
    expect(stored.status?.phase).toBe('Pending');
    const modified = events.filter((e) => e.type === 'MODIFIED');
    expect(modified).toHaveLength(1);
    const o = modified[0]!.object;
    expect(o.spec?.nodeName).toBe('node1');
    expect(
      (o.status?.conditions as { type: string; status: string }[]).find((c) => c.type === 'PodScheduled'),
    ).toMatchObject({
      status: 'True',
    });
    // a second binding is refused: a bound pod is not moved
    await expect(api.bind({ ...route, sub: 'binding' }, { target: { name: 'node2' } })).rejects.toMatchObject({
      code: 409,
      message: 'pod web is already assigned to node "node1"',
    });
  });
});
