// The executor's own guards and concurrency, with test-instrument plugins on the host (they touch only
// their temp folder): two networks of one sandbox really run their ADDs at the same time (go-cni
// attaches them in parallel, and libcni has no lock), and a hung plugin is stopped by the lab's guard.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalPluginHost } from '../src-main/cli/cni-command.js';
import { ResultCache } from '../src-main/cni/cache.js';
import { confListFromText } from '../src-main/cni/conf.js';
import type { PluginExecRecord } from '../src-main/cni/invoke.js';
import { CniExecutor } from '../src-main/cni/libcni.js';
import { Beneath } from '../src-main/fs/beneath.js';

const base = mkdtempSync(join(tmpdir(), 'cni-exec-host-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function install(name: string, script: string): { bin: string; dir: string } {
  const dir = join(base, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'cache'));
  writeFileSync(join(dir, 'bin', name), script);
  chmodSync(join(dir, 'bin', name), 0o755);
  return { bin: join(dir, 'bin'), dir };
}

const list = (name: string, type: string) =>
  confListFromText(JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type }] }));

describe('CniExecutor on the host', () => {
  it("runs two networks' ADD for one sandbox at the same time (no per-container lock)", async () => {
    // rendezvous-plugin: leaves its mark, then waits for the other network's; serial ADDs never meet
    const { bin, dir } = install(
      'rendezvous',
      `#!/bin/sh
here=$(dirname "$0")/..
cat >/dev/null
touch "$here/mark.$CNI_IFNAME"
other=lo; [ "$CNI_IFNAME" = lo ] && other=eth0
i=0
while [ ! -e "$here/mark.$other" ]; do
  i=$((i+1))
  if [ $i -gt 200 ]; then echo '{"code":11,"msg":"the other network never came: the ADDs did not overlap"}'; exit 1; fi
  sleep 0.05
done
echo '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}'
`,
    );
    const exec = new CniExecutor(new LocalPluginHost([bin]), new ResultCache(new Beneath(join(dir, 'cache'))));
    const rt = {
      containerId: 'sb1',
      netns: '/var/run/netns/cni-x',
      args: [] as [string, string][],
      capabilityArgs: {},
    };
    const [lo, pod] = await Promise.all([
      exec.addNetworkList(list('cni-loopback', 'rendezvous'), { ...rt, ifName: 'lo' }),
      exec.addNetworkList(list('podnet', 'rendezvous'), { ...rt, ifName: 'eth0' }),
    ]);
    expect([lo.ips, pod.ips]).toEqual([[{ address: '10.0.0.2/24' }], [{ address: '10.0.0.2/24' }]]);
  });

  it("stops a hung plugin with the lab's own guard, and says it is the lab's, not containerd's", async () => {
    const { bin, dir } = install('hang', '#!/bin/sh\nexec sleep 30\n');
    const recs: PluginExecRecord[] = [];
    const exec = new CniExecutor(new LocalPluginHost([bin]), new ResultCache(new Beneath(join(dir, 'cache'))), {
      timeoutMs: 500,
      onExec: (r) => recs.push(r),
    });
    const e = await exec
      .addNetworkList(list('podnet', 'hang'), {
        containerId: 'sb2',
        netns: '/x',
        ifName: 'eth0',
        args: [],
        capabilityArgs: {},
      })
      .then(
        () => undefined,
        (err: Error) => err,
      );
    const guard =
      'the lab stopped plugin "hang" after 0.5 s of ADD (its own guard against a hung plugin: containerd has no per-plugin timeout; the CRI call\'s own deadline is 4 min)';
    expect(e?.message).toBe(`plugin type="hang" failed (add): ${guard}`);
    // the trace record names the guard too
    expect(recs.map((r) => r.error)).toEqual([guard]);
  });
});
