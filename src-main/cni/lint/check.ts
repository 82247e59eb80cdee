// Lint for one CNI config text: the JSON Schema (resources/cni-schemas) and the semantic checks a
// schema cannot make (subnet and gateway agree, ranges overlap, chained plugins first, two plugins
// making eth0). Every problem is at a line and column. Pure: no world, no files (see context.ts).
import { findNodeAtLocation, parseTree, type Node as JsonNode } from 'jsonc-parser';
import type { ErrorObject } from 'ajv';
import { locateJsonError } from '../json-locate.js';
import { contains, formatCidr, lastOf, overlaps, parseCidr, parseIp, type Cidr } from './ip.js';
import { validatorFor } from './schemas.js';

export type Severity = 'error' | 'warning';

export interface LintProblem {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  message: string;
  /** A short name for the check (schema, syntax, gateway-outside-subnet, …): tests and the UI key on it. */
  rule: string;
}

export type Path = (string | number)[];

export const configKind = (file: string): 'conflist' | 'conf' => (file.endsWith('.conflist') ? 'conflist' : 'conf');

/** `file:line:col: message` (warnings say so), as compilers print them. */
export function formatProblem(p: LintProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

/** Plugins that work on the previous plugin's result, so they cannot come first. */
export const CHAINED_PLUGINS = ['portmap', 'bandwidth', 'firewall', 'tuning', 'sbr', 'vrf'];
/** Plugins that make the pod's interface (CNI_IFNAME): two in one chain collide. */
// plugins that create the pod's CNI_IFNAME (dummy and tap ship with plugins 1.9.1)
export const INTERFACE_PLUGINS = ['bridge', 'ptp', 'macvlan', 'ipvlan', 'vlan', 'host-device', 'dummy', 'tap'];

/** Where things are in a text: offsets to lines and columns, paths to nodes. */
export class Locator {
  private readonly starts: number[] = [0];
  readonly root: JsonNode | undefined;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
    this.root = parseTree(text);
  }
  pos(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
  /** The node at a path, or the deepest existing ancestor. */
  node(path: Path): JsonNode | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const hit = findNodeAtLocation(this.root, path.slice(0, n));
      if (hit) return hit;
    }
    return this.root;
  }
  /** A problem at a path: on the value, or on the key when `onKey` (a missing field is reported at its object's key). */
  at(path: Path, severity: Severity, rule: string, message: string, onKey = false): LintProblem {
    let n = this.node(path);
    if (onKey && n?.parent?.type === 'property') n = n.parent.children![0];
    const start = n ? n.offset : 0;
    // a whole object or array is marked on its first line only
    const end = n ? (n.type === 'object' || n.type === 'array' ? n.offset + 1 : n.offset + n.length) : 1;
    const a = this.pos(start);
    const b = this.pos(end);
    return {
      file: this.file,
      line: a.line,
      column: a.column,
      endLine: b.line,
      endColumn: b.column,
      severity,
      message,
      rule,
    };
  }
}

const CIDR_WORDS = 'an address block in CIDR notation such as "10.244.1.0/24"';
const IP_WORDS = 'an IP address such as "10.244.1.1"';

const show = (v: unknown) =>
  typeof v === 'string'
    ? JSON.stringify(v)
    : v === null
      ? 'null'
      : Array.isArray(v)
        ? 'an array'
        : typeof v === 'object'
          ? 'an object'
          : typeof v === 'number' || typeof v === 'boolean'
            ? String(v)
            : typeof v;

function pluginAt(json: unknown, kind: 'conflist' | 'conf', path: Path): string | undefined {
  const p =
    kind === 'conflist'
      ? path[0] === 'plugins' && typeof path[1] === 'number'
        ? (json as { plugins?: { type?: unknown }[] }).plugins?.[path[1]]
        : undefined
      : (json as { type?: unknown });
  return p && typeof p.type === 'string' ? p.type : undefined;
}

function schemaMessage(e: ErrorObject, field: string): string | undefined {
  const ps = e.parentSchema as { properties?: Record<string, { description?: string }>; $id?: string } | undefined;
  switch (e.keyword) {
    case 'required': {
      const miss = (e.params as { missingProperty: string }).missingProperty;
      const d = ps?.properties?.[miss]?.description;
      return `missing "${miss}"${d ? `: ${d}` : ''}`;
    }
    case 'type':
      return `"${field}" must be ${/^[aeiou]/.test(String(e.schema)) ? 'an' : 'a'} ${e.schema === 'integer' ? 'integer (a whole number)' : String(e.schema)}, not ${show(e.data)}`;
    case 'enum':
      return `"${field}" must be one of ${(e.schema as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${show(e.data)}`;
    case 'pattern': {
      const p = String(e.schema);
      const what = p.includes('/')
        ? CIDR_WORDS
        : p.includes('[0-9a-fA-F.:]')
          ? IP_WORDS
          : p.includes('a-zA-Z0-9_.-')
            ? 'letters, digits, "_", "." and "-", starting with a letter or digit'
            : `text matching ${p}`;
      return `"${field}" must be ${what}, not ${show(e.data)}`;
    }
    case 'minimum':
    case 'maximum':
      return `"${field}" must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(e.schema)}, not ${show(e.data)}`;
    case 'maxLength':
      return `"${field}" must be at most ${String(e.schema)} characters (a Linux interface name is at most 15), not ${show(e.data)}`;
    case 'minItems':
      return `"${field}" must not be empty`;
    case 'dependencies': {
      const p = e.params as { property: string; missingProperty: string };
      return `"${p.property}" needs "${p.missingProperty}" as well`;
    }
    case 'anyOf':
      if (ps?.$id?.endsWith('/host-local.json'))
        return 'host-local needs "ranges" (or the legacy "subnet"): the address blocks to allocate from';
      if (field === 'type')
        return `"type" must name a plugin binary (letters, digits, "_", "." and "-"), not ${show(e.data)}`;
      return `"${field}" does not match any allowed shape`;
    case 'if':
    case 'const':
      return undefined;
    default:
      return `"${field}" ${e.message ?? 'is invalid'}`;
  }
}

function schemaProblems(loc: Locator, json: unknown, kind: 'conflist' | 'conf'): LintProblem[] {
  const validate = validatorFor(kind);
  if (validate(json)) return [];
  const errors = validate.errors ?? [];
  // the branches of a failed anyOf are explained by the anyOf itself
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.instancePath}|${e.schemaPath}`);
  const out: LintProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (
      e.keyword !== 'anyOf' &&
      anyOfs.some((a) => {
        const [ip, sp] = a.split('|');
        return e.instancePath === ip && e.schemaPath.startsWith(`${sp!}/`);
      })
    )
      continue;
    let path: Path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    // a wrong type explains a failed enum at the same place
    if (e.keyword === 'enum' && errors.some((o) => o.keyword === 'type' && o.instancePath === e.instancePath)) continue;
    const field = String(path.at(-1) ?? (kind === 'conflist' ? 'the list' : 'the configuration'));
    const msg = schemaMessage(e, field);
    if (!msg) continue;
    const type = pluginAt(json, kind, path);
    const message = type && path.length >= (kind === 'conflist' ? 2 : 1) ? `${type}: ${msg}` : msg;
    const key =
      e.keyword === 'required'
        ? `${e.instancePath}|required|${(e.params as { missingProperty: string }).missingProperty}`
        : `${e.instancePath}|${message}`;
    // a plugin's missing field is marked on its "type" line; a dependency on the field that has it
    const obj = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], json);
    if (e.keyword === 'required' && isObj(obj) && typeof obj.type === 'string') path = [...path, 'type'];
    if (e.keyword === 'dependencies') path = [...path, (e.params as { property: string }).property];
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(loc.at(path, 'error', 'schema', message, e.keyword === 'required' && path.at(-1) !== 'type'));
  }
  return out;
}

/** The plugins of a parsed config with their paths (a .conf is one plugin at the root). */
export function pluginsOf(
  json: unknown,
  kind: 'conflist' | 'conf',
): { conf: Record<string, unknown>; path: Path; index: number }[] {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return [];
  if (kind === 'conf') return [{ conf: json as Record<string, unknown>, path: [], index: 0 }];
  const list = (json as { plugins?: unknown }).plugins;
  if (!Array.isArray(list)) return [];
  return list.flatMap((p, i) =>
    p && typeof p === 'object' && !Array.isArray(p)
      ? [{ conf: p as Record<string, unknown>, path: ['plugins', i] as Path, index: i }]
      : [],
  );
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The address blocks a config's IPAM hands out, with where each is written (for overlap checks across nodes). */
export function ipamSubnets(json: unknown, kind: 'conflist' | 'conf'): { cidr: Cidr; text: string; path: Path }[] {
  const out: { cidr: Cidr; text: string; path: Path }[] = [];
  for (const p of pluginsOf(json, kind)) {
    const ipam = p.conf.ipam;
    if (!isObj(ipam) || ipam.type !== 'host-local') continue;
    const add = (v: unknown, path: Path) => {
      const c = typeof v === 'string' ? parseCidr(v) : undefined;
      if (c) out.push({ cidr: c, text: v as string, path });
    };
    if (Array.isArray(ipam.ranges)) {
      ipam.ranges.forEach(
        (set, i) =>
          Array.isArray(set) &&
          set.forEach((r, j) => isObj(r) && add(r.subnet, [...p.path, 'ipam', 'ranges', i, j, 'subnet'])),
      );
    }
    add(ipam.subnet, [...p.path, 'ipam', 'subnet']);
  }
  return out;
}

function semanticProblems(loc: Locator, json: unknown, kind: 'conflist' | 'conf'): LintProblem[] {
  const out: LintProblem[] = [];
  const err = (path: Path, rule: string, message: string) => out.push(loc.at(path, 'error', rule, message));
  const warn = (path: Path, rule: string, message: string) => out.push(loc.at(path, 'warning', rule, message));
  const plugins = pluginsOf(json, kind);
  let maker: { type: string; index: number } | undefined;
  for (const { conf, path, index } of plugins) {
    const type = typeof conf.type === 'string' ? conf.type : '';
    if (index === 0 && CHAINED_PLUGINS.includes(type)) {
      err(
        [...path, 'type'],
        'chained-first',
        `${type} is a chained plugin: it works on the previous plugin's result (prevResult), so it cannot be the first plugin${kind === 'conf' ? ' or stand alone in a .conf' : ''}`,
      );
    }
    if (INTERFACE_PLUGINS.includes(type)) {
      if (maker)
        err(
          [...path, 'type'],
          'two-interfaces',
          `${type} would create the pod's interface again: plugin ${maker.index + 1} (${maker.type}) already made it, so ADD fails: the pod already has that interface ("already exists" or "file exists")`,
        );
      else maker = { type, index };
    }
    if (
      type === 'host-device' &&
      !['device', 'hwaddr', 'kernelpath', 'pciBusID'].some((k) => typeof conf[k] === 'string')
    ) {
      err(
        [...path, 'type'],
        'host-device-selector',
        'host-device needs one of "device", "hwaddr", "kernelpath" or "pciBusID": the existing device to move into the pod',
      );
    }
    if (type === 'bandwidth') {
      const caps = isObj(conf.capabilities) && conf.capabilities.bandwidth === true;
      if (!caps && !['ingressRate', 'egressRate'].some((k) => conf[k] !== undefined))
        warn(
          [...path, 'type'],
          'bandwidth-idle',
          'bandwidth has no rates and no "capabilities": {"bandwidth": true}, so it shapes nothing',
        );
    }
    if (type === 'portmap' && !(isObj(conf.capabilities) && conf.capabilities.portMappings === true)) {
      warn(
        [...path, 'type'],
        'portmap-no-capability',
        'portmap without "capabilities": {"portMappings": true} never receives the pod\'s ports, so it maps nothing',
      );
    }
    if (isObj(conf.ipam)) ipamProblems([...path, 'ipam'], conf.ipam, err);
  }
  return out;
}

type Report = (path: Path, rule: string, message: string) => void;

function checkRoutes(path: Path, routes: unknown, err: Report): void {
  if (!Array.isArray(routes)) return;
  routes.forEach((r, i) => {
    if (!isObj(r)) return;
    if (typeof r.dst === 'string' && /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/.test(r.dst) && !parseCidr(r.dst))
      err([...path, i, 'dst'], 'bad-cidr', `route "dst" ${JSON.stringify(r.dst)} is not a valid address block`);
    if (typeof r.gw === 'string' && /^[0-9a-fA-F.:]+$/.test(r.gw) && !parseIp(r.gw))
      err([...path, i, 'gw'], 'bad-ip', `route "gw" ${JSON.stringify(r.gw)} is not a valid IP address`);
  });
}

/** A CIDR that the schema's pattern let through but is still wrong (300.1.1.0/24, /33, host bits set). */
function cidrOf(path: Path, v: unknown, err: Report, what: string, hostBitsOk: boolean): Cidr | undefined {
  if (typeof v !== 'string' || !/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/.test(v)) return undefined;
  const c = parseCidr(v);
  if (!c) {
    err(
      path,
      'bad-cidr',
      `${what} ${JSON.stringify(v)} is not a valid address block (each IPv4 octet 0-255, prefix at most ${v.includes(':') ? 128 : 32})`,
    );
    return undefined;
  }
  if (!hostBitsOk && c.addr !== c.network)
    err(path, 'host-bits', `${what} ${JSON.stringify(v)} has host bits set: the network is ${formatCidr(c)}`);
  return c;
}

function ipOf(path: Path, v: unknown, err: Report, what: string) {
  if (typeof v !== 'string' || !/^[0-9a-fA-F.:]+$/.test(v)) return undefined;
  const ip = parseIp(v);
  if (!ip) err(path, 'bad-ip', `${what} ${JSON.stringify(v)} is not a valid IP address`);
  return ip;
}

function ipamProblems(path: Path, ipam: Record<string, unknown>, err: Report): void {
  checkRoutes([...path, 'routes'], ipam.routes, err);
  if (ipam.type === 'static' && Array.isArray(ipam.addresses)) {
    ipam.addresses.forEach((a, i) => {
      if (!isObj(a)) return;
      const c = cidrOf([...path, 'addresses', i, 'address'], a.address, err, '"address"', true);
      const gw = ipOf([...path, 'addresses', i, 'gateway'], a.gateway, err, '"gateway"');
      if (c && gw && !contains(c, gw))
        err(
          [...path, 'addresses', i, 'gateway'],
          'gateway-outside-subnet',
          `gateway ${String(a.gateway)} is outside ${formatCidr(c)}, the subnet of address ${String(a.address)}: the pod could not reach it`,
        );
    });
  }
  if (ipam.type !== 'host-local') return;
  type Span = { family: 4 | 6; first: bigint; last: bigint; label: string };
  const range = (r: Record<string, unknown>, rp: Path): Span | undefined => {
    const c = cidrOf([...rp, 'subnet'], r.subnet, err, 'subnet', false);
    if (!c) return undefined;
    const inside = (k: string) => {
      const ip = ipOf([...rp, k], r[k], err, `"${k}"`);
      if (ip && !contains(c, ip))
        err(
          [...rp, k],
          k === 'gateway' ? 'gateway-outside-subnet' : 'range-outside-subnet',
          `${k} ${String(r[k])} is outside the subnet ${formatCidr(c)}`,
        );
      return ip && contains(c, ip) ? ip.value : undefined;
    };
    inside('gateway');
    const start = inside('rangeStart');
    const end = inside('rangeEnd');
    if (start !== undefined && end !== undefined && start > end)
      err(
        [...rp, 'rangeEnd'],
        'range-reversed',
        `rangeEnd ${String(r.rangeEnd)} comes before rangeStart ${String(r.rangeStart)}`,
      );
    return { family: c.family, first: start ?? c.network, last: end ?? lastOf(c), label: formatCidr(c) };
  };
  const sets: { spans: Span[]; index: number }[] = [];
  if (Array.isArray(ipam.ranges)) {
    ipam.ranges.forEach((set, i) => {
      if (!Array.isArray(set)) return;
      const spans: Span[] = [];
      set.forEach((r, j) => {
        if (!isObj(r)) return;
        const rp = [...path, 'ranges', i, j];
        const s = range(r, rp);
        if (!s) return;
        const fam = spans.find((o) => o.family !== s.family);
        if (fam)
          err(
            [...rp, 'subnet'],
            'mixed-family',
            `range set ${i + 1} mixes IPv${fam.family} and IPv${s.family}: one set gives one address, so its ranges must be of one family (put the other family in its own set)`,
          );
        const o = spans.find((x) => overlaps(x, s));
        if (o)
          err(
            [...rp, 'subnet'],
            'ranges-overlap',
            `this range (${s.label}) overlaps ${o.label}, an earlier range of the same set`,
          );
        spans.push(s);
      });
      for (const earlier of sets) {
        const hit = earlier.spans.find((e) => spans.some((s) => overlaps(e, s)));
        if (hit)
          err(
            [...path, 'ranges', i],
            'ranges-overlap',
            `range set ${i + 1} overlaps range set ${earlier.index + 1} (${hit.label}): host-local refuses overlapping range sets`,
          );
      }
      sets.push({ spans, index: i });
    });
  } else if (ipam.subnet !== undefined) {
    range(ipam, path);
  }
}

/** Every problem of one config text: syntax, schema, semantics. `file` decides .conflist or .conf. */
export function checkConfigText(file: string, text: string): LintProblem[] {
  const loc = new Locator(file, text);
  const syntax = locateJsonError(text);
  if (syntax) {
    const a = loc.pos(Math.min(syntax.pos, text.length));
    return [
      {
        file,
        ...a,
        endLine: a.line,
        endColumn: a.column + 1,
        severity: 'error',
        rule: 'syntax',
        message: `invalid JSON: ${syntax.reason}`,
      },
    ];
  }
  const json = JSON.parse(text) as unknown;
  const kind = configKind(file);
  return sortProblems([...schemaProblems(loc, json, kind), ...semanticProblems(loc, json, kind)]);
}

export function sortProblems(ps: LintProblem[]): LintProblem[] {
  return [...ps].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}
