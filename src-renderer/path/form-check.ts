// The follow form's own check: what is missing before the engine is asked (the engine checks the rest).
import type { FollowRequest } from './types.ts';

/** What is wrong with a follow's form, said as the fix; undefined when it can be sent (the engine checks the rest). */
export function formProblem(f: FollowRequest): string | undefined {
  if (!f.from) return 'Choose where the packet starts (a pod or a node).';
  if (!f.to.trim()) return 'Choose or type where it goes: a pod, a node, a Service or an address.';
  // a Service brings its own port (its first); a pod, a node or a bare address needs one
  const to = f.to.trim();
  const needsPort = /^(pod|node):/.test(to) || /^\d+\.\d+\.\d+\.\d+$/.test(to);
  if (f.kind !== 'ping' && !f.port && needsPort)
    return `A ${f.kind.toUpperCase()} packet to ${to} needs a port (1–65535).`;
  if (f.port !== undefined && (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535))
    return 'The port must be a whole number from 1 to 65535.';
  return undefined;
}
