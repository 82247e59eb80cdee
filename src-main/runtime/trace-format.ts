// The trace as a readable timeline: start, duration, component, step (indented by depth), key output.
import type { Trace, TraceEvent } from './trace.js';

/** A trace value as text: strings as they are, anything else as JSON (never "[object Object]"). */
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/** One line: what a step did (its key output). */
export function summarize(e: TraceEvent): string {
  if (e.error) return `✗ ${e.error}`;
  const out = e.outputs ?? {};
  const inp = e.inputs ?? {};
  if (e.name === 'CNI ADD' || e.name === 'CNI DEL')
    return `network ${str(inp.network)}, ${str(inp.ifName)}${inp.netns === '' ? ', CNI_NETNS=""' : ''}`;
  if (e.component === 'cni' && / (ADD|DEL|CHECK|VERSION)$/.test(e.name)) {
    const r = out.stdout as
      | { ips?: { address: string; gateway?: string }[]; interfaces?: { name: string; sandbox?: string }[] }
      | ''
      | undefined;
    if (r && typeof r === 'object') {
      const ips = (r.ips ?? []).map((i) => `${i.address}${i.gateway ? ` gw ${i.gateway}` : ''}`).join(', ');
      const ifs = (r.interfaces ?? []).map((i) => (i.sandbox ? `${i.name} (pod)` : i.name)).join(', ');
      return [ips && `ips ${ips}`, ifs && `interfaces ${ifs}`].filter(Boolean).join('; ');
    }
    return `exit ${str(out.exitCode)}`;
  }
  if (e.name === 'NewNetNS') return str(out.netns ?? inp.path ?? '');
  if (e.name === 'remove netns') return str(inp.path ?? '');
  if (e.name.startsWith('bringUpLoopback')) return 'ip link set lo up (use_internal_loopback = true)';
  if (e.name === 'setupPodNetwork') return str(inp.loopback ?? '');
  if (e.name === 'NetworkReady gate')
    return out.NetworkReady === false ? str(out.note ?? out.message ?? '') : 'NetworkReady=true';
  if (e.name === 'computePodActions') return str(out.event ?? '');
  if (e.name === 'StopContainer') return str(out.outcome ?? out.note ?? '');
  if (e.name === 'evictPodLogsDirectories')
    return ((out.removed as string[] | undefined) ?? []).length
      ? `removed ${(out.removed as string[]).join(', ')}`
      : 'nothing to remove';
  if (e.name === 'evictSandboxes')
    return ((inp.sandboxes as string[] | undefined) ?? []).join(', ') || 'no dead sandbox';
  if (e.name === 'pod IPs from result' || e.name === 'getIPs')
    return `ip ${str(out.ip)}${(out.additionalIps as string[] | undefined)?.length ? ` + ${(out.additionalIps as string[]).join(', ')}` : ''}`;
  if (e.name.startsWith('start sandbox container')) return `pid ${str(out.pid)}`;
  if (e.name === 'PrepareResources') return str(out.note ?? '');
  if (e.name === 'GetPodDNS') {
    const c = out.dnsConfig as { servers: string[]; searches: string[]; options: string[] } | undefined;
    return c
      ? [
          `nameserver ${c.servers.join(' ') || '-'}`,
          c.searches.length
            ? `search ${c.searches[0]}${c.searches.length > 1 ? ` (+${c.searches.length - 1})` : ''}`
            : '',
          c.options.join(' '),
        ]
          .filter(Boolean)
          .join('; ')
      : '';
  }
  if (e.name === 'setupSandboxFiles')
    return `hostname ${str(out.hostname)}; resolv.conf, hosts in ${str(inp.dir ?? '')
      .replace(/^.*\/sandboxes\//, 'sandboxes/')
      .slice(0, 22)}`;
  if (e.name === 'PodReadyToStartContainers') return `True, pod IP ${str(out.podIP)}`;
  if (e.name === 'RunPodSandbox') return `sandbox ${str(out.sandboxId ?? '').slice(0, 12)}`;
  if (e.name === 'kill containers') return ((out.outcomes as string[] | undefined) ?? []).join('; ') || 'no containers';
  if (e.name.startsWith('start container')) return `pid ${str(out.pid)}`;
  if (e.name === 'teardownPodNetwork' || e.name.startsWith('undo: teardown')) return str(out.ignored ?? out.note ?? '');
  if (e.name === 'SyncPod' && out.attempt !== undefined)
    return `attempt ${str(out.attempt)}: ip ${str(out.previousIp)} → ${str(out.ip)}`;
  if (out.note) return str(out.note);
  return '';
}

export function depthOf(trace: Trace, e: TraceEvent): number {
  let d = 0;
  let p = e.parent;
  while (p !== undefined) {
    d++;
    p = trace.events.find((x) => x.id === p)?.parent;
  }
  return d;
}

/** Depth-first order: each step followed by its children, in order of start. */
function treeOrder(events: TraceEvent[]): TraceEvent[] {
  const ids = new Set(events.map((e) => e.id));
  const kids = new Map<number | undefined, TraceEvent[]>();
  for (const e of events) {
    const p = e.parent !== undefined && ids.has(e.parent) ? e.parent : undefined;
    kids.set(p, [...(kids.get(p) ?? []), e]);
  }
  const out: TraceEvent[] = [];
  const walk = (p: number | undefined) => {
    for (const e of (kids.get(p) ?? []).sort((a, b) => a.start - b.start || a.id - b.id)) {
      out.push(e);
      walk(e.id);
    }
  };
  walk(undefined);
  return out;
}

/** Renders events as aligned lines: "   start    dur  component   step   output". */
export function formatTimeline(trace: Trace, events: TraceEvent[] = trace.events): string {
  const rows = treeOrder(events).map((e) => {
    const step = `${'  '.repeat(depthOf(trace, e))}${e.undo ? '↺ ' : ''}${e.name}`;
    return { start: e.start.toFixed(1), dur: trace.duration(e).toFixed(1), comp: e.component, step, out: summarize(e) };
  });
  const w = Math.max(24, ...rows.map((r) => r.step.length)) + 2;
  const head = `${'start ms'.padStart(9)} ${'dur ms'.padStart(8)}  ${'component'.padEnd(11)}${'step'.padEnd(w)}output`;
  return [
    head,
    ...rows.map((r) => `${r.start.padStart(9)} ${r.dur.padStart(8)}  ${r.comp.padEnd(11)}${r.step.padEnd(w)}${r.out}`),
  ].join('\n');
}
