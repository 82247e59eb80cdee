// The differential test's scenarios: the same pods and faults through the model and the real containerd.
import { bridgeConfList } from '../../src-main/cni/defaults.js';
import type { World } from '../../src-main/world/world.js';
import type { Scenario } from './observe.js';

const CIDR = '10.244.1.0/24';
const FILE = '10-podnet.conflist';
const conflist = (plugins: unknown[], cniVersion = '1.0.0') =>
  JSON.stringify({ cniVersion, name: 'podnet', plugins }, null, 2) + '\n';
const bridge = {
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipMasq: false,
  ipam: { type: 'host-local', ranges: [[{ subnet: CIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
};

async function inNode(w: World, script: string): Promise<void> {
  await w.run({ kind: 'node', node: 'node1' }, ['sh', '-ec', script]);
}

/** A plugin of the lab's that fails ADD with a CNI error (and succeeds at DEL, as a plugin must). */
const FAILING_PLUGIN = `#!/bin/sh
cat >/dev/null
if [ "$CNI_COMMAND" = ADD ]; then
  echo '{"cniVersion":"1.0.0","code":11,"msg":"no route to the lab","details":"the failing plugin failed on purpose"}'
  exit 1
fi
[ "$CNI_COMMAND" = VERSION ] && echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}'
exit 0
`;

export const SCENARIOS: Scenario[] = [
  {
    name: 'the default network (bridge + host-local, portmap), loopback plugin',
    conf: { [FILE]: bridgeConfList(CIDR) },
    expect: { interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'internal loopback (use_internal_loopback = true)',
    conf: { [FILE]: bridgeConfList(CIDR) },
    loopback: 'internal',
    expect: { interfaces: ['eth0'] },
  },
  {
    name: 'a hostPort (portMappings)',
    conf: { [FILE]: bridgeConfList(CIDR) },
    pod: {
      containers: [
        { name: 'httpd', command: ['httpd', '-f', '-p', '80'], ports: [{ containerPort: 80, hostPort: 8080 }] },
      ],
    },
    expect: { interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'bandwidth annotations',
    conf: {
      [FILE]: conflist([
        bridge,
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ]),
    },
    pod: { annotations: { 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '20M' } },
    expect: { interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'a DNS config (dnsPolicy None)',
    conf: { [FILE]: bridgeConfList(CIDR) },
    pod: {
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['192.0.2.53'], searches: ['lab.example'], options: [{ name: 'ndots', value: '2' }] },
    },
    expect: { interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'a plugin that fails on ADD',
    conf: { [FILE]: conflist([bridge, { type: 'podnet-fail' }]) },
    before: (w) =>
      inNode(w, `cat > /opt/cni/bin/podnet-fail <<'EOF'\n${FAILING_PLUGIN}EOF\nchmod 755 /opt/cni/bin/podnet-fail`),
    expect: { setupError: /no route to the lab/, interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'a broken config (NotReady)',
    conf: { [FILE]: '{ "cniVersion": "1.0.0", "name": "podnet", "plugins": [ {"type": "bridge",, } ] }\n' },
    expect: { notReady: true, setupError: /network is not ready/, interfaces: [] },
  },
  {
    name: 'a missing plugin',
    conf: { [FILE]: conflist([bridge, { type: 'no-such-plugin' }]) },
    expect: { setupError: /no-such-plugin/, interfaces: ['eth0', 'lo'] },
  },
  {
    name: 'teardown with the config removed',
    conf: { [FILE]: bridgeConfList(CIDR) },
    afterSetup: (w) => inNode(w, `rm /etc/cni/net.d/${FILE}`),
    expect: { interfaces: ['eth0', 'lo'], killError: /cni plugin not initialized|no network config/ },
  },
];
