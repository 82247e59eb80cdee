// The CNI config corpus (test/fixtures/cni-corpus): every good config passes lint and runs ADD, CHECK
// and DEL for real in a world; every bad one gets exactly the errors written beside it, at their lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confListFromFileText, type JsonObject } from '../src-main/cni/conf.js';
import { ConfigError } from '../src-main/cni/errors.js';
import { formatProblem, libcniLoad, lintConfigText } from '../src-main/cni/lint/lint-file.js';
import { versionAtLeast } from '../src-main/cni/version.js';
import { runVerb } from '../src-main/config/run.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { createWorld, type World } from '../src-main/world/world.js';

const DIR = join(import.meta.dirname, 'fixtures/cni-corpus');
const files = readdirSync(DIR)
  .filter((f) => /\.(conf|conflist|json)$/.test(f) && f !== 'corpus.json')
  .sort();
const good = files.filter((f) => f.startsWith('good-'));
const bad = files.filter((f) => f.startsWith('bad-'));
type Entry = {
  setup?: string[];
  lintOnly?: string;
  kernel?: string;
  knownCheckError?: string;
  capabilityArgs?: JsonObject;
};
const manifest = JSON.parse(readFileSync(join(DIR, 'corpus.json'), 'utf8')) as Record<string, Entry>;
const text = (f: string) => readFileSync(join(DIR, f), 'utf8');

describe('the corpus', () => {
  it('has at least 30 configs, good and bad, each bad one with its expected errors', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(good.length).toBeGreaterThanOrEqual(15);
    expect(bad.length).toBeGreaterThanOrEqual(15);
    for (const b of bad) expect(existsSync(join(DIR, `${b}.expected`)), b).toBe(true);
  });
});

describe('lint: good configs are clean', () => {
  it.each(good)('%s', (f) => {
    expect(lintConfigText(f, text(f)).map(formatProblem)).toEqual([]);
  });
});

describe('lint: bad configs get their specific errors at the right place', () => {
  it.each(bad)('%s', (f) => {
    const expected = readFileSync(join(DIR, `${f}.expected`), 'utf8')
      .trim()
      .split('\n');
    expect(lintConfigText(f, text(f)).map((p) => formatProblem(p).slice(f.length + 1))).toEqual(expected);
    // the engine loads what containerd loads (libcni decodes it: its problems show at ADD) and refuses the rest
    const loads = libcniLoad(f, text(f));
    let err: unknown;
    try {
      confListFromFileText(f, text(f));
    } catch (e) {
      err = e;
    }
    if ('list' in loads) {
      expect(err).toBeUndefined();
      expect(expected[0]).not.toMatch(/containerd cannot load this file/);
    } else {
      expect(err).toBeInstanceOf(ConfigError);
      expect(
        `${(err as ConfigError).line ?? 1}:${(err as ConfigError).column ?? 1}: warning: ${(err as ConfigError).reason}`,
      ).toBe(expected[0]);
    }
  });
});

describe('ADD, CHECK and DEL for real', () => {
  let w: World;
  let k: Kubelet;
  beforeAll(async () => {
    w = await createWorld({ nodes: 1 });
    k = new Kubelet(w);
  }, 60_000);
  afterAll(() => w?.destroy());

  const node = { kind: 'node', node: 'node1' } as const;
  const runnable = good.filter((f) => !manifest[f]?.lintOnly);

  it('says why a config only lints', () => {
    for (const f of good.filter((g) => manifest[g]?.lintOnly))
      expect(manifest[f]!.lintOnly).toMatch(/daemon|not installed|needs/);
  });

  it.for(runnable.map((f, i) => [f, i] as const))('%s', { timeout: 90_000 }, async ([f, i], ctx) => {
    const m = manifest[f] ?? {};
    if (m.kernel) {
      const probe = await w.exec(node, ['sh', '-ec', m.kernel]);
      if (probe.code !== 0) {
        // a device the kernel cannot make here (its module is not loaded; a user namespace cannot load one)
        expect(probe.stderr).toMatch(/not supported|Unknown device type/);
        ctx.skip(`this kernel cannot make the device: ${probe.stderr.trim()}`);
        return;
      }
    }
    for (const cmd of m.setup ?? []) await w.run(node, ['sh', '-ec', cmd]);
    const list = confListFromFileText(f, text(f));
    const netns = `/run/netns/corpus-${i}`;
    await w.run(node, ['ip', 'netns', 'add', `corpus-${i}`]);
    const isLoopback = list.plugins[0]!.type === 'loopback';
    const rt = {
      containerId: `corpus-${i}`,
      netns,
      ifName: isLoopback ? 'lo' : 'eth0',
      args: [] as [string, string][],
      capabilityArgs: m.capabilityArgs ?? {},
    };
    const run = (verb: 'ADD' | 'CHECK' | 'DEL') =>
      runVerb({ world: w, node: 'node1', exec: k.runtime('node1').cni, list, verb, rt });
    try {
      const add = await run('ADD');
      expect(add.error).toBeUndefined();
      expect(add.execs.map((e) => `${e.plugin} ${e.command}`)).toEqual(
        list.plugins.map((p) => `${p.type} ADD`).filter((_, j) => j < list.plugins.length),
      );
      const ips = ((add.result as { ips?: { address: string }[] }).ips ?? []).map((x) => x.address);
      const hasIpam = list.plugins.some((p) => p.ipam && typeof p.ipam === 'object' && Object.keys(p.ipam).length);
      if (hasIpam) {
        expect(ips.length).toBeGreaterThan(0);
        // the address is really on the pod's interface: the diff of the pod's namespace shows it added
        for (const ip of ips)
          expect(
            add.diff
              .filter((d) => d.where === 'pod' && d.table === 'addr' && d.change === 'added')
              .map((d) => d.text)
              .join('\n'),
          ).toContain(`eth0 ${ip}`);
      }
      if (versionAtLeast(list.cniVersion, '0.4.0')) {
        const check = await run('CHECK');
        // a known CHECK bug of Debian's plugins 1.1.1; the 1.9.1 plugins pass CHECK there
        if (m.knownCheckError && check.error) {
          expect(check.error.message).toMatch(new RegExp(m.knownCheckError));
        } else {
          expect(check.error).toBeUndefined();
          expect(check.execs.length).toBe(list.disableCheck ? 0 : list.plugins.length);
        }
      }
      const del = await run('DEL');
      expect(del.error).toBeUndefined();
      expect(del.execs.map((e) => e.plugin)).toEqual([...list.plugins].reverse().map((p) => p.type));
      const links = await w.run({ kind: 'pod', node: 'node1', netns }, ['ip', '-o', 'link', 'show']);
      expect(
        links
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(':')[1]!.trim()),
      ).toEqual(['lo']);
      // host-local released every address it reserved
      const reserved = join(w.node('node1').host.dataDir, 'networks', list.name);
      if (existsSync(reserved))
        expect(
          readdirSync(reserved).filter((n) => (/^[0-9a-f.:]+$/.test(n) && n.includes('.')) || n.includes(':')),
        ).toEqual([]);
    } finally {
      await w.run(node, ['ip', 'netns', 'del', `corpus-${i}`]);
      // what the plugins left on the node (bridges, vlan and host-device veths) goes before the next config
      await w.run(node, [
        'sh',
        '-c',
        'for l in $(ip -o link show | cut -d: -f2 | cut -d@ -f1); do case $l in lo|eth0) ;; *) ip link del $l 2>/dev/null ;; esac; done; true',
      ]);
    }
  });
});
