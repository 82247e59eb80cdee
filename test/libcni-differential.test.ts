// The same configs and arguments through the real libcni 1.3 / go-cni 1.1.13 (the oracle, built from
// Debian's Go sources with the pinned Go) and through our CniExecutor must give byte-identical plugin
// stdin and the same CNI_* environment. The plugins are one recording plugin (a test instrument: it
// appends its stdin and CNI_* variables to a folder and prints a canned answer), installed under each
// plugin type name; it runs on the host and touches nothing but its folder.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPluginHost } from '../src-main/cli/cni-command.js';
import { goCniCapabilityArgs, type PodCapabilities } from '../src-main/cni/capability-args.js';
import { ResultCache } from '../src-main/cni/cache.js';
import {
  confListFromConfText,
  confListFromText,
  loopbackConfList,
  type ConfList,
  type JsonObject,
} from '../src-main/cni/conf.js';
import { CniExecutor, type RuntimeConf } from '../src-main/cni/libcni.js';
import { libcniConfFromBytes, libcniConfListFromBytes, loadNetworks } from '../src-main/cni/libcni-conf.js';
import { Beneath } from '../src-main/fs/beneath.js';

const ROOT = join(__dirname, '..');
const PINNED = process.env.PODNET_PINNED_DIR || join(ROOT, 'pinned');
const ORACLE = join(PINNED, 'libcni-oracle/libcni-oracle');

const RECORD_PLUGIN = `#!/bin/sh
# record-plugin: appends its stdin and CNI_* environment to ../record, prints ../answers/<type>.<command>.json
here=$(dirname "$0")/..
me=$(basename "$0")
seq=$(date +%s%N)-$$
cat > "$here/record/$seq.$me.stdin"
env | grep '^CNI_' | LC_ALL=C sort > "$here/record/$seq.$me.env"
a="$here/answers/$me.$CNI_COMMAND"
[ -f "$a.json" ] && cat "$a.json"
[ -f "$a.stderr" ] && cat "$a.stderr" >&2
[ -f "$a.exit" ] && exit "$(cat "$a.exit")"
exit 0
`;

interface Call {
  plugin: string;
  stdin: string;
  env: Record<string, string>;
}

let base: string;
beforeAll(() => {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build-libcni-oracle.mjs')], { encoding: 'utf8' });
  if (built.status !== 0 || !existsSync(ORACLE)) {
    throw new Error(
      `the libcni oracle could not be built: ${built.stderr.trim() || built.stdout.trim()} (the pinned Go and Go sources come from the set-up: scripts/setup.sh)`,
    );
  }
  base = mkdtempSync(join(tmpdir(), 'libcni-diff-'));
}, 300_000);
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

let seq = 0;
/** A fresh folder with the recording plugin installed under `types`, canned answers, a cache. */
function bench(types: string[], answers: Record<string, unknown> = {}) {
  const dir = join(base, String(seq++));
  for (const d of ['bin', 'record', 'answers', 'cache']) mkdirSync(join(dir, d), { recursive: true });
  const plugin = join(dir, 'record-plugin');
  writeFileSync(plugin, RECORD_PLUGIN);
  chmodSync(plugin, 0o755);
  for (const t of types) copyFileSync(plugin, join(dir, 'bin', t));
  for (const [k, v] of Object.entries(answers))
    writeFileSync(join(dir, 'answers', k), typeof v === 'string' ? v : JSON.stringify(v));
  const calls = (): Call[] => {
    const files = readdirSync(join(dir, 'record')).sort();
    const out: Call[] = [];
    for (const f of files.filter((x) => x.endsWith('.stdin'))) {
      const stem = f.slice(0, -'.stdin'.length);
      const env: Record<string, string> = {};
      for (const line of readFileSync(join(dir, 'record', `${stem}.env`), 'utf8')
        .split('\n')
        .filter(Boolean)) {
        const i = line.indexOf('=');
        env[line.slice(0, i)] = line.slice(i + 1);
      }
      out.push({
        plugin: stem.split('.').slice(1).join('.'),
        stdin: readFileSync(join(dir, 'record', f), 'utf8'),
        env,
      });
    }
    return out;
  };
  const reset = () => {
    for (const d of ['record', 'cache']) {
      rmSync(join(dir, d), { recursive: true, force: true });
      mkdirSync(join(dir, d));
    }
  };
  return { dir, bin: join(dir, 'bin'), cache: join(dir, 'cache'), calls, reset };
}

interface Op {
  verb: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  config?: string;
  single?: boolean;
  plugin?: string;
  rt?: RuntimeConf;
  validAttachments?: { containerID: string; ifname: string }[];
}

function oracle(b: ReturnType<typeof bench>, req: Record<string, unknown>): { result?: unknown; error?: string }[] {
  const out = execFileSync(ORACLE, {
    input: JSON.stringify({ cniPath: [b.bin], cacheDir: b.cache, ...req }),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { result?: unknown; error?: string }[];
}

async function ours(b: ReturnType<typeof bench>, ops: Op[]): Promise<{ result?: unknown; error?: string }[]> {
  const exec = new CniExecutor(new LocalPluginHost([b.bin]), new ResultCache(new Beneath(b.cache)));
  const out: { result?: unknown; error?: string }[] = [];
  for (const o of ops) {
    try {
      if (o.verb === 'VERSION') {
        out.push({ result: { supportedVersions: (await exec.getVersionInfo(o.plugin!)).supportedVersions } });
        continue;
      }
      const list: ConfList = o.single ? confListFromConfText(o.config!) : confListFromText(o.config!);
      if (o.verb === 'ADD') out.push({ result: await exec.addNetworkList(list, o.rt!) });
      else if (o.verb === 'DEL') out.push((await exec.delNetworkList(list, o.rt!), {}));
      else if (o.verb === 'CHECK') out.push((await exec.checkNetworkList(list, o.rt!), {}));
      else if (o.verb === 'STATUS') out.push((await exec.getStatusNetworkList(list), {}));
      else
        out.push(
          (await exec.gcNetworkList(
            list,
            (o.validAttachments ?? []).map((v) => ({ containerId: v.containerID, ifName: v.ifname })),
          ),
          {}),
        );
    } catch (e) {
      out.push({ error: (e as Error).message });
    }
  }
  return out;
}

/** CNI_ARGS as a set of pairs: go-cni builds it from a Go map, so its order differs from call to call. */
function normalise(calls: Call[]): Call[] {
  return calls.map((c) => ({
    ...c,
    env: { ...c.env, CNI_ARGS: (c.env.CNI_ARGS ?? '').split(';').filter(Boolean).sort().join(';') },
  }));
}

/** Runs the ops through both and expects the same plugin calls, byte for byte, and the same errors. */
async function same(b: ReturnType<typeof bench>, ops: Op[]) {
  const theirs = oracle(b, { ops });
  const theirCalls = b.calls();
  const cached = () => (existsSync(join(b.cache, 'results')) ? readdirSync(join(b.cache, 'results')).sort() : []);
  const theirCache = cached();
  b.reset();
  const mine = await ours(b, ops);
  const myCalls = b.calls();
  expect(myCalls.map((c) => c.plugin)).toEqual(theirCalls.map((c) => c.plugin));
  for (let i = 0; i < theirCalls.length; i++) {
    expect(myCalls[i]!.stdin, `stdin of call ${i + 1} (${theirCalls[i]!.plugin})`).toBe(theirCalls[i]!.stdin);
    expect(myCalls[i]!.env, `env of call ${i + 1} (${theirCalls[i]!.plugin})`).toEqual(theirCalls[i]!.env);
  }
  expect(mine.map((r) => r.error)).toEqual(theirs.map((r) => r.error));
  expect(cached()).toEqual(theirCache);
  return { theirs, mine, calls: theirCalls };
}

const rt = (extra: Partial<RuntimeConf> = {}): RuntimeConf => ({
  containerId: 'c0ffee',
  netns: '/var/run/netns/cni-1234',
  ifName: 'eth0',
  args: [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', 'default'],
    ['K8S_POD_NAME', 'web'],
  ],
  capabilityArgs: {},
  ...extra,
});

const RESULT_100 = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '2a:00:00:00:00:01' },
    { name: 'eth0', mac: '2a:00:00:00:00:02', sandbox: '/var/run/netns/cni-1234', mtu: 1500 },
  ],
  ips: [
    { interface: 1, address: '10.244.1.5/24', gateway: '10.244.1.1' },
    { interface: 1, address: 'fd00:0:0:0::0005/64', gateway: 'FD00::1' },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
  dns: { nameservers: ['10.96.0.10'] },
  extra: 'dropped by libcni',
};

const chain = (version: string, bridgeExtra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: version,
    name: 'podnet',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]] },
        ...bridgeExtra,
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
  });

const chainAnswers = (r: unknown = RESULT_100) => ({
  'bridge.ADD.json': r,
  'portmap.ADD.json': r,
  'bandwidth.ADD.json': r,
});

describe('plugin stdin and environment: libcni 1.3 against ours, byte for byte', () => {
  it('ADD, CHECK and DEL of a bridge + portmap + bandwidth chain, with and without capability args', async () => {
    const b = bench(['bridge', 'portmap', 'bandwidth'], chainAnswers());
    const caps = {
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }],
      bandwidth: { ingressRate: 1000000, ingressBurst: 4294967295, egressRate: 0, egressBurst: 0 },
      mac: '2a:00:00:00:00:09',
    };
    for (const v of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      const config = chain(v);
      const { calls } = await same(b, [
        { verb: 'ADD', config, rt: rt() },
        { verb: 'CHECK', config, rt: rt() },
        { verb: 'DEL', config, rt: rt() },
        { verb: 'ADD', config, rt: rt({ containerId: 'two', capabilityArgs: caps }) },
        { verb: 'DEL', config, rt: rt({ containerId: 'two', capabilityArgs: caps }) },
      ]);
      expect(calls.length).toBeGreaterThan(8);
      b.reset();
    }
  });

  it('static runtimeConfig is replaced by the capabilities the runtime passed; "capabilities" stays in stdin', async () => {
    const b = bench(['portmap'], { 'portmap.ADD.json': RESULT_100 });
    const config = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        {
          type: 'portmap',
          capabilities: { portMappings: true, bandwidth: false },
          runtimeConfig: { portMappings: [{ hostPort: 1 }], static: 'gone' },
        },
      ],
    });
    const caps = { portMappings: [{ hostPort: 9090, containerPort: 90, protocol: 'udp' }], bandwidth: { x: 1 } };
    const { calls } = await same(b, [
      { verb: 'ADD', config, rt: rt({ capabilityArgs: caps }) },
      { verb: 'ADD', config, rt: rt({ containerId: 'nocaps' }) },
    ]);
    expect(JSON.parse(calls[0]!.stdin)).toMatchObject({
      capabilities: { portMappings: true },
      runtimeConfig: { portMappings: caps.portMappings },
    });
    expect(JSON.parse(calls[0]!.stdin).runtimeConfig).not.toHaveProperty('static');
  });

  it('what Go does to a config: keys sorted, numbers as float64, <, > and & escaped, unknown result fields dropped', async () => {
    const odd = {
      zeta: { b: 1, a: [3, { y: 2, x: 1 }] },
      'ü-key': 'é',
      Alpha: 'A&B <tag> \u2028',
      n: [1.5, 1e21, 1e-7, 100, 12345678901234567890, -0, 0.1],
      ctl: 'tab\there\u0001\b\f',
    };
    const config = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        { type: 'bridge', ...odd },
        { type: 'portmap', ...odd },
      ],
    });
    const b = bench(['bridge', 'portmap'], chainAnswers());
    await same(b, [
      { verb: 'ADD', config, rt: rt() },
      { verb: 'DEL', config, rt: rt() },
    ]);
  });

  it('prevResult: a 0.4.0 result in a 1.0.0 list, a result without cniVersion, an unknown version', async () => {
    const r040 = {
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth0', sandbox: '/x', mtu: 9000 }],
      ips: [{ version: '4', interface: 0, address: '10.1.0.2/16' }],
    };
    const { cniVersion: _v, ...noVersion } = RESULT_100;
    const b = bench(['bridge', 'portmap', 'bandwidth'], {
      'bridge.ADD.json': r040,
      'portmap.ADD.json': noVersion,
      'bandwidth.ADD.json': RESULT_100,
    });
    await same(b, [
      { verb: 'ADD', config: chain('1.0.0'), rt: rt() },
      { verb: 'CHECK', config: chain('1.0.0'), rt: rt() },
      { verb: 'DEL', config: chain('1.0.0'), rt: rt() },
    ]);
    const bad = bench(['bridge', 'portmap', 'bandwidth'], {
      'bridge.ADD.json': { ...RESULT_100, cniVersion: '9.9.9' },
    });
    const { mine } = await same(bad, [{ verb: 'ADD', config: chain('1.0.0'), rt: rt() }]);
    expect(mine[0]!.error).toBe('plugin type="bridge" failed (add): unsupported CNI result version "9.9.9"');
  });

  it('plugin errors are worded as libcni wraps them, for ADD, DEL, CHECK', async () => {
    const failing = {
      code: 11,
      msg: 'no IP addresses available in range set',
      details: 'pool exhausted',
    };
    const b = bench(['bridge', 'portmap', 'bandwidth'], {
      ...chainAnswers(),
      'portmap.ADD.json': failing,
      'portmap.ADD.exit': '1',
      'bridge.DEL.json': failing,
      'bridge.DEL.exit': '1',
      'bandwidth.CHECK.stderr': 'it broke',
      'bandwidth.CHECK.exit': '2',
    });
    const named = chain('1.0.0').replace('"type":"portmap"', '"type":"portmap","name":"pm"');
    const { mine } = await same(b, [
      { verb: 'ADD', config: named, rt: rt() },
      { verb: 'DEL', config: chain('1.0.0'), rt: rt() },
      { verb: 'CHECK', config: chain('1.0.0'), rt: rt() },
    ]);
    expect(mine[0]!.error).toBe(
      'plugin type="portmap" name="pm" failed (add): no IP addresses available in range set; pool exhausted',
    );
  });

  it('STATUS and GC on a 1.1.0 list (valid attachments under both names), nothing for 1.0.0', async () => {
    const b = bench(['bridge', 'portmap', 'bandwidth'], chainAnswers());
    for (const v of ['1.0.0', '1.1.0']) {
      const config = chain(v);
      await same(b, [
        { verb: 'ADD', config, rt: rt({ containerId: 'keep' }) },
        { verb: 'ADD', config, rt: rt({ containerId: 'stale', capabilityArgs: { bandwidth: { ingressRate: 1 } } }) },
        { verb: 'STATUS', config },
        { verb: 'GC', config, validAttachments: [{ containerID: 'keep', ifname: 'eth0' }] },
      ]);
      b.reset();
    }
  });

  it('cniVersions: the highest known, a co-present cniVersion a candidate too; a single .conf', async () => {
    const b = bench(['bridge'], { 'bridge.ADD.json': RESULT_100 });
    for (const extra of [
      { cniVersions: ['0.4.0', '1.0.0', '9.0.0'] },
      { cniVersion: '1.1.0', cniVersions: ['0.4.0', '1.0.0'] },
      { cniVersion: '0.4.0', cniVersions: ['0.3.1'] },
    ]) {
      const config = JSON.stringify({ name: 'podnet', ...extra, plugins: [{ type: 'bridge' }] });
      await same(b, [{ verb: 'ADD', config, rt: rt() }]);
      b.reset();
    }
    const single = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'podnet',
      type: 'bridge',
      ipam: { type: 'x' },
      a: '<&>',
    });
    await same(b, [
      { verb: 'ADD', config: single, single: true, rt: rt() },
      { verb: 'DEL', config: single, single: true, rt: rt() },
    ]);
  });
});

describe('go-cni 1.1.13: what containerd 2.1 passes', () => {
  it('loopback and pod network, the capability structs and labels, as plugin stdin and env', async () => {
    const b = bench(['loopback', 'bridge', 'portmap', 'bandwidth'], {
      ...chainAnswers(),
      'loopback.ADD.json': { cniVersion: '0.3.1', interfaces: [{ name: 'lo', sandbox: '/var/run/netns/cni-1234' }] },
    });
    const pod: PodCapabilities = {
      annotations: { 'kubernetes.io/ingress-bandwidth': '1M', b: '<2>' },
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'TCP', hostIP: '' }],
      bandwidth: { ingressRate: 1000000, ingressBurst: 4294967295, egressRate: 0, egressBurst: 0 },
      dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: [] },
      cgroupPath: '/kubepods/besteffort/podabc',
    };
    const labels = {
      K8S_POD_NAMESPACE: 'default',
      K8S_POD_NAME: 'web',
      K8S_POD_INFRA_CONTAINER_ID: 'c0ffee',
      K8S_POD_UID: 'u1',
      IgnoreUnknown: '1',
    };
    const config = chain('1.0.0');
    const theirs = oracle(b, {
      goCni: {
        verb: 'Setup',
        confLists: [config],
        loNetwork: true,
        minNetworks: 2,
        namespace: {
          id: 'c0ffee',
          path: '/var/run/netns/cni-1234',
          labels,
          annotations: pod.annotations,
          portMappings: [{ HostPort: 8080, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }],
          bandwidth: { IngressRate: 1000000, IngressBurst: 4294967295, EgressRate: 0, EgressBurst: 0 },
          dns: { Servers: ['10.96.0.10'], Searches: ['default.svc.cluster.local'], Options: null },
          cgroupPath: pod.cgroupPath,
        },
      },
    });
    expect(theirs[0]!.error).toBeUndefined();
    // the two networks run concurrently: compare as sets of calls
    const byKey = (c: Call[]) => normalise(c).sort((x, y) => (x.plugin + x.stdin < y.plugin + y.stdin ? -1 : 1));
    const theirCalls = byKey(b.calls());
    b.reset();
    const exec = new CniExecutor(new LocalPluginHost([b.bin]), new ResultCache(new Beneath(b.cache)));
    const args = Object.entries(labels) as [string, string][];
    const capabilityArgs: JsonObject = goCniCapabilityArgs(pod);
    await Promise.all([
      exec.addNetworkList(loopbackConfList(), {
        containerId: 'c0ffee',
        netns: '/var/run/netns/cni-1234',
        ifName: 'lo',
        args,
        capabilityArgs,
      }),
      exec.addNetworkList(confListFromText(config), {
        containerId: 'c0ffee',
        netns: '/var/run/netns/cni-1234',
        ifName: 'eth0',
        args,
        capabilityArgs,
      }),
    ]);
    const myCalls = byKey(b.calls());
    expect(myCalls.map((c) => c.plugin)).toEqual(theirCalls.map((c) => c.plugin));
    for (let i = 0; i < theirCalls.length; i++) {
      expect(myCalls[i]!.stdin).toBe(theirCalls[i]!.stdin);
      expect(myCalls[i]!.env).toEqual(theirCalls[i]!.env);
    }
    expect(theirCalls.find((c) => c.plugin === 'portmap')!.stdin).toContain(
      '"portMappings":[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":""}]',
    );
  });
});

const LOAD_CASES = [
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":5}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"b","capabilities":{"a":"yes"}}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"b","ipam":{"type":1.5}}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"b","dns":{"nameservers":"x"}}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"b","name":true}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":["x"]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"b","prevResult":[1]}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":""}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":null}]}',
  '{"cniVersion":"1.0.0","name":"n","plugins":{}}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[]}',
  '{"cniVersion":"1.0.0","name":5,"plugins":[]}',
  '{"cniVersion":5,"name":"n","plugins":[]}',
  '{"name":"n","plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersions":["x"],"plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersions":"1.0.0","plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersions":[1],"plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersion":"1.1.0","cniVersions":["0.4.0","1.0.0"],"plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersion":"2.0.0","cniVersions":["0.4.0"],"plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersion":"x.0","cniVersions":["0.4.0"],"plugins":[{"type":"b"}]}',
  '{"name":"n","cniVersion":"2.0.0","plugins":[{"type":"b"}]}',
  '{"name":"n","disableCheck":"TRUE","disableGC":"false","plugins":[{"type":"b"}]}',
  '{"name":"n","disableCheck":"yes","plugins":[{"type":"b"}]}',
  '{"name":"n","disableGC":1,"plugins":[{"type":"b"}]}',
  '{"name":"n","loadOnlyInlinedPlugins":true}',
  '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","mtu":"1500","ipam":{"type":"host-local","subnet":"10.0.0.1/24"}}]}',
  '{"name":"n",}',
  '{"name":"n" "x":1}',
  '{"name":"n","plugins":[{"type":"b"},]}',
  '{"name":"n","plugins":[1 2]}',
  "{'name':'n'}",
  '{"name":"n\u0001"}',
  '{"name":"\\x"}',
  '{"name":"\\u12G4"}',
  '{"name":tru}',
  '{"name":-}',
  '{"name":1.}',
  '{"name":1e}',
  '{"name":"n"}}',
  '{"name":[}',
  '[1]',
  '',
  '  ',
  '{"name":"n"',
  '{"name":"n","plugins":[{"type":"b"}]} x',
];

describe('what libcni 1.3 loads, with its error texts', () => {
  it.each(LOAD_CASES.map((t) => [t]))('list %s', async (text) => {
    const b = bench([]);
    const [theirs] = oracle(b, { ops: [{ verb: 'LOAD', config: text }] });
    let mine: { result?: unknown; error?: string };
    try {
      const l = libcniConfListFromBytes(text);
      mine = {
        result: {
          name: l.name,
          cniVersion: l.cniVersion,
          disableCheck: l.disableCheck,
          disableGC: l.disableGC,
          plugins: l.plugins.length,
        },
      };
    } catch (e) {
      mine = { error: (e as Error).message };
    }
    expect(mine).toEqual(theirs);
  });

  it.each(
    [
      '{"cniVersion":"1.0.0","name":"n","type":"bridge","b":"<x>","a":1}',
      '{"name":"n","type":"bridge"}',
      '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}',
      '{"cniVersion":"1.0.0","name":"n","type":7}',
      '{"cniVersion":"1.0.0","name":"n",',
    ].map((t) => [t]),
  )('single .conf %s', async (text) => {
    const b = bench(['bridge'], { 'bridge.ADD.json': RESULT_100 });
    const [theirs] = oracle(b, { ops: [{ verb: 'LOAD', config: text, single: true }] });
    let mine: { result?: unknown; error?: string };
    try {
      const l = libcniConfFromBytes(text);
      mine = {
        result: {
          name: l.name,
          cniVersion: l.cniVersion,
          disableCheck: l.disableCheck,
          disableGC: l.disableGC,
          plugins: l.plugins.length,
        },
      };
    } catch (e) {
      mine = { error: (e as Error).message };
    }
    expect(mine).toEqual(theirs);
  });
});

describe("go-cni's loadFromConfDir (containerd's NetworkReady), with max one network", () => {
  const dirCases: [string, Record<string, string>][] = [
    ['empty', {}],
    ['a broken file first', { '05-x.conflist': '{"name":', '10-podnet.conflist': chain('1.0.0') }],
    ['a good file first, a broken one after', { '10-podnet.conflist': chain('1.0.0'), '20-x.conflist': '{' }],
    [
      'a plugin-level problem loads fine',
      { '10-podnet.conflist': '{"cniVersion":"1.0.0","name":"podnet","plugins":[{"type":"nope","mtu":"x"}]}' },
    ],
    ['a .conf without type', { '10-x.conf': '{"cniVersion":"1.0.0","name":"x"}' }],
    ['a conflist in a .conf', { '10-x.conf': chain('1.0.0') }],
    ['a .json single plugin', { '10-x.json': '{"cniVersion":"0.4.0","name":"x","type":"bridge","z":"<&>"}' }],
    ['a list without plugins', { '10-x.conflist': '{"cniVersion":"1.0.0","name":"x"}' }],
    ['other extensions ignored', { 'README.md': 'x', '10-x.conflist.bak': '{', '20-y.conflist': chain('0.4.0') }],
  ];
  it.each(dirCases)('%s', async (_what, files) => {
    const b = bench([]);
    const dir = join(b.dir, 'net.d');
    mkdirSync(dir);
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
    const [theirs] = oracle(b, { goCni: { loadDir: dir } });
    const mine = loadNetworks(new Beneath(dir), dir);
    if ('error' in mine)
      expect(theirs).toEqual({ error: `cni config load failed: ${mine.error}: failed to load cni config` });
    else {
      expect(theirs!.error).toBeUndefined();
      expect(theirs!.result).toEqual({ name: mine.network.name, source: mine.network.bytes });
    }
  });
});
