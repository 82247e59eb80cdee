// Reading the engine's /proc: who is alive, who is whose child, who is in a session. By PID only.
import { readdirSync, readFileSync } from 'node:fs';

/** Fields of /proc/PID/stat after "(comm) ": state, ppid, pgrp, session, … */
function statFields(pid: number | string): string[] | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every PID whose stat field `index` (1 ppid, 3 session) equals `value`. */
function pidsWhere(index: number, value: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (/^\d+$/.test(d) && Number(statFields(d)?.[index]) === value) out.push(Number(d));
  }
  return out;
}

export const childrenOf = (pid: number) => pidsWhere(1, pid);
export const sessionMembers = (sid: number) => pidsWhere(3, sid);
