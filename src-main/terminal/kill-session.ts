// Ending a terminal's session: its shell, what the shell started, or a pty-exec still waiting for its
// orders. node-pty makes each pty's process a session leader, so the session is what is signalled, by PID.
import { sessionMembers } from '../world/procfs.js';

/** How long a closed terminal's processes have after SIGHUP before SIGKILL. */
const KILL_GRACE_MS = 500;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already */
  }
}

/** SIGHUP to a session (as a hung-up terminal would), SIGKILL to whatever of it is left after the grace. */
export function killSession(sid: number): void {
  signal(-sid, 'SIGHUP');
  for (const pid of sessionMembers(sid)) signal(pid, 'SIGHUP');
  setTimeout(() => {
    // only what is still in the session: a PID that ended is not signalled again
    for (const pid of sessionMembers(sid)) signal(pid, 'SIGKILL');
  }, KILL_GRACE_MS);
}
