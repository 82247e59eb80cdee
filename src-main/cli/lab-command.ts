// podnet lab lint|test|new: lab authoring from the command line. lint reads only files; test builds a
// fresh world per lab (inside the sandbox, never on the host) and proves every step.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatLintError } from '../labs/format.js';
import { lintLab } from '../labs/loader.js';
import { formatStepReport, testLab } from '../labs/runner.js';
import { UsageError } from './trace-command.js';

export async function labCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [verb, ...dirs] = args;
  if (verb === 'new') return labNew(dirs, out);
  if ((verb !== 'lint' && verb !== 'test') || dirs.length === 0)
    throw new UsageError('usage: podnet lab lint DIR... | podnet lab test DIR... | podnet lab new NAME');
  let failed = 0;
  for (const dir of dirs) {
    const { lab, errors } = lintLab(dir);
    if (errors.length || !lab) {
      for (const e of errors) err(formatLintError(e));
      failed++;
      continue;
    }
    if (verb === 'lint') {
      out(`${dir}: ok (${lab.steps.length} steps, ${lab.steps.reduce((n, s) => n + s.checks.length, 0)} checks)`);
      continue;
    }
    out(`lab ${lab.id}: ${lab.meta.title}`);
    const report = await testLab(lab, (r) => formatStepReport(r).forEach((l) => out(l)));
    if (report.error) out(`  FAIL ${report.error}`);
    out(
      `  ${report.ok ? 'passed' : 'FAILED'} (${report.steps.filter((s) => s.ok).length}/${lab.steps.length} steps, ${(report.ms / 1000).toFixed(1)} s)`,
    );
    if (!report.ok) failed++;
  }
  if (dirs.length > 1) out(`${dirs.length - failed}/${dirs.length} labs ${verb === 'lint' ? 'clean' : 'passed'}`);
  return failed ? 1 : 0;
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
  cni: default           # default (bridge + host-local) | none | {file, content}
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
