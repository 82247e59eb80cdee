// The CNI config editor: a node's /etc/cni/net.d in Monaco (schemas for completion, hover and
// validation; the engine's semantic and node checks as markers), create/rename/delete/save with format
// on save, and the run panel below. Its state is its own (React state fed by lab.client).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LintProblem, Result } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { resolvedTheme } from '../state/store.ts';
import { editorCommands, pendingOpen } from './commands.ts';
import { monaco, templates, templateText } from './monaco.ts';
import { RunPanel } from './RunPanel.tsx';
import { findingOf, verdictOf } from '../../src-main/config/verdict.ts';
import './editor.css';

type Files = Result<'config.files'>;
type Dialog =
  { kind: 'new'; name: string; template: number } | { kind: 'rename'; name: string } | { kind: 'delete' } | null;

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(conf|conflist|json)$/;
const uriOf = (node: string, name: string) => monaco.Uri.parse(`file:///${node}/etc/cni/net.d/${name}`);
/** Problems the engine finds that Monaco's own JSON validation does not (it does syntax and schema itself). */
const engineOnly = (p: LintProblem) => p.rule !== 'syntax' && p.rule !== 'schema';

declare global {
  interface Window {
    /** For end-to-end tests, as podnetScreens is for terminals: the editor's text and markers. */
    podnetEditor?: {
      value(): string;
      setValue(text: string): void;
      focusAt(line: number, column: number): void;
      markers(): { owner: string; line: number; severity: string; message: string }[];
    };
  }
}

/** Each finding's short label in the problems list: what it does to containerd and the pod. */
const FINDING_LABEL = { 'cannot-load': 'cannot load', 'fails-add': 'ADD fails', advice: 'advice' } as const;

/** containerd reads only the first file of the folder (lexical order): is this it, among these? */
const firstOf = (names: string[], name: string) => [...names, name].sort()[0] === name;

export default function CniEditor({ active }: { active: boolean }) {
  const lab = useLab();
  const world = useAppState((s) => s.world);
  const theme = useAppState((s) => resolvedTheme(s));
  const running = world.state === 'running';
  const nodes = running ? world.nodes.map((n) => n.name) : [];
  const [node, setNode] = useState('node1');
  const [files, setFiles] = useState<Files | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [problems, setProblems] = useState<LintProblem[]>([]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const openRef = useRef<{ node: string; name: string } | null>(null);
  const lintTimer = useRef<number | undefined>(undefined);
  const lintSeq = useRef(0);
  /** Models with unsaved edits (by URI): reopening one keeps the edits, switching files loses nothing. */
  const unsaved = useRef(new Set<string>());
  const [, setUnsavedCount] = useState(0);
  const markUnsaved = (uri: string, on: boolean) => {
    if (on ? unsaved.current.has(uri) : !unsaved.current.has(uri)) return;
    if (on) unsaved.current.add(uri);
    else unsaved.current.delete(uri);
    setUnsavedCount(unsaved.current.size);
  };
  const loading = useRef(false);

  const refresh = useCallback(
    async (n = node) => {
      if (!running) return;
      try {
        setFiles(await lab.client.call('config.files', { node: n }));
      } catch (e) {
        lab.notify(`CNI config: ${(e as Error).message}`);
      }
    },
    [lab, node, running],
  );

  const lint = useCallback(async () => {
    const o = openRef.current;
    const model = editor.current?.getModel();
    if (!o || !model) return;
    const seq = ++lintSeq.current;
    try {
      const { problems: ps } = await lab.client.call('config.lint', {
        node: o.node,
        name: o.name,
        text: model.getValue(),
      });
      if (seq !== lintSeq.current || model.isDisposed()) return;
      setProblems(ps);
      monaco.editor.setModelMarkers(
        model,
        'podnet',
        ps.filter(engineOnly).map((p) => ({
          severity: p.severity === 'error' ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
          message: p.message,
          source: p.rule,
          startLineNumber: p.line,
          startColumn: p.column,
          endLineNumber: p.endLine,
          endColumn: Math.max(p.endColumn, p.column + 1),
        })),
      );
    } catch {
      /* the world stopped: the next refresh says so */
    }
  }, [lab]);

  // Monaco itself: created once, kept while the tab is mounted
  useEffect(() => {
    if (!host.current) return;
    const ed = monaco.editor.create(host.current, {
      model: null,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      tabSize: 2,
      scrollBeyondLastLine: false,
      fixedOverflowWidgets: true,
      ariaLabel: 'CNI config',
      quickSuggestions: { strings: true, other: true, comments: false },
    });
    editor.current = ed;
    const sub = ed.onDidChangeModelContent(() => {
      if (loading.current) return;
      const uri = ed.getModel()?.uri.toString();
      if (uri) markUnsaved(uri, true);
      setDirty(true);
      window.clearTimeout(lintTimer.current);
      lintTimer.current = window.setTimeout(() => void lint(), 300);
    });
    window.podnetEditor = {
      value: () => ed.getModel()?.getValue() ?? '',
      setValue: (t) => ed.getModel()?.setValue(t),
      focusAt: (lineNumber, column) => {
        ed.setPosition({ lineNumber, column });
        ed.focus();
      },
      markers: () =>
        monaco.editor.getModelMarkers({ resource: ed.getModel()?.uri }).map((m) => ({
          owner: m.owner,
          line: m.startLineNumber,
          severity: m.severity === monaco.MarkerSeverity.Error ? 'error' : 'warning',
          message: m.message,
        })),
    };
    return () => {
      sub.dispose();
      window.clearTimeout(lintTimer.current);
      for (const m of monaco.editor.getModels()) m.dispose();
      ed.dispose();
      editor.current = null;
      delete window.podnetEditor;
    };
  }, [lint]);

  useEffect(() => monaco.editor.setTheme(theme === 'dark' ? 'vs-dark' : 'vs'), [theme]);

  const open = useCallback(
    async (name: string, n = node) => {
      try {
        const r = await lab.client.call('config.read', { node: n, name });
        const uri = uriOf(n, name);
        const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(r.text, 'json', uri);
        const keep = unsaved.current.has(uri.toString());
        loading.current = true;
        try {
          // the file as it is now, unless this buffer has edits not saved yet
          if (!keep && model.getValue() !== r.text) model.setValue(r.text);
          editor.current?.setModel(model);
        } finally {
          loading.current = false;
        }
        openRef.current = { node: n, name };
        setCurrent(name);
        setDirty(keep);
        void lint();
      } catch (e) {
        lab.notify(`Cannot open ${name}: ${(e as Error).message}`);
      }
    },
    [lab, lint, node],
  );

  // files of the chosen node, and the first one opened
  useEffect(() => {
    if (!running) {
      setFiles(null);
      return;
    }
    void refresh(node);
    const offConfig = lab.client.on('config.changed', (p) => p.node === node && void refresh(node));
    // NetworkReady changed (a file edited in a terminal, say): the list's markers may have too
    const offWorld = lab.client.on('world.changed', () => void refresh(node));
    return () => {
      offConfig();
      offWorld();
    };
  }, [running, node, refresh, lab]);

  /** The file a lab step asked for (`edit:`): opened instead of the node's first file. */
  const wanted = useRef<{ node: string; name: string } | null>(null);
  useEffect(() => {
    const want = wanted.current;
    if (files && want && want.node === files.node && files.files.some((f) => f.name === want.name)) {
      wanted.current = null;
      if (current !== want.name) void open(want.name, want.node);
    } else if (files && !current && files.files[0]) void open(files.files[0].name, files.node);
    if (files && current && !files.files.some((f) => f.name === current)) {
      setCurrent(null);
      openRef.current = null;
      editor.current?.setModel(null);
      setProblems([]);
    }
  }, [files, current, open]);

  useEffect(() => {
    if (active) requestAnimationFrame(() => editor.current?.layout());
  }, [active]);

  const save = useCallback(async () => {
    const o = openRef.current;
    const ed = editor.current;
    const model = ed?.getModel();
    if (!o || !ed || !model) return;
    setBusy('saving');
    try {
      // format on save, unless the JSON is broken (the formatter would guess)
      let broken = false;
      try {
        JSON.parse(model.getValue());
      } catch {
        broken = true;
      }
      if (!broken) await ed.getAction('editor.action.formatDocument')?.run();
      let text = model.getValue();
      if (!text.endsWith('\n')) text += '\n';
      const r = await lab.client.call('config.save', { node: o.node, name: o.name, text });
      markUnsaved(model.uri.toString(), false);
      setDirty(false);
      setProblems(r.problems);
      // no notice: the banner above the text says what containerd does with the saved file, and stays true
      await refresh(o.node);
    } catch (e) {
      lab.notify(`Save failed: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  }, [lab, refresh]);

  useEffect(() => {
    const ed = editor.current;
    if (!ed) return;
    // Ctrl+S inside the editor (the palette has "Save the CNI config" too)
    const id = ed.addAction({
      id: 'podnet.save',
      label: 'Save the CNI config',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS],
      run: () => void save(),
    });
    return () => id.dispose();
  }, [save]);

  const submitDialog = async () => {
    if (!dialog) return;
    try {
      if (dialog.kind === 'new') {
        if (!NAME_RE.test(dialog.name))
          throw new Error(
            'a name such as 20-mynet.conflist (letters, digits, "_", "." and "-"; .conf, .conflist or .json)',
          );
        const t = templates()[dialog.template];
        const text = t ? templateText(t.body) : '';
        await lab.client.call('config.create', { node, name: dialog.name, text });
        await refresh();
        await open(dialog.name);
      } else if (dialog.kind === 'rename' && current) {
        if (!NAME_RE.test(dialog.name)) throw new Error('a name such as 20-mynet.conflist');
        await lab.client.call('config.rename', { node, from: current, to: dialog.name });
        // unsaved edits move with the file
        const old = uriOf(node, current);
        const edits = unsaved.current.has(old.toString()) ? monaco.editor.getModel(old)?.getValue() : undefined;
        markUnsaved(old.toString(), false);
        monaco.editor.getModel(old)?.dispose();
        await refresh();
        await open(dialog.name);
        if (edits !== undefined) editor.current?.getModel()?.setValue(edits);
      } else if (dialog.kind === 'delete' && current) {
        await lab.client.call('config.delete', { node, name: current });
        markUnsaved(uriOf(node, current).toString(), false);
        monaco.editor.getModel(uriOf(node, current))?.dispose();
        await refresh();
      }
      setDialog(null);
    } catch (e) {
      lab.notify(
        `${dialog.kind === 'new' ? 'Create' : dialog.kind === 'rename' ? 'Rename' : 'Delete'}: ${(e as Error).message}`,
      );
    }
  };

  // what the workspace asks of the editor: unsaved edits (before closing it), and a step's `edit:` file
  useEffect(() => {
    editorCommands.unsaved = () => unsaved.current.size;
    editorCommands.openFile = (n, name) => {
      wanted.current = { node: n, name };
      if (n !== node) {
        setNode(n);
        setCurrent(null);
        openRef.current = null;
        editor.current?.setModel(null);
        setProblems([]);
      } else void refresh(n);
    };
    const p = pendingOpen.file;
    if (p) {
      pendingOpen.file = null;
      editorCommands.openFile(p.node, p.name);
    }
    return () => {
      delete editorCommands.unsaved;
      delete editorCommands.openFile;
    };
  }, [node, refresh]);

  const newFile = useCallback(() => setDialog({ kind: 'new', name: '20-mynet.conflist', template: 0 }), []);
  useEffect(() => {
    editorCommands.save = () => void save();
    editorCommands.newFile = newFile;
    return () => {
      delete editorCommands.save;
      delete editorCommands.newFile;
    };
  }, [save, newFile]);

  const reveal = (p: LintProblem) => {
    const ed = editor.current;
    if (!ed) return;
    ed.setPosition({ lineNumber: p.line, column: p.column });
    ed.revealLineInCenter(p.line);
    ed.focus();
  };

  const chooseNode = (n: string) => {
    setNode(n);
    setCurrent(null);
    openRef.current = null;
    editor.current?.setModel(null);
    setProblems([]);
  };

  const verdict = verdictOf(problems);
  const nodeReady = running ? world.nodes.find((n) => n.name === node)?.networkReady : undefined;
  const first = current ? firstOf(files?.files.map((f) => f.name) ?? [], current) : false;
  const firstName = files?.files[0]?.name;
  const dir = files?.dir ?? '/etc/cni/net.d';
  // the file as containerd 2.1 sees it, in one line above the editor (the markers stay warnings)
  const banner =
    !current || verdict === 'clean' || verdict === 'advice'
      ? null
      : verdict === 'cannot-load'
        ? !first
          ? `containerd cannot load this file, but ${firstName} sorts first and is the one it reads: ${node} is not affected while that stays so`
          : dirty
            ? `containerd cannot load this file: saving it makes ${node} NotReady (the first file of ${dir} stops containerd's load)`
            : nodeReady && !nodeReady.status
              ? `containerd cannot load this file: ${node} NotReady (its config load stops at this first file of ${dir}; new pods get no network)`
              : `containerd cannot load this file: as the first file of ${dir} it makes ${node} NotReady`
        : first
          ? `containerd loads this file and ${node} stays Ready, but every pod's ADD will fail: see the warnings below`
          : `containerd loads this file, but its ADD would fail (it is not the pod network: ${firstName} sorts first)`;

  return (
    <div className="cni-editor" data-testid="cni-editor">
      {!running ? <div className="cni-editor-empty">Start a world to edit its nodes' CNI configs.</div> : null}
      <div className="cni-top">
        <aside className="cni-files" aria-label="Config files">
          <label className="cni-node">
            Node{' '}
            <select
              data-testid="cni-node"
              value={node}
              onChange={(e) => chooseNode(e.target.value)}
              disabled={!running}
            >
              {nodes.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
          <div className="cni-dir muted">{files?.dir ?? '/etc/cni/net.d'}</div>
          <ul role="listbox" aria-label="Files">
            {files?.files.map((f) => (
              <li
                key={f.name}
                role="option"
                aria-selected={f.name === current}
                tabIndex={0}
                className={`cni-file${f.name === current ? ' selected' : ''}${f.error ? ' bad' : ''}`}
                data-testid={`cni-file-${f.name}`}
                title={
                  f.error ??
                  (f.active
                    ? 'the pod network: the first valid file in lexical order'
                    : 'valid, but another file sorts first')
                }
                onClick={() => void open(f.name)}
                onKeyDown={(e) => e.key === 'Enter' && void open(f.name)}
              >
                <span className="cni-file-name">
                  {f.name}
                  {unsaved.current.has(uriOf(node, f.name).toString()) ? (
                    <span className="cni-dirty" title="unsaved changes">
                      {' '}
                      ●
                    </span>
                  ) : null}
                </span>
                {f.active ? (
                  <span className="cni-badge ok">network</span>
                ) : f.error ? (
                  <span className="cni-badge bad">invalid</span>
                ) : null}
              </li>
            ))}
            {files && !files.files.length ? <li className="muted cni-none">No config: the node is NotReady.</li> : null}
          </ul>
          <div className="cni-file-actions">
            <button className="button small" data-testid="cni-new" onClick={newFile} disabled={!running}>
              New
            </button>
            <button
              className="button small"
              data-testid="cni-rename"
              onClick={() => current && setDialog({ kind: 'rename', name: current })}
              disabled={!current}
            >
              Rename
            </button>
            <button
              className="button small"
              data-testid="cni-delete"
              onClick={() => current && setDialog({ kind: 'delete' })}
              disabled={!current}
            >
              Delete
            </button>
          </div>
          {dialog ? (
            <form
              className="cni-dialog"
              data-testid="cni-dialog"
              onSubmit={(e) => {
                e.preventDefault();
                void submitDialog();
              }}
              onKeyDown={(e) => e.key === 'Escape' && setDialog(null)}
            >
              {dialog.kind === 'delete' ? (
                <p>
                  Delete <strong>{current}</strong>?
                </p>
              ) : (
                <label>
                  {dialog.kind === 'new' ? 'New file' : 'Rename to'}
                  <input
                    autoFocus
                    data-testid="cni-dialog-name"
                    value={dialog.name}
                    spellCheck={false}
                    onChange={(e) => setDialog({ ...dialog, name: e.target.value })}
                  />
                </label>
              )}
              {dialog.kind === 'new' ? (
                <label>
                  Start from
                  <select
                    data-testid="cni-template"
                    value={dialog.template}
                    onChange={(e) => setDialog({ ...dialog, template: Number(e.target.value) })}
                  >
                    {templates().map((t, i) => (
                      <option key={t.label} value={i} title={t.description}>
                        {t.label}
                      </option>
                    ))}
                    <option value={-1}>an empty file</option>
                  </select>
                </label>
              ) : null}
              <div className="cni-dialog-buttons">
                <button
                  className="button small"
                  type="submit"
                  data-testid="cni-dialog-ok"
                  autoFocus={dialog.kind === 'delete'}
                >
                  {dialog.kind === 'new' ? 'Create' : dialog.kind === 'rename' ? 'Rename' : 'Delete'}
                </button>
                <button className="button small" type="button" onClick={() => setDialog(null)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : null}
        </aside>
        <section className="cni-main" aria-label="Editor">
          <div className="cni-bar">
            <span className="cni-title" data-testid="cni-current">
              {current ? `${node}:${files?.dir ?? ''}/${current}` : 'no file open'}
              {dirty ? (
                <span className="cni-dirty" title="unsaved changes">
                  {' '}
                  ●
                </span>
              ) : null}
            </span>
            <span className="spacer" />
            <span
              className={`cni-count ${verdict === 'cannot-load' ? 'bad' : verdict === 'clean' ? 'ok' : 'warn'}`}
              data-testid="cni-problem-count"
              data-verdict={verdict}
            >
              {problems.length ? `${problems.length} warning${problems.length === 1 ? '' : 's'}` : 'no problems'}
            </span>
            <button
              className="button small"
              data-testid="cni-save"
              onClick={() => void save()}
              disabled={!current || busy !== null}
              title="Format and save (Ctrl+S)"
            >
              {busy === 'saving' ? 'Saving…' : 'Save'}
            </button>
          </div>
          {banner ? (
            <div className={`cni-verdict ${verdict}`} role="status" data-testid="cni-verdict" data-verdict={verdict}>
              {banner}
            </div>
          ) : null}
          <div className="cni-monaco" ref={host} data-testid="cni-monaco" />
          <ul className="cni-problems" aria-label="Problems" data-testid="cni-problems">
            {problems.map((p, i) => (
              <li
                key={i}
                className={`cni-problem ${p.severity} ${findingOf(p.rule)}`}
                data-testid="cni-problem"
                data-line={p.line}
                data-rule={p.rule}
                data-finding={findingOf(p.rule)}
                tabIndex={0}
                onClick={() => reveal(p)}
                onKeyDown={(e) => e.key === 'Enter' && reveal(p)}
              >
                <span className="cni-problem-at">
                  {p.line}:{p.column}
                </span>{' '}
                <span className="cni-finding">{FINDING_LABEL[findingOf(p.rule)]}</span> {p.message}
              </li>
            ))}
          </ul>
        </section>
      </div>
      {running && current ? (
        <RunPanel node={node} name={current} text={() => editor.current?.getModel()?.getValue() ?? ''} />
      ) : null}
    </div>
  );
}
