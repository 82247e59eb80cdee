// The API server's store: the real etcd (3.4), spoken to through its v3 JSON gateway (/v3/kv/…, keys
// and values base64). Keys are kube-apiserver's own (/registry/pods/default/web); values are JSON here,
// where kube-apiserver writes protobuf — the one difference a learner reading etcd sees.

import { Agent, request } from 'node:http';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The key just past every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]!++;
      return b.subarray(0, i + 1).toString('base64');
    }
  }
  return b64('\0');
}

export interface Stored {
  key: string;
  value: string;
  /** etcd's mod_revision: the object's resourceVersion. */
  modRevision: number;
  createRevision: number;
}

interface KvJson {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}

export class StoreError extends Error {}

export class EtcdStore {
  private readonly agent = new Agent({ keepAlive: true });
  constructor(private readonly endpoint: string) {}

  // node:http, not fetch: undici's WebAssembly parser reserves more address space than a world process may have
  private call<T>(path: string, body: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.endpoint}${path}`, { method: 'POST', agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300)
            return reject(new StoreError(`etcd ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`));
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new StoreError(`etcd ${path} answered with non-JSON: ${text.slice(0, 200)}`));
          }
        });
      });
      req.on('error', (e) => reject(new StoreError(`etcd at ${this.endpoint} cannot be reached: ${e.message}`)));
      req.end(JSON.stringify(body));
    });
  }

  private static stored(kv: KvJson): Stored {
    return {
      key: unb64(kv.key),
      value: unb64(kv.value),
      modRevision: Number(kv.mod_revision ?? 0),
      createRevision: Number(kv.create_revision ?? 0),
    };
  }

  async get(key: string): Promise<Stored | undefined> {
    const r = await this.call<{ kvs?: KvJson[] }>('/v3/kv/range', { key: b64(key) });
    return r.kvs?.[0] ? EtcdStore.stored(r.kvs[0]) : undefined;
  }

  /** Every key under a prefix, and the store's revision at the read (a list's resourceVersion). */
  async list(prefix: string): Promise<{ items: Stored[]; revision: number }> {
    const r = await this.call<{ kvs?: KvJson[]; header?: { revision?: string } }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixEnd(prefix),
    });
    return { items: (r.kvs ?? []).map((kv) => EtcdStore.stored(kv)), revision: Number(r.header?.revision ?? 0) };
  }

  /**
   * Writes only if the key's mod revision is still `expect` (0: the key must not exist), as
   * kube-apiserver's GuaranteedUpdate does; answers the new revision, or undefined when it lost.
   */
  async putIf(key: string, value: string, expect: number): Promise<number | undefined> {
    const r = await this.call<{ succeeded?: boolean; header?: { revision?: string } }>('/v3/kv/txn', {
      compare: [
        expect === 0
          ? { key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }
          : { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(expect) },
      ],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    return r.succeeded ? Number(r.header?.revision ?? 0) : undefined;
  }

  /** Deletes if still at `expect`; answers the revision of the delete, or undefined when it lost. */
  async deleteIf(key: string, expect: number): Promise<number | undefined> {
    const r = await this.call<{ succeeded?: boolean; header?: { revision?: string } }>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(expect) }],
      success: [{ request_delete_range: { key: b64(key) } }],
    });
    return r.succeeded ? Number(r.header?.revision ?? 0) : undefined;
  }
}
