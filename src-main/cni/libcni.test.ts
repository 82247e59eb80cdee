import { describe, expect, it } from 'vitest';
import { confListFromText } from './conf.js';
import { buildPluginConfig } from './libcni.js';
import { convertResult, parseResult, podIpsFromResult } from './result.js';
import { compareVersions, negotiateVersion } from './version.js';

const list = confListFromText(
  JSON.stringify({
    cniVersion: '0.4.0',
    name: 'net',
    plugins: [
      { type: 'bridge', cniVersion: '0.3.1', name: 'ignored' },
      { type: 'portmap', capabilities: { portMappings: true, bandwidth: false }, snat: true },
    ],
  }),
);
const rt = {
  containerId: 'c1',
  netns: '/run/netns/x',
  ifName: 'eth0',
  args: [] as [string, string][],
  capabilityArgs: {
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    bandwidth: { ingressRate: 1 },
  },
};

describe('buildPluginConfig', () => {
  it("injects the list's name and cniVersion over the plugin's own", () => {
    const c = JSON.parse(buildPluginConfig(list, list.plugins[0]!, undefined, rt));
    expect(c).toMatchObject({ name: 'net', cniVersion: '0.4.0', type: 'bridge' });
    expect(c.prevResult).toBeUndefined();
    expect(c.runtimeConfig).toBeUndefined();
  });
  it('replaces runtimeConfig with only the enabled, provided capabilities, keeps "capabilities", writes Go\'s bytes', () => {
    const prev = parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 0 }] }, '1.0.0');
    const text = buildPluginConfig(list, list.plugins[1]!, prev, rt);
    // libcni passes the previous plugin's result as it decoded it (no conversion) and re-sorts every key
    expect(text).toBe(
      '{"capabilities":{"bandwidth":false,"portMappings":true},"cniVersion":"0.4.0","name":"net",' +
        '"prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","interface":0}]},' +
        '"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"snat":true,"type":"portmap"}',
    );
  });
});

describe('results', () => {
  it('converts a 0.2.0 result (ip4) to the current shape', () => {
    const r = parseResult(
      { cniVersion: '0.2.0', ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] } },
      '0.2.0',
    );
    expect(r.ips).toEqual([{ address: '10.1.0.5/16', gateway: '10.1.0.1' }]);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0' }]);
  });
  it('drops "version" going to 1.0.0', () => {
    const r = convertResult({ cniVersion: '0.4.0', ips: [{ address: 'fd00::2/64', version: '6' }] }, '1.0.0');
    expect(r.ips).toEqual([{ address: 'fd00::2/64' }]);
  });
  it('takes the pod IPs from eth0, IPv4 first, the rest additional (containerd selectPodIPs)', () => {
    const r = parseResult(
      {
        cniVersion: '1.0.0',
        interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/x' }],
        ips: [
          { address: 'fd00::5/64', interface: 2 },
          { address: '10.244.1.5/24', interface: 2, gateway: '10.244.1.1' },
          { address: '192.0.2.9/24', interface: 0 },
        ],
      },
      '1.0.0',
    );
    expect(podIpsFromResult(r)).toEqual({ ip: '10.244.1.5', additionalIps: ['fd00::5'] });
  });
  it('finds no pod IP when eth0 has none', () => {
    expect(
      podIpsFromResult({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/x' }], ips: [] }),
    ).toBeUndefined();
  });
});

describe('versions', () => {
  it('compares numerically and negotiates within 1.1.0', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(negotiateVersion(['0.3.1', '1.1.0', '1.2.0'])).toBe('1.1.0');
    expect(negotiateVersion(['2.0.0'])).toBeUndefined();
  });
});
