// go-cni 1.1.13 over our libcni, as containerd 2.1 uses it: Load (the loopback network, then the first
// config file, failing at the first file that does not load), ready() (a minimum network count),
// Status (ready, then STATUS for each network), Setup (every network attached concurrently) and
// Remove (every network loaded now, skipping "not found").
import type { CniExecutor, RuntimeConf } from '../cni/libcni.js';
import { loopbackConfList, type ConfList } from '../cni/conf.js';
import type { FolderFiles } from '../cni/folder.js';
import { loadNetworks } from '../cni/libcni-conf.js';
import type { CniResult } from '../cni/result.js';
import type { PluginExecRecord } from '../cni/invoke.js';
import { versionAtLeast } from '../cni/version.js';

/** go-cni's ErrCNINotInitialized: fewer networks loaded than the minimum. */
export const CNI_NOT_INITIALIZED = 'cni plugin not initialized';

/** One network go-cni attaches: the list and the interface it gets in the pod. */
export interface GoCniNetwork {
  list: ConfList;
  ifName: string;
}

/** A network's attach (ADD) or remove (DEL), run by the caller so it can trace it. */
export type AttachFn = (n: GoCniNetwork) => Promise<CniResult>;
export type RemoveFn = (n: GoCniNetwork) => Promise<void>;

/** go-cni's libcni struct for one node: the networks loaded now and the minimum needed. */
export class GoCni {
  networks: GoCniNetwork[] = [];
  /** containerd's cni_conf_syncer lastStatus: "OK", or the error of the last Load. */
  lastLoadStatus = 'OK';

  constructor(
    private readonly confDir: FolderFiles,
    private readonly confDirPath: string,
    /** containerd 2.x: 2 with the loopback plugin (its cni-loopback network), 1 with use_internal_loopback. */
    private readonly minNetworks: () => 1 | 2,
  ) {}

  get networkCount(): number {
    return this.minNetworks();
  }

  /**
   * Load (containerd's cniLoadOptions): reset, then WithLoNetwork (unless use_internal_loopback), then
   * WithDefaultConf. A file that does not load fails the whole load; the networks loaded before it stay.
   */
  load(): void {
    this.networks = [];
    if (this.networkCount === 2) this.networks.push({ list: loopbackConfList(), ifName: 'lo' });
    const r = loadNetworks(this.confDir, this.confDirPath);
    if ('error' in r) {
      this.lastLoadStatus = `cni config load failed: ${r.error}: failed to load cni config`;
      return;
    }
    this.networks.push({ list: r.network, ifName: 'eth0' });
    this.lastLoadStatus = 'OK';
  }

  /** go-cni ready(): at least networkCount networks loaded, else ErrCNINotInitialized. */
  ready(): void {
    if (this.networks.length < this.networkCount) throw new Error(CNI_NOT_INITIALIZED);
  }

  /** The pod network (the first config file's list), if loaded. */
  get podNetwork(): ConfList | undefined {
    return this.networks.find((n) => n.ifName === 'eth0')?.list;
  }

  /** Status: ready(), then libcni GetStatusNetworkList for each network (a no-op below cniVersion 1.1.0). */
  async status(cni: CniExecutor, onExec?: (r: PluginExecRecord) => void): Promise<void> {
    this.ready();
    for (const n of this.networks) {
      if (!versionAtLeast(n.list.cniVersion, '1.1.0')) continue;
      await cni.getStatusNetworkList(n.list, onExec);
    }
  }

  /** Setup (attachNetworks): ready(), then every network at once; all are awaited, the first error wins. */
  async setup(attach: AttachFn): Promise<CniResult[]> {
    this.ready();
    const settled = await Promise.allSettled(this.networks.map((n) => attach(n)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<CniResult>).value);
  }

  /**
   * Remove: ready(), then DEL of each network loaded now, in order; an error saying "not found" (or,
   * with no netns path, "no such file or directory") is skipped, the first other one returned.
   */
  async remove(netnsPath: string, del: RemoveFn, onSkip?: (n: GoCniNetwork, e: Error) => void): Promise<void> {
    this.ready();
    for (const n of this.networks) {
      try {
        await del(n);
      } catch (e) {
        const msg = (e as Error).message;
        if ((netnsPath === '' && msg.includes('no such file or directory')) || msg.includes('not found')) {
          onSkip?.(n, e as Error);
          continue;
        }
        throw e;
      }
    }
  }
}

/** The RuntimeConf of one network's attachment. */
export type RuntimeConfOf = (n: GoCniNetwork) => RuntimeConf;
