import { describe, expect, it } from 'vitest';
import { bridgeConfList } from '../defaults.js';
import { checkConfigText, formatProblem } from './check.js';
import { parseCidr, parseIp } from './ip.js';
import { schemaDocs } from './schemas.js';
import { readdirSync } from 'node:fs';
import { PINNED_PLUGINS_VERSION, pluginSet } from '../../world/paths.js';

const lines = (o: unknown) => JSON.stringify(o, null, 2);
const list = (plugins: unknown[]) => ({ cniVersion: '1.0.0', name: 'podnet', plugins });
const bridge = (ipam: unknown) => ({ type: 'bridge', bridge: 'cni0', isGateway: true, ipam });

describe('checkConfigText', () => {
  it('passes the default config', () => {
    expect(checkConfigText('10-podnet.conflist', bridgeConfList('10-244.1.0/24'.replace('-', '.')))).toEqual([]);
  });
  it('points a trailing comma at the comma', () => {
    const [p] = checkConfigText('a.conflist', '{\n  "name": "x",\n}\n');
    expect(formatProblem(p!)).toBe(
      'a.conflist:2:14: invalid JSON: trailing comma: JSON allows no comma after the last member',
    );
  });
  it('marks a gateway outside the subnet on its own line', () => {
    const text = lines(
      list([bridge({ type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.2.1' }]] })]),
    );
    const ps = checkConfigText('a.conflist', text);
    expect(ps.map((p) => [p.rule, p.line, p.message])).toEqual([
      [
        'gateway-outside-subnet',
        text.split('\n').findIndex((l) => l.includes('"gateway"')) + 1,
        'gateway 10.244.2.1 is outside the subnet 10.244.1.0/24',
      ],
    ]);
  });
  it("explains a bad enum, a missing field and a wrong type in the schema's words", () => {
    const text = lines(list([{ type: 'macvlan', mode: 'brige', mtu: '1500', ipam: {} }, { type: 'vrf' }]));
    const msgs = checkConfigText('a.conflist', text).map((p) => p.message);
    expect(msgs).toContain('macvlan: "mode" must be one of "bridge", "private", "vepa", "passthru", not "brige"');
    expect(msgs).toContain('macvlan: "mtu" must be an integer (a whole number), not "1500"');
    expect(msgs.some((m) => m.startsWith('vrf: missing "vrfname": The name of the VRF'))).toBe(true);
  });
  it('finds overlapping ranges and reversed ranges', () => {
    const text = lines(
      list([
        bridge({
          type: 'host-local',
          ranges: [
            [{ subnet: '10.1.0.0/16' }, { subnet: '10.1.2.0/24' }],
            [{ subnet: '10.2.0.0/24', rangeStart: '10.2.0.50', rangeEnd: '10.2.0.10' }],
          ],
        }),
      ]),
    );
    expect(checkConfigText('a.conflist', text).map((p) => p.rule)).toEqual(['ranges-overlap', 'range-reversed']);
  });
  it('refuses a chained plugin first and two interface makers', () => {
    const text = lines(
      list([
        { type: 'portmap', capabilities: { portMappings: true } },
        bridge({ type: 'host-local', subnet: '10.1.0.0/24' }),
        { type: 'ptp', ipam: { type: 'host-local', subnet: '10.2.0.0/24' } },
      ]),
    );
    expect(checkConfigText('a.conflist', text).map((p) => p.rule)).toEqual(['chained-first', 'two-interfaces']);
    // plugins 1.9.1's dummy makes the pod's interface too
    const dummy = lines(list([bridge({ type: 'host-local', subnet: '10.1.0.0/24' }), { type: 'dummy' }]));
    expect(checkConfigText('a.conflist', dummy).map((p) => p.rule)).toContain('two-interfaces');
  });
});

describe('the schemas', () => {
  it("cover every plugin binary of the world's plugin set (the 1.9.1 plugins), each reachable from the plugin or IPAM dispatch", () => {
    const docs = schemaDocs();
    const dispatch = JSON.stringify([docs.get('plugin'), docs.get('ipam')]);
    const set = pluginSet();
    // the set worlds run: the pinned 1.9.1 plugins (or PODNET_CNI_PATH when a run names another set)
    if (set.source === 'pinned')
      expect(set.version).toMatch(new RegExp(`^${PINNED_PLUGINS_VERSION.replace(/\./g, '\\.')}\\b`));
    const bins = set.dirs.flatMap((d) => readdirSync(d));
    expect(bins.length).toBeGreaterThan(10);
    if (set.source === 'pinned') expect(bins).toEqual(expect.arrayContaining(['dummy', 'tap']));
    for (const b of bins) {
      expect(docs.has(b), b).toBe(true);
      expect(dispatch, b).toContain(`"const":"${b}"`);
    }
  });
  it("knows the 1.9.1 plugins' own fields and values", () => {
    const clean = lines(
      list([
        { ...bridge({ type: 'host-local', subnet: '10.1.0.0/24' }), portIsolation: true, ipMasqBackend: 'nftables' },
        { type: 'portmap', backend: 'nftables', masqAll: true, capabilities: { portMappings: true } },
        { type: 'firewall', ingressPolicy: 'same-bridge' },
        { type: 'tuning', txQLen: 1000 },
      ]),
    );
    expect(checkConfigText('a.conflist', clean)).toEqual([]);
    const bad = lines(
      list([{ type: 'dummy' }, { type: 'portmap', backend: 'nft', capabilities: { portMappings: true } }]),
    );
    const msgs = checkConfigText('a.conflist', bad).map((p) => p.message);
    expect(msgs).toContain('portmap: "backend" must be one of "iptables", "nftables", not "nft"');
    expect(msgs.some((m) => m.startsWith('dummy: missing "ipam"'))).toBe(true);
  });
});

describe('ip', () => {
  it('parses v4 and v6', () => {
    expect(parseIp('10.0.0.1')?.value).toBe(0x0a000001n);
    expect(parseIp('fd00::1')?.value).toBe((0xfd00n << 112n) | 1n);
    expect(parseIp('300.0.0.1')).toBeUndefined();
    expect(parseCidr('10.244.1.7/24')?.network).toBe(0x0af40100n);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });
});
