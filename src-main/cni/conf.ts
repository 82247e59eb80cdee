// Network configuration: parsing .conf/.conflist/.json files and picking a node's pod network,
// as containerd's go-cni does (files in lexical order, a .conf upconverted to a one-plugin list).
import { join } from 'node:path';
import { isRefusal, type FolderFiles } from './folder.js';
import { ConfigError } from './errors.js';
import { locateJsonError } from './json-locate.js';
import { checkConfigText } from './lint/check.js';
import { goMarshal } from './go-json.js';
import { libcniConfListFromBytes, loadNetworks } from './libcni-conf.js';
import { KNOWN_VERSIONS, parseVersion } from './version.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** One plugin's configuration object in a list. */
export interface PluginConf extends JsonObject {
  type: string;
}

/** A network configuration list (what libcni calls NetworkConfigList). */
export interface ConfList {
  cniVersion: string;
  name: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConf[];
  /** The list as JSON text: what the result cache stores as "config". */
  bytes: string;
  /** The file it came from, if any. */
  file?: string;
}

export const CONF_EXTENSIONS = ['.conf', '.conflist', '.json'] as const;

/** Network names, container IDs: letters, digits, then _ . - (the spec's rule). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function lineCol(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - before.lastIndexOf('\n') };
}

/** JSON.parse with a ConfigError that says where the syntax is broken, and why. */
export function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    const p = locateJsonError(text) ?? { pos: text.length, reason: (e as Error).message };
    const { line, column } = lineCol(text, Math.min(p.pos, text.length));
    throw new ConfigError(file, `invalid JSON: ${p.reason}`, line, column);
  }
}

/** Where a top-level key appears in the text (for errors on a field). */
function keyLine(text: string, key: string): { line: number; column: number } | undefined {
  const i = text.indexOf(`"${key}"`);
  return i >= 0 ? lineCol(text, i) : undefined;
}

function fail(file: string, text: string, reason: string, key?: string): never {
  const at = key ? keyLine(text, key) : undefined;
  throw new ConfigError(file, reason, at?.line, at?.column);
}

function checkVersion(file: string, text: string, v: Json | undefined, where: string): string {
  if (v === undefined)
    fail(
      file,
      text,
      `${where} has no "cniVersion": plugins cannot be run without it (and DEL would fail, leaking the pod's network)`,
    );
  if (typeof v !== 'string' || !parseVersion(v))
    fail(file, text, `"cniVersion" must be a version string such as "1.0.0", not ${JSON.stringify(v)}`, 'cniVersion');
  if (!(KNOWN_VERSIONS as readonly string[]).includes(v)) {
    fail(file, text, `unknown cniVersion "${v}": known versions are ${KNOWN_VERSIONS.join(', ')}`, 'cniVersion');
  }
  return v;
}

function checkPlugin(file: string, text: string, p: Json, index: number | null): PluginConf {
  const where = index === null ? 'the configuration' : `plugin ${index + 1}`;
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    fail(file, text, `${where} must be a JSON object`, index === null ? undefined : 'plugins');
  if (p.type === undefined)
    fail(
      file,
      text,
      `${where} has no "type": the runtime cannot know which plugin binary to run`,
      index === null ? undefined : 'plugins',
    );
  if (typeof p.type !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(p.type)) {
    fail(file, text, `${where} has an invalid "type" ${JSON.stringify(p.type)}: it must name a plugin binary`, 'type');
  }
  return p as PluginConf;
}

/** Parses a .conflist. */
export function confListFromText(text: string, file = 'config.conflist'): ConfList {
  const raw = parseJson(text, file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(file, text, 'a configuration list must be a JSON object');
  if (raw.type !== undefined && raw.plugins === undefined) {
    fail(
      file,
      text,
      'this is a single plugin configuration (it has "type" and no "plugins"): name the file .conf, or wrap it in a "plugins" list',
      'type',
    );
  }
  if (typeof raw.name !== 'string' || !raw.name) fail(file, text, 'the list has no "name"', 'name');
  if (!NAME_RE.test(raw.name))
    fail(
      file,
      text,
      `invalid network name "${raw.name}": use letters, digits, "_", "." and "-", starting with a letter or digit`,
      'name',
    );
  if (!Array.isArray(raw.plugins))
    fail(file, text, 'the list has no "plugins" array', raw.plugins === undefined ? undefined : 'plugins');
  if (raw.plugins.length === 0) fail(file, text, 'the "plugins" list is empty', 'plugins');
  const plugins = raw.plugins.map((p, i) => checkPlugin(file, text, p, i));
  // cniVersion(s), disableCheck and disableGC exactly as libcni 1.3 reads them
  let lib: ConfList;
  try {
    lib = libcniConfListFromBytes(text, file);
  } catch (e) {
    const m = (e as Error).message;
    const key = ['cniVersions', 'cniVersion', 'disableCheck', 'disableGC', 'plugins'].find((k) => m.includes(k));
    return fail(file, text, m, key);
  }
  const cniVersion = lib.cniVersion;
  return {
    cniVersion,
    name: raw.name,
    disableCheck: lib.disableCheck,
    disableGC: lib.disableGC,
    plugins,
    bytes: text,
    file,
  };
}

/** Parses a single plugin .conf (or .json) and upconverts it to a one-plugin list, as libcni does. */
export function confListFromConfText(text: string, file = 'config.conf'): ConfList {
  const raw = parseJson(text, file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(file, text, 'a configuration must be a JSON object');
  if (raw.type === undefined && Array.isArray(raw.plugins)) {
    fail(
      file,
      text,
      'this file holds a configuration list ("plugins"), but .conf and .json files are single plugins: name it .conflist',
      'plugins',
    );
  }
  const plugin = checkPlugin(file, text, raw, null);
  if (typeof raw.name !== 'string' || !raw.name) fail(file, text, 'the configuration has no "name"');
  if (!NAME_RE.test(raw.name)) fail(file, text, `invalid network name "${raw.name}"`, 'name');
  const cniVersion = checkVersion(file, text, raw.cniVersion, 'the configuration');
  // ConfListFromConf: the list libcni builds (and caches) is {name, cniVersion, plugins:[conf]} through a Go map
  return {
    cniVersion,
    name: raw.name,
    disableCheck: false,
    disableGC: false,
    plugins: [plugin],
    bytes: goMarshal({ cniVersion, name: raw.name, plugins: [plugin] }),
    file,
  };
}

/** Parses a config file by its extension, then lints it: the engine runs no plugin with a config that lint refuses. */
export function confListFromFileText(file: string, text: string): ConfList {
  const list = file.endsWith('.conflist') ? confListFromText(text, file) : confListFromConfText(text, file);
  const errors = checkConfigText(file, text).filter((p) => p.severity === 'error');
  if (errors.length) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: "podnet cni lint" lists them all)` : '';
    throw new ConfigError(file, errors[0]!.message + more, errors[0]!.line, errors[0]!.column);
  }
  return list;
}

export interface LoadedConfig {
  file: string;
  list?: ConfList;
  error?: ConfigError;
}

export interface NodeNetworkConfig {
  /** Every config file in lexical order, each valid or with its error. */
  files: LoadedConfig[];
  /** The pod network: the first valid file. */
  network?: ConfList;
  /** Why the directory itself was not read (a link a lab planted in its place). */
  refused?: string;
}

/** Loads a node's config directory: .conf, .conflist, .json in lexical order; the first valid one wins. */
export function loadConfDir(files: FolderFiles, displayDir = files.shown()): NodeNetworkConfig {
  let names: string[];
  try {
    names = files.readdirIfExists();
  } catch (e) {
    // a world's folder is walked without following a link a lab may have planted there
    if (isRefusal(e)) return { files: [], refused: (e as Error).message };
    names = [];
  }
  names = names.filter((n) => CONF_EXTENSIONS.some((e) => n.endsWith(e))).sort();
  const loaded: LoadedConfig[] = names.map((n) => {
    const shown = join(displayDir, n);
    try {
      return { file: shown, list: confListFromFileText(shown, files.readFile(n)) };
    } catch (e) {
      if (e instanceof ConfigError) return { file: shown, error: e };
      return { file: shown, error: new ConfigError(shown, `cannot read: ${(e as Error).message}`) };
    }
  });
  const first = loaded.find((f) => f.list);
  return { files: loaded, ...(first?.list ? { network: first.list } : {}) };
}

/** containerd's loopback network for the "plugin" loopback mode (go-cni WithLoNetwork: its bytes verbatim). */
export function loopbackConfList(): ConfList {
  return libcniConfListFromBytes(`{
"cniVersion": "0.3.1",
"name": "cni-loopback",
"plugins": [{
  "type": "loopback"
}]
}`);
}

export { loadNetworks };
