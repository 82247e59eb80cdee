// The firewall's own trace of a packet (iptables-nft's TRACE target, printed by `xtables-monitor --trace`):
// the rules it met in the nat table, and the DNAT that chose a Service's backend.

export interface TracedRule {
  table: string;
  chain: string;
  /** JUMP:KUBE-SVC-…, ACCEPT, CONTINUE … as the trace says it. */
  verdict: string;
  /** The rule in iptables-save form (empty for a chain's policy). */
  rule: string;
}

export interface NatDecision {
  /** How it was read: the kernel's trace, or the rule counters (iptables-save -c) before and after. */
  source: 'trace' | 'counters';
  /** The nat-table rules the packet met, in order. */
  rules: TracedRule[];
  /** The Service chain (KUBE-SVC-…) and endpoint chain (KUBE-SEP-…) that matched. */
  serviceChain?: string;
  endpointChain?: string;
  /** The DNAT rule and the backend it chose (IP:port). */
  dnatRule?: string;
  backend?: string;
}

// "PACKET: 2 31aca125 IN=cni0 … SRC=10.244.1.2 DST=10.100.8.157 … SPORT=39882 DPORT=80 SYN"
const PACKET = /^PACKET: \d+ ([0-9a-f]+) .* SPORT=(\d+) DPORT=\d+ ?(.*)$/;
// " TRACE: 2 31aca125 nat:KUBE-SERVICES:rule:0x35:JUMP:KUBE-SVC-…  -4 -t nat -A KUBE-SERVICES …"
const TRACE = /^TRACE: \d+ ([0-9a-f]+) (\w+):([^:]+):(?:rule:0x[0-9a-f]+|policy):(\S*)\s*(.*)$/;

/** The nat-table rules a connection's first packet (its SYN, or a UDP datagram, from source port `sport`) met, and its DNAT. */
export function parseTrace(
  text: string,
  sport: number | undefined,
  proto: 'tcp' | 'udp' = 'tcp',
): NatDecision | undefined {
  if (sport === undefined) return undefined;
  const rules: TracedRule[] = [];
  let inBlock = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const p = PACKET.exec(line);
    if (p) {
      // a datagram has no flags: its source port is the marker
      inBlock = Number(p[2]) === sport && (proto === 'udp' || (/\bSYN\b/.test(p[3]!) && !/\bACK\b/.test(p[3]!)));
      continue;
    }
    const t = inBlock ? TRACE.exec(line) : null;
    if (!t || t[2] !== 'nat') continue;
    rules.push({ table: t[2], chain: t[3]!, verdict: t[4]!, rule: t[5]!.replace(/^-4 -t nat /, '') });
  }
  if (!rules.length) return undefined;
  const dnat = rules.find((r) => / -j DNAT --to-destination /.test(r.rule));
  const svc = rules.find((r) => r.chain.startsWith('KUBE-SVC-'))?.chain;
  const sep = dnat?.chain.startsWith('KUBE-SEP-') ? dnat.chain : undefined;
  const backend = dnat ? / --to-destination (\S+)/.exec(dnat.rule)?.[1] : undefined;
  return {
    source: 'trace',
    rules,
    ...(svc ? { serviceChain: svc } : {}),
    ...(sep ? { endpointChain: sep } : {}),
    ...(dnat ? { dnatRule: dnat.rule } : {}),
    ...(backend ? { backend } : {}),
  };
}

/**
 * The fallback when no trace came (no xtables-monitor, or nftables mode): the nat rules whose packet counter
 * moved between two `iptables-save -c -t nat` (`moved`, from counterMoves), in save order. A counter says a
 * rule matched some packet in between, not which: the result says `counters`.
 */
export function natFromCounters(moved: string[], serviceIp: string): NatDecision | undefined {
  const rules: TracedRule[] = moved.map((rule) => {
    const chain = /^-A (\S+)/.exec(rule)?.[1] ?? '';
    const jump = / -j (\S+)/.exec(rule)?.[1] ?? '';
    return { table: 'nat', chain, verdict: jump.startsWith('KUBE-') ? `JUMP:${jump}` : jump, rule };
  });
  const svcRule = rules.find((r) => r.chain === 'KUBE-SERVICES' && r.rule.includes(`-d ${serviceIp}/32`));
  const svc = svcRule ? / -j (KUBE-SVC-\S+)/.exec(svcRule.rule)?.[1] : undefined;
  const dnat = rules.find((r) => r.chain.startsWith('KUBE-SEP-') && / -j DNAT --to-destination /.test(r.rule));
  if (!svc && !dnat) return undefined;
  const backend = dnat ? / --to-destination (\S+)/.exec(dnat.rule)?.[1] : undefined;
  return {
    source: 'counters',
    rules,
    ...(svc ? { serviceChain: svc } : {}),
    ...(dnat ? { endpointChain: dnat.chain, dnatRule: dnat.rule } : {}),
    ...(backend ? { backend } : {}),
  };
}
