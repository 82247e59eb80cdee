// IPv4/IPv6 addresses and CIDR blocks as numbers, for the semantic checks (subnet and gateway agree,
// ranges overlap) that no JSON Schema can express.

export interface Cidr {
  family: 4 | 6;
  /** The address as written. */
  addr: bigint;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  bits: 32 | 128;
}

export function parseIp(s: string): { family: 4 | 6; value: bigint } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n) };
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const dbl = s.split('::');
  if (dbl.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIp(g);
        if (!v4 || v4.family !== 4) return undefined;
        out.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(dbl[0]!);
  const tail = dbl.length === 2 ? groups(dbl[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if ((dbl.length === 1 && missing !== 0) || (dbl.length === 2 && missing < 1)) return undefined;
  const all = [...head, ...Array<number>(dbl.length === 2 ? missing : 0).fill(0), ...tail];
  return { family: 6, value: all.reduce((a, g) => (a << 16n) | BigInt(g), 0n) };
}

export function parseCidr(s: string): Cidr | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > bits) return undefined;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { family: ip.family, addr: ip.value, network: ip.value & mask, prefix, bits };
}

export const lastOf = (c: Cidr) => c.network | ((1n << BigInt(c.bits - c.prefix)) - 1n);

export function contains(c: Cidr, ip: { family: 4 | 6; value: bigint }): boolean {
  return c.family === ip.family && ip.value >= c.network && ip.value <= lastOf(c);
}

export function overlaps(
  a: { family: number; first: bigint; last: bigint },
  b: { family: number; first: bigint; last: bigint },
): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function formatCidr(c: Cidr): string {
  if (c.family === 4) return `${[24n, 16n, 8n, 0n].map((s) => (c.network >> s) & 255n).join('.')}/${c.prefix}`;
  const g = Array.from({ length: 8 }, (_, i) => ((c.network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}/${c.prefix}`;
}
