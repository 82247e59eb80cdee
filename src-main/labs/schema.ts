// resources/lab.schema.json, generated from the format's zod schemas (one source for the loader, the
// linter and editors); a test keeps the file in step with the code.
import { z } from 'zod';
import { CHECK_SCHEMAS, LabFile, QuestionSpec, ToolDirective } from './format.js';

export function labJsonSchema(): Record<string, unknown> {
  const lab = z.toJSONSchema(LabFile, { io: 'input' }) as Record<string, unknown>;
  const defs: Record<string, unknown> = {};
  for (const [kind, s] of Object.entries(CHECK_SCHEMAS)) {
    const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input' }) as Record<string, unknown>;
    defs[`check-${kind}`] = rest;
  }
  const { $schema: _q, ...question } = z.toJSONSchema(QuestionSpec, { io: 'input' }) as Record<string, unknown>;
  defs.question = question;
  const { $schema: _t, ...tools } = z.toJSONSchema(ToolDirective, { io: 'input' }) as Record<string, unknown>;
  defs.tools = { description: 'A ```tools block in a step (YAML): what the step opens and points.', ...tools };
  defs.check = {
    description: 'An item of a ```check block in a step (YAML): its one kind key names the kind.',
    anyOf: Object.keys(CHECK_SCHEMAS).map((k) => ({ $ref: `#/$defs/check-${k}` })),
  };
  return {
    ...lab,
    $id: 'https://podnet.lab/schemas/lab.schema.json',
    title: 'Podnet Lab: lab.yaml',
    description: 'A guided lab: metadata, the starting world and the steps (Markdown files). See docs/authoring.md.',
    $defs: defs,
  };
}

export const labJsonSchemaText = () => JSON.stringify(labJsonSchema(), null, 2) + '\n';
