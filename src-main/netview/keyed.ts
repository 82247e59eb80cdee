// Rows with the keys their diffs use: the engine keys them, the renderer only applies. No imports, so
// the renderer can share it.
export type Keyed<T> = { key: string; row: T };
export type KeyedTableDiff<T> = { added: Keyed<T>[]; changed: Keyed<T>[]; removed: string[] };

/** Applies a keyed diff to keyed rows: rows keep their order, changed ones in place, new ones last. */
export function applyKeyedDiff<T>(rows: Keyed<T>[], d: KeyedTableDiff<T>): Keyed<T>[] {
  const gone = new Set(d.removed);
  const changed = new Map(d.changed.map((c) => [c.key, c]));
  return [...rows.filter((r) => !gone.has(r.key)).map((r) => changed.get(r.key) ?? r), ...d.added];
}
