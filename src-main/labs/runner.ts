// Running a lab against a world: commands and solutions applied where they belong (a node, a pod, or
// the kubelet), questions answered from the world, and `lab test`'s proof that each step's checks
// fail before its solution and pass after it.
import { Kubelet } from '../runtime/kubelet.js';
import type { Target, World } from '../world/world.js';
import { evaluateChecks, resolveNs, type CheckContext, type CheckResult } from './checks.js';
import { type CommandBlock, type Lab, type QuestionSpec, type Step } from './format.js';
import { added, forget, observedState, sendsTraffic } from './observed-state.js';
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

/** What a Run block did when run as a learner's click runs it (in a terminal's shell). */
export interface BlockRun {
  /** The block's index among the step's commands (as the guide numbers its Run buttons). */
  block: number;
  target: string;
  line: number;
  ok: boolean;
  /** Every command of the block that failed, as `line N: COMMAND (exit S)`; a kubelet line's error. */
  failures: string[];
  /** Still running when the block's time was up (tail -f, a capture): stopped, as Ctrl-C would. */
  stillRunning?: boolean;
  output: string;
}

/** Seconds a Run block may take in `lab test` before it is stopped, as a learner's Ctrl-C would. */
export const RUN_BLOCK_TIME_LIMIT_S = 15;

/**
 * A Run block as the terminal runs it: the lines in one bash, each line run even when one before it
 * failed (a pasted block does the same), every failing command noted by an ERR trap on fd 3. Output
 * goes to a file, so a background job (`tcpdump … &`) keeps running after the block, as in a terminal.
 */
const TERMINAL_LIKE = `f=$(mktemp) && e=$(mktemp) || exit 125
bash --noprofile --norc -c "$1" podnet-run </dev/null >"$f" 2>&1 3>"$e"
cat "$f"; printf '\\036'; cat "$e"; rm -f "$f" "$e"`;
const ERR_TRAP = `trap 's=$?; printf "line %s: %s (exit %s)\\n" "$((LINENO - 1))" "$BASH_COMMAND" "$s" >&3' ERR\n`;

/** Runs one Run block as a learner's click does; `lab test` runs every one after the step's solution. */
export async function runLikeTerminal(ctx: CheckContext, b: CommandBlock, index: number): Promise<BlockRun> {
  const base = { block: index, target: b.target, line: b.line };
  if (b.target === 'kubelet') {
    try {
      await runBlock(ctx, b);
      return { ...base, ok: true, failures: [], output: '' };
    } catch (e) {
      return { ...base, ok: false, failures: [(e as Error).message.split('\n')[0]!], output: '' };
    }
  }
  let target: Target;
  try {
    target = resolveNs(ctx, b.target);
  } catch (e) {
    return { ...base, ok: false, failures: [`no terminal ${b.target}: ${(e as Error).message}`], output: '' };
  }
  const r = await ctx.world.exec(
    target,
    ['bash', '--noprofile', '--norc', '-c', TERMINAL_LIKE, 'podnet-run', ERR_TRAP + b.text],
    {
      timeoutMs: RUN_BLOCK_TIME_LIMIT_S * 1000,
    },
  );
  if (r.timedOut) return { ...base, ok: true, failures: [], stillRunning: true, output: '' };
  const cut = r.stdout.lastIndexOf('\x1e');
  const output = cut < 0 ? r.stdout + r.stderr : r.stdout.slice(0, cut);
  const failures =
    cut < 0
      ? [`the block could not run (exit ${r.code}): ${r.stderr.trim()}`]
      : r.stdout
          .slice(cut + 1)
          .split('\n')
          .filter(Boolean);
  return { ...base, ok: failures.length === 0, failures, output };
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

/**
 * Applies the solutions of steps [0, n): the world as it is when step n begins. Each step's checks are
 * settled after its solution, as `podnet lab test` does: what the solution sets going (a killed pause,
 * which the kubelet's resync rebuilds) has happened before the next step, which would otherwise see a
 * world in between (and could count as done by itself).
 */
export async function fastForward(ctx: CheckContext, lab: Lab, n: number): Promise<void> {
  for (const s of lab.steps.slice(0, n)) {
    await applySolution(ctx, s);
    if (s.checks.length) await settledChecks(ctx, s);
  }
}

export interface StepReport {
  step: number;
  title: string;
  /** The step's file, as the lab names it (for file:line). */
  file: string;
  ok: boolean;
  before: CheckResult[];
  after: CheckResult[];
  /** The step's Run and kubelet blocks, clicked in order as a learner does (blocks marked `fails` must fail). */
  blocks: BlockRun[];
  /** Checks whose own packets put in a table the step has the learner watch (its neighbours, its FDB). */
  sideEffects: string[];
  error?: string;
}

export interface LabReport {
  lab: string;
  ok: boolean;
  steps: StepReport[];
  error?: string;
  ms: number;
}

/** Whether a clicked block did what its step says: no command failed, or, marked `fails`, one did (and none was missing). */
function judgeBlock(b: CommandBlock, r: BlockRun): BlockRun {
  if (!b.fails || r.stillRunning) return r;
  if (r.failures.some((f) => /\(exit 127\)$/.test(f))) return { ...r, ok: false };
  return r.failures.length
    ? { ...r, ok: true }
    : {
        ...r,
        ok: false,
        failures: ['marked "fails", but every command of it succeeded: it no longer shows what the step says'],
      };
}

/** The tables a step has the learner look at: read in its Run blocks (ip neigh, bridge fdb show) or its tools' view. */
function watchedTables(step: Step): Set<'neighbour' | 'fdb'> {
  const out = new Set<'neighbour' | 'fdb'>();
  for (const t of step.tools) if (t.view?.endsWith(' neighs')) out.add('neighbour');
  for (const t of step.tools) if (t.view?.endsWith(' fdb')) out.add('fdb');
  // a read, not a change: `ip neigh`, `ip -4 n show dev x`, `bridge fdb show br cni0` (not add/del/append/…)
  const reads = (object: string) =>
    new RegExp(`\\b${object}\\b(?!\\s+(add|append|replace|change|del|delete|flush)\\b)`);
  for (const line of step.commands.flatMap((b) => b.text.split('\n'))) {
    if (reads('ip\\s+(-\\S+\\s+(\\S+\\s+)?)*n(e(i(gh?)?)?)?').test(line) || /\barp\b/.test(line)) out.add('neighbour');
    if (reads('bridge\\s+(-\\S+\\s+)*fdb').test(line)) out.add('fdb');
  }
  return out;
}

/** Each traffic check not yet found out, run alone: what it added to the watched tables, as a finding by its line. */
async function checkSideEffects(
  ctx: CheckContext,
  step: Step,
  watched: Set<'neighbour' | 'fdb'>,
  findings: Map<number, string>,
): Promise<void> {
  for (const c of step.checks.filter((c) => sendsTraffic(c) && !findings.has(c.line))) {
    const putBy = async () => {
      const before = await observedState(ctx);
      await evaluateChecks(ctx, [c]);
      return added(before, await observedState(ctx)).filter((l) =>
        watched.has(/: neighbour /.test(l) ? 'neighbour' : 'fdb'),
      );
    };
    let put = await putBy();
    // what appeared may be a fresh link's own chatter: forget it and run the check again; its doing comes back
    if (put.length) {
      await forget(ctx, put);
      const again = new Set(await putBy());
      put = put.filter((l) => again.has(l));
    }
    if (put.length)
      findings.set(
        c.line,
        `the check "${c.title}" (${step.file}:${c.line}) puts in what the step has the learner watch: ${put.join('; ')}. ` +
          'Its own packets teach the answer away: check the result instead (the table, a counter), or send from another namespace.',
      );
  }
}

/** The learner's world: where the step's blocks are clicked, rebuilt (with the earlier solutions) when it strayed. */
class LearnerWorld {
  private made: { world: World; kubelet: Kubelet } | undefined;
  /** The step this world is at the start of, or -1: rebuild before use. */
  private at = -1;
  constructor(private readonly lab: Lab) {}

  async ctx(step: number): Promise<CheckContext> {
    if (!this.made || this.at !== step) {
      await this.made?.world.destroy();
      this.made = undefined;
      this.made = await buildWorld(worldSpecOf(this.lab));
      this.at = step;
      await fastForward(this.context(), this.lab, step);
    }
    return this.context();
  }

  private context(): CheckContext {
    return { world: this.made!.world, kubelet: this.made!.kubelet, scriptTimeLimitS: this.lab.world.timeLimits.script };
  }

  /**
   * Clicks every Run and kubelet block of the step in order, then finishes the step for the next one.
   * The app evaluates a step's checks whenever the world changes: so here, as the step opens and after
   * each block, each traffic check runs alone between two reads of what the learner observes.
   */
  async click(step: Step, sideEffects: Map<number, string>): Promise<BlockRun[]> {
    const ctx = await this.ctx(step.index);
    const runs: BlockRun[] = [];
    const watched = watchedTables(step);
    const probe = async () => {
      if (watched.size) await checkSideEffects(ctx, step, watched, sideEffects);
    };
    await probe();
    for (const [i, b] of step.commands.entries())
      if (!b.copyOnly) {
        runs.push(judgeBlock(b, await runLikeTerminal(ctx, b, i)));
        await probe();
      }
    // the clicks may have done the step; if not, its solution does (a learner's Apply solution), or the next step rebuilds
    this.at = -1;
    try {
      if (!(await settledChecks(ctx, step, 2)).every((c) => c.ok)) {
        await applySolution(ctx, step);
        if (!(await settledChecks(ctx, step)).every((c) => c.ok)) return runs;
      }
      this.at = step.index + 1;
    } catch {
      /* the solution repeats what a block did: the next step starts from a fresh world */
    }
    return runs;
  }

  async destroy(): Promise<void> {
    await this.made?.world.destroy();
  }
}

/**
 * podnet lab test: in one fresh world, every step's checks fail before its solution and pass after;
 * in a second (the learner's), every Run and kubelet block of each step is clicked in order, from the
 * world the step starts with, and must not fail (unless it is marked `fails`). Every step is reported.
 */
export async function testLab(lab: Lab, onStep: (r: StepReport) => void = () => {}): Promise<LabReport> {
  const t0 = performance.now();
  let made: { world: World; kubelet: Kubelet } | undefined;
  const learner = new LearnerWorld(lab);
  const steps: StepReport[] = [];
  try {
    made = await buildWorld(worldSpecOf(lab));
    const ctx = { world: made.world, kubelet: made.kubelet, scriptTimeLimitS: lab.world.timeLimits.script };
    /** A step whose solution threw: the later steps have no world to start from. */
    let broken: number | undefined;
    for (const step of lab.steps) {
      const rep: StepReport = {
        step: step.index + 1,
        title: step.title,
        file: step.file,
        ok: false,
        before: [],
        after: [],
        blocks: [],
        sideEffects: [],
      };
      if (broken !== undefined) {
        rep.error = `not run: step ${broken}'s solution failed, so this step has no world to start from`;
      } else {
        try {
          rep.before = await evaluateChecks(ctx, step.checks);
          try {
            await applySolution(ctx, step);
          } catch (e) {
            broken = step.index + 1;
            throw e;
          }
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
        try {
          const sideEffects = new Map<number, string>();
          rep.blocks = await learner.click(step, sideEffects);
          rep.sideEffects = [...sideEffects.values()];
          if (rep.blocks.some((b) => !b.ok) || rep.sideEffects.length) rep.ok = false;
        } catch (e) {
          rep.ok = false;
          rep.error = [rep.error, `the learner's world for this step could not be built: ${(e as Error).message}`]
            .filter(Boolean)
            .join('\n');
        }
      }
      steps.push(rep);
      onStep(rep);
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
    await Promise.all([made?.world.destroy(), learner.destroy()]);
  }
}

/** A step report as text lines. */
export function formatStepReport(r: StepReport): string[] {
  const lines = [`  ${r.ok ? 'ok  ' : 'FAIL'} step ${r.step}: ${r.title}`];
  if (r.error) lines.push(...r.error.split('\n').map((l) => `       ${l}`));
  if (!r.ok) {
    const failing = r.before.length && r.before.every((c) => c.ok) ? [] : r.after.filter((c) => !c.ok);
    for (const c of failing)
      lines.push(`       ✗ ${c.title}\n         expected: ${c.expected}\n         found:    ${c.found}`);
  }
  for (const f of r.sideEffects) lines.push(`       ✗ ${f}`);
  for (const b of r.blocks) {
    const which = `${b.target === 'kubelet' ? 'kubelet block' : `Run block in ${b.target}`} (${r.file}:${b.line})`;
    if (!b.ok) lines.push(`       ✗ ${which}: ${b.failures.join('; ')}`);
    else if (b.stillRunning)
      lines.push(`       · ${which} still ran after ${RUN_BLOCK_TIME_LIMIT_S} s: stopped, as Ctrl-C would`);
  }
  return lines;
}
