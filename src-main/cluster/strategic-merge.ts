// Strategic merge patch, as far as `kubectl apply`, `edit` and `patch` send it for the kinds the lab serves:
// lists with a patch merge key merge element by element (a Service's ports by port, containers by name),
// with the directives kubectl writes ($patch: delete|replace, $setElementOrder/FIELD, $retainKeys,
// $deleteFromPrimitiveList/FIELD); other lists are replaced whole; null deletes, as in a merge patch.

/** The patchMergeKey of each list the lab's kinds have (k8s.io/api's struct tags), by path without indices. */
const MERGE_KEYS: Record<string, string> = {
  'metadata.ownerReferences': 'uid',
  'spec.ports': 'port',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.initContainers.ports': 'containerPort',
  'spec.containers.env': 'name',
  'spec.initContainers.env': 'name',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.volumes': 'name',
  'spec.hostAliases': 'ip',
  'spec.imagePullSecrets': 'name',
  'status.conditions': 'type',
  'status.addresses': 'type',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** A value from the patch, with every directive taken out. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && x.$patch === 'delete')).map(clean);
  if (!isObj(v)) return structuredClone(v);
  const out: Obj = {};
  for (const [k, x] of Object.entries(v))
    if (!k.startsWith('$') && x !== null) out[k] = clean(x);
  return out;
}

function mergeList(target: unknown[], patch: unknown[], key: string, path: string): unknown[] {
  if (patch.some((x) => isObj(x) && x.$patch === 'replace'))
    return clean(patch.filter((x) => !(isObj(x) && x.$patch === 'replace'))) as unknown[];
  const out = [...target];
  for (const item of patch) {
    if (!isObj(item)) {
      out.push(clean(item));
      continue;
    }
    const at = out.findIndex((x) => isObj(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = strategicMergePatch(out[at], item, path);
    else out.push(clean(item));
  }
  return out;
}

/** Orders a merged list as $setElementOrder says (items it does not name keep their place after those it does). */
function order(list: unknown[], by: unknown[], key: string | undefined): unknown[] {
  const idOf = (x: unknown) => (key && isObj(x) ? x[key] : x);
  const rank = new Map(by.map((x, i) => [JSON.stringify(idOf(x)), i]));
  return list
    .map((x, i) => ({ x, r: rank.get(JSON.stringify(idOf(x))) ?? by.length + i }))
    .sort((a, b) => a.r - b.r)
    .map((e) => e.x);
}

export function strategicMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isObj(patch)) return clean(patch);
  if (patch.$patch === 'replace') return clean(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    const at = path ? `${path}.${k}` : k;
    const key = MERGE_KEYS[at];
    if (v === null) delete out[k];
    else if (Array.isArray(v) && key && Array.isArray(out[k])) out[k] = mergeList(out[k] as unknown[], v, key, at);
    else if (Array.isArray(v)) out[k] = clean(v);
    else if (isObj(v)) {
      const merged = strategicMergePatch(out[k], v, at);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    const field = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k)?.[1];
    if (field && Array.isArray(out[field]) && Array.isArray(v))
      out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
    const ordered = /^\$setElementOrder\/(.+)$/.exec(k)?.[1];
    if (ordered && Array.isArray(out[ordered]) && Array.isArray(v))
      out[ordered] = order(out[ordered] as unknown[], v, MERGE_KEYS[path ? `${path}.${ordered}` : ordered]);
  }
  // $retainKeys: the fields not named go (a union type's other members)
  if (Array.isArray(patch.$retainKeys))
    for (const k of Object.keys(out)) if (!(patch.$retainKeys as unknown[]).includes(k)) delete out[k];
  return out;
}
