// CNI results: validation and conversion between spec versions, and containerd's GetIPs.
import type { Json, JsonObject } from './conf.js';
import { goIpString } from './typed-result.js';
import { compareVersions } from './version.js';

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
}
export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
  version?: string;
}
export interface CniRoute {
  dst: string;
  gw?: string;
}
/** A result in the 1.0.0 shape (0.3.x/0.4.0 add "version" to each IP). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: JsonObject;
  [k: string]: Json | undefined | CniInterface[] | CniIp[] | CniRoute[];
}

export class ResultError extends Error {}

function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a plugin's output is a result object; converts a 0.1/0.2 result (ip4/ip6) to the current shape. */
export function parseResult(raw: Json, fallbackVersion: string): CniResult {
  if (!isObj(raw)) throw new ResultError('the result is not a JSON object');
  const version = typeof raw.cniVersion === 'string' ? raw.cniVersion : fallbackVersion;
  if (compareVersions(version, '0.3.0') < 0) {
    const ips: CniIp[] = [];
    const routes: CniRoute[] = [];
    for (const fam of ['ip4', 'ip6'] as const) {
      const f = raw[fam];
      if (!isObj(f)) continue;
      if (typeof f.ip === 'string')
        ips.push({ address: f.ip, ...(typeof f.gateway === 'string' ? { gateway: f.gateway } : {}) });
      if (Array.isArray(f.routes))
        for (const r of f.routes)
          if (isObj(r) && typeof r.dst === 'string')
            routes.push({ dst: r.dst, ...(typeof r.gw === 'string' ? { gw: r.gw } : {}) });
    }
    return { cniVersion: version, ips, routes, ...(isObj(raw.dns) ? { dns: raw.dns } : {}) };
  }
  if (raw.interfaces !== undefined && !Array.isArray(raw.interfaces))
    throw new ResultError('"interfaces" is not a list');
  if (raw.ips !== undefined && !Array.isArray(raw.ips)) throw new ResultError('"ips" is not a list');
  for (const ip of raw.ips ?? []) {
    if (!isObj(ip) || typeof ip.address !== 'string') throw new ResultError('an entry of "ips" has no "address"');
  }
  return { ...(raw as unknown as CniResult), cniVersion: version };
}

/**
 * Converts a result to the version a config list speaks, as libcni's converters do: 1.x to 0.x gives
 * each IP its "version" from the address; 0.x to 1.x drops it; within 0.x it is kept as the plugin wrote it.
 */
export function convertResult(r: CniResult, to: string): CniResult {
  const out: CniResult = { ...r, cniVersion: to };
  const toLegacy = compareVersions(to, '1.0.0') < 0;
  const fromLegacy = compareVersions(r.cniVersion, '1.0.0') < 0;
  if (r.ips && toLegacy !== fromLegacy) {
    out.ips = r.ips.map((ip) => {
      const { version: _v, ...rest } = ip;
      return toLegacy ? { ...rest, version: ip.address.includes(':') ? '6' : '4' } : rest;
    });
  }
  return out;
}

export interface PodIps {
  ip: string;
  additionalIps: string[];
}

/**
 * go-cni's createResult then containerd's selectPodIPs: an IP belongs to the interface its index
 * names (by name alone: no "sandbox" needed), an IP without an index to the default "eth0"; the pod
 * IP is the first IPv4 of eth0 (containerd's default ip_pref), the others, in order, are additional.
 * Undefined when eth0 has no IP (containerd: "failed to find network info for sandbox") or an index
 * is out of range (go-cni: invalid result).
 */
export function podIpsFromResult(r: CniResult, ifName = 'eth0'): PodIps | undefined {
  const ifaces = r.interfaces ?? [];
  const ips: string[] = [];
  for (const ip of r.ips ?? []) {
    if (ip.interface !== undefined && (ip.interface < 0 || ip.interface >= ifaces.length)) return undefined;
    const name = ip.interface === undefined ? 'eth0' : ifaces[ip.interface]!.name;
    const addr = ip.address.split('/')[0]!;
    if (name === ifName) ips.push(goIpString(addr) ?? addr);
  }
  if (ips.length === 0) return undefined;
  const i = ips.findIndex((a) => !a.includes(':'));
  const primary = i < 0 ? 0 : i;
  return { ip: ips[primary]!, additionalIps: ips.filter((_, k) => k !== primary) };
}
