// The CNI config editor's engine part over the contract, against a real world: files confined to a
// node's /etc/cni/net.d with atomic saves, lint with the node's checks, and the run panel for real.
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, parseParams, parseResult, type PodnetApi } from '../src-main/api/contract.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { bridgeConfList } from '../src-main/cni/defaults.js';
import { meaningOfCode } from '../src-main/cni/errors.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { failure } from './helpers.js';

let engine: Engine;
let api: PodnetApi;
const confDir = () => engine.session.runningWorld!.node('node1').host.confDir;
const DEFAULT = bridgeConfList('10.244.1.0/24');

beforeAll(async () => {
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  api = engine.api;
  await api['world.start']({ nodes: 2 });
}, 60_000);
afterAll(() => engine?.dispose());
// each test leaves node1's config as it found it, even when it fails half-way (a broken or extra file
// left behind would change which network the next test's pods get)
afterEach(() => {
  if (!engine?.session.runningWorld) return;
  for (const f of readdirSync(confDir())) if (f !== '10-podnet.conflist') rmSync(join(confDir(), f));
  if (readFileSync(join(confDir(), '10-podnet.conflist'), 'utf8') !== DEFAULT)
    writeFileSync(join(confDir(), '10-podnet.conflist'), DEFAULT);
});

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
const ready = async () => (await api['world.status']({})).nodes.find((n) => n.name === 'node1')!.networkReady;

describe('files', () => {
  it("lists node1's config, the pod network marked active, and reads it", async () => {
    const f = parseResult('config.files', await api['config.files']({ node: 'node1' }));
    expect(f).toMatchObject({
      dir: '/etc/cni/net.d',
      network: 'podnet',
      files: [{ name: '10-podnet.conflist', active: true }],
    });
    expect((await api['config.read']({ node: 'node1', name: '10-podnet.conflist' })).text).toBe(DEFAULT);
  });

  it('saves atomically (no temp file left), lints what it saved, and NetworkReady follows the file', async () => {
    const broken = DEFAULT.replace('"portMappings": true\n      }', '"portMappings": true\n      },');
    const r = parseResult(
      'config.save',
      await api['config.save']({ node: 'node1', name: '10-podnet.conflist', text: broken }),
    );
    const line = lineOf(broken, '},\n    }');
    // a warning (issue #14), that says what containerd does with it
    expect(r.problems).toEqual([
      expect.objectContaining({
        rule: 'syntax',
        line,
        severity: 'warning',
        message: expect.stringMatching(
          /^invalid JSON: trailing comma.*containerd cannot load this file \(libcni: .*\); as the first file of the config folder it stops containerd's load there, and the node is NotReady$/,
        ),
      }),
    ]);
    expect(readdirSync(confDir())).toEqual(['10-podnet.conflist']);
    expect(await ready()).toMatchObject({ status: false, reason: 'NetworkPluginNotReady' });
    // containerd 2.1's condition names no file (the load error is only in its verbose info, lastCNILoadStatus);
    // the file list says which file and where
    expect((await ready()).message).toBe('Network plugin returns error: cni plugin not initialized');
    expect((await api['config.files']({ node: 'node1' })).files).toEqual([
      expect.objectContaining({
        name: '10-podnet.conflist',
        active: false,
        error: expect.stringContaining(`:${line}:`),
      }),
    ]);
    await api['config.save']({ node: 'node1', name: '10-podnet.conflist', text: DEFAULT });
    expect((await ready()).status).toBe(true);
  });

  it('creates, renames and deletes; refuses names outside the directory, symlinks and clobbering', async () => {
    await api['config.create']({ node: 'node1', name: '20-spare.conflist', text: DEFAULT.replace('podnet', 'spare') });
    await expect(api['config.create']({ node: 'node1', name: '20-spare.conflist' })).rejects.toThrow(/already exists/);
    await api['config.rename']({ node: 'node1', from: '20-spare.conflist', to: '30-spare.conflist' });
    expect((await api['config.files']({ node: 'node1' })).files.map((f) => [f.name, f.active])).toEqual([
      ['10-podnet.conflist', true],
      ['30-spare.conflist', false],
    ]);
    await api['config.delete']({ node: 'node1', name: '30-spare.conflist' });
    for (const name of ['../etc.conflist', 'a/b.conflist', '..conflist', '.hidden.conf', 'x.txt']) {
      expect(() => parseParams('config.save', { node: 'node1', name, text: '{}' })).toThrow(ApiError);
    }
    symlinkSync('/etc/hostname', join(confDir(), '05-link.conf'));
    const e = await failure(api['config.read']({ node: 'node1', name: '05-link.conf' }));
    expect(e.message).toMatch(/symbolic link/);
    await expect(api['config.save']({ node: 'node1', name: '05-link.conf', text: '{}' })).rejects.toThrow(
      /symbolic link/,
    );
    await expect(api['config.delete']({ node: 'node1', name: '05-link.conf' })).rejects.toThrow(/symbolic link/);
    // nothing was followed: the link is still there, the host's file untouched
    expect(readdirSync(confDir()).sort()).toEqual(['05-link.conf', '10-podnet.conflist']);
    (await import('node:fs')).rmSync(join(confDir(), '05-link.conf'));
  });
});

describe('lint with the node', () => {
  it('finds a missing binary, a cniVersion the plugin does not speak, a file that is not picked, and overlapping node subnets', async () => {
    const text = JSON.stringify(
      {
        cniVersion: '1.2.0',
        name: 'x',
        plugins: [
          { type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24' }]] } },
          { type: 'flannel' },
        ],
      },
      null,
      2,
    );
    const { problems } = await api['config.lint']({ node: 'node1', name: '99-x.conflist', text });
    expect(problems.map((p) => [p.rule, p.line])).toEqual([
      ['not-picked', 1],
      ['schema', lineOf(text, '"1.2.0"')], // a version the CNI spec has not defined
      ['version-unsupported', lineOf(text, '"bridge"')],
      ['version-unsupported', lineOf(text, '"host-local"')],
      ['node-subnets-overlap', lineOf(text, '"10.244.2.0/24"')],
      ['plugin-missing', lineOf(text, '"flannel"')],
    ]);
    expect(problems.find((p) => p.rule === 'version-unsupported')!.message).toMatch(
      /^bridge does not speak cniVersion 1\.2\.0 \(its VERSION answer: 0\.1\.0, .*1\.1\.0\): containerd loads this file, but ADD fails/,
    );
    expect(problems.find((p) => p.rule === 'node-subnets-overlap')!.message).toBe(
      "pod subnet 10.244.2.0/24 overlaps node2's pod subnet 10.244.2.0/24: two nodes would hand out the same pod IPs",
    );
  });
});

describe('the run panel', () => {
  it("ADD on a new pod: its IP, each plugin's stdin and stdout, and the diff; CHECK; VERSION; DEL removes it", async () => {
    const run = (verb: 'ADD' | 'CHECK' | 'DEL' | 'VERSION' | 'STATUS') =>
      api['config.run']({
        node: 'node1',
        name: '10-podnet.conflist',
        text: DEFAULT,
        verb,
        target: { kind: 'new', name: 'try1' },
      });
    const add = parseResult('config.run', await run('ADD'));
    expect(add.error).toBeUndefined();
    const ip = (add.result as { ips: { address: string }[] }).ips[0]!.address;
    expect(ip).toMatch(/^10\.244\.1\.\d+\/24$/);
    expect(add.execs.map((e) => e.plugin)).toEqual(
      ['bridge', 'host-local', 'portmap'].filter((p) => p !== 'host-local'),
    );
    expect(JSON.parse(add.execs[0]!.stdin)).toMatchObject({ type: 'bridge', name: 'podnet', cniVersion: '1.0.0' });
    expect(JSON.parse(add.execs[1]!.stdin).prevResult.ips[0].address).toBe(ip);
    expect(add.diff).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ where: 'pod', table: 'addr', change: 'added', text: `eth0 ${ip} scope global` }),
        expect.objectContaining({
          where: 'node',
          table: 'link',
          change: 'added',
          text: expect.stringMatching(/^cni0 \(bridge\)/),
        }),
      ]),
    );
    expect(add.target).toMatchObject({ kind: 'new', name: 'try1', netns: '/run/netns/editor-try1', attached: true });
    expect((await api['config.targets']({ node: 'node1' })).map((t) => t.name)).toEqual(['try1']);
    expect((await run('CHECK')).ok).toBe(true);
    const v = await run('VERSION');
    expect(v.versions!.map((x) => x.plugin)).toEqual(['bridge', 'host-local', 'portmap']);
    // libcni 1.3 sends no STATUS below 1.1.0 and answers success: the panel says nothing was run
    const st = await run('STATUS');
    expect(st).toMatchObject({
      ok: true,
      execs: [],
      note: expect.stringMatching(/^libcni sends no STATUS for a cniVersion 1\.0\.0 list: nothing was run/),
    });
    expect(st.error).toBeUndefined();
    // from 1.1.0 it is sent to every plugin of the list, in order (the 1.9.1 plugins answer it)
    const st11 = await api['config.run']({
      node: 'node1',
      name: '10-podnet.conflist',
      text: DEFAULT.replace('"cniVersion": "1.0.0"', '"cniVersion": "1.1.0"'),
      verb: 'STATUS',
      target: { kind: 'new', name: 'try1' },
    });
    expect(st11.error?.message).toBeUndefined();
    expect(st11.note).toBeUndefined();
    expect(st11.execs.map((e) => `${e.plugin} ${e.command} ${e.exitCode}`)).toEqual([
      'bridge STATUS 0',
      'portmap STATUS 0',
    ]);
    const del = await run('DEL');
    expect(del.ok).toBe(true);
    expect(del.diff).toEqual(
      expect.arrayContaining([expect.objectContaining({ where: 'pod', table: 'addr', change: 'removed' })]),
    );
    expect(del.target!.attached).toBe(false);
    expect(await api['config.targets']({ node: 'node1' })).toEqual([]);
    expect(existsSync(join(engine.session.runningWorld!.node('node1').host.netnsDir, 'editor-try1'))).toBe(false);
  }, 60_000);

  it("a plugin's error in libcni's words with its code and meaning; a file libcni loads runs despite lint warnings; one it cannot load runs nothing", async () => {
    const bad = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'mv',
      plugins: [
        { type: 'macvlan', master: 'nope0', ipam: { type: 'host-local', ranges: [[{ subnet: '198.51.100.0/24' }]] } },
      ],
    });
    const r = await api['config.run']({
      node: 'node1',
      name: '50-mv.conflist',
      text: bad,
      verb: 'ADD',
      target: { kind: 'new', name: 'try2' },
    });
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({
      kind: 'plugin',
      plugin: 'macvlan',
      code: expect.any(Number),
      meaning: expect.any(String),
    });
    expect(r.error!.message).toBe(`plugin type="macvlan" failed (add): ${r.error!.msg}`);
    expect(r.error!.msg).toMatch(/Link not found/);
    expect(r.error!.meaning).toBe(meaningOfCode(r.error!.code!));
    expect(r.execs).toHaveLength(1);
    await api['config.run']({
      node: 'node1',
      name: '50-mv.conflist',
      text: bad,
      verb: 'DEL',
      target: { kind: 'new', name: 'try2' },
    });
    // lint warns of the gateway outside the subnet, but libcni loads the file: ADD runs and host-local refuses it
    const outside = DEFAULT.replace('"subnet": "10.244.1.0/24"', '"subnet": "10.244.1.0/24", "gateway": "10.9.9.1"');
    expect(outside).not.toBe(DEFAULT);
    const lint = await api['config.lint']({ node: 'node1', name: '10-podnet.conflist', text: outside });
    expect(lint.problems.map((p) => [p.rule, p.severity])).toContainEqual([expect.any(String), 'warning']);
    const ran = await api['config.run']({
      node: 'node1',
      name: '10-podnet.conflist',
      text: outside,
      verb: 'ADD',
      target: { kind: 'new', name: 'try4' },
    });
    expect(ran.error).toMatchObject({ kind: 'plugin', plugin: 'bridge' });
    expect(ran.error!.message).toMatch(/^plugin type="bridge" failed \(add\): .*10\.9\.9\.1/);
    expect(ran.execs.map((e) => e.plugin)).toEqual(['bridge']);
    await api['config.run']({
      node: 'node1',
      name: '10-podnet.conflist',
      text: outside,
      verb: 'DEL',
      target: { kind: 'new', name: 'try4' },
    });
    const refused = await api['config.run']({
      node: 'node1',
      name: '10-podnet.conflist',
      text: '{"cniVersion": "1.0.0",',
      verb: 'ADD',
      target: { kind: 'new', name: 'try3' },
    });
    expect(refused).toMatchObject({
      ok: false,
      execs: [],
      note: expect.stringMatching(/^containerd cannot load this file \(libcni refuses it\), so nothing was run/),
      error: { kind: 'config', message: expect.stringContaining('10-podnet.conflist:1:') },
    });
    expect(await api['config.targets']({ node: 'node1' })).toEqual([]);
  }, 60_000);

  it('runs against a kubelet pod: CHECK with its sandbox ID', async () => {
    await api['pod.create']({ name: 'web', node: 'node1' });
    const r = await api['config.run']({
      node: 'node1',
      name: '10-podnet.conflist',
      text: DEFAULT,
      verb: 'CHECK',
      target: { kind: 'pod', pod: 'web' },
    });
    expect(r.error?.message).toBeUndefined();
    expect(r.execs.map((e) => `${e.plugin} ${e.command}`)).toEqual(['bridge CHECK', 'portmap CHECK']);
    await api['pod.delete']({ name: 'web' });
  }, 60_000);
});
