// The checks engine: each declarative check read from the world (ip -json through netview's
// snapshot, the kubelet's pods, the node's files) and answered with what it expected and what it found.
import { resolveTopology } from '../netview/resolve.js';
import { readNamespace, targetKey, type NetSnapshot } from '../netview/snapshot.js';
import type { Kubelet } from '../runtime/kubelet.js';
import { nodeFolder } from '../fs/world-files.js';
import type { Target, World } from '../world/world.js';
import { TIME_LIMITS, type Check, type CheckSpecOf } from './format.js';
import { quoteCommand } from '../session/world-spec.js';

export interface CheckContext {
  world: World;
  kubelet: Kubelet;
  /** Seconds a script check may run (the lab's world.timeLimits.script); TIME_LIMITS.script.default if not given. */
  scriptTimeLimitS?: number;
}

export interface CheckResult {
  id: string;
  title: string;
  ok: boolean;
  /** Set when the check fails: what it wanted, and what the world has instead. */
  expected?: string;
  found?: string;
}

class Unresolved extends Error {}

/** A namespace reference as a World target; throws Unresolved (a finding, not a bug) if it is not there. */
export function resolveNs(ctx: CheckContext, ref: string): Target {
  const [a, b] = ref.split('/') as [string, string | undefined];
  if (a === 'pod') {
    const pod = ctx.kubelet.podByName(b ?? '');
    if (!pod) throw new Unresolved(`no pod ${b}`);
    // a hostNetwork pod has no netns of its own: its network is its node's
    if (!pod.netns) return { kind: 'node', node: pod.spec.node };
    return { kind: 'pod', node: pod.spec.node, netns: pod.netns, sandboxPid: pod.sandboxPid };
  }
  if (!ctx.world.nodes.has(a)) throw new Unresolved(`no node ${a}`);
  if (!b) return { kind: 'node', node: a };
  if (!nodeFolder(ctx.world, a, 'netnsDir').exists(b))
    throw new Unresolved(`no network namespace "${b}" on ${a} (ip netns list shows none)`);
  return { kind: 'pod', node: a, netns: `/run/netns/${b}` };
}

function inSubnet(ip: string, subnet: string): boolean {
  const [net, bits] = subnet.split('/') as [string, string];
  const n = (s: string) => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && (n(ip) & mask) >>> 0 === (n(net) & mask) >>> 0;
}

const list = (xs: string[], none = 'none') => (xs.length ? xs.join(', ') : none);

/** One evaluation: namespaces are read once, however many checks look at them. */
export class Evaluation {
  private readonly snaps = new Map<string, Promise<NetSnapshot>>();
  constructor(readonly ctx: CheckContext) {}

  snapshot(t: Target): Promise<NetSnapshot> {
    const k = targetKey(t);
    let p = this.snaps.get(k);
    if (!p) this.snaps.set(k, (p = readNamespace(this.ctx.world, t)));
    return p;
  }

  /** Starts reading the namespaces these checks look at (a reference that does not resolve is left to its check). */
  readAhead(checks: Check[]): void {
    // a failed read is its check's finding: the check awaits the same promise
    for (const check of checks) for (const t of namespacesOf(this.ctx, check)) this.snapshot(t).catch(() => {});
  }

  async run(check: Check): Promise<CheckResult> {
    const base = { id: check.id, title: check.title };
    try {
      const r = await this.evaluate(check);
      return r === true ? { ...base, ok: true } : { ...base, ok: false, expected: r.expected, found: r.found };
    } catch (e) {
      return {
        ...base,
        ok: false,
        expected: check.title,
        found: e instanceof Unresolved ? e.message : `could not check: ${(e as Error).message.split('\n')[0]}`,
      };
    }
  }

  private async evaluate(check: Check): Promise<true | { expected: string; found: string }> {
    const s = check.spec as Record<string, unknown>;
    const fail = (found: string) => ({ expected: check.title, found });
    switch (check.kind) {
      case 'link': {
        const c = s as CheckSpecOf<'link'>;
        const t = resolveNs(this.ctx, c.in);
        const snap = await this.snapshot(t);
        const l = snap.links.find((x) => x.name === c.link);
        if (c.absent) return l ? fail(`${c.link} exists (${l.kind ?? 'device'}, ${l.state})`) : true;
        if (!l) return fail(`no link ${c.link} (links: ${list(snap.links.map((x) => x.name))})`);
        if (c.kind && l.kind !== c.kind) return fail(`${c.link} is ${l.kind ? `a ${l.kind}` : 'not a virtual device'}`);
        if (c.state && l.state !== c.state) return fail(`${c.link} is ${l.state}`);
        if (c.up !== undefined && l.flags.includes('UP') !== c.up)
          return fail(`${c.link} is ${c.up ? 'down' : 'up'} (flags ${l.flags.join(',')})`);
        if (c.master && l.master !== c.master)
          return fail(l.master ? `${c.link} is on ${l.master}` : `${c.link} has no master`);
        if (c.peer) {
          const pt = resolveNs(this.ctx, c.peer);
          if (l.kind !== 'veth') return fail(`${c.link} is not a veth`);
          const topo = resolveTopology([snap, await this.snapshot(pt)]);
          const peer = topo.peerOf(t, c.link);
          if (!peer || targetKey(peer.target) !== targetKey(pt))
            return fail(`the other end of ${c.link} is not in ${c.peer}`);
        }
        return true;
      }
      case 'address': {
        const c = s as CheckSpecOf<'address'>;
        const snap = await this.snapshot(resolveNs(this.ctx, c.in));
        const v4 = snap.addrs.filter((a) => a.family === 'inet' && (!c.dev || a.ifname === c.dev));
        const hit = v4.find((a) => inSubnet(a.local, c.address));
        const shown = list(
          v4.map((a) => `${a.local}/${a.prefixlen} on ${a.ifname}`),
          c.dev ? `no IPv4 address on ${c.dev}` : 'no IPv4 address',
        );
        if (c.absent) return hit ? fail(`${hit.local}/${hit.prefixlen} on ${hit.ifname}`) : true;
        return hit ? true : fail(shown);
      }
      case 'route': {
        const c = s as CheckSpecOf<'route'>;
        const snap = await this.snapshot(resolveNs(this.ctx, c.in));
        const main = snap.routes.filter((r) => r.table === 'main' && r.family === 'inet');
        const hit = main.find(
          (r) => r.dst === c.route && (!c.via || r.gateway === c.via) && (!c.dev || r.dev === c.dev),
        );
        const shown = list(
          main.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`),
          'no IPv4 routes',
        );
        if (c.absent) return hit ? fail(`routes: ${shown}`) : true;
        return hit ? true : fail(`routes: ${shown}`);
      }
      case 'ping': {
        const c = s as CheckSpecOf<'ping'>;
        let ip = c.ping;
        if (ip.startsWith('pod/')) {
          const pod = this.ctx.kubelet.podByName(ip.slice(4));
          if (!pod) return fail(`no pod ${ip.slice(4)}`);
          ip = pod.ip;
        }
        // Only addresses of the lab's own ranges: nothing is ever sent outside the world.
        if (!/^(10\.|192\.0\.2\.|127\.)/.test(ip))
          return fail(`${ip} is outside the lab's ranges (10.0.0.0/8, 192.0.2.0/24, 127.0.0.0/8)`);
        const r = await this.ctx.world.exec(resolveNs(this.ctx, c.from), ['ping', '-c', '1', '-W', '2', ip], {
          timeoutMs: 8000,
        });
        const out = (r.stdout + r.stderr)
          .trim()
          .split('\n')
          .filter((l) => /packets|unreachable|Network|bad|error/i.test(l))
          .join('; ');
        if (c.fails) return r.code === 0 ? fail(`${ip} answered`) : true;
        return r.code === 0 ? true : fail(out || `ping exited ${r.code}`);
      }
      case 'file': {
        const c = s as CheckSpecOf<'file'>;
        const r = await this.ctx.world.exec({ kind: 'node', node: c.on }, [
          'sh',
          '-c',
          'test -e "$1" || exit 3; test -f "$1" && head -c 4096 "$1"; exit 0',
          'sh',
          c.file,
        ]);
        const exists = r.code === 0;
        if (c.absent) return exists ? fail(`${c.file} exists`) : true;
        if (!exists) return fail(`${c.file} does not exist`);
        if (c.contains !== undefined && !r.stdout.includes(c.contains))
          return fail(`${c.file} holds: ${r.stdout.trim().slice(0, 200) || '(empty)'}`);
        return true;
      }
      case 'pod-ready': {
        const name = s['pod-ready'] as string;
        const pod = this.ctx.kubelet.podByName(name);
        if (!pod) return fail(`no pod ${name}`);
        return pod.conditions.Ready
          ? true
          : fail(
              `pod ${name}: ${Object.entries(pod.conditions)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}`,
            );
      }
      case 'node-ready': {
        const c = s as CheckSpecOf<'node-ready'>;
        // the CRI Status call the kubelet makes every 5 s: go-cni Load, then STATUS for a ≥ 1.1.0 list
        const st = await this.ctx.kubelet.runtimeStatus(c['node-ready']);
        const nr = st.conditions.find((x) => x.type === 'NetworkReady')!;
        const want = c.ready !== false;
        if (nr.status === want) return true;
        return fail(nr.status ? 'NetworkReady=true' : `NetworkReady=false reason:${nr.reason} message:${nr.message}`);
      }
      case 'no-veth': {
        const snap = await this.snapshot({ kind: 'node', node: s['no-veth'] as string });
        // the node's own eth0 is its underlay link (a veth to the sandbox's bridge), not a pod's
        const veths = snap.links.filter((l) => l.kind === 'veth' && l.name !== 'eth0');
        return veths.length
          ? fail(`veths: ${veths.map((l) => `${l.name}${l.master ? ` (on ${l.master})` : ''}`).join(', ')}`)
          : true;
      }
      case 'script': {
        const c = s as CheckSpecOf<'script'>;
        const limitS = this.ctx.scriptTimeLimitS ?? TIME_LIMITS.script.default;
        const r = await this.ctx.world.exec(resolveNs(this.ctx, c.in), ['sh', '-ec', c.script], {
          timeoutMs: limitS * 1000,
        });
        if (r.timedOut)
          return fail(
            `the script (${quoteCommand(c.script)}) did not finish within its time limit of ${limitS} s and was stopped (a lab sets the limit in lab.yaml: world.timeLimits.script)`,
          );
        if (r.code === 0) return true;
        const out = (r.stdout + r.stderr).trim();
        return fail(out ? out.slice(-400) : `the script exited ${r.code ?? `on signal ${r.signal}`}`);
      }
    }
  }
}

/** The namespaces a check names (in, from, peer; a no-veth's node) that exist now: the others are its finding. */
export function namespacesOf(ctx: CheckContext, check: Check): Target[] {
  const s = check.spec as Record<string, unknown>;
  const refs = [s.in, s.from, s.peer, s['no-veth']].filter((r): r is string => typeof r === 'string');
  return refs.flatMap((ref) => {
    try {
      return [resolveNs(ctx, ref)];
    } catch {
      return []; // not there yet: its check says so, and a change on its node brings the next evaluation
    }
  });
}

/** The checks that act on the world (a ping changes ARP state; a script may change anything). */
const ACTING: readonly Check['kind'][] = ['ping', 'script'];

/** Evaluates a step's checks against the world as it is now, in order: a ping changes ARP state, so no check races another. */
export async function evaluateChecks(ctx: CheckContext, checks: Check[]): Promise<CheckResult[]> {
  const ev = new Evaluation(ctx);
  // what the checks before the first acting one look at is read at once: the reads see the same world
  const acting = checks.findIndex((c) => ACTING.includes(c.kind));
  ev.readAhead(acting < 0 ? checks : checks.slice(0, acting));
  const out: CheckResult[] = [];
  for (const c of checks) out.push(await ev.run(c));
  return out;
}
