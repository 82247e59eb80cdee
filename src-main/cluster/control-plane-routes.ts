// The control plane's host routes the pods' CIDRs via their nodes (spec.podCIDR via the InternalIP), as a
// routed cluster network's hosts do: a pod's DNS query reaches the stand-in at 192.0.2.10 through
// kube-proxy's DNAT with the pod's own source address, and the answer must find its way back.
import { UNDERLAY, type World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import type { KubeObject } from './resources.js';

const SANDBOX = { kind: 'sandbox' } as const;

/** Keeps one route per Node in the control plane's namespace (a watch); answers the stop. */
export function startControlPlaneRoutes(api: ApiClient, world: World): () => void {
  const installed = new Map<string, string>();
  let chain = Promise.resolve();
  const apply = async (type: string, o: KubeObject) => {
    const name = o.metadata?.name ?? '';
    const cidr = o.spec?.podCIDR;
    const via = ((o.status?.addresses ?? []) as { type: string; address: string }[]).find(
      (a) => a.type === 'InternalIP',
    )?.address;
    const want = type !== 'DELETED' && typeof cidr === 'string' && via ? `${cidr} via ${via}` : undefined;
    const had = installed.get(name);
    if (had === want) return;
    if (had) await world.exec(SANDBOX, ['ip', 'route', 'del', had.split(' ')[0]!]).catch(() => {});
    if (want) {
      const [c, , v] = want.split(' ') as [string, string, string];
      const r = await world.exec(SANDBOX, ['ip', 'route', 'replace', c, 'via', v, 'dev', UNDERLAY.bridge]);
      if (r.code !== 0) return;
      installed.set(name, want);
    } else installed.delete(name);
  };
  return api.watch('/api/v1/nodes', (type, o) => {
    chain = chain.then(() => apply(type, o)).catch(() => {});
  });
}
