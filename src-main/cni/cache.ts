// The result cache, in libcni's "cniCacheV1" format, so real cnitool and libcni read what we write:
// <cacheDir>/results/<network>-<containerID>-<ifName>, written atomically (rename), mode 0600.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json, JsonObject } from './conf.js';
import type { CniResult } from './result.js';

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
  constructor(readonly dir: string) {}

  path(network: string, containerId: string, ifName: string): string {
    return join(this.dir, 'results', `${network}-${containerId}-${ifName}`);
  }

  write(a: Omit<CachedAttachment, 'kind' | 'config'> & { configText: string }): void {
    const { configText, ...rest } = a;
    const entry: CachedAttachment = { kind: 'cniCacheV1', ...rest, config: Buffer.from(configText).toString('base64') };
    const dest = this.path(a.networkName, a.containerId, a.ifName);
    mkdirSync(join(this.dir, 'results'), { recursive: true, mode: 0o700 });
    // Atomic (no reader sees half a file), not durable: like libcni, no fsync; a world's state ends with it.
    const tmp = `${dest}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(tmp, dest);
  }

  read(network: string, containerId: string, ifName: string): CachedAttachment | undefined {
    try {
      const raw = JSON.parse(readFileSync(this.path(network, containerId, ifName), 'utf8')) as Json;
      if (typeof raw === 'object' && raw && !Array.isArray(raw) && raw.kind === 'cniCacheV1')
        return raw as unknown as CachedAttachment;
    } catch {
      /* absent or unreadable: as libcni, treat it as no cache */
    }
    return undefined;
  }

  remove(network: string, containerId: string, ifName: string): void {
    rmSync(this.path(network, containerId, ifName), { force: true });
  }

  /** All cached attachments of a network (GC uses them). */
  list(network: string): CachedAttachment[] {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, 'results'));
    } catch {
      return [];
    }
    const out: CachedAttachment[] = [];
    for (const n of names) {
      if (!n.startsWith(`${network}-`) || n.includes('.tmp-')) continue;
      try {
        const a = JSON.parse(readFileSync(join(this.dir, 'results', n), 'utf8')) as CachedAttachment;
        if (a.kind === 'cniCacheV1' && a.networkName === network) out.push(a);
      } catch {
        /* skip unreadable entries */
      }
    }
    return out;
  }
}
