#!/usr/bin/env node
// Writes deploy/k8s/podnet-workshop-seccomp.json: the container runtime's default seccomp profile (Debian's
// containers-common, the one podman applies) resolved for a container with no capabilities on x86_64 and
// arm64, in the plain form both podman and the kubelet's Localhost profiles read — with one relaxation:
// sethostname (a world names each node in a UTS namespace of its own). Usage: node scripts/workshop-seccomp.mjs [BASE [OUT]]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const base = process.argv[2] ?? '/usr/share/containers/seccomp.json';
const out =
  process.argv[3] ??
  join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'k8s', 'podnet-workshop-seccomp.json');
/** The only syscalls allowed beyond the default: each is refused there unless the container holds CAP_SYS_ADMIN. */
const RELAXED = ['sethostname'];
const ARCHES = new Set(['amd64', 'x32', 'x86', 'arm64', 'arm']);

const profile = JSON.parse(readFileSync(base, 'utf8'));
const syscalls = [];
for (const s of profile.syscalls) {
  const inc = s.includes ?? {};
  const exc = s.excludes ?? {};
  // no capabilities: a rule for holders of one never applies, a rule for those without one always does
  if (inc.caps?.length) continue;
  if (inc.arches?.length && !inc.arches.some((a) => ARCHES.has(a))) continue;
  if (inc.minKernel || exc.minKernel) throw new Error(`${base}: a minKernel rule: resolve it by hand`);
  const names = s.names.filter((n) => !RELAXED.includes(n));
  if (!names.length) continue;
  const rule = { names, action: s.action, args: s.args ?? [] };
  if (s.errnoRet !== undefined) rule.errnoRet = s.errnoRet;
  syscalls.push(rule);
}
syscalls.push({ names: RELAXED, action: 'SCMP_ACT_ALLOW', args: [] });
const resolved = {
  defaultAction: profile.defaultAction,
  ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  syscalls,
};
writeFileSync(out, JSON.stringify(resolved, null, 2) + '\n');
process.stdout.write(`${out}: ${syscalls.length} rules from ${base}; allowed beyond it: ${RELAXED.join(', ')}\n`);
