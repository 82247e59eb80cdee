// The whole contract from its parts: each request method has exactly one owner.
import type { Method, PodnetApi } from '../api/contract.js';

/** Joins the parts' request methods into the whole contract; every method must have exactly one owner. */
export function composeApi(parts: readonly object[], methods: readonly Method[]): PodnetApi {
  const api: Record<string, unknown> = {};
  for (const m of methods) {
    const owners = parts.filter((p) => typeof (p as Record<string, unknown>)[m] === 'function');
    if (owners.length !== 1)
      throw new Error(`contract method ${m} has ${owners.length} implementations (needs exactly one)`);
    const owner = owners[0] as Record<string, (p: unknown) => Promise<unknown>>;
    api[m] = (p: unknown) => owner[m]!(p);
  }
  return api as PodnetApi;
}
