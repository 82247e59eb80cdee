// Fuzzing lab files: generated bad lab.yaml texts and step Markdown in a temporary lab folder, through
// what `podnet lab lint` and the app call (lintLab, loadLab). Lint errors as file:line: message inside
// the folder, or a LabLoadError, every time; never another exception, never a hang, nothing outside changed.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_KINDS, formatLintError } from '../../src-main/labs/format.js';
import { LabLoadError, lintLab, loadLab } from '../../src-main/labs/loader.js';
import { errorClass, params, Tally } from './fuzz-kit.js';

const LABS = join(import.meta.dirname, '../../labs');
const tally = new Tally();
const NOT_A_STEP = 'not a step\n';

// the curriculum's own files: the valid inputs the generators break
const labs = readdirSync(LABS)
  .filter(
    (d) =>
      statSync(join(LABS, d), { throwIfNoEntry: false })?.isDirectory() &&
      statSync(join(LABS, d, 'lab.yaml'), { throwIfNoEntry: false })?.isFile(),
  )
  .map((d) => {
    const yaml = readFileSync(join(LABS, d, 'lab.yaml'), 'utf8');
    const steps = readdirSync(join(LABS, d, 'steps')).map((f) => ({
      path: `steps/${f}`,
      text: readFileSync(join(LABS, d, 'steps', f), 'utf8'),
    }));
    return { yaml, steps };
  });
const YAMLS = labs.map((l) => l.yaml);
const STEPS = labs.flatMap((l) => l.steps.map((s) => s.text));

const at = (t: string, n: number) => (t.length ? n % t.length : 0);
const cut = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.nat(), fc.nat(60)).map(([t, i, n]) => t.slice(0, at(t, i)) + t.slice(at(t, i) + n));
const insert = (base: fc.Arbitrary<string>, what: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.nat(), what).map(([t, i, s]) => t.slice(0, at(t, i)) + s + t.slice(at(t, i)));
const splice = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, base, fc.nat(), fc.nat()).map(([a, b, i, j]) => a.slice(0, at(a, i)) + b.slice(at(b, j)));
const huge = fc.constantFrom(
  'x'.repeat(100_000),
  '\u{1F600}'.repeat(20_000),
  'é\u0301\u200B\uFEFF'.repeat(5000),
  '\0'.repeat(1000),
  '9'.repeat(400),
);
// paths out of the folder among them: ../outside.md exists beside it, and lint must not read it
const odd = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 2 }),
  huge,
  fc.constantFrom(
    '',
    '..',
    '../outside.md',
    '../../outside.md',
    'steps/../../outside.md',
    '/etc/hostname',
    'steps',
    'a\nb',
    '-1',
    1e308,
    -0,
    null,
  ),
);
const anyYaml = fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v));

// YAML's own traps: aliases (a billion laughs), tags, anchors to nothing, deep nesting, duplicate keys
const yamlTraps = fc.constantFrom(
  'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n',
  'title: *nothing\n',
  'title: !!binary aGVsbG8=\nsummary: !!js/function "x"\n',
  '['.repeat(2000) + ']'.repeat(2000),
  '- '.repeat(500) + 'x',
  'title: a\ntitle: b\n',
  '%YAML 9.9\n---\ntitle: x\n',
  '---\ntitle: a\n---\ntitle: b\n',
  '? [a, b]\n: c\n',
  '<<: *x\n',
);

// lab.yaml: noise, YAML of every shape, the curriculum's files cut, spliced, or with a field swapped or dropped
const LAB_FIELDS: (string | number)[][] = [
  ['title'],
  ['summary'],
  ['level'],
  ['duration'],
  ['tags'],
  ['prerequisites'],
  ['steps'],
  ['steps', 0],
  ['world'],
  ['world', 'nodes'],
  ['world', 'loopback'],
  ['world', 'loopbacks'],
  ['world', 'cni'],
  ['world', 'cni', 'from'],
  ['world', 'configs'],
  ['world', 'configs', 'node2'],
  ['world', 'pods'],
  ['world', 'pods', 0, 'node'],
  ['world', 'pods', 0, 'name'],
  ['world', 'prepare'],
  ['world', 'prepare', 0, 'on'],
  ['extra'],
];
function setIn(o: unknown, path: (string | number)[], v: unknown, drop: boolean): unknown {
  if (path.length === 0) return drop ? undefined : v;
  const [k, ...rest] = path;
  const box = (o && typeof o === 'object' ? o : typeof k === 'number' ? [] : {}) as Record<string | number, unknown>;
  const next = setIn(box[k!], rest, v, drop);
  if (next === undefined && rest.length === 0) delete box[k!];
  else box[k!] = next;
  return box;
}
const swapField = fc
  .tuple(fc.constantFrom(...YAMLS), fc.constantFrom(...LAB_FIELDS), odd, fc.boolean())
  .map(([t, path, v, drop]) => stringify(setIn(parse(t), path, v, drop)));
// a lab otherwise whole whose step or config file is outside its folder
const OUTSIDE = [
  '../outside.md',
  '../../outside.md',
  'steps/../../outside.md',
  './../outside.md',
  '../other-lab/lab.yaml',
  '/etc/hostname',
];
const escape = fc
  .tuple(fc.constantFrom(...YAMLS), fc.constantFrom(...OUTSIDE), fc.boolean())
  .map(([t, p, step]) =>
    stringify(
      step
        ? setIn(parse(t), ['steps', 0], p, false)
        : setIn(parse(t), ['world', 'cni'], { file: '10-x.conflist', from: p }, false),
    ),
  );
const labYaml = fc.oneof(
  { weight: 1, arbitrary: escape },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 1, arbitrary: anyYaml },
  { weight: 1, arbitrary: yamlTraps },
  { weight: 2, arbitrary: cut(fc.constantFrom(...YAMLS)) },
  {
    weight: 1,
    arbitrary: insert(
      fc.constantFrom(...YAMLS),
      fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(':', '- ', '\n  ', '"', '{', '&a', '*a', '\t')),
    ),
  },
  { weight: 1, arbitrary: splice(fc.constantFrom(...YAMLS)) },
  { weight: 4, arbitrary: swapField },
);

// a check item: a known kind or not, with arguments of any shape
const FIELDS = [
  'in',
  'on',
  'from',
  'id',
  'title',
  'kind',
  'state',
  'up',
  'master',
  'peer',
  'absent',
  'dev',
  'via',
  'fails',
  'contains',
  'ready',
];
const checkItem = fc.oneof(
  fc
    .record({
      kind: fc.constantFrom(...CHECK_KINDS, 'links', 'tcpdump', ''),
      value: odd,
      extra: fc.dictionary(fc.constantFrom(...FIELDS), odd, { maxKeys: 4 }),
    })
    .map(({ kind, value, extra }) => ({ [kind]: value, ...extra })),
  fc.jsonValue({ maxDepth: 2 }),
);
const checkBlock = fc.oneof(
  fc.array(checkItem, { maxLength: 4 }).map((items) => stringify(items)),
  fc.string({ maxLength: 80 }),
  yamlTraps,
);
const FENCES = [
  'run node1',
  'run pod/a',
  'run',
  'copy',
  'kubelet',
  'check',
  'hint',
  'hint failing=x',
  'hint failing=',
  'solution node1',
  'solution',
  'solution kubelet',
  'question',
  'sh',
  '',
];
const block = fc
  .tuple(
    fc.constantFrom(...FENCES),
    fc.oneof(
      checkBlock,
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        'syncPod x node9',
        'killPod',
        'id: q\nask: x\nanswer: {script: 1}',
        'id: q\nask: x\nanswer: {pod-ip: nobody}',
      ),
    ),
    fc.boolean(),
  )
  .map(([f, body, closed]) => '```' + f + '\n' + body + (closed ? '\n```\n' : '\n'));
const stepMd = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 1, arbitrary: huge },
  { weight: 2, arbitrary: cut(fc.constantFrom(...STEPS)) },
  { weight: 1, arbitrary: splice(fc.constantFrom(...STEPS)) },
  { weight: 3, arbitrary: insert(fc.constantFrom(...STEPS), block) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('# A step\n', '', '#NoSpace\n'), fc.array(block, { maxLength: 5 }))
      .map(([h, bs]) => h + bs.join('\n')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...STEPS) },
);

// a lab folder: its lab.yaml, and step files under the names the curriculum uses (some missing, some extra)
const STEP_NAMES = [
  'steps/01-a.md',
  'steps/02-b.md',
  'steps/03-c.md',
  ...new Set(labs.flatMap((l) => l.steps.map((s) => s.path))),
];
const folder = fc.record({
  yaml: labYaml,
  steps: fc.dictionary(fc.constantFrom(...STEP_NAMES), stepMd, { maxKeys: 4 }),
  // the generated lab.yaml names its steps itself; sometimes point it at the files that are there
  name: fc.boolean(),
});

/** The generators' own parse (a trap here just means nothing to swap). */
function parse(t: string): unknown {
  try {
    return parseYaml(t) as unknown;
  } catch {
    return {};
  }
}

/** Every file under dir with its size and mtime: what "nothing changed" compares. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort().map((p) => {
    const s = statSync(join(dir, p));
    return `${p} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`;
  });
}

describe('fuzzing lab files through the loader and linter', () => {
  let root: string;
  let outsideBefore: string[];
  let labsBefore: string[];
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'podnet-lab-fuzz-'));
    // a sibling lab (a prerequisite's target) and a file outside the lab folder: reading them is allowed, changing them is not
    mkdirSync(join(root, 'other-lab'));
    writeFileSync(join(root, 'other-lab', 'lab.yaml'), YAMLS[0]!);
    // not a step (no title, no check): read as one, it would be reported, and outside the folder
    writeFileSync(join(root, 'outside.md'), NOT_A_STEP);
    outsideBefore = tree(root);
    labsBefore = tree(LABS);
  });
  afterAll(() => {
    if (tally.inputs) console.log(tally.report('fuzz lab files'));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('every lab folder gives a lab or lint errors as file:line: message inside the folder; loadLab throws only LabLoadError', () => {
    const dir = join(root, 'lab');
    fc.assert(
      fc.property(folder, ({ yaml, steps, name }) => {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(join(dir, 'steps'), { recursive: true });
        const files = new Map<string, string>();
        let text = yaml;
        if (name && Object.keys(steps).length) {
          const o = parse(yaml);
          if (o && typeof o === 'object' && !Array.isArray(o)) text = stringify({ ...o, steps: Object.keys(steps) });
        }
        files.set('lab.yaml', text);
        for (const [p, t] of Object.entries(steps)) files.set(p, t);
        for (const [p, t] of files) writeFileSync(join(dir, p), t);
        const written = tree(dir);

        const start = performance.now();
        let result: ReturnType<typeof lintLab>;
        try {
          result = lintLab(dir);
        } catch (e) {
          throw new Error(
            `lintLab threw for lab.yaml ${JSON.stringify(text).slice(0, 300)}: ${(e as Error)?.stack ?? JSON.stringify(e)}`,
            { cause: e },
          );
        }
        // a hang bound, not a speed test: a few ms is normal, seconds would be a runaway
        const ms = performance.now() - start;
        if (ms > 5000)
          throw new Error(`hang: lintLab took ${Math.round(ms)} ms for ${JSON.stringify(text).slice(0, 300)}`);

        const classes: string[] = [];
        for (const e of result.errors) {
          const line = formatLintError(e);
          expect(line).toMatch(/^.+:\d+: \S/s);
          const rel = relative(dir, e.file);
          if (rel.startsWith('..') || rel === '')
            throw new Error(`error outside the lab folder: ${line.slice(0, 300)}`);
          expect(Number.isInteger(e.line) && e.line >= 1).toBe(true);
          const own = files.get(rel);
          // a line inside the file it names (one past the end: an unclosed block or an empty file)
          if (own !== undefined) expect(e.line).toBeLessThanOrEqual(own.split('\n').length + 1);
          classes.push(errorClass('lint', e.message, [...Object.keys(steps), ...rel.split('/')]));
        }
        if (!result.errors.length) {
          expect(result.lab).toBeDefined();
          expect(result.lab!.steps.length).toBeGreaterThan(0);
          for (const st of result.lab!.steps) expect(relative(dir, st.file).startsWith('..')).toBe(false);
          for (const c of Object.values(result.lab!.configs)) expect(c?.text).not.toBe(NOT_A_STEP);
          classes.push('accepted');
        }
        tally.addAll(classes);
        // loadLab: the same verdict, as a lab or one LabLoadError carrying every error
        try {
          const lab = loadLab(dir);
          expect(result.errors).toEqual([]);
          expect(lab.steps.length).toBe(result.lab!.steps.length);
        } catch (e) {
          if (!(e instanceof LabLoadError))
            throw new Error(`loadLab threw ${(e as Error)?.name}: ${(e as Error)?.stack ?? JSON.stringify(e)}`, {
              cause: e,
            });
          expect(e.errors).toEqual(result.errors);
        }
        // reading changes nothing: the folder holds what was written, and nothing outside it moved
        expect(tree(dir)).toEqual(written);
      }),
      params(400),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(tree(root)).toEqual(outsideBefore);
    expect(tree(LABS)).toEqual(labsBefore);
  }, 120_000);
});
