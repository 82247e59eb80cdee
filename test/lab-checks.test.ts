// The check vocabulary against a real world: each kind passes on the fact it names, and fails with
// what it expected and what it found.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateChecks, type CheckContext } from '../src-main/labs/checks.js';
import type { LintError } from '../src-main/labs/format.js';
import { parseStep } from '../src-main/labs/loader.js';
import { buildWorld } from '../src-main/session/world-spec.js';
import { bridgeConfList } from '../src-main/cni/defaults.js';

let ctx: CheckContext;

beforeAll(async () => {
  ctx = await buildWorld({
    nodes: ['node1', 'node2'],
    loopback: 'internal',
    configs: { node1: { file: '10-podnet.conflist', text: bridgeConfList('10.244.1.0/24') }, node2: undefined },
    pods: [{ name: 'web', node: 'node1' }],
    prepare: [{ on: 'node1', run: 'ip netns add demo\nip link add v0 type veth peer name v1 netns demo' }],
  });
}, 60_000);
afterAll(async () => {
  await ctx?.world.destroy();
});

/** Evaluates a ```check block's YAML. */
async function check(yaml: string) {
  const errors: LintError[] = [];
  const step = parseStep(
    `# T\n\n\`\`\`check\n${yaml}\n\`\`\`\n\n\`\`\`solution node1\ntrue\n\`\`\`\n`,
    't.md',
    0,
    errors,
  );
  expect(errors).toEqual([]);
  return evaluateChecks(ctx, step.checks);
}

describe('checks', () => {
  it('link: kind, state, up, master, peer, absent', async () => {
    const r = await check(`- {link: eth0, in: pod/web, kind: veth, state: UP, peer: node1}
- {link: v0, in: node1, peer: node1/demo, up: false}
- {link: v1, in: node1/demo, state: UP}
- {link: cni0, in: node1, master: br9}
- {link: nope, in: node1}
- {link: v0, in: node1, absent: true}
- {link: lo, in: node1/missing}`);
    expect(r.map((x) => x.ok)).toEqual([true, true, false, false, false, false, false]);
    expect(r[2]).toMatchObject({ expected: 'node1/demo has link v1 (UP)', found: 'v1 is DOWN' });
    expect(r[3]!.found).toBe('cni0 has no master');
    expect(r[4]!.found).toMatch(/^no link nope \(links: lo, eth0, .*v0.*\)$/);
    expect(r[5]!.found).toMatch(/^v0 exists \(veth, /);
    expect(r[6]!.found).toBe('no network namespace "missing" on node1 (ip netns list shows none)');
  });

  it('address, route, ping', async () => {
    const r = await check(`- {address: 10.244.1.0/24, in: pod/web, dev: eth0}
- {address: 10.9.0.0/16, in: pod/web}
- {route: default, in: pod/web, via: 10.244.1.1}
- {route: 10.244.2.0/24, in: node1}
- {ping: pod/web, from: node1}
- {ping: 10.244.1.99, from: node1}
- {ping: 10.244.1.99, from: node1, fails: true}
- {ping: 8.8.8.8, from: node1}`);
    expect(r.map((x) => x.ok)).toEqual([true, false, true, false, true, false, true, false]);
    expect(r[1]!.found).toBe('127.0.0.1/8 on lo, 10.244.1.2/24 on eth0');
    expect(r[3]!.found).toMatch(/^routes: .*10\.244\.1\.0\/24 dev cni0.*192\.0\.2\.0\/24 dev eth0/);
    expect(r[5]!.found).toMatch(/100% packet loss/);
    // nothing is sent outside the lab's ranges
    expect(r[7]!.found).toMatch(/outside the lab's ranges/);
  });

  it('file, pod-ready, node-ready, no-veth, script', async () => {
    const r = await check(`- {file: /etc/cni/net.d/10-podnet.conflist, on: node1, contains: host-local}
- {file: /etc/cni/net.d/10-podnet.conflist, on: node2}
- {pod-ready: web}
- {pod-ready: db}
- {node-ready: node2}
- {node-ready: node2, ready: false}
- {no-veth: node2}
- {no-veth: node1}
- {script: "echo looked at eth0; exit 3", in: pod/web}`);
    expect(r.map((x) => x.ok)).toEqual([true, false, true, false, false, true, true, false, false]);
    expect(r[1]!.found).toBe('/etc/cni/net.d/10-podnet.conflist does not exist');
    expect(r[3]!.found).toBe('no pod db');
    expect(r[4]!.found).toBe(
      'NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    );
    expect(r[7]!.found).toMatch(/^veths: .*\(on cni0\).*v0/);
    expect(r[8]).toMatchObject({ expected: 'script in pod/web succeeds', found: 'looked at eth0' });
  });
});
