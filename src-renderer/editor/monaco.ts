// Monaco, from the app bundle only (no CDN, no network): the editor, its features, the JSON language
// with the CNI schemas (resources/cni-schemas: completion, hover, validation), and workers that vite
// bundles beside the app. The renderer's CSP forbids eval, so ajv never runs here: Monaco validates.
import * as monaco from 'monaco-editor/editor/editor.api';
import { jsonDefaults } from 'monaco-editor/languages/features/json/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/languages/features/json/json.worker?worker';
import './monaco-features.ts';

const schemas = import.meta.glob<{ $id: string }>('../../resources/cni-schemas/*.json', {
  eager: true,
  import: 'default',
});

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'json' ? new JsonWorker() : new EditorWorker()),
};

const byName = (n: string) => Object.entries(schemas).find(([p]) => p.endsWith(`/${n}.json`))?.[1];

jsonDefaults.setDiagnosticsOptions({
  validate: true,
  allowComments: false,
  comments: 'error',
  trailingCommas: 'error',
  enableSchemaRequest: false,
  schemaValidation: 'error',
  schemas: Object.entries(schemas).map(([path, schema]) => {
    const name = path.replace(/^.*\//, '').replace(/\.json$/, '');
    const fileMatch = name === 'conflist' ? ['*.conflist'] : name === 'conf' ? ['*.conf', '*.json'] : undefined;
    return { uri: schema.$id, schema, ...(fileMatch ? { fileMatch } : {}) };
  }),
});

/** The snippet bodies of the conflist and conf schemas (the shapes a new file can start from). */
export function templates(): { label: string; description: string; file: 'conflist' | 'conf'; body: unknown }[] {
  const of = (n: 'conflist' | 'conf') =>
    (
      (byName(n) as { defaultSnippets?: { label: string; description: string; body: unknown }[] } | undefined)
        ?.defaultSnippets ?? []
    ).map((s) => ({ ...s, file: n }));
  return [...of('conflist'), ...of('conf')];
}

/** A snippet body as plain text: its ${n:placeholder}s become their placeholder text. */
export function templateText(body: unknown): string {
  return `${JSON.stringify(body, null, 2).replace(/\$\{\d+:([^}]*)\}/g, '$1')}\n`;
}

export { monaco };
