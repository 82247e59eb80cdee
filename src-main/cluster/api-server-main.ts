// The API server's process, started by the engine inside the world's sandbox namespace: it listens on
// the control plane's underlay address (for kubectl in the nodes) and on a unix socket in the world's
// state folder (for the engine's scheduler, kubelet and controllers), and stores in the world's etcd.
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { ApiServer } from './api-server.js';
import { auditRequest, WatchAudit } from './audit.js';
import { startClusterDns } from './cluster-dns.js';
import { EtcdStore } from './etcd-store.js';

const [listen = '', socket = '', etcd = ''] = process.argv.slice(2);
const [host, port] = listen.split(':') as [string, string];
const api = new ApiServer(new EtcdStore(etcd), listen);

async function main(): Promise<void> {
  // started beside etcd: etcd answers its first range once it listens and has elected itself (the engine
  // gives etcd 20 s to say it serves, and this as long)
  for (let i = 0; ; i++) {
    try {
      await api.bootstrap();
      break;
    } catch (e) {
      if (i >= 400) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // one line per request and per watch event, for the timeline's control-plane lane (audit.ts)
  const auditLine = (line: string) => void process.stdout.write(`${line}\n`);
  api.watchAudit = new WatchAudit(auditLine);
  const handler = (req: Parameters<ApiServer['handle']>[0], res: Parameters<ApiServer['handle']>[1]) => {
    auditRequest(req, res, auditLine);
    void api.handle(req, res);
  };
  // pods/exec arrives as a WebSocket upgrade (kubectl 1.36)
  const serve = () => createServer(handler).on('upgrade', (req, sock, head) => void api.upgrade(req, sock, head));
  await new Promise<void>((res, rej) => serve().once('error', rej).listen(Number(port), host, res));
  rmSync(socket, { force: true });
  await new Promise<void>((res, rej) => serve().once('error', rej).listen(socket, res));
  // the cluster DNS stand-in, beside the API it reads (a DNS that cannot start leaves the API serving)
  await startClusterDns(api, host).then(
    () => process.stdout.write(`podnet-dns: serving ${host}:53 (udp, tcp)\n`),
    (e: unknown) => process.stderr.write(`podnet-dns: cannot serve ${host}:53: ${(e as Error).message}\n`),
  );
  process.stdout.write(`podnet-apiserver: serving on http://${listen} and ${socket}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`podnet-apiserver: ${(e as Error).message}\n`);
  process.exit(1);
});
