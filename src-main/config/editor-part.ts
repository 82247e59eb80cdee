// The CNI config editor's engine part: a node's /etc/cni/net.d (list, read, create, rename, delete,
// atomic save), lint with the node's own checks, and the run panel (ADD/CHECK/DEL/VERSION/STATUS/GC
// against a pod or a namespace of its own, with each plugin's stdin/stdout and the diff).
import { basename } from 'node:path';
import { confListFromFileText } from '../cni/conf.js';
import { lintInContext, subnetsOfText, type NodeLintContext } from '../cni/lint/context.js';
import type { LintProblem as Problem } from '../cni/lint/check.js';
import type { RuntimeConf } from '../cni/libcni.js';
import { ApiError, type Params, type PodnetApi, type Result } from '../api/contract.js';
import type { Session, SessionPart } from '../session/session.js';
import { NODE_PATHS } from '../world/world.js';
import { nodeFolder } from '../fs/world-files.js';
import { ConfDir, ConfigFileError } from './files.js';
import { describeError, runVerb } from './run.js';

type ConfigMethods =
  `config.${'files' | 'read' | 'save' | 'create' | 'rename' | 'delete' | 'lint' | 'targets' | 'run'}`;

/** A problem without its file (the request named it). */
const strip = (p: Problem): Omit<Problem, 'file'> => {
  const out: Partial<Problem> = { ...p };
  delete out.file;
  return out as Omit<Problem, 'file'>;
};

export class ConfigEditorPart implements SessionPart, Pick<PodnetApi, ConfigMethods> {
  private session: Session | undefined;
  /** The editor's own namespaces per node (name → netns path). */
  private scratch = new Map<string, Map<string, string>>();
  /** VERSION answers per node and plugin: a binary does not change its mind within a session. */
  private versions = new Map<string, Promise<string[] | undefined>>();
  /** One operation at a time per node: a save and a run never interleave. */
  private tails = new Map<string, Promise<unknown>>();

  attach(session: Session): void {
    this.session = session;
  }

  detach(): void {
    this.session = undefined;
    this.scratch.clear();
    this.versions.clear();
    this.tails.clear();
  }

  private need(node: string): { s: Session; dir: ConfDir } {
    const s = this.session;
    if (!s) throw new ApiError('failed', 'no world is running: start one first');
    const n = s.world.nodes.get(node);
    if (!n) throw new ApiError('failed', `no node "${node}" in this world`);
    return { s, dir: new ConfDir(nodeFolder(s.world, node, 'confDir'), NODE_PATHS.confDir) };
  }

  private serial<T>(node: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(node) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.tails.set(
      node,
      next.catch(() => {}),
    );
    return next;
  }

  /** wrap's answer as a promise: a throw becomes a rejection, as from an async method. */
  private answer<T>(fn: () => T): Promise<T> {
    return new Promise((resolve) => resolve(this.wrap(fn)));
  }

  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ApiError) throw e;
      if (e instanceof ConfigFileError) throw new ApiError('failed', e.message);
      throw new ApiError('failed', (e as Error).message);
    }
  }

  private filesOf(node: string): Result<'config.files'> {
    const { s, dir } = this.need(node);
    const loaded = s.kubelet.runtime(node).loadNetworkConfig();
    const byName = new Map(loaded.files.map((f) => [basename(f.file), f]));
    const files = dir.list().map((f) => {
      const l = byName.get(f.name);
      return { ...f, active: !!l?.list && loaded.network === l.list, ...(l?.error ? { error: l.error.message } : {}) };
    });
    return { node, dir: NODE_PATHS.confDir, files, ...(loaded.network ? { network: loaded.network.name } : {}) };
  }

  private context(node: string): NodeLintContext {
    const { s } = this.need(node);
    const rt = s.kubelet.runtime(node);
    const loaded = rt.loadNetworkConfig();
    return {
      node,
      binDir: NODE_PATHS.binDir,
      hasPlugin: (t) => rt.cni.host.findPlugin(t) !== undefined,
      versionsOf: (t) => {
        const key = `${node}/${t}`;
        if (!this.versions.has(key))
          this.versions.set(
            key,
            rt.cni.getVersionInfo(t).then(
              (v) => v.supportedVersions,
              () => undefined,
            ),
          );
        return this.versions.get(key)!;
      },
      siblings: loaded.files.map((f) => ({ name: basename(f.file), valid: !!f.list })),
      otherNodes: [...s.world.nodes.keys()]
        .filter((n) => n !== node)
        .flatMap((n) => {
          const net = s.kubelet.runtime(n).loadNetworkConfig().network;
          return net ? [{ node: n, subnets: subnetsOfText('network.conflist', net.bytes) }] : [];
        }),
    };
  }

  private async lint(node: string, name: string, text: string) {
    return (await lintInContext(`${NODE_PATHS.confDir}/${name}`, name, text, this.context(node))).map(strip);
  }

  private changed(node: string): void {
    this.session?.emit('config.changed', { node });
  }

  ['config.files'](p: Params<'config.files'>) {
    return this.answer(() => this.filesOf(p.node));
  }

  ['config.read'](p: Params<'config.read'>) {
    return this.answer(() => ({ name: p.name, ...this.need(p.node).dir.read(p.name) }));
  }

  private saved(node: string, name: string) {
    const f = this.filesOf(node).files.find((x) => x.name === name);
    if (!f) throw new ApiError('failed', `${name} vanished right after it was written`);
    return f;
  }

  ['config.save'](p: Params<'config.save'>) {
    return this.serial(p.node, async () => {
      this.wrap(() => this.need(p.node).dir.write(p.name, p.text));
      this.changed(p.node);
      return { file: this.saved(p.node, p.name), problems: await this.lint(p.node, p.name, p.text) };
    });
  }

  ['config.create'](p: Params<'config.create'>) {
    return this.serial(p.node, async () => {
      const text = p.text ?? '';
      this.wrap(() => this.need(p.node).dir.create(p.name, text));
      this.changed(p.node);
      return { file: this.saved(p.node, p.name), problems: text ? await this.lint(p.node, p.name, text) : [] };
    });
  }

  ['config.rename'](p: Params<'config.rename'>) {
    return this.serial(p.node, () =>
      this.answer(() => {
        this.need(p.node).dir.rename(p.from, p.to);
        this.changed(p.node);
        return { ok: true as const };
      }),
    );
  }

  ['config.delete'](p: Params<'config.delete'>) {
    return this.serial(p.node, () =>
      this.answer(() => {
        this.need(p.node).dir.remove(p.name);
        this.changed(p.node);
        return { ok: true as const };
      }),
    );
  }

  async ['config.lint'](p: Params<'config.lint'>) {
    this.need(p.node);
    return { problems: await this.lint(p.node, p.name, p.text) };
  }

  private targetsOf(node: string): Result<'config.targets'> {
    const { s } = this.need(node);
    const pods = [...s.kubelet.pods.values()]
      .filter((pod) => pod.spec.node === node)
      .map((pod) => ({
        kind: 'pod' as const,
        name: pod.spec.name,
        netns: pod.netns,
        containerId: pod.sandboxId,
        attached: true,
      }));
    const own = [...(this.scratch.get(node) ?? new Map<string, string>()).entries()].map(([name, netns]) => ({
      kind: 'new' as const,
      name,
      netns,
      containerId: `editor-${name}`,
      attached: true,
    }));
    return [...pods, ...own];
  }

  ['config.targets'](p: Params<'config.targets'>) {
    return this.answer(() => this.targetsOf(p.node));
  }

  ['config.run'](p: Params<'config.run'>) {
    return this.serial(p.node, async () => {
      const { s } = this.need(p.node);
      const rt = s.kubelet.runtime(p.node);
      let runtime: RuntimeConf;
      let made = false;
      if (p.target.kind === 'pod') {
        const pod = s.kubelet.pods.get(`default/${p.target.pod}`);
        if (!pod || pod.spec.node !== p.node) throw new ApiError('failed', `no pod "${p.target.pod}" on ${p.node}`);
        runtime = {
          containerId: pod.sandboxId,
          netns: pod.netns,
          ifName: 'eth0',
          args: [
            ['IgnoreUnknown', '1'],
            ['K8S_POD_NAMESPACE', 'default'],
            ['K8S_POD_NAME', pod.spec.name],
            ['K8S_POD_INFRA_CONTAINER_ID', pod.sandboxId],
          ],
          capabilityArgs: {},
        };
      } else {
        const mine = this.scratch.get(p.node) ?? new Map<string, string>();
        this.scratch.set(p.node, mine);
        let netns = mine.get(p.target.name);
        if (!netns) {
          if (s.kubelet.pods.has(`default/${p.target.name}`))
            throw new ApiError(
              'failed',
              `"${p.target.name}" is a pod of the kubelet: choose it as a pod, or pick another name`,
            );
          netns = `${NODE_PATHS.netnsDir}/editor-${p.target.name}`;
          if (p.verb === 'ADD') {
            // the kernel side of a new pod: a pinned namespace with lo up, as containerd makes one
            await s.world.run({ kind: 'node', node: p.node }, [
              'sh',
              '-ec',
              `ip netns add editor-${p.target.name}\nip -n editor-${p.target.name} link set lo up`,
            ]);
            mine.set(p.target.name, netns);
            made = true;
          }
        }
        runtime = {
          containerId: `editor-${p.target.name}`,
          netns,
          ifName: 'eth0',
          args: [['IgnoreUnknown', '1']],
          capabilityArgs: {},
        };
      }
      const target = {
        kind: p.target.kind,
        name: p.target.kind === 'pod' ? p.target.pod : p.target.name,
        netns: runtime.netns,
        containerId: runtime.containerId,
        attached: true,
      };
      let list;
      try {
        list = confListFromFileText(`${NODE_PATHS.confDir}/${p.name}`, p.text);
      } catch (e) {
        // only a file libcni cannot load is refused (lint warnings never are): the load error is the report
        if (made) await this.dropScratch(p.node, p.target.kind === 'new' ? p.target.name : '');
        return {
          verb: p.verb,
          ok: false,
          note: 'containerd cannot load this file (libcni refuses it), so nothing was run; a file libcni loads always runs, whatever its lint warnings',
          error: describeError(e),
          execs: [],
          diff: [],
          target: { ...target, attached: false },
        };
      }
      const valid = this.targetsOf(p.node).map((t) => ({ containerId: t.containerId, ifName: 'eth0' }));
      const report = await runVerb({
        world: s.world,
        node: p.node,
        exec: rt.cni,
        list,
        verb: p.verb,
        rt: runtime,
        valid,
      });
      let attached = true;
      if (p.target.kind === 'new' && p.verb === 'DEL') {
        // a namespace of the editor's own goes with its DEL, even a failed one (the report shows why it failed)
        await this.dropScratch(p.node, p.target.name);
        attached = false;
      }
      if (p.target.kind === 'pod') s.podsChanged();
      return { ...report, target: { ...target, attached } };
    });
  }

  private async dropScratch(node: string, name: string): Promise<void> {
    const s = this.session;
    const mine = this.scratch.get(node);
    if (!s || !mine?.has(name)) return;
    mine.delete(name);
    await s.world.exec({ kind: 'node', node }, ['ip', 'netns', 'del', `editor-${name}`]).catch(() => undefined);
  }
}
