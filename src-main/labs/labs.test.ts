// The format without a world: Markdown steps split into blocks at their lines, the JSON schema in
// step with the code, and progress written atomically with a corrupt file kept aside.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LintError } from './format.js';
import { apiPodNames, parseStep } from './loader.js';
import { ProgressStore } from './progress.js';
import { labJsonSchemaText } from './schema.js';

const STEP = `# Title here

Some prose with \`code\`.

\`\`\`run node1
ip link
\`\`\`

\`\`\`sh
not a lab block
\`\`\`

\`\`\`check
- link: lo
  in: node1
  id: lo
- script: exit 1
  in: node1
\`\`\`

\`\`\`hint failing=lo
Bring it up.
\`\`\`

\`\`\`question
id: q
ask: What?
answer: "42"
\`\`\`

\`\`\`solution node1
ip link set lo up
\`\`\`
`;

describe('parseStep', () => {
  it('splits prose, commands, checks, hints, questions and the solution', () => {
    const errors: LintError[] = [];
    const s = parseStep(STEP, 'x.md', 0, errors);
    expect(errors).toEqual([]);
    expect(s.title).toBe('Title here');
    expect(s.commands).toEqual([{ target: 'node1', text: 'ip link', copyOnly: false, line: 5 }]);
    expect(s.body.map((b) => b.kind)).toEqual(['markdown', 'command', 'markdown']);
    expect(s.body[2]).toMatchObject({ text: expect.stringContaining('not a lab block') });
    expect(s.checks.map((c) => [c.id, c.kind, c.line])).toEqual([
      ['lo', 'link', 14],
      ['check-2', 'script', 17],
    ]);
    expect(s.checks[0]!.title).toBe('node1 has link lo');
    expect(s.hints).toEqual([{ text: 'Bring it up.', whenFailing: 'lo', line: 21 }]);
    expect(s.questions[0]).toMatchObject({ id: 'q', answer: '42' });
    expect(s.solution).toEqual([{ target: 'node1', text: 'ip link set lo up', copyOnly: false, line: 31 }]);
  });

  it('reports an unclosed block and a check with two kinds at their lines', () => {
    const errors: LintError[] = [];
    parseStep(
      '# T\n\n```check\n- link: lo\n  route: default\n  in: node1\n```\n\n```run node1\nls\n',
      'y.md',
      0,
      errors,
    );
    expect(errors).toContainEqual({ file: 'y.md', line: 4, message: 'a check has one kind, not link and route' });
    expect(errors).toContainEqual({ file: 'y.md', line: 9, message: 'run block is not closed with ```' });
  });
});

describe('the pods a control-plane lab makes through the API', () => {
  it('are named by kubectl run and by Pod manifests, block or inline; other kinds are not pods', () => {
    const text = [
      'kubectl run pinned --image=busybox --command -- httpd -f -p 80',
      "cat > /root/web.yaml <<'YAML'",
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  labels: {app: web}',
      '  name: web',
      'spec: {}',
      '---',
      'kind: Service',
      'metadata:',
      '  name: websvc',
      '---',
      'kind: Pod',
      'metadata: {name: "late", labels: {app: web}}',
      'YAML',
    ].join('\n');
    expect(apiPodNames(text)).toEqual(['pinned', 'web', 'late']);
    expect(apiPodNames('kubectl get pods\nkubectl delete pod web')).toEqual([]);
  });
});

describe('resources/lab.schema.json', () => {
  it('is the one generated from the format (run node scripts/lab-schema.mjs after changing it)', () => {
    expect(readFileSync(join(import.meta.dirname, '../../resources/lab.schema.json'), 'utf8')).toBe(
      labJsonSchemaText(),
    );
  });
});

describe('ProgressStore', () => {
  it('saves atomically, loads back, and keeps a corrupt file aside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-progress-'));
    try {
      const store = new ProgressStore(dir);
      expect(store.load('lab-a').progress).toMatchObject({ lab: 'lab-a', current: 0, done: [] });
      store.save({ lab: 'lab-a', current: 2, done: [0, 1], answers: { q: '42' }, timeSpentMs: 1234, updatedAt: '' });
      expect(readdirSync(dir)).toEqual(['lab-a.json']);
      expect(store.load('lab-a').progress).toMatchObject({
        current: 2,
        done: [0, 1],
        answers: { q: '42' },
        timeSpentMs: 1234,
      });
      writeFileSync(join(dir, 'lab-a.json'), '{"lab": "lab-a", "current": ');
      const r = store.load('lab-a');
      expect(r.progress.current).toBe(0);
      expect(r.error).toMatch(/unreadable.*kept as/);
      expect(readFileSync(r.keptAside!, 'utf8')).toBe('{"lab": "lab-a", "current": ');
      expect(readdirSync(dir).filter((f) => f.startsWith('lab-a.json.corrupt-'))).toHaveLength(1);
      expect(() => store.load('../etc')).toThrow(/invalid lab id/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
