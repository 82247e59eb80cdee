// podnet cluster: a world with its control plane (the real etcd, the lab's API server, node status from
// the kubelet), and a command run on a node with the real kubectl on its PATH — or a shell there.
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';
import { worldShell } from './world-shell.js';

const USAGE = 'usage: podnet cluster [--nodes N] [--on NODE] [--proxy-mode iptables|nftables] [-- COMMAND...]';

export async function clusterCommand(
  args: string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { nodes: { type: 'string' }, on: { type: 'string' }, 'proxy-mode': { type: 'string' } },
  });
  const proxyMode = values['proxy-mode'] ?? 'iptables';
  if (proxyMode !== 'iptables' && proxyMode !== 'nftables')
    throw new UsageError(
      `--proxy-mode must be iptables or nftables (kube-proxy's modes here), not "${proxyMode}"\n${USAGE}`,
    );
  const nodes = values.nodes === undefined ? 2 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 8)
    throw new UsageError(`--nodes must be a whole number from 1 to 8, not "${values.nodes}"\n${USAGE}`);
  const names = Array.from({ length: nodes }, (_, i) => `node${i + 1}`);
  const on = values.on ?? 'node1';
  if (!names.includes(on)) throw new UsageError(`--on ${on}: the world's nodes are ${names.join(', ')}`);
  const [{ buildWorld, clusterWorldSpec }, { startControlPlane }] = await Promise.all([
    import('../session/world-spec.js'),
    import('../cluster/control-plane.js'),
  ]);
  const t0 = performance.now();
  const { world, kubelet } = await buildWorld(clusterWorldSpec(names));
  let plane: Awaited<ReturnType<typeof startControlPlane>> | undefined;
  try {
    const t1 = performance.now();
    // kube-proxy's failures, as its log would show them: each one once, and when it recovers
    const failing = new Map<string, string>();
    const onProxySync = (r: { node: string; error?: string }) => {
      if (r.error && failing.get(r.node) !== r.error) err(`podnet cluster: ${r.error}`);
      else if (!r.error && failing.has(r.node)) err(`podnet cluster: kube-proxy on ${r.node} synced again`);
      if (r.error) failing.set(r.node, r.error);
      else failing.delete(r.node);
    };
    plane = await startControlPlane(world, kubelet, { proxyMode, onProxySync });
    err(
      `podnet cluster: ${nodes} node${nodes > 1 ? 's' : ''} in ${Math.round(t1 - t0)} ms, the control plane (etcd, API server, scheduler, EndpointSlice controller, CoreDNS stand-in, kubelet watch) in ${Math.round(performance.now() - t1)} ms; kubectl on ${on}; kube-proxy in ${proxyMode} mode on every node`,
    );
    const target = { kind: 'node' as const, node: on };
    if (positionals.length) {
      // one argument is a shell script; several are a command and its arguments, each kept whole
      const script = positionals.length === 1 ? positionals[0]! : positionals.map(shellQuote).join(' ');
      const r = await world.exec(target, ['sh', '-c', script], { timeoutMs: 120_000 });
      if (r.stdout) process.stdout.write(r.stdout);
      if (r.stderr) process.stderr.write(r.stderr);
      return r.code ?? 1;
    }
    out(`A shell on ${on} (nodes: ${names.join(', ')}); try: kubectl get nodes. "exit" ends the shell and the world.`);
    return await worldShell(world, target, on);
  } finally {
    await plane?.stop();
    await kubelet.close();
    await world.destroy();
  }
}

/** A word for sh -c, quoted unless it is plainly safe. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
