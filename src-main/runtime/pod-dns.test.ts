import { describe, expect, it } from 'vitest';
import { DEFAULT_KUBELET_DNS, parseResolvConf, podDnsConfig, resolvConfText } from './pod-dns.js';

const NODE = 'nameserver 192.0.2.11\nsearch lab.example\noptions edns0\n';

describe('podDnsConfig (kubelet GetPodDNS)', () => {
  it("ClusterFirst: cluster DNS, the namespace search list then the node's, ndots:5", () => {
    const { config, warnings } = podDnsConfig({ namespace: 'team-a' }, DEFAULT_KUBELET_DNS, NODE);
    expect(config).toEqual({
      servers: ['10.96.0.10'],
      searches: ['team-a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lab.example'],
      options: ['ndots:5'],
    });
    expect(warnings).toEqual([]);
    expect(resolvConfText(config)).toBe(
      'search team-a.svc.cluster.local svc.cluster.local cluster.local lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  it('ClusterFirstWithHostNet is ClusterFirst; ClusterFirst on the host network falls back to the node', () => {
    expect(
      podDnsConfig(
        { namespace: 'default', dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
        DEFAULT_KUBELET_DNS,
        NODE,
      ).config.servers,
    ).toEqual(['10.96.0.10']);
    expect(
      podDnsConfig({ namespace: 'default', dnsPolicy: 'ClusterFirst', hostNetwork: true }, DEFAULT_KUBELET_DNS, NODE)
        .config.servers,
    ).toEqual(['192.0.2.11']);
  });

  it('ClusterFirst without cluster DNS falls back to Default, with a warning', () => {
    const r = podDnsConfig({ namespace: 'default' }, { clusterDNS: [], clusterDomain: 'cluster.local' }, NODE);
    expect(r.config).toEqual(parseResolvConf(NODE));
    expect(r.warnings[0]).toMatch(/Falling back to "Default" policy/);
  });

  it("Default: the node's resolv.conf, its options too", () => {
    expect(podDnsConfig({ namespace: 'default', dnsPolicy: 'Default' }, DEFAULT_KUBELET_DNS, NODE).config).toEqual({
      servers: ['192.0.2.11'],
      searches: ['lab.example'],
      options: ['edns0'],
    });
  });

  it("None: only the pod's dnsConfig", () => {
    const r = podDnsConfig(
      {
        namespace: 'default',
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['10.96.0.10'],
          searches: ['default.svc.cluster.local'],
          options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }],
        },
      },
      DEFAULT_KUBELET_DNS,
      NODE,
    );
    expect(resolvConfText(r.config)).toBe(
      'search default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:1 edns0\n',
    );
    expect(() => podDnsConfig({ namespace: 'default', dnsPolicy: 'None' }, DEFAULT_KUBELET_DNS, NODE)).toThrow(
      'dnsPolicy None needs a dnsConfig',
    );
  });

  it('dnsConfig is appended without duplicates, and its options override by name', () => {
    const r = podDnsConfig(
      {
        namespace: 'default',
        dnsConfig: {
          nameservers: ['10.96.0.10', '192.0.2.53'],
          searches: ['cluster.local', 'extra.example'],
          options: [
            { name: 'ndots', value: '2' },
            { name: 'timeout', value: '1' },
          ],
        },
      },
      DEFAULT_KUBELET_DNS,
      NODE,
    );
    expect(r.config).toEqual({
      servers: ['10.96.0.10', '192.0.2.53'],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lab.example', 'extra.example'],
      options: ['ndots:2', 'timeout:1'],
    });
  });

  it('cuts to 3 nameservers and 32 search domains, and says so', () => {
    const r = podDnsConfig(
      {
        namespace: 'default',
        dnsConfig: {
          nameservers: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
          searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`),
        },
      },
      DEFAULT_KUBELET_DNS,
      NODE,
    );
    expect(r.config.servers).toEqual(['10.96.0.10', '10.0.0.1', '10.0.0.2']);
    expect(r.config.searches).toHaveLength(32);
    expect(r.config.searches.slice(0, 4)).toEqual([
      'default.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'lab.example',
    ]);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^Nameserver limits were exceeded.*10\.0\.0\.2$/),
      expect.stringMatching(/^Search Line limits were exceeded/),
    ]);
  });

  it('cuts a search line longer than 2048 characters', () => {
    const long = Array.from({ length: 20 }, (_, i) => `${'x'.repeat(120)}${i}.example`);
    const r = podDnsConfig(
      { namespace: 'default', dnsPolicy: 'None', dnsConfig: { searches: long } },
      DEFAULT_KUBELET_DNS,
      NODE,
    );
    expect(r.config.searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(r.config.searches.length).toBeLessThan(20);
    expect(r.warnings).toHaveLength(1);
  });

  it('reads resolv.conf as the resolver does: comments, the last search line, a trailing dot', () => {
    expect(
      parseResolvConf('# c\nnameserver 1.1.1.1 # x\nsearch a.example\nsearch b.example. .\noptions ndots:2 rotate\n'),
    ).toEqual({ servers: ['1.1.1.1'], searches: ['b.example'], options: ['ndots:2', 'rotate'] });
  });
});
