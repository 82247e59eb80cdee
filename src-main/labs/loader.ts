// Loads a lab folder: lab.yaml validated against the format (every mistake as file:line: message),
// and each step's Markdown split into prose, commands, checks, hints, solution and questions.
import { parseKubeletLine } from './kubelet-line.js';
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Document, isAlias, isCollection, isPair, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { bridgeConfList, defaultPodCidr } from '../cni/defaults.js';
import {
  CHECK_KINDS,
  CHECK_SCHEMAS,
  LabFile,
  QuestionSpec,
  ToolDirective,
  type Check,
  type CheckKind,
  type CheckSpec,
  type CommandBlock,
  type Hint,
  type Lab,
  type LintError,
  type Step,
} from './format.js';

export const LAB_FILE = 'lab.yaml';

export class LabLoadError extends Error {
  constructor(readonly errors: LintError[]) {
    super(errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'));
    this.name = 'LabLoadError';
  }
}

interface Yaml {
  text: string;
  doc: Document;
  lc: LineCounter;
  /** what makes the text unreadable as a whole (nesting too deep to walk safely) */
  fatal?: { pos: number; message: string };
}

/** Deeper than any lab needs, shallow enough that every recursive walk of the yaml package is safe. */
const MAX_DEPTH = 64;

function parseYaml(text: string): Yaml {
  const lc = new LineCounter();
  try {
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
    const deep = tooDeep(doc);
    return {
      text,
      doc,
      lc,
      ...(deep !== undefined ? { fatal: { pos: deep, message: `nested deeper than ${MAX_DEPTH} levels` } } : {}),
    };
  } catch (e) {
    // the parser itself gave up (its stack): the text is not a lab's
    return { text, doc: new Document(null), lc, fatal: { pos: 0, message: (e as Error).message.split('\n')[0]! } };
  }
}

/** The offset of the first collection nested deeper than MAX_DEPTH, walked without recursion. */
function tooDeep(doc: Document): number | undefined {
  const todo: [unknown, number][] = [[doc.contents, 1]];
  while (todo.length) {
    const [n, d] = todo.pop()!;
    if (isPair(n)) {
      todo.push([n.key, d], [n.value, d]);
    } else if (isCollection(n)) {
      if (d > MAX_DEPTH) return n.range?.[0] ?? 0;
      for (const item of n.items) todo.push([item, d + 1]);
    }
  }
  return undefined;
}

/** The 1-based line of the node at path (or its nearest ancestor that exists), offset by `base`. */
function lineOf(y: Yaml, path: readonly PropertyKey[], base = 0): number {
  for (let n = path.length; n >= 0; n--) {
    const node = y.doc.getIn(path.slice(0, n) as (string | number)[], true) as
      { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return y.lc.linePos(node.range[0]).line + base;
    if (n === 0) {
      const root = y.doc.contents as { range?: [number, number, number] } | null;
      return root?.range ? y.lc.linePos(root.range[0]).line + base : base + 1;
    }
  }
  return base + 1;
}

/** zod issues as lint errors at the line of what they are about. */
function issuesAt(
  y: Yaml,
  file: string,
  issues: z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  base = 0,
): LintError[] {
  return issues.map((i) => {
    const path = [...prefix, ...i.path];
    // inside a block the item's index says nothing the line does not
    const shown = i.path.filter((p) => typeof p !== 'number' || prefix.length === 0);
    if (i.code === 'unrecognized_keys') {
      const key = i.keys[0]!;
      return {
        file,
        line: lineOf(y, [...path, key], base),
        message: `unknown field "${i.keys.join('", "')}"${shown.length ? ` in ${shown.join('.')}` : ''}`,
      };
    }
    return { file, line: lineOf(y, path, base), message: `${shown.length ? shown.join('.') + ': ' : ''}${i.message}` };
  });
}

/**
 * The document as plain data, or a lint error: resolving aliases throws (an alias to no anchor, or
 * so many that expanding them would exhaust memory), at the first alias.
 */
function toData(y: Yaml, file: string, base: number, errors: LintError[]): { data: unknown } | undefined {
  try {
    return { data: y.doc.toJS() as unknown };
  } catch (e) {
    let line = base + 1;
    visit(y.doc, {
      Alias(_, node) {
        if (isAlias(node) && node.range) line = y.lc.linePos(node.range[0]).line + base;
        return visit.BREAK;
      },
    });
    errors.push({ file, line, message: `YAML: ${(e as Error).message.split('\n')[0]}` });
    return undefined;
  }
}

function yamlErrors(y: Yaml, file: string, base = 0): LintError[] {
  if (y.fatal) return [{ file, line: y.lc.linePos(y.fatal.pos).line + base, message: `YAML: ${y.fatal.message}` }];
  return y.doc.errors.map((e) => {
    const line = y.lc.linePos(e.pos[0]).line;
    const fix = yamlFix(e.code, e.message, y.text.split('\n')[line - 1] ?? '');
    return { file, line: line + base, message: `YAML: ${e.message.split('\n')[0]}${fix ? `: ${fix}` : ''}` };
  });
}

/** What to do about a YAML error, in the author's terms (the parser's words name only the grammar). */
export function yamlFix(code: string, message: string, lineText: string): string | undefined {
  const kv = /^(\s*(?:-\s+)?[^\s:#"'][^:#]*?):\s+(.+?)\s*$/.exec(lineText);
  const quoted = kv ? `${kv[1]!.trim()}: ${JSON.stringify(kv[2])}` : undefined;
  if (code === 'BLOCK_AS_IMPLICIT_KEY' && /compact mappings/.test(message))
    return `a value that contains ": " must be quoted${quoted ? ` (${quoted})` : ''}, or written as a block (key: | on its own line, the text indented below)`;
  if (code === 'BAD_SCALAR_START')
    return `a value that starts with that character must be quoted${quoted ? ` (${quoted})` : ''}`;
  if (code === 'DUPLICATE_KEY') return 'a key appears twice in the same mapping: keep one';
  if (code === 'TAB_AS_INDENT') return 'indent with spaces, not tabs';
  if (code === 'MISSING_CHAR' && /quote/.test(message)) return 'close the quote on the same value';
  if (code === 'BAD_INDENT' && /Flow (sequence|map)/.test(message))
    return `close the ${/sequence/.test(message) ? '[ with ]' : '{ with }'}, or write one item per line`;
  if (code === 'UNEXPECTED_TOKEN' && /block-seq-ind/.test(message))
    return 'a list starts on the line after its key ("key:" then "  - item"), or is written [item, …]';
  if (code === 'BLOCK_AS_IMPLICIT_KEY' || code === 'MULTILINE_IMPLICIT_KEY' || code === 'BAD_INDENT')
    return 'check the indentation: the items of one list or mapping start at the same column';
  return undefined;
}

/** Checks one check item: its kind from its one vocabulary key, then that kind's schema. */
function parseCheck(
  y: Yaml,
  file: string,
  item: unknown,
  path: (string | number)[],
  base: number,
  errors: LintError[],
): { kind: CheckKind; spec: CheckSpec } | undefined {
  const line = lineOf(y, path, base);
  if (!item || typeof item !== 'object' || Array.isArray(item)) {
    errors.push({ file, line, message: `a check is a mapping such as "link: eth0" with "in: pod/web"` });
    return undefined;
  }
  const kinds = CHECK_KINDS.filter((k) => k in item);
  if (kinds.length !== 1) {
    const keys = Object.keys(item).filter((k) => !['id', 'title', 'in', 'on', 'from'].includes(k));
    errors.push({
      file,
      line,
      message: kinds.length
        ? `a check has one kind, not ${kinds.join(' and ')}`
        : `unknown check kind "${keys[0] ?? '(none)'}" (known: ${CHECK_KINDS.join(', ')})`,
    });
    return undefined;
  }
  const kind = kinds[0]!;
  const r = CHECK_SCHEMAS[kind].safeParse(item);
  if (!r.success) {
    errors.push(...issuesAt(y, file, r.error.issues, path, base));
    return undefined;
  }
  return { kind, spec: r.data };
}

/** A check's default title: what it asserts, in words. */
export function describeCheck(spec: CheckSpec): string {
  const s = spec;
  if ('link' in s) {
    if (s.absent) return `${s.in} has no link ${s.link}`;
    const extra = [
      s.kind && `a ${s.kind}`,
      s.up !== undefined && (s.up ? 'up' : 'down'),
      s.state && `${s.state}`,
      s.master && `on ${s.master}`,
      s.peer && `peer in ${s.peer}`,
    ]
      .filter(Boolean)
      .join(', ');
    return `${s.in} has link ${s.link}${extra ? ` (${extra})` : ''}`;
  }
  if ('address' in s)
    return s.absent
      ? `${s.in} has no address in ${s.address}`
      : `${s.in} has an address in ${s.address}${s.dev ? ` on ${s.dev}` : ''}`;
  if ('route' in s)
    return `${s.in} ${s.absent ? 'has no' : 'has a'} route ${s.route}${s.via ? ` via ${s.via}` : ''}${s.dev ? ` dev ${s.dev}` : ''}`;
  if ('ping' in s) return `${s.from} ${s.fails ? 'cannot ping' : 'can ping'} ${s.ping}`;
  if ('file' in s)
    return `${s.on}: ${s.file} ${s.absent ? 'does not exist' : s.contains ? `contains "${s.contains}"` : 'exists'}`;
  if ('pod-ready' in s) return `pod ${s['pod-ready']} is Ready`;
  if ('node-ready' in s) return `${s['node-ready']} is ${s.ready === false ? 'NotReady' : 'Ready'} (NetworkReady)`;
  if ('no-veth' in s) return `${s['no-veth']} has no veth left`;
  return `script in ${s.in} succeeds`;
}

const FENCE = /^```\s*([A-Za-z-]*)\s*(.*)$/;
const LAB_BLOCKS = new Set(['run', 'copy', 'kubelet', 'check', 'hint', 'solution', 'question', 'tools']);

/** Splits a step's Markdown into prose and lab blocks; block contents are parsed with their line numbers. */
export function parseStep(text: string, file: string, index: number, errors: LintError[]): Step {
  const lines = text.split('\n');
  const step: Step = {
    index,
    file,
    title: '',
    body: [],
    commands: [],
    checks: [],
    hints: [],
    solution: [],
    questions: [],
    tools: [],
  };
  let prose: string[] = [];
  let hadChecks = false;
  const flush = () => {
    const t = prose.join('\n').trim();
    if (t) step.body.push({ kind: 'markdown', text: t });
    prose = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = FENCE.exec(line);
    if (!step.title && /^#\s+/.test(line)) {
      step.title = line.replace(/^#\s+/, '').trim();
      continue;
    }
    if (!m || !LAB_BLOCKS.has(m[1]!)) {
      // plain prose, or a plain code fence kept whole (its content is not lab syntax)
      if (m) {
        const start = i;
        prose.push(line);
        for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) prose.push(lines[i]!);
        if (i >= lines.length) errors.push({ file, line: start + 1, message: 'code block is not closed with ```' });
        else prose.push(lines[i]!);
      } else prose.push(line);
      continue;
    }
    const kind = m[1]!;
    const arg = m[2]!.trim();
    const startLine = i + 1;
    const content: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) content.push(lines[i]!);
    if (i >= lines.length) errors.push({ file, line: startLine, message: `${kind} block is not closed with \`\`\`` });
    const body = content.join('\n');
    if (kind === 'run' || kind === 'copy' || kind === 'kubelet' || kind === 'solution') {
      // a Run or kubelet block may end in "fails": it shows a failure on purpose (lab test checks it does)
      const words = arg.split(/\s+/).filter(Boolean);
      const fails = (kind === 'run' || kind === 'kubelet') && words.at(-1) === 'fails' && !!words.pop();
      const target = kind === 'kubelet' ? 'kubelet' : words.join(' ');
      if (kind === 'kubelet' && words.length)
        errors.push({
          file,
          line: startLine,
          message: `\`\`\`kubelet takes nothing or "fails", not "${words.join(' ')}"`,
        });
      if (kind === 'run' && !target)
        errors.push({ file, line: startLine, message: '```run needs a terminal: ```run node1 or ```run pod/web' });
      if (kind === 'solution' && !target)
        errors.push({ file, line: startLine, message: '```solution needs a terminal or kubelet: ```solution node1' });
      const block: CommandBlock = {
        target: target || '',
        text: body.replace(/\s+$/, ''),
        copyOnly: kind === 'copy',
        line: startLine,
        ...(fails ? { fails } : {}),
      };
      if (!block.text) errors.push({ file, line: startLine, message: `empty ${kind} block` });
      if (kind === 'solution') step.solution.push(block);
      else {
        flush();
        step.body.push({ kind: 'command', index: step.commands.length });
        step.commands.push(block);
      }
    } else if (kind === 'hint') {
      const w = /^failing=([a-z0-9-]+)$/.exec(arg);
      if (arg && !w) errors.push({ file, line: startLine, message: `hint takes "failing=CHECK-ID", not "${arg}"` });
      const h: Hint = { text: body.trim(), line: startLine, ...(w ? { whenFailing: w[1]! } : {}) };
      step.hints.push(h);
    } else {
      if (kind === 'check') hadChecks = true;
      const y = parseYaml(body);
      const before = errors.length;
      errors.push(...yamlErrors(y, file, startLine));
      if (errors.length > before) continue;
      const js = toData(y, file, startLine, errors);
      if (!js) continue;
      const data = js.data;
      if (kind === 'check') {
        const items = Array.isArray(data) ? data : [data];
        items.forEach((item, n) => {
          const path = Array.isArray(data) ? [n] : [];
          const c = parseCheck(y, file, item, path, startLine, errors);
          if (!c) return;
          const s = c.spec as { id?: string; title?: string };
          const check: Check = {
            id: s.id ?? `check-${step.checks.length + 1}`,
            kind: c.kind,
            title: s.title ?? describeCheck(c.spec),
            spec: c.spec,
            line: lineOf(y, path, startLine),
          };
          if (step.checks.some((x) => x.id === check.id))
            errors.push({ file, line: check.line, message: `two checks have the id "${check.id}"` });
          step.checks.push(check);
        });
      } else if (kind === 'tools') {
        const r = ToolDirective.safeParse(data);
        if (!r.success) errors.push(...issuesAt(y, file, r.error.issues, [], startLine));
        else {
          flush();
          step.body.push({ kind: 'tools', index: step.tools.length });
          step.tools.push({ ...r.data, line: startLine });
        }
      } else {
        const r = QuestionSpec.safeParse(data);
        if (!r.success) errors.push(...issuesAt(y, file, r.error.issues, [], startLine));
        else step.questions.push({ ...r.data, line: startLine + 1 });
      }
    }
  }
  flush();
  if (!step.title) errors.push({ file, line: 1, message: 'a step starts with a "# Title" heading' });
  if (!hadChecks) errors.push({ file, line: 1, message: 'a step without a check: add a ```check block' });
  return step;
}

/** Every pod a lab may have: the world's pods and those its kubelet blocks create. */
function knownPods(lab: Pick<Lab, 'world' | 'steps'>): Set<string> {
  const pods = new Set(lab.world.pods.map((p) => p.name));
  for (const s of lab.steps)
    for (const b of [...s.commands, ...s.solution]) {
      if (b.target !== 'kubelet') continue;
      for (const l of b.text.split('\n')) {
        const k = parseKubeletLine(l);
        if (k.kind === 'syncPod' || (k.kind === 'invalid' && k.name)) pods.add(k.name!);
      }
    }
  // a lab with a control plane makes pods through the API: `kubectl run NAME`, a Pod manifest's metadata.name
  if (lab.world.controlPlane)
    for (const s of lab.steps)
      for (const b of [...s.commands, ...s.solution])
        if (b.target !== 'kubelet') for (const n of apiPodNames(b.text)) pods.add(n);
  return pods;
}

/** The pods a node's commands create through the API (kubectl run, a heredoc'd `kind: Pod` manifest). */
export function apiPodNames(text: string): string[] {
  const names = [...text.matchAll(/\bkubectl\s+run\s+([a-z0-9][-a-z0-9.]*)/g)].map((m) => m[1]!);
  // each YAML document with kind: Pod: its metadata's name (inline `metadata: {name: X}` or the next lines)
  for (const doc of text.split(/^---\s*$/m)) {
    if (!/^\s*kind:\s*Pod\s*$/m.test(doc)) continue;
    const inline = /^(\s*)metadata:\s*\{[^}]*\bname:\s*["']?([a-z0-9][-a-z0-9.]*)/m.exec(doc);
    const block = /^(\s*)metadata:\s*\n((?:\1\s+.*\n?)*)/m.exec(doc);
    const name = inline?.[2] ?? (block ? /^\s+name:\s*["']?([a-z0-9][-a-z0-9.]*)/m.exec(block[2]!)?.[1] : undefined);
    if (name) names.push(name);
  }
  return names;
}

/** Cross-references: terminals, nodes, pods and hint targets that must exist. */
function lintReferences(lab: Lab, errors: LintError[]): void {
  const pods = knownPods(lab);
  const nodes = new Set(lab.nodeNames);
  const ns = (ref: string, file: string, line: number) => {
    const [a, b] = ref.split('/');
    if (a === 'pod') {
      if (!pods.has(b!))
        errors.push({ file, line, message: `no pod "${b}" in this lab (pods: ${[...pods].join(', ') || 'none'})` });
    } else if (!nodes.has(a!))
      errors.push({ file, line, message: `no node "${a}" in this lab (nodes: ${[...nodes].join(', ')})` });
  };
  for (const s of lab.steps) {
    for (const b of [...s.commands, ...s.solution]) {
      if (b.copyOnly && !b.target) continue;
      if (b.target === 'kubelet') {
        b.text.split('\n').forEach((l, n) => {
          if (!l.trim() || l.trim().startsWith('#')) return;
          const k = parseKubeletLine(l);
          if (k.kind === 'invalid') errors.push({ file: s.file, line: b.line + 1 + n, message: k.message });
          else if (k.kind === 'syncPod' && !nodes.has(k.node))
            errors.push({ file: s.file, line: b.line + 1 + n, message: `no node "${k.node}" in this lab` });
        });
      } else if (b.target && !(nodes.has(b.target) || (b.target.startsWith('pod/') && pods.has(b.target.slice(4))))) {
        errors.push({
          file: s.file,
          line: b.line,
          message: `no terminal "${b.target}": a command runs in a node (${[...nodes].join(', ')}) or pod/NAME (${[...pods].map((p) => 'pod/' + p).join(', ') || 'no pods'})`,
        });
      }
    }
    for (const c of s.checks) {
      const sp = c.spec as Record<string, unknown>;
      for (const k of ['in', 'from', 'peer'] as const) if (typeof sp[k] === 'string') ns(sp[k], s.file, c.line);
      if (typeof sp.ping === 'string' && sp.ping.startsWith('pod/')) ns(sp.ping, s.file, c.line);
      for (const k of ['on', 'node-ready', 'no-veth'] as const)
        if (typeof sp[k] === 'string' && !nodes.has(sp[k]))
          errors.push({ file: s.file, line: c.line, message: `no node "${sp[k]}" in this lab` });
      if (typeof sp['pod-ready'] === 'string' && !pods.has(sp['pod-ready']))
        errors.push({ file: s.file, line: c.line, message: `no pod "${sp['pod-ready']}" in this lab` });
    }
    for (const q of s.questions) {
      const a = q.answer as Record<string, string>;
      if (typeof a === 'object' && a['pod-ip'] && !pods.has(a['pod-ip']))
        errors.push({ file: s.file, line: q.line, message: `no pod "${a['pod-ip']}" in this lab` });
      if (typeof a === 'object' && a.in) ns(a.in, s.file, q.line);
    }
    for (const t of s.tools) {
      // the namespaces and files a tools block points at must be this lab's
      const term = t.open?.startsWith('terminal ') ? t.open.slice(9) : undefined;
      for (const ref of [term, t.view?.split(' ')[0], t.follow]) if (ref && ref !== 'sandbox') ns(ref, s.file, t.line);
      const node = t.edit?.split(':')[0];
      if (node && !nodes.has(node))
        errors.push({ file: s.file, line: t.line, message: `no node "${node}" in this lab` });
    }
    for (const h of s.hints)
      if (h.whenFailing && !s.checks.some((c) => c.id === h.whenFailing))
        errors.push({
          file: s.file,
          line: h.line,
          message: `hint refers to check "${h.whenFailing}", which this step does not have`,
        });
    if (s.solution.length === 0)
      errors.push({
        file: s.file,
        line: 1,
        message: 'a step without a solution: add a ```solution block (lab test applies it)',
      });
  }
}

/** A path the lab names, when it stays inside the lab folder (a lab never reads the host's files). */
function inFolder(dir: string, p: string): string | undefined {
  const full = resolve(dir, p);
  const rel = relative(dir, full);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? full : undefined;
}

/** The most a lab file may be, by kind (docs/authoring.md): checked before the file is read. */
export const LAB_FILE_LIMITS = {
  'lab.yaml': 1024 * 1024,
  'step file': 1024 * 1024,
  'config file': 1024 * 1024,
} as const;
export type LabFileKind = keyof typeof LAB_FILE_LIMITS;

const sizeText = (n: number) => (n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`);

/**
 * Reads a file the lab names, relative to the lab folder, or says why not: missing, a symbolic link
 * (anywhere on its path) that leaves the lab folder, not a regular file, or over its size limit (known
 * from fstat before any byte is read).
 */
export function readLabFile(
  dir: string,
  rel: string,
  kind: LabFileKind,
): { text: string; error?: undefined } | { error: string; text?: undefined } {
  const named = kind === 'lab.yaml' ? LAB_FILE : `${kind} "${rel}"`;
  const full = inFolder(dir, rel);
  if (!full) return { error: `${named} is outside the lab folder` };
  let real: string;
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    real = realpathSync(full);
  } catch {
    return {
      error:
        kind === 'lab.yaml'
          ? `no ${LAB_FILE} in ${dir}`
          : `${named} not found${kind === 'config file' ? ' in the lab folder' : ''}`,
    };
  }
  const inside = relative(realDir, real);
  if (!inside || inside.startsWith('..') || inside.startsWith('/'))
    return { error: `${named} is a symbolic link that leaves the lab folder (it resolves to ${real})` };
  const limit = LAB_FILE_LIMITS[kind];
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted as a step never blocks the catalogue
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { error: `${named} cannot be read: ${(e as Error).message}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: `${named} is not a regular file` };
    if (st.size > limit)
      return {
        error: `${named} is ${st.size} bytes; ${kind === 'lab.yaml' ? LAB_FILE : `a ${kind}`} may be at most ${limit} bytes (${sizeText(limit)})`,
      };
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return { text: buf.subarray(0, n).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/**
 * A lab.yaml with mistakes: its steps are read even so, so that one lint shows every mistake of the lab.
 * Where the YAML itself is broken the parsed data may have lost them: then the `steps:` list is read from the text.
 */
function lintStepsOf(dir: string, dirIn: string, y: Yaml, steps: unknown, errors: LintError[]): void {
  const named: { file: string; line: number }[] = [];
  if (Array.isArray(steps))
    steps.forEach((f, i) => typeof f === 'string' && named.push({ file: f, line: lineOf(y, ['steps', i]) }));
  else {
    const lines = y.text.split('\n');
    const at = lines.findIndex((l) => /^steps:\s*(#.*)?$/.test(l));
    for (let i = at + 1; at >= 0 && i < lines.length && /^\s+-|^\s*(#.*)?$/.test(lines[i]!); i++) {
      const m = /^\s+-\s+["']?([^"'#\s]+)/.exec(lines[i]!);
      if (m) named.push({ file: m[1]!, line: i + 1 });
    }
  }
  named.forEach(({ file, line }, i) => {
    const r = readLabFile(dir, file, 'step file');
    if (r.error !== undefined) errors.push({ file: join(dirIn, LAB_FILE), line, message: r.error });
    else parseStep(r.text, join(dirIn, file), i, errors);
  });
}

/** Reads a lab folder; throws LabLoadError with every mistake found. */
export function loadLab(dirIn: string): Lab {
  const { lab, errors } = lintLab(dirIn);
  if (errors.length || !lab) throw new LabLoadError(errors);
  return lab;
}

/** Reads a lab folder and reports every mistake (the lab, when it could be read at all). */
export function lintLab(dirIn: string): { lab?: Lab; errors: LintError[] } {
  const dir = resolve(dirIn);
  const shown = join(dirIn, LAB_FILE);
  if (!existsSync(join(dir, LAB_FILE)))
    return { errors: [{ file: shown, line: 1, message: `no ${LAB_FILE} in ${dirIn}` }] };
  const labYaml = readLabFile(dir, LAB_FILE, 'lab.yaml');
  if (labYaml.error !== undefined) return { errors: [{ file: shown, line: 1, message: labYaml.error }] };
  const y = parseYaml(labYaml.text);
  const errors = yamlErrors(y, shown);
  const js = y.fatal ? undefined : toData(y, shown, 0, errors.length ? [] : errors);
  const r = js && !errors.length ? LabFile.safeParse(js.data) : undefined;
  if (!r?.success) {
    if (r) errors.push(...issuesAt(y, shown, r.error.issues));
    lintStepsOf(dir, dirIn, y, (js?.data as { steps?: unknown } | null)?.steps, errors);
    return { errors };
  }
  const f = r.data;
  const nodeNames =
    typeof f.world.nodes === 'number' ? Array.from({ length: f.world.nodes }, (_, i) => `node${i + 1}`) : f.world.nodes;
  const configs: Lab['configs'] = {};
  nodeNames.forEach((n, i) => {
    const c = f.world.configs[n] ?? f.world.cni;
    if (c === 'none') configs[n] = undefined;
    else if (c === 'default') configs[n] = { file: '10-podnet.conflist', text: bridgeConfList(defaultPodCidr(i)) };
    else if (c.from) {
      const r = readLabFile(dir, c.from, 'config file');
      if (r.error !== undefined) {
        const line = lineOf(y, f.world.configs[n] ? ['world', 'configs', n, 'from'] : ['world', 'cni', 'from']);
        // one node's config named for several nodes: one error for its one line
        if (!errors.some((e) => e.line === line && e.message === r.error))
          errors.push({ file: shown, line, message: r.error });
      } else configs[n] = { file: c.file, text: r.text };
    } else
      configs[n] = {
        file: c.file,
        text: typeof c.content === 'string' ? c.content : JSON.stringify(c.content ?? {}, null, 2) + '\n',
      };
  });
  for (const n of Object.keys(f.world.loopbacks))
    if (!nodeNames.includes(n))
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'loopbacks', n]),
        message: `no node "${n}" in this lab (nodes: ${nodeNames.join(', ')})`,
      });
  for (const n of Object.keys(f.world.runtimes))
    if (!nodeNames.includes(n))
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'runtimes', n]),
        message: `no node "${n}" in this lab (nodes: ${nodeNames.join(', ')})`,
      });
  for (const n of Object.keys(f.world.configs))
    if (!nodeNames.includes(n))
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'configs', n]),
        message: `no node "${n}" in this lab (nodes: ${nodeNames.join(', ')})`,
      });
  f.world.pods.forEach((p, i) => {
    if (!nodeNames.includes(p.node))
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'pods', i, 'node']),
        message: `pod ${p.name}: no node "${p.node}" in this lab`,
      });
    // steps name a pod by its name alone (pod/NAME), whatever its namespace
    if (f.world.pods.findIndex((q) => q.name === p.name) < i)
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'pods', i, 'name']),
        message: `pod ${p.name}: a second pod of that name (steps name pods by name alone)`,
      });
  });
  f.world.prepare.forEach((p, i) => {
    if (p.on !== 'sandbox' && !nodeNames.includes(p.on))
      errors.push({
        file: shown,
        line: lineOf(y, ['world', 'prepare', i, 'on']),
        message: `no node "${p.on}" in this lab`,
      });
  });
  const parent = dirname(dir);
  f.prerequisites.forEach((p, i) => {
    if (!existsSync(join(parent, p, LAB_FILE)))
      errors.push({
        file: shown,
        line: lineOf(y, ['prerequisites', i]),
        message: `prerequisite "${p}" is not a lab beside this one`,
      });
  });
  const steps: Step[] = [];
  f.steps.forEach((s, i) => {
    const r = readLabFile(dir, s, 'step file');
    if (r.error !== undefined) {
      errors.push({ file: shown, line: lineOf(y, ['steps', i]), message: r.error });
      return;
    }
    steps.push(parseStep(r.text, join(dirIn, s), i, errors));
  });
  const { world, ...rest } = f;
  const meta: Lab['meta'] = { ...rest };
  // the steps are parsed (above), not kept as their file names
  delete (meta as Partial<typeof f>).steps;
  const lab: Lab = { id: basename(dir), dir, meta, world, configs, nodeNames, steps };
  lintReferences(lab, errors);
  return { lab, errors };
}
