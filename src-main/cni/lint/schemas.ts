// The CNI JSON Schemas (resources/cni-schemas), compiled once with ajv. Main process only: ajv
// compiles to code run with new Function, which the renderer's CSP forbids (Monaco validates there).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

export const SCHEMA_BASE = 'https://podnet.invalid/cni-schemas/';

/** resources/cni-schemas, found upward from this module (src-main, out/src-main and out/main differ in depth). */
export function schemaDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const c = join(d, 'resources', 'cni-schemas');
    if (existsSync(join(c, 'conflist.json'))) return c;
    const up = dirname(d);
    if (up === d) throw new Error('cannot find resources/cni-schemas beside the app');
    d = up;
  }
}

export type SchemaDoc = {
  $id: string;
  title?: string;
  description?: string;
  properties?: Record<string, { description?: string }>;
  [k: string]: unknown;
};

let loaded: { docs: Map<string, SchemaDoc>; conflist: ValidateFunction; conf: ValidateFunction } | undefined;

/** Every schema by file name without .json (conflist, conf, plugin, ipam, bridge, host-local, …). */
export function schemaDocs(): Map<string, SchemaDoc> {
  return load().docs;
}

export function validatorFor(kind: 'conflist' | 'conf'): ValidateFunction {
  return load()[kind];
}

function load() {
  if (loaded) return loaded;
  const dir = schemaDir();
  const docs = new Map<string, SchemaDoc>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    docs.set(f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), 'utf8')) as SchemaDoc);
  }
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
  for (const s of docs.values()) ajv.addSchema(s);
  loaded = {
    docs,
    conflist: ajv.getSchema(`${SCHEMA_BASE}conflist.json`)!,
    conf: ajv.getSchema(`${SCHEMA_BASE}conf.json`)!,
  };
  return loaded;
}
