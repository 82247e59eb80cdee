// Whether this process could bound a world with a cgroup v2 of its own (memory.max, pids.max): a
// unified hierarchy, and a cgroup above ours that is ours to write with memory and pids delegated.
// Detection only: no cgroup is created (see docs/reliability.md, "A cgroup where one is delegated").
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupSupport =
  | {
      kind: 'v2-delegated';
      /** Our cgroup, as /proc/self/cgroup says. */ own: string;
      /** Where a world's cgroup could go (a host path). */ parent: string;
    }
  | { kind: 'v2-not-delegated'; own: string; reason: string }
  | { kind: 'v1'; reason: string }
  | { kind: 'none'; reason: string };

/** The unified hierarchy's path from /proc/PID/cgroup ("0::/path"), or undefined on a v1-only system. */
export function unifiedPath(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3).trim() || '/' : undefined;
}

/** Whether the v1 controllers that matter (memory, pids) are bound to v1 hierarchies: then v2 has none of them. */
export function v1Controllers(procCgroup: string): string[] {
  const out: string[] = [];
  for (const l of procCgroup.split('\n')) {
    const m = /^\d+:([^:]*):/.exec(l);
    if (m && m[1]) for (const c of m[1].split(',')) if (c === 'memory' || c === 'pids') out.push(c);
  }
  return out;
}

/** Where the cgroup2 file system is mounted, from /proc/self/mountinfo (" - cgroup2 "). */
export function cgroup2Mount(mountinfo: string): string | undefined {
  for (const l of mountinfo.split('\n')) {
    const [pre, post] = l.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4];
  }
  return undefined;
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function read(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * What this process may do with cgroups. `root` stands for "/" (tests pass a folder of fixture files:
 * proc/self/cgroup, proc/self/mountinfo, and the cgroup tree under the mount point).
 */
export function detectCgroup(root = '/'): CgroupSupport {
  const procCgroup = read(join(root, 'proc/self/cgroup'));
  if (procCgroup === undefined) return { kind: 'none', reason: 'no /proc/self/cgroup' };
  const own = unifiedPath(procCgroup);
  const v1 = v1Controllers(procCgroup);
  if (v1.length) return { kind: 'v1', reason: `cgroup v1 (${v1.join(', ')} on v1 hierarchies): never written` };
  if (own === undefined) return { kind: 'v1', reason: 'cgroup v1 only: never written' };
  const mount = cgroup2Mount(read(join(root, 'proc/self/mountinfo')) ?? '');
  if (!mount) return { kind: 'v2-not-delegated', own, reason: 'no cgroup2 file system mounted' };
  // the deepest cgroup at or above ours that is ours to write and hands memory and pids to its children
  const parts = own.split('/').filter(Boolean);
  for (let i = parts.length; i >= 1; i--) {
    const dir = join(root, mount, ...parts.slice(0, i));
    const controllers = (read(join(dir, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
    if (!controllers.includes('memory') || !controllers.includes('pids')) continue;
    if (!writable(dir) || !writable(join(dir, 'cgroup.procs'))) {
      return {
        kind: 'v2-not-delegated',
        own,
        reason: `${join(mount, ...parts.slice(0, i))} has memory and pids for its children but is not ours to write`,
      };
    }
    return { kind: 'v2-delegated', own, parent: join(mount, ...parts.slice(0, i)) };
  }
  return {
    kind: 'v2-not-delegated',
    own,
    reason: `no cgroup at or above ${own} hands memory and pids to its children`,
  };
}
