// Fault injection for teaching, always inside the world: a plugin made to fail by a wrapper bound over
// it in one node's mount namespace (the real binary stays reachable, and nothing of the host changes),
// and a pod's network namespace removed before CNI DEL.
import type { World } from '../world/world.js';
import { NODE_PATHS } from '../world/world.js';

/** Where a node keeps an active fault's wrapper and the real plugin (outside networks/ and results/). */
export const FAULT_DIR = `${NODE_PATHS.dataDir}/podnet-faults`;

export type FailOn = 'ADD' | 'ADD+DEL';

const PLUGIN_TYPE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class FaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultError';
  }
}

/** The wrapper: the CNI error object on the failing commands, the real plugin for every other one. */
export function failingWrapper(plugin: string, on: FailOn): string {
  const cmds = on === 'ADD' ? 'ADD' : 'ADD|DEL';
  const msg = `injected fault: ${plugin} fails on ${on === 'ADD' ? 'ADD' : 'ADD and DEL'}`;
  return [
    '#!/bin/sh',
    `# podnet timeline fault: ${msg}. Bound over ${NODE_PATHS.binDir}/${plugin} until the operation ends.`,
    'case "$CNI_COMMAND" in',
    `${cmds})`,
    '  cat >/dev/null',
    `  printf '%s\\n' '{"cniVersion":"1.0.0","code":100,"msg":"${msg}","details":"podnet timeline fault injection"}'`,
    '  exit 1 ;;',
    'esac',
    `exec ${FAULT_DIR}/${plugin}.real "$@"`,
    '',
  ].join('\n');
}

/**
 * Makes `plugin` fail on a node until the returned remove() runs: the real binary is bound to
 * FAULT_DIR/<plugin>.real and the wrapper over /opt/cni/bin/<plugin>, in that node's mounts only.
 */
export async function installFailingPlugin(
  world: World,
  node: string,
  plugin: string,
  on: FailOn,
): Promise<() => Promise<void>> {
  if (!PLUGIN_TYPE.test(plugin)) throw new FaultError(`"${plugin}" is not a plugin type`);
  const where = { kind: 'node' as const, node };
  const bin = `${NODE_PATHS.binDir}/${plugin}`;
  const install = [
    `test -x ${bin} || { echo "no executable ${bin} on ${node}" >&2; exit 3; }`,
    `! grep -q " ${bin} " /proc/self/mountinfo || { echo "${plugin} on ${node} already has a fault" >&2; exit 3; }`,
    `mkdir -p ${FAULT_DIR}`,
    `: > ${FAULT_DIR}/${plugin}.real`,
    `mount --bind ${bin} ${FAULT_DIR}/${plugin}.real`,
    `cat > ${FAULT_DIR}/${plugin}`,
    `chmod 755 ${FAULT_DIR}/${plugin}`,
    `mount --bind ${FAULT_DIR}/${plugin} ${bin}`,
  ].join('\n');
  const r = await world.exec(where, ['sh', '-ec', install], { input: failingWrapper(plugin, on) });
  const remove = async () => {
    await world.exec(where, [
      'sh',
      '-c',
      `umount ${bin}; umount ${FAULT_DIR}/${plugin}.real; rm -f ${FAULT_DIR}/${plugin} ${FAULT_DIR}/${plugin}.real; rmdir ${FAULT_DIR} 2>/dev/null; true`,
    ]);
  };
  if (r.code !== 0) {
    if (r.code !== 3) await remove();
    throw new FaultError(`cannot make ${plugin} fail on ${node}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  return remove;
}

/** Removes a pod's pinned network namespace on its node, as if something else had deleted it. */
export async function removeNetns(world: World, node: string, netnsPath: string): Promise<void> {
  const name = netnsPath.split('/').pop() ?? '';
  if (!/^cni-[0-9a-f-]{36}$/.test(name)) throw new FaultError(`"${netnsPath}" is not a pod network namespace`);
  const r = await world.exec({ kind: 'node', node }, ['ip', 'netns', 'delete', name]);
  if (r.code !== 0) throw new FaultError(`cannot remove ${netnsPath} on ${node}: ${r.stderr.trim()}`);
}
