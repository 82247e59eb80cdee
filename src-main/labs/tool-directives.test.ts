// A step's ```tools blocks: parsed where they stand in the body, each key checked (with a message that
// says what is allowed), and the namespaces and nodes they name checked against the lab.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LintError } from './format.js';
import { lintLab, parseStep } from './loader.js';

const step = (tools: string) => `# T

Prose.

\`\`\`tools
${tools}
\`\`\`

\`\`\`run node1
ip link
\`\`\`

\`\`\`check
- link: lo
  in: node1
\`\`\`
`;

describe('```tools blocks', () => {
  it('are parsed in place: open, view, edit, follow', () => {
    const errors: LintError[] = [];
    const s = parseStep(
      step('open: timeline\nview: node1/demo routes\nedit: node1:/etc/cni/net.d/10-podnet.conflist\nfollow: pod/web'),
      'x.md',
      0,
      errors,
    );
    expect(errors).toEqual([]);
    expect(s.tools).toEqual([
      {
        open: 'timeline',
        view: 'node1/demo routes',
        edit: 'node1:/etc/cni/net.d/10-podnet.conflist',
        follow: 'pod/web',
        line: 5,
      },
    ]);
    expect(s.body.map((b) => b.kind)).toEqual(['markdown', 'tools', 'command']);
  });

  it('say what is allowed when a key or value is wrong', () => {
    const errors: LintError[] = [];
    parseStep(step('open: debugger\nview: node1 tables\nzoom: 2'), 'x.md', 0, errors);
    const text = errors.map((e) => `${e.line}: ${e.message}`).join('\n');
    expect(text).toMatch(/unknown field "zoom"/);
    errors.length = 0;
    parseStep(step('open: debugger'), 'x.md', 0, errors);
    expect(errors[0]!.message).toMatch(/open: timeline, topology, editor, views, or terminal NODE/);
    expect(errors[0]!.line).toBe(6);
    errors.length = 0;
    parseStep(step('view: node1 tables'), 'x.md', 0, errors);
    expect(errors[0]!.message).toMatch(/links, addrs, routes, neighs, fdb/);
  });

  it("name only the lab's own nodes and pods (lint)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-tools-'));
    try {
      cpSync(join(import.meta.dirname, '../../labs/01-network-namespaces'), join(dir, 'lab'), { recursive: true });
      const f = join(dir, 'lab', 'steps', '01-create.md');
      writeFileSync(
        f,
        readFileSync(f, 'utf8').replace('view: node1/demo links', 'view: node7 links\nfollow: pod/nope'),
      );
      const { errors } = lintLab(join(dir, 'lab'));
      expect(errors.map((e) => e.message)).toEqual([
        'no node "node7" in this lab (nodes: node1)',
        'no pod "nope" in this lab (pods: none)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
