// An interactive shell in a world (podnet lab shell, podnet cluster): the user's terminal joined to a
// node's or a pod's namespaces; Ctrl-C and Ctrl-\ belong to the shell, and the command ends with it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Target, World } from '../world/world.js';

export async function worldShell(world: World, target: Target, prompt: string): Promise<number> {
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const shell = existsSync('/bin/bash') ? ['bash', '--noprofile', '--norc', '-i'] : ['sh', '-i'];
    const argv = [...world.enterArgv(target), ...shell];
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: 'inherit',
      cwd: '/',
      env: { ...world.envFor(target), TERM: process.env.TERM ?? 'xterm-256color', PS1: `root@${prompt}:\\w# ` },
    });
    return await new Promise<number>((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}
