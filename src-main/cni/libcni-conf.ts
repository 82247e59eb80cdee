// What libcni 1.3 accepts as a network configuration (ConfListFromBytes, ConfFromBytes,
// ConfListFromConf), with its error texts: only the generic NetConf fields are decoded, so a
// plugin's own fields (a string mtu, a subnet with host bits, an unknown plugin) load fine and fail
// only at ADD. And go-cni 1.1.13's loadFromConfDir, which containerd 2.1 uses for NetworkReady.
import type { ConfList, Json, JsonObject, PluginConf } from './conf.js';
import type { FolderFiles } from './folder.js';
import { goMarshal } from './go-json.js';
import { goJsonSyntaxError } from './go-json-syntax.js';

/** libcni's version.Current(): the newest spec version it speaks. */
export const LIBCNI_CURRENT = '1.1.0';

/** libcni's version.ParseVersion: "" is 0.1.0; up to three integer parts; errors in its words. */
export function libcniParseVersion(v: string): [number, number, number] {
  if (v === '') return [0, 1, 0];
  const parts = v.split('.');
  if (parts.length >= 4) throw new Error(`invalid version ${JSON.stringify(v)}: too many parts`);
  const names = ['major', 'minor', 'micro'];
  const out: [number, number, number] = [0, 0, 0];
  parts.forEach((p, i) => {
    if (!/^[+-]?[0-9]+$/.test(p)) {
      throw new Error(
        `failed to convert ${names[i]} version part ${JSON.stringify(p)}: strconv.Atoi: parsing ${JSON.stringify(p)}: invalid syntax`,
      );
    }
    out[i] = Number(p);
  });
  return out;
}

/** libcni's version.GreaterThan. */
export function libcniGreaterThan(a: string, b: string): boolean {
  const x = libcniParseVersion(a);
  const y = libcniParseVersion(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
}

/** Go's name for a decoded JSON value's type (what %T prints for interface{} data). */
function goTypeOf(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return 'map[string]interface {}';
  }
}

/** encoding/json's word for a JSON value in an UnmarshalTypeError. */
function jsonKind(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The typed fields of libcni's types.PluginConf, and what json.Unmarshal says when one has the wrong type. */
function pluginConfTypeError(o: JsonObject): string | undefined {
  const bad = (path: string, v: Json, goType: string) =>
    `json: cannot unmarshal ${jsonKind(v)} into Go struct field PluginConf.${path} of type ${goType}`;
  const str = (path: string, v: Json | undefined) =>
    v !== undefined && v !== null && typeof v !== 'string' ? bad(path, v, 'string') : undefined;
  const strs = (path: string, v: Json | undefined) => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return bad(path, v, '[]string');
    for (const x of v) if (x !== null && typeof x !== 'string') return bad(path, x, 'string');
    return undefined;
  };
  const obj = (path: string, v: Json | undefined, goType: string) =>
    v !== undefined && v !== null && !isObj(v) ? bad(path, v, goType) : undefined;
  // json.Unmarshal decodes fields in the order they appear in the input and reports the first error
  for (const [k, v] of Object.entries(o)) {
    let e: string | undefined;
    if (k === 'cniVersion' || k === 'name' || k === 'type') e = str(k, v);
    else if (k === 'capabilities') {
      e = obj(k, v, 'map[string]bool');
      if (!e && isObj(v))
        for (const [c, on] of Object.entries(v))
          if (on !== null && typeof on !== 'boolean') {
            e = bad(`capabilities.${c}`, on, 'bool');
            break;
          }
    } else if (k === 'ipam') {
      e = obj(k, v, 'types.IPAM');
      if (!e && isObj(v)) e = str('ipam.type', v.type);
    } else if (k === 'dns') {
      e = obj(k, v, 'types.DNS');
      if (!e && isObj(v))
        e =
          strs('dns.nameservers', v.nameservers) ??
          str('dns.domain', v.domain) ??
          strs('dns.search', v.search) ??
          strs('dns.options', v.options);
    } else if (k === 'prevResult') e = obj(k, v, 'map[string]interface {}');
    if (e) return e;
  }
  return undefined;
}

/** libcni's NetworkPluginConfFromBytes / ConfFromBytes for one plugin's JSON (already parsed). */
function pluginFromValue(v: Json): PluginConf {
  if (!isObj(v)) {
    throw new Error(
      `error parsing configuration: json: cannot unmarshal ${jsonKind(v)} into Go value of type types.PluginConf`,
    );
  }
  const typeErr = pluginConfTypeError(v);
  if (typeErr) throw new Error(`error parsing configuration: ${typeErr}`);
  if (typeof v.type !== 'string' || v.type === '') throw new Error(`error parsing configuration: missing 'type'`);
  return v as PluginConf;
}

/** JSON.parse with Go's error words (encoding/json's SyntaxError texts). */
function goParse(text: string): Json {
  const syntax = goJsonSyntaxError(text);
  if (syntax) throw new Error(syntax);
  return JSON.parse(text) as Json;
}

/**
 * libcni's ConfListFromBytes. cniVersions: the entries not above libcni's own 1.1.0, plus a
 * co-present cniVersion, the highest wins; without cniVersions, cniVersion is taken as written
 * (even absent). disableCheck, disableGC: a bool, or the string "true"/"false" in any case. A list
 * without "plugins" loads here (libcni then looks for <name>/*.conf beside the file).
 */
export function libcniConfListFromBytes(text: string, file?: string): ConfList {
  const fail = (m: string): never => {
    throw new Error(`error parsing configuration list: ${m}`);
  };
  let raw: Json;
  try {
    raw = goParse(text);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!isObj(raw)) return fail(`json: cannot unmarshal ${jsonKind(raw)} into Go value of type map[string]interface {}`);
  if (!('name' in raw)) fail('no name');
  const name = raw.name!;
  if (typeof name !== 'string') return fail(`invalid name type ${goTypeOf(name)}`);
  let cniVersion = '';
  if ('cniVersion' in raw) {
    if (typeof raw.cniVersion !== 'string') return fail(`invalid cniVersion type ${goTypeOf(raw.cniVersion!)}`);
    cniVersion = raw.cniVersion;
  }
  if ('cniVersions' in raw) {
    const rvs = raw.cniVersions!;
    // libcni prints the type of its (still nil) []interface{} here, not the value's
    if (!Array.isArray(rvs)) return fail('invalid type for cniVersions: []interface {}');
    const vs: string[] = [];
    rvs.forEach((rv, i) => {
      if (typeof rv !== 'string') fail(`invalid type for cniVersions index ${i}: ${goTypeOf(rv)}`);
      let gt: boolean;
      try {
        gt = libcniGreaterThan(rv as string, LIBCNI_CURRENT);
      } catch (e) {
        return fail(`invalid cniVersions entry ${rv as string} at index ${i}: ${(e as Error).message}`);
      }
      if (!gt) vs.push(rv as string);
    });
    if (cniVersion !== '') {
      let gt: boolean;
      try {
        gt = libcniGreaterThan(cniVersion, LIBCNI_CURRENT);
      } catch (e) {
        return fail(`invalid cniVersion ${cniVersion}: ${(e as Error).message}`);
      }
      if (!gt) vs.push(cniVersion);
    }
    vs.sort((a, b) => (a === b ? 0 : libcniGreaterThan(a, b) ? 1 : -1));
    if (vs.length) cniVersion = vs[vs.length - 1]!;
  }
  const readBool = (key: string): boolean => {
    if (!(key in raw)) return false;
    const v = (raw as JsonObject)[key]!;
    if (typeof v === 'boolean') return v;
    if (typeof v !== 'string') return fail(`invalid type ${goTypeOf(v)} for ${key}`);
    const s = v.toLowerCase();
    if (s === 'false') return false;
    if (s === 'true') return true;
    return fail(`invalid value ${JSON.stringify(s)} for ${key}`);
  };
  const disableCheck = readBool('disableCheck');
  const disableGC = readBool('disableGC');
  const loadOnlyInlinedPlugins = readBool('loadOnlyInlinedPlugins');
  const list: ConfList = {
    cniVersion,
    name,
    disableCheck,
    disableGC,
    plugins: [],
    bytes: text,
    ...(file ? { file } : {}),
  };
  if (!('plugins' in raw)) {
    if (loadOnlyInlinedPlugins) fail("`loadOnlyInlinedPlugins` is true, and no 'plugins' key");
    return list;
  }
  const plugins = raw.plugins!;
  if (!Array.isArray(plugins)) return fail(`invalid 'plugins' type ${goTypeOf(plugins)}`);
  if (plugins.length === 0) fail('no plugins in list');
  plugins.forEach((p, i) => {
    try {
      list.plugins.push(pluginFromValue(p));
    } catch (e) {
      throw new Error(`failed to parse plugin config ${i}: ${(e as Error).message}`, { cause: e });
    }
  });
  return list;
}

/** libcni's ConfFromBytes then ConfListFromConf: a single plugin's .conf as a one-plugin list. */
export function libcniConfFromBytes(text: string, file?: string): ConfList {
  let raw: Json;
  try {
    raw = goParse(text);
  } catch (e) {
    throw new Error(`error parsing configuration: ${(e as Error).message}`, { cause: e });
  }
  const plugin = pluginFromValue(raw);
  const name = typeof plugin.name === 'string' ? plugin.name : '';
  const cniVersion = typeof plugin.cniVersion === 'string' ? plugin.cniVersion : '';
  // ConfListFromConf marshals {name, cniVersion, plugins:[conf]} through a Go map: those are the list's bytes
  const bytes = goMarshal({ name, cniVersion, plugins: [plugin] });
  return { ...libcniConfListFromBytes(bytes), ...(file ? { file } : {}) };
}

/** A file's extension as Go's filepath.Ext sees it. */
function goExt(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(i);
}

/**
 * go-cni's loadFromConfDir with containerd's NetworkPluginMaxConfNum = 1: .conf, .conflist and
 * .json files in lexical order; the first that libcni cannot load fails the whole load (go-cni's
 * error text); the first that loads is the network.
 */
export function loadNetworks(folder: FolderFiles, dirPath: string): { network: ConfList } | { error: string } {
  let names: string[];
  try {
    names = folder.readdirIfExists();
  } catch (e) {
    return { error: `failed to read config file: ${(e as Error).message}: failed to read config file` };
  }
  const isFile = (n: string) => {
    const st = folder.lstat(n);
    // ConfFiles skips directories only (os.ReadDir's entries: a link is not a directory)
    return !st || !st.isDirectory();
  };
  const files = names.filter((n) => ['.conf', '.conflist', '.json'].includes(goExt(n)) && isFile(n));
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (files.length === 0) return { error: `no network config found in ${dirPath}: cni plugin not initialized` };
  const n = files[0]!;
  const path = `${dirPath.replace(/\/$/, '')}/${n}`;
  let text: string;
  try {
    text = folder.readFile(n);
  } catch (e) {
    return {
      error: `failed to load CNI config ${n.endsWith('.conflist') ? 'list ' : ''}file ${path}: error reading ${path}: ${(e as Error).message}: invalid cni config`,
    };
  }
  if (n.endsWith('.conflist')) {
    let list: ConfList;
    try {
      list = libcniConfListFromBytes(text, path);
      if (list.plugins.length === 0) list = { ...list, plugins: pluginsBeside(folder, list.name) };
      if (list.plugins.length === 0) throw new Error('no plugin configs found');
    } catch (e) {
      return { error: `failed to load CNI config list file ${path}: ${(e as Error).message}: invalid cni config` };
    }
    return { network: list };
  }
  let list: ConfList;
  try {
    list = libcniConfFromBytes(text, path);
  } catch (e) {
    return { error: `failed to load CNI config file ${path}: ${(e as Error).message}: invalid cni config` };
  }
  return { network: list };
}

/** libcni's NetworkPluginConfsFromFiles: a list without "plugins" takes <dir>/<name>/*.conf. */
function pluginsBeside(folder: FolderFiles, name: string): PluginConf[] {
  let names: string[];
  try {
    names = folder.readdirIfExists(name);
  } catch {
    return [];
  }
  const out: PluginConf[] = [];
  for (const n of names.filter((x) => goExt(x) === '.conf')) {
    const text = folder.readFile(`${name}/${n}`);
    let raw: Json;
    try {
      raw = goParse(text);
    } catch (e) {
      throw new Error(`error parsing configuration: ${(e as Error).message}`, { cause: e });
    }
    out.push(pluginFromValue(raw));
  }
  return out;
}
