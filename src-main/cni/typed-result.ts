// A result as libcni 1.3 holds it after decoding a plugin's output into its typed structs
// (pkg/types/020, 040, 100): only the fields its version defines, in field order, empty ones
// omitted (omitempty), addresses as Go's net package prints them. This is what the next plugin
// reads as prevResult and what the cache stores.
import type { Json, JsonObject } from './conf.js';
import { goMarshal, goStruct } from './go-json.js';
import type { CniResult } from './result.js';

/** The result versions libcni 1.3 can decode ("" is 0.1.0's); any other is refused. */
export const RESULT_VERSIONS = ['', '0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

function parseV4(s: string): number[] | undefined {
  const p = s.split('.');
  if (p.length !== 4) return undefined;
  const b = p.map((x) => (/^(0|[1-9][0-9]{0,2})$/.test(x) ? Number(x) : NaN));
  return b.every((x) => x >= 0 && x <= 255) ? b : undefined;
}

function parseV6(text: string): number[] | undefined {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // an embedded IPv4 tail (::ffff:10.0.0.1) is two groups
    const v4 = parseV4(last);
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const hex = (g: string) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
  const head = group(halves[0]!).map(hex);
  const rest = halves.length === 2 ? group(halves[1]!).map(hex) : [];
  const n = head.length + rest.length;
  if (head.some(Number.isNaN) || rest.some(Number.isNaN)) return undefined;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined;
  return [...head, ...Array<number>(8 - n).fill(0), ...rest];
}

/** net.IP.String(): IPv4 dotted, IPv4-mapped IPv6 as IPv4, IPv6 with the longest zero run as "::". */
export function goIpString(s: string): string | undefined {
  const v4 = parseV4(s);
  if (v4) return v4.join('.');
  const g = parseV6(s);
  if (!g) return undefined;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hx = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hx(g) : `${hx(g.slice(0, best))}::${hx(g.slice(best + bestLen))}`;
}

/** types.IPNet as libcni marshals a parsed CIDR: the address (not the network) and the prefix length. */
export function goCidrString(s: string): string | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = goIpString(s.slice(0, i));
  const bits = s.slice(i + 1);
  const max = parseV4(s.slice(0, i)) ? 32 : 128;
  if (!ip || !/^(0|[1-9][0-9]*)$/.test(bits) || Number(bits) > max) return undefined;
  return `${ip}/${Number(bits)}`;
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && v !== 0 ? v : undefined);
/** A Go pointer field (*int): present even when 0. */
const ptr = (v: unknown) => (typeof v === 'number' ? v : undefined);
const list = <T>(a: T[] | undefined) => (a && a.length ? a : undefined);
const strings = (v: unknown) =>
  list(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

function dns(d: unknown): JsonObject {
  const o = isObj(d) ? d : {};
  return goStruct({
    nameservers: strings(o.nameservers),
    domain: str(o.domain),
    search: strings(o.search),
    options: strings(o.options),
  }) as JsonObject;
}

function route(r: JsonObject): JsonObject {
  return goStruct({
    dst: goCidrString(String(r.dst)) ?? String(r.dst),
    gw: str(r.gw) && (goIpString(r.gw as string) ?? (r.gw as string)),
    mtu: num(r.mtu),
    advmss: num(r.advmss),
    priority: num(r.priority),
    table: ptr(r.table),
    scope: ptr(r.scope),
  }) as JsonObject;
}

const routes = (r: CniResult) => list((r.routes ?? []).map((x) => route(x as unknown as JsonObject)));
const addr = (a: string) => goCidrString(a) ?? a;
const gw = (g: unknown) => (str(g) ? (goIpString(g as string) ?? (g as string)) : undefined);

/**
 * The result as libcni's type for its own version marshals it (the caller converts versions first):
 * 0.x results as structs (field order, "dns":{} even when empty), 1.x through a map (sorted, no empty dns).
 */
export function typedResult(r: CniResult): JsonObject {
  const v = r.cniVersion;
  if (v === '' || v === '0.1.0' || v === '0.2.0') {
    const fam = (six: boolean) => {
      const ip = (r.ips ?? []).find((x) => x.address.includes(':') === six);
      if (!ip) return undefined;
      const rs = (r.routes ?? []).filter((x) => x.dst.includes(':') === six);
      return goStruct({
        ip: addr(ip.address),
        gateway: gw(ip.gateway),
        routes: list(rs.map((x) => route(x as unknown as JsonObject))),
      });
    };
    return goStruct({ cniVersion: str(v), ip4: fam(false), ip6: fam(true), dns: dns(r.dns) }) as JsonObject;
  }
  const legacy = v !== '1.0.0' && v !== '1.1.0';
  const interfaces = list(
    (r.interfaces ?? []).map((i) => {
      const o = i as unknown as JsonObject;
      return goStruct(
        legacy
          ? { name: String(o.name ?? ''), mac: str(o.mac), sandbox: str(o.sandbox) }
          : {
              name: String(o.name ?? ''),
              mac: str(o.mac),
              mtu: num(o.mtu),
              sandbox: str(o.sandbox),
              socketPath: str(o.socketPath),
              pciID: str(o.pciID),
            },
      );
    }),
  );
  const ips = list(
    (r.ips ?? []).map((ip) =>
      goStruct(
        legacy
          ? {
              version: ip.version ?? (ip.address.includes(':') ? '6' : '4'),
              interface: ptr(ip.interface),
              address: addr(ip.address),
              gateway: gw(ip.gateway),
            }
          : { interface: ptr(ip.interface), address: addr(ip.address), gateway: gw(ip.gateway) },
      ),
    ),
  );
  const fields = {
    cniVersion: str(v),
    interfaces: interfaces as Json[] | undefined,
    ips: ips as Json[] | undefined,
    routes: routes(r),
    dns: dns(r.dns),
  };
  if (legacy) return goStruct(fields) as JsonObject;
  // types100.Result.MarshalJSON goes through a map (so its keys come out sorted) and drops an empty dns
  const d = fields.dns as Record<string, unknown>;
  const mapped = { ...fields, dns: Object.values(d).some((x) => x !== undefined) ? d : undefined };
  return JSON.parse(goMarshal(mapped)) as JsonObject;
}
