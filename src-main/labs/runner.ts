// Running a lab against a world: commands and solutions applied where they belong (a node, a pod, or
// the kubelet), questions answered from the world, and `lab test`'s proof that each step's checks
// fail before its solution and pass after it.
import { Kubelet } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import { evaluateChecks, resolveNs, type CheckContext, type CheckResult } from './checks.js';
import { type CommandBlock, type Lab, type QuestionSpec, type Step } from './format.js';
import { buildWorld, podSpecOf } from '../session/world-spec.js';
import { parseKubeletLine } from './kubelet-line.js';
import { worldSpecOf } from './lab-world.js';

export class LabRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabRunError';
  }
}

/** Runs one command block to completion (a solution, or a command run without a terminal). */
export async function runBlock(ctx: CheckContext, b: CommandBlock): Promise<string> {
  if (b.target === 'kubelet') {
    for (const raw of b.text.split('\n')) {
      const l = raw.trim();
      if (!l || l.startsWith('#')) continue;
      const k = parseKubeletLine(l);
      if (k.kind === 'invalid') throw new LabRunError(k.message);
      if (k.kind === 'syncPod') await ctx.kubelet.syncPod(podSpecOf({ name: k.name, node: k.node, ...k.fields }));
      else await ctx.kubelet.killPod(k.name);
    }
    return '';
  }
  const r = await ctx.world.exec(resolveNs(ctx, b.target), ['sh', '-ec', b.text], { timeoutMs: 60000 });
  if (r.code !== 0)
    throw new LabRunError(
      `command in ${b.target} failed (exit ${r.code ?? `signal ${r.signal}`}): ${(r.stderr || r.stdout).trim().slice(-500)}\n--- command ---\n${b.text}`,
    );
  return r.stdout;
}

export async function applySolution(ctx: CheckContext, step: Step): Promise<void> {
  for (const b of step.solution) await runBlock(ctx, b);
}

/** A computed or fixed answer, as the world has it now. */
export async function answerOf(ctx: CheckContext, q: QuestionSpec): Promise<string> {
  const a = q.answer;
  if (typeof a === 'string') return a.trim();
  if ('pod-ip' in a) {
    const pod = ctx.kubelet.podByName(a['pod-ip']);
    if (!pod) throw new LabRunError(`no pod ${a['pod-ip']}`);
    return pod.ip;
  }
  const r = await ctx.world.exec(resolveNs(ctx, a.in), ['sh', '-ec', a.script]);
  if (r.code !== 0) throw new LabRunError(`the answer's script failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export const sameAnswer = (given: string, want: string) => given.trim().toLowerCase() === want.trim().toLowerCase();

/**
 * Checks that settle: the kernel ends a network namespace (and its veths) asynchronously, so a check
 * that fails right after a solution is read again a few times before it counts.
 */
export async function settledChecks(ctx: CheckContext, step: Step, tries = 6): Promise<CheckResult[]> {
  let r = await evaluateChecks(ctx, step.checks);
  for (let i = 1; i < tries && r.some((c) => !c.ok); i++) {
    await new Promise((res) => setTimeout(res, 250));
    r = await evaluateChecks(ctx, step.checks);
  }
  return r;
}

/** Applies the solutions of steps [0, n): the world as it is when step n begins. */
export async function fastForward(ctx: CheckContext, lab: Lab, n: number): Promise<void> {
  for (const s of lab.steps.slice(0, n)) await applySolution(ctx, s);
}

export interface StepReport {
  step: number;
  title: string;
  ok: boolean;
  before: CheckResult[];
  after: CheckResult[];
  error?: string;
}

export interface LabReport {
  lab: string;
  ok: boolean;
  steps: StepReport[];
  error?: string;
  ms: number;
}

/** podnet lab test: one fresh world; for every step its checks fail before its solution and pass after. */
export async function testLab(lab: Lab, onStep: (r: StepReport) => void = () => {}): Promise<LabReport> {
  const t0 = performance.now();
  let made: { world: World; kubelet: Kubelet } | undefined;
  const steps: StepReport[] = [];
  try {
    made = await buildWorld(worldSpecOf(lab));
    const ctx = { world: made.world, kubelet: made.kubelet, scriptTimeLimitS: lab.world.timeLimits.script };
    for (const step of lab.steps) {
      const rep: StepReport = { step: step.index + 1, title: step.title, ok: false, before: [], after: [] };
      try {
        rep.before = await evaluateChecks(ctx, step.checks);
        await applySolution(ctx, step);
        rep.after = await settledChecks(ctx, step);
        const failedBefore = rep.before.some((c) => !c.ok);
        const passAfter = rep.after.every((c) => c.ok);
        rep.ok = failedBefore && passAfter;
        if (!failedBefore) rep.error = 'every check already passes before the solution: the step proves nothing';
        else if (!passAfter) rep.error = 'a check still fails after the solution';
        // questions must be answerable once the step is done
        for (const q of step.questions) await answerOf(ctx, q);
      } catch (e) {
        rep.ok = false;
        rep.error = (e as Error).message;
      }
      steps.push(rep);
      onStep(rep);
      if (!rep.ok) break;
    }
    const ok = steps.length === lab.steps.length && steps.every((s) => s.ok);
    return { lab: lab.id, ok, steps, ms: performance.now() - t0 };
  } catch (e) {
    return {
      lab: lab.id,
      ok: false,
      steps,
      error: `the lab's world could not be built: ${(e as Error).message}`,
      ms: performance.now() - t0,
    };
  } finally {
    await made?.world.destroy();
  }
}

/** A step report as text lines. */
export function formatStepReport(r: StepReport): string[] {
  const lines = [`  ${r.ok ? 'ok  ' : 'FAIL'} step ${r.step}: ${r.title}`];
  if (!r.ok) {
    if (r.error) lines.push(`       ${r.error}`);
    const failing = r.before.length && r.before.every((c) => c.ok) ? [] : r.after.filter((c) => !c.ok);
    for (const c of failing)
      lines.push(`       ✗ ${c.title}\n         expected: ${c.expected}\n         found:    ${c.found}`);
  }
  return lines;
}
