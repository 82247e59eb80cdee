// podnet cni add|check|del|version: run a node's CNI config against a pod netns by hand, as
// cnitool does, from a terminal on a node of a lab world. It never runs on the host itself.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultCache } from '../cni/cache.js';
import { Beneath } from '../fs/beneath.js';
import { loadConfDir, confListFromFileText, type ConfList, type JsonObject } from '../cni/conf.js';
import type { PluginHost, PluginRunResult, PluginExecRecord } from '../cni/invoke.js';
import { CniExecutor, type RuntimeConf } from '../cni/libcni.js';
import { UsageError } from './usage-error.js';

/** Runs plugins in the current namespaces: only ever used inside a world's node. */
export class LocalPluginHost implements PluginHost {
  constructor(readonly cniPath: string[]) {}
  findPlugin(type: string): string | undefined {
    for (const d of this.cniPath) {
      const p = join(d, type);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
    return undefined;
  }
  describeSearch(): string {
    return `searched ${this.cniPath.join(', ')}`;
  }
  baseEnv(): Record<string, string> {
    return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  }
  runPlugin(path: string, env: Record<string, string>, stdin: string, timeoutMs: number): Promise<PluginRunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(Object.assign(e, { errno: (e as NodeJS.ErrnoException).code === 'ETXTBSY' ? 26 : undefined }));
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code, signal: sig ? (osConstants.signals[sig] ?? null) : null, stdout, stderr, timedOut });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    });
  }
}

export interface CniCommandArgs {
  verb: 'add' | 'check' | 'del' | 'version';
  positional: string[];
  net?: string;
  conf?: string;
  id?: string;
  ifname?: string;
  args?: string;
  capArgs?: string;
  verbose?: boolean;
}

export async function cniCommand(
  a: CniCommandArgs,
  print: (s: string) => void,
  printErr: (s: string) => void,
): Promise<number> {
  if (!process.env.PODNET_NODE) {
    throw new UsageError(
      'podnet cni runs CNI plugins in the current network namespace, so it only runs on a node of a lab world (PODNET_NODE is not set). Open a terminal on a node, or use "podnet trace".',
    );
  }
  const cniPath = (process.env.CNI_PATH ?? '/opt/cni/bin').split(':').filter(Boolean);
  const exec = new CniExecutor(
    new LocalPluginHost(cniPath),
    new ResultCache(new Beneath(process.env.CNI_CACHE_DIR ?? '/var/lib/cni')),
    {
      ...(a.verbose
        ? {
            onExec: (r: PluginExecRecord) =>
              printErr(
                `# ${r.plugin} ${r.command} (exit ${r.exitCode})\n# stdin:  ${r.stdin}\n# stdout: ${r.stdout.trim()}${r.stderr ? `\n# stderr: ${r.stderr.trim()}` : ''}`,
              ),
          }
        : {}),
    },
  );
  if (a.verb === 'version') {
    if (!a.positional.length) throw new UsageError('usage: podnet cni version TYPE...');
    for (const t of a.positional) {
      const v = await exec.getVersionInfo(t);
      print(`${t}: CNI ${v.supportedVersions.join(', ')}`);
    }
    return 0;
  }
  const netnsArg = a.positional[0];
  if (!netnsArg || a.positional.length > 1)
    throw new UsageError(`usage: podnet cni ${a.verb} [--net NAME | --conf FILE] [--id ID] [--ifname eth0] NETNS`);
  const netns = netnsArg.includes('/') ? netnsArg : `/run/netns/${netnsArg}`;
  let list: ConfList | undefined;
  if (a.conf) {
    list = confListFromFileText(a.conf, readFileSync(a.conf, 'utf8'));
  } else {
    const dir = process.env.NETCONFPATH ?? '/etc/cni/net.d';
    const cfg = loadConfDir(new Beneath(dir));
    for (const f of cfg.files) if (f.error) printErr(`warning: ${f.error.message}`);
    list = a.net ? cfg.files.find((f) => f.list?.name === a.net)?.list : cfg.network;
    if (!list)
      throw new UsageError(a.net ? `no valid network "${a.net}" in ${dir}` : `no valid network config in ${dir}`);
  }
  // As cnitool: a container ID derived from the netns path, unless given.
  const id = a.id ?? `podnet-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;
  let capabilityArgs: JsonObject = {};
  if (a.capArgs) {
    try {
      capabilityArgs = JSON.parse(a.capArgs) as JsonObject;
    } catch (e) {
      throw new UsageError(`--cap-args is not JSON: ${(e as Error).message}`);
    }
  }
  const rt: RuntimeConf = {
    containerId: id,
    netns,
    ifName: a.ifname ?? 'eth0',
    args: (a.args ?? '')
      .split(';')
      .filter(Boolean)
      .map((kv) => {
        const eq = kv.indexOf('=');
        if (eq < 1) throw new UsageError(`--args: "${kv}" is not KEY=VALUE`);
        return [kv.slice(0, eq), kv.slice(eq + 1)] as [string, string];
      }),
    capabilityArgs,
  };
  if (a.verb === 'add') print(JSON.stringify(await exec.addNetworkList(list, rt), null, 2));
  else if (a.verb === 'del') await exec.delNetworkList(list, rt);
  else {
    const r = await exec.checkNetworkList(list, rt);
    if (r.skipped) printErr(`CHECK skipped: network "${list.name}" sets disableCheck`);
  }
  return 0;
}
