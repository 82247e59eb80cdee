// The result cache, in libcni's "cniCacheV1" format, so real cnitool and libcni read what we write:
// <cacheDir>/results/<network>-<containerID>-<ifName>, written atomically (rename), mode 0600. In a
// world the cache folder is the lab's to change: every access walks it without following a link.
import type { FolderFiles } from './folder.js';
import type { Json, JsonObject } from './conf.js';
import type { CniResult } from './result.js';
import { goMarshal, goStruct } from './go-json.js';

export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  /** The list's JSON text, base64 (Go's encoding of []byte). */
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: JsonObject;
  result?: CniResult;
}

export class ResultCache {
  constructor(readonly files: FolderFiles) {}

  /** Where an attachment's entry is, relative to the cache folder. */
  path(network: string, containerId: string, ifName: string): string {
    return `results/${network}-${containerId}-${ifName}`;
  }

  write(a: Omit<CachedAttachment, 'kind' | 'config'> & { configText: string }): void {
    // libcni's cachedInfo struct, in its field order, empty optional fields omitted (omitempty)
    const entry = goStruct({
      kind: 'cniCacheV1',
      containerId: a.containerId,
      config: Buffer.from(a.configText).toString('base64'),
      ifName: a.ifName,
      networkName: a.networkName,
      netns: a.netns || undefined,
      cniArgs: a.cniArgs?.length ? a.cniArgs : undefined,
      capabilityArgs: a.capabilityArgs && Object.keys(a.capabilityArgs).length ? a.capabilityArgs : undefined,
      result: a.result,
    });
    this.files.mkdirp('results', 0o700);
    // Atomic (no reader sees half a file), not durable: like libcni, no fsync; a world's state ends with it.
    this.files.writeFileAtomic(this.path(a.networkName, a.containerId, a.ifName), goMarshal(entry), {
      mode: 0o600,
      durable: false,
    });
  }

  read(network: string, containerId: string, ifName: string): CachedAttachment | undefined {
    let text: string;
    try {
      text = this.files.readFile(this.path(network, containerId, ifName));
    } catch {
      // absent, unreadable, or a link a lab put in its place (never followed): no cache, as libcni
      return undefined;
    }
    try {
      const raw = JSON.parse(text) as Json;
      if (typeof raw === 'object' && raw && !Array.isArray(raw) && raw.kind === 'cniCacheV1')
        return raw as unknown as CachedAttachment;
    } catch {
      /* unreadable: as libcni, treat it as no cache */
    }
    return undefined;
  }

  /**
   * The cached result as libcni's getCachedResult reads it: from a cniCacheV1 entry, or, when the file
   * is not one (libcni's older layout kept the bare result in results/), the file itself.
   */
  readResult(network: string, containerId: string, ifName: string): Json | undefined {
    let text: string;
    try {
      text = this.files.readFile(this.path(network, containerId, ifName));
    } catch {
      return undefined;
    }
    let raw: Json;
    try {
      raw = JSON.parse(text) as Json;
    } catch (e) {
      throw new Error(`the cached result is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (typeof raw === 'object' && raw && !Array.isArray(raw) && raw.kind === 'cniCacheV1') return raw.result ?? {};
    return raw;
  }

  remove(network: string, containerId: string, ifName: string): void {
    this.files.unlink(this.path(network, containerId, ifName), { force: true });
  }

  /** Every cached attachment, as libcni's GetCachedAttachments: file names sorted, cniCacheV1 entries with a network and an interface. */
  attachments(): CachedAttachment[] {
    const out: CachedAttachment[] = [];
    for (const n of [...this.files.readdirIfExists('results')].sort()) {
      if (n.includes('.tmp')) continue;
      try {
        const a = JSON.parse(this.files.readFile(`results/${n}`)) as CachedAttachment;
        if (a.kind === 'cniCacheV1' && a.ifName && a.networkName) out.push(a);
      } catch {
        /* skipped, as libcni does */
      }
    }
    return out;
  }

  /** All cached attachments of a network (GC uses them). */
  list(network: string): CachedAttachment[] {
    const names = this.files.readdirIfExists('results');
    const out: CachedAttachment[] = [];
    for (const n of names) {
      if (!n.startsWith(`${network}-`) || n.includes('.tmp')) continue;
      try {
        const a = JSON.parse(this.files.readFile(`results/${n}`)) as CachedAttachment;
        if (a.kind === 'cniCacheV1' && a.networkName === network) out.push(a);
      } catch {
        /* skip unreadable entries */
      }
    }
    return out;
  }
}
