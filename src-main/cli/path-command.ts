// podnet path: follow a packet through a preset world — a ping pod → pod across nodes over a VXLAN overlay,
// and a TCP request to a ClusterIP Service — hop by hop, then tear the world down.
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: podnet path [--json]';

export async function pathCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let values: { json?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }));
  } catch (e) {
    // node's hint about positionals starting with '-' does not apply: this command takes none
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n${USAGE}`);
  }
  if (positionals.length)
    throw new UsageError(
      `podnet path ${positionals.join(' ')}: following a packet between places of a running world (FROM TO) is not built yet; podnet path follows its preset world's packets (docs/path.md)\n${USAGE}`,
    );
  const [{ buildPresetWorld }, { followPresetPing, followPresetService }, { pathText }] = await Promise.all([
    import('../path/preset.js'),
    import('../path/preset-paths.js'),
    import('../path/format.js'),
  ]);
  const t0 = performance.now();
  err('podnet path: building the preset world (2 nodes, VXLAN overlay VNI 1, a pod on each, Service "web")…');
  const preset = await buildPresetWorld();
  try {
    err(`podnet path: world ready in ${Math.round(performance.now() - t0)} ms; following a ping, then a TCP request`);
    const ping = await followPresetPing(preset);
    const service = await followPresetService(preset);
    const where = {
      client: { pod: preset.client.name, node: preset.client.node, ip: preset.client.ip },
      server: { pod: preset.server.name, node: preset.server.node, ip: preset.server.ip },
      service: preset.service,
    };
    if (values.json) out(JSON.stringify({ world: where, ping, service }, null, 2));
    else {
      out(
        `client ${where.client.ip} (node1) · server ${where.server.ip} (node2) · Service web ${preset.service.ip}:80`,
      );
      out(pathText(`ping pod/client → pod/server`, ping));
      out('');
      out(pathText(`TCP pod/client → Service web ${preset.service.ip}:${preset.service.port}`, service));
    }
    return ping.drop || service.drop ? 1 : 0;
  } finally {
    await preset.destroy();
  }
}
