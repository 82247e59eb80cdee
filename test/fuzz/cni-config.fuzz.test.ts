// Fuzzing CNI configs: generated bad texts through the loader (go-cni's rules: conf.ts), and bad
// runtime arguments and lists through the executor on a real node. A ConfigError with file:line:col, or
// a typed executor error, every time; never another exception, never a hang, and the node unchanged.
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confListFromFileText, type ConfList } from '../../src-main/cni/conf.js';
import { bridgeConfList } from '../../src-main/cni/defaults.js';
import {
  ConfigError,
  ExecError,
  InvalidArgumentError,
  NotSupportedError,
  PluginError,
} from '../../src-main/cni/errors.js';
import { ContainerdNode } from '../../src-main/runtime/containerd.js';
import { createWorld, type World } from '../../src-main/world/world.js';
import { errorClass, params, Tally, within } from './fuzz-kit.js';

const VALID = bridgeConfList('10.244.1.0/24');
const VALID_CONF = JSON.stringify(
  {
    cniVersion: '1.0.0',
    name: 'podnet',
    type: 'bridge',
    bridge: 'cni0',
    ipam: { type: 'host-local', subnet: '10.244.1.0/24' },
  },
  null,
  2,
);
const tallies = { loader: new Tally(), executor: new Tally() };

// texts: noise, JSON of every shape, and valid configs broken by a cut, an insertion, or a swapped value
const anyJson = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
const base = fc.constantFrom(VALID, VALID_CONF);
const cut = fc
  .tuple(base, fc.nat(), fc.nat(40))
  .map(([t, at, n]) => t.slice(0, at % t.length) + t.slice((at % t.length) + n));
const insert = fc
  .tuple(base, fc.nat(), fc.string({ maxLength: 8 }))
  .map(([t, at, s]) => t.slice(0, at % t.length) + s + t.slice(at % t.length));
const FIELDS = ['cniVersion', 'cniVersions', 'name', 'plugins', 'type', 'disableCheck', 'disableGC', 'ipam', 'bridge'];
const swap = fc
  .tuple(base, fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
  .map(([t, field, v, drop]) => {
    const o = JSON.parse(t) as Record<string, unknown>;
    if (drop) delete o[field];
    else o[field] = v;
    if (Array.isArray(o.plugins) && o.plugins.length && !drop && field === 'type') (o.plugins as unknown[])[0] = v;
    return JSON.stringify(o, null, 2);
  });
const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  anyJson,
  cut,
  insert,
  swap,
  fc.constantFrom('', '{', '{}', '[]', 'null', '{"plugins":[]}', '\uFEFF' + VALID),
);

describe('fuzzing CNI configs through the loader', () => {
  it('every text gives a ConfList or a ConfigError with file:line:col inside the text; nothing else', () => {
    fc.assert(
      fc.property(
        text,
        fc.constantFrom('/etc/cni/net.d/10-x.conflist', '/etc/cni/net.d/10-x.conf', '/etc/cni/net.d/10-x.json'),
        (t, file) => {
          let list: ConfList | undefined;
          try {
            list = confListFromFileText(file, t);
          } catch (e) {
            if (!(e instanceof ConfigError))
              throw new Error(
                `not a ConfigError for ${JSON.stringify(t).slice(0, 200)}: ${(e as Error)?.stack ?? JSON.stringify(e)}`,
                {
                  cause: e,
                },
              );
            expect(e.message.startsWith(`${file}`)).toBe(true);
            if (e.line !== undefined) {
              expect(e.line).toBeGreaterThanOrEqual(1);
              expect(e.line).toBeLessThanOrEqual(t.split('\n').length);
              expect(e.column).toBeGreaterThanOrEqual(1);
            }
            tallies.loader.add(errorClass('ConfigError', e.reason));
            return;
          }
          // accepted: then it is a usable list
          expect(typeof list.name).toBe('string');
          expect(typeof list.cniVersion).toBe('string');
          expect(list.plugins.length).toBeGreaterThan(0);
          for (const p of list.plugins) expect(typeof p.type).toBe('string');
          tallies.loader.add('accepted');
        },
      ),
      params(600),
    );
  });
});

describe('fuzzing the executor’s validation on a real node', () => {
  let world: World;
  let rt: ContainerdNode;
  beforeAll(async () => {
    world = await createWorld({ nodes: 1 });
    rt = new ContainerdNode(world, 'node1');
  });
  afterAll(async () => {
    for (const [k, t] of Object.entries(tallies)) if (t.inputs) console.log(t.report(`fuzz ${k}`));
    await world?.destroy();
  });

  const nodeState = async () => {
    const links = await world.run({ kind: 'node', node: 'node1' }, [
      'sh',
      '-c',
      'ip -o link show | cut -d" " -f2,3; ls /run/netns',
    ]);
    const data = world.node('node1').host.dataDir;
    return { links, data: readdirSync(data, { recursive: true }).sort() };
  };

  it('bad runtime arguments and lists of plugins that do not exist: a typed error, and the node unchanged', async () => {
    const before = await nodeState();
    const good = confListFromFileText('/etc/cni/net.d/10-podnet.conflist', VALID);
    const id = fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('', '-x', '../x', 'a/b', 'a b', '.', 'ok-id'));
    const ifName = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('', '.', '..', 'eth0/1', 'a:b', 'a b', 'x'.repeat(16), 'eth0'),
    );
    const netns = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '/run/netns/none', '/proc/self/ns/net'));
    // only types no node has: the executor must refuse before anything runs, or fail to find them
    const ghostType = fc.stringMatching(/^zz[a-z0-9]{1,10}$/);
    const list = fc.oneof(
      fc.constant(good),
      fc
        .array(ghostType, { minLength: 1, maxLength: 3 })
        .map((types) => ({ ...good, plugins: types.map((type) => ({ type })) })),
    );
    const input = fc
      .record({ command: fc.constantFrom('ADD', 'DEL', 'CHECK'), list, containerId: id, ifName, netns })
      .filter(
        // the good list with valid arguments would really run bridge: not a bad input
        (i) =>
          i.list !== good ||
          !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(i.containerId) ||
          !i.ifName ||
          i.ifName.length > 15 ||
          /[/:\s]/.test(i.ifName) ||
          ['.', '..'].includes(i.ifName),
      );
    await fc.assert(
      fc.asyncProperty(input, async ({ command, list: l, containerId, ifName: ifn, netns: ns }) => {
        const conf = { containerId, netns: ns, ifName: ifn, args: [] as [string, string][], capabilityArgs: {} };
        const call = (): Promise<unknown> =>
          command === 'ADD'
            ? rt.cni.addNetworkList(l, conf)
            : command === 'DEL'
              ? rt.cni.delNetworkList(l, conf)
              : rt.cni.checkNetworkList(l, conf);
        // a synchronous throw counts as the caller's rejection: `await` sees both alike
        const err = await within(
          Promise.resolve()
            .then(call)
            .then(
              () => undefined,
              (e: unknown) => e,
            ),
          20_000,
          `${command}`,
        );
        if (err === undefined) {
          tallies.executor.add(`${command}: no error`);
          return;
        }
        const typed = [InvalidArgumentError, PluginError, ExecError, ConfigError, NotSupportedError].some(
          (c) => err instanceof c,
        );
        if (!typed)
          throw new Error(`untyped error from ${command}: ${(err as Error)?.stack ?? JSON.stringify(err)}`, {
            cause: err,
          });
        // the class: the error's kind and its words up to the first quoted value (inputs can hold anything)
        const words = (err as Error).message
          .replace(/container .* on network/s, 'container … on network')
          .split(/["']/)[0]!
          .trim();
        tallies.executor.add(errorClass(`${command} ${(err as Error).name}`, words));
      }),
      params(200),
    );
    expect(await nodeState()).toEqual(before);
  }, 120_000);
});
