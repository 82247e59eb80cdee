// podnet lab lint|test|shell|new: lab authoring from the command line. lint reads only files; test builds
// fresh worlds per lab (inside the sandbox, never on the host) and proves every step; shell opens one to explore.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatLintError } from '../labs/format.js';
import { lintLab } from '../labs/loader.js';
import type { LabReport } from '../labs/runner.js';
import { UsageError } from './usage-error.js';
import { worldShell } from './world-shell.js';

const USAGE =
  'usage: podnet lab lint DIR... | podnet lab test [--json] DIR... | podnet lab shell DIR [--at N] [--on NODE|pod/NAME] | podnet lab new NAME';

/** A lab whose world has the control plane (world.controlPlane: true) gets it, started as podnet cluster starts it. */
async function provideTheControlPlane(): Promise<void> {
  const [{ provideControlPlane }, { startControlPlane }] = await Promise.all([
    import('../session/world-spec.js'),
    import('../cluster/control-plane.js'),
  ]);
  provideControlPlane((world, kubelet) => startControlPlane(world, kubelet));
}

/** podnet path FROM TO in a lab world's nodes: the world's engine socket, served as the app serves it. */
async function provideTheEngineSocket(): Promise<void> {
  const [{ provideEngineSocket }, { serveFollows }] = await Promise.all([
    import('../session/world-spec.js'),
    import('../path/serve-follows.js'),
  ]);
  provideEngineSocket(serveFollows);
}

export async function labCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'test' || verb === 'shell') await provideTheEngineSocket();
  if (verb === 'new') return labNew(rest, out);
  if (verb === 'shell') return labShell(rest, err);
  if (verb !== 'lint' && verb !== 'test') throw new UsageError(USAGE);
  const { values, positionals: dirs } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: verb === 'test' ? { json: { type: 'boolean' } } : {},
  });
  if (dirs.length === 0) throw new UsageError(USAGE);
  const json = values.json === true;
  // with --json, stdout is one JSON document (for CI); the text report is not printed
  const say = json ? () => {} : out;
  const reports: (LabReport | { lab: string; ok: false; lintErrors: string[] })[] = [];
  let failed = 0;
  for (const dir of dirs) {
    const { lab, errors } = lintLab(dir);
    if (errors.length || !lab) {
      if (json) reports.push({ lab: dir, ok: false, lintErrors: errors.map(formatLintError) });
      else for (const e of errors) err(formatLintError(e));
      failed++;
      continue;
    }
    if (verb === 'lint') {
      out(`${dir}: ok (${lab.steps.length} steps, ${lab.steps.reduce((n, s) => n + s.checks.length, 0)} checks)`);
      continue;
    }
    say(`lab ${lab.id}: ${lab.meta.title}`);
    // the runtime and the world are loaded only to test: lint stays quick
    const { formatStepReport, testLab } = await import('../labs/runner.js');
    if (lab.world.controlPlane) await provideTheControlPlane();
    const report = await testLab(lab, (r) => formatStepReport(r).forEach((l) => say(l)));
    reports.push(report);
    if (report.error) say(`  FAIL ${report.error}`);
    say(
      `  ${report.ok ? 'passed' : 'FAILED'} (${report.steps.filter((s) => s.ok).length}/${lab.steps.length} steps, ${(report.ms / 1000).toFixed(1)} s)`,
    );
    if (!report.ok) failed++;
  }
  if (json) out(JSON.stringify({ ok: failed === 0, passed: dirs.length - failed, labs: reports }, null, 2));
  else if (dirs.length > 1) out(`${dirs.length - failed}/${dirs.length} labs ${verb === 'lint' ? 'clean' : 'passed'}`);
  return failed ? 1 : 0;
}

/**
 * podnet lab shell DIR --at N: the lab's world at the start of step N (the solutions of steps 1 … N−1
 * applied), and a shell in it for exploring; the world ends when the shell exits.
 */
async function labShell(args: string[], err: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { at: { type: 'string' }, on: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const dir = positionals[0]!;
  const { lab, errors } = lintLab(dir);
  if (errors.length || !lab) {
    for (const e of errors) err(formatLintError(e));
    throw new UsageError(`${dir} has mistakes: fix them first ("podnet lab lint ${dir}")`);
  }
  const n = lab.steps.length;
  const at = values.at === undefined ? 1 : Number(values.at);
  if (!Number.isInteger(at) || at < 1 || at > n + 1)
    throw new UsageError(`--at is a step of the lab, 1 to ${n} (or ${n + 1}: after its last step), not "${values.at}"`);
  const on = values.on ?? lab.nodeNames[0]!;
  const [{ resolveNs }, { worldSpecOf }, { fastForward }, { buildWorld }] = await Promise.all([
    import('../labs/checks.js'),
    import('../labs/lab-world.js'),
    import('../labs/runner.js'),
    import('../session/world-spec.js'),
  ]);
  err(
    `podnet lab shell: building the world of ${lab.id} (${lab.nodeNames.length} node${lab.nodeNames.length > 1 ? 's' : ''})…`,
  );
  if (lab.world.controlPlane) await provideTheControlPlane();
  const { world, kubelet } = await buildWorld(worldSpecOf(lab));
  // Ctrl-C belongs to the shell: the command waits for it, and the world ends only when the shell does
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const ctx = { world, kubelet, scriptTimeLimitS: lab.world.timeLimits.script };
    if (at > 1) {
      err(`podnet lab shell: applying the solutions of steps 1–${at - 1}…`);
      await fastForward(ctx, lab, at - 1);
    }
    let target;
    try {
      target = resolveNs(ctx, on);
    } catch (e) {
      throw new UsageError(
        `--on ${on}: ${(e as Error).message} (nodes: ${lab.nodeNames.join(', ')}; pods: ${
          [...kubelet.pods.values()].map((p) => `pod/${p.spec.name}`).join(', ') || 'none'
        })`,
      );
    }
    const step = lab.steps[at - 1];
    err(
      `${step ? `Step ${at} of ${n}: ${step.title}` : `After the last step (${n})`} — a shell on ${on} in the lab's world (world-init PID ${world.hostPid(1)}).\n` +
        `Nodes: ${lab.nodeNames.join(', ')}; pods: ${[...kubelet.pods.values()].map((p) => `pod/${p.spec.name}`).join(', ') || 'none'} (podnet lab shell --on). "exit" ends the shell and the world.`,
    );
    return await worldShell(world, target, on);
  } finally {
    await world.destroy();
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
    err('podnet lab shell: the world has ended.');
  }
}

function labNew(args: string[], out: (s: string) => void): number {
  const [name] = args;
  if (!name || args.length > 1 || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name.split('/').pop()!))
    throw new UsageError('usage: podnet lab new NAME (a folder name: lowercase letters, digits and "-")');
  if (existsSync(name)) throw new UsageError(`${name} already exists`);
  mkdirSync(join(name, 'steps'), { recursive: true });
  writeFileSync(
    join(name, 'lab.yaml'),
    `# yaml-language-server: $schema=../../resources/lab.schema.json
title: ${name.split('/').pop()}
summary: What the reader will learn, in one sentence.
level: beginner          # beginner | intermediate | advanced
duration: 10             # minutes
tags: []
world:
  nodes: 1               # node1..N, or a list of names
  loopback: plugin       # plugin (containerd's default) | internal (2.x use_internal_loopback)
  cni: default           # default (bridge + host-local IPAM, then portmap) | none | {file, content}
  pods: []               # - {name: web, node: node1}  (also: containers with ports, annotations, hostNetwork)
  prepare: []            # - {on: node1, run: "ip link add ..."}
steps:
  - steps/01-first.md
`,
  );
  writeFileSync(
    join(name, 'steps', '01-first.md'),
    `# A first step

Tell the reader what to do, then give the command to click:

\`\`\`run node1
ip netns add demo
\`\`\`

\`\`\`check
- link: lo
  in: node1/demo
  id: lo-present
\`\`\`

\`\`\`hint failing=lo-present
Create the namespace with \`ip netns add demo\`.
\`\`\`

\`\`\`solution node1
ip netns add demo
\`\`\`
`,
  );
  out(`created ${name}: edit lab.yaml and steps/, then run "podnet lab lint ${name}" and "podnet lab test ${name}"`);
  return 0;
}
