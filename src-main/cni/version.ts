// CNI spec versions: comparison and negotiation.

/** The highest spec version this executor implements (STATUS and GC are 1.1.0). */
export const LIBRARY_VERSION = '1.1.0';
export const KNOWN_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export function parseVersion(v: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** Compares two versions: negative, zero or positive. Unparseable versions sort first. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [-1, 0, 0];
  const pb = parseVersion(b) ?? [-1, 0, 0];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

export const versionAtLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

/** libcni's cniVersions negotiation: the highest listed version this library implements. */
export function negotiateVersion(versions: string[]): string | undefined {
  return versions
    .filter((v) => parseVersion(v) && compareVersions(v, LIBRARY_VERSION) <= 0)
    .sort(compareVersions)
    .at(-1);
}

export function highestVersion(versions: string[]): string | undefined {
  return [...versions]
    .filter((v) => parseVersion(v))
    .sort(compareVersions)
    .at(-1);
}
