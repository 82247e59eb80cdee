// Every command of the workspace, as data (the way Excalidraw's actions are): a name, a label, an
// optional shortcut, when it applies, and what it does. The palette lists them, the keyboard
// handler matches them, and buttons may perform them: one registry, one behaviour.
import type { TerminalTarget } from '../src-main/api/contract.ts';
import { matchesShortcut } from './palette/shortcut.ts';
import type { Lab } from './state/lab.ts';
import type { AppState, ToolName } from './state/store.ts';
import { pathOf } from './path/path-store.ts';
import { download } from './topology/export.ts';
import { netviewOf, TABLES } from './views/netview-store.ts';
import { centreTools } from './workspace/centre-tools.tsx';
import { currentTimeline, timelineOf } from './timeline/timeline-model.ts';
import { editorCommands } from './editor/commands.ts';
import { guideOf, terminalTarget } from './guide/guide-store.ts';
import { rightPaneShown } from './state/layout.ts';
import { cycleFocus } from './workspace/focus.ts';

export type ActionName =
  | 'palette.open'
  | 'world.start'
  | 'world.stop'
  | 'world.reset'
  | 'home'
  | 'view.terminal'
  | 'view.liveViews'
  | 'view.guide'
  | 'focus.next'
  | 'focus.previous'
  | 'terminal.newSandbox'
  | `terminal.newNode:${string}`
  | 'pod.create'
  | 'terminal.close'
  | 'terminal.reopen'
  | 'tab.next'
  | 'tab.previous'
  | 'terminal.find'
  | 'terminal.copy'
  | 'terminal.paste'
  | `tool.open:${ToolName}`
  | 'theme.toggle'
  | 'theme.system'
  | 'timeline.next'
  | 'timeline.continue'
  | 'timeline.faults'
  | 'editor.save'
  | 'editor.newFile'
  | 'editor.runAdd'
  | 'netview.pickNamespace'
  | `netview.table:${string}`
  | `netview.family:${string}`
  | 'topology.exportSvg'
  | 'topology.exportPng'
  | 'path.follow'
  | `lab.${'catalogue' | 'check' | 'checkAndGoOn' | 'runNext' | 'next' | 'previous' | 'hint' | 'solution.show' | 'solution.apply' | 'reset'}`;

export interface ActionContext {
  lab: Lab;
  state: AppState;
}

export interface Action {
  name: ActionName;
  label: string;
  /** As written for parseShortcut: "Mod+Shift+P", "Ctrl+PageDown". */
  shortcut?: string;
  /** Whether a key event triggers it; derived from `shortcut` when absent. */
  keyTest?(e: KeyboardEvent): boolean;
  /** When it applies; the palette shows it dimmed otherwise and keys pass through. */
  predicate?(state: AppState): boolean;
  perform(ctx: ActionContext): void | Promise<unknown>;
}

const registry: Action[] = [];

function register(a: Action): Action {
  registry.push(a);
  return a;
}

const running = (s: AppState) => s.world.state === 'running' && !s.worldBusy;
const hasTab = (s: AppState) => s.activeTab !== null;
const activeTab = (s: AppState) => s.tabs.find((t) => t.key === s.activeTab);

register({
  name: 'palette.open',
  label: 'Show all commands',
  shortcut: 'Mod+Shift+P',
  perform: ({ lab, state }) => lab.setPalette(!state.paletteOpen),
});
register({
  name: 'world.start',
  label: 'Start world',
  predicate: (s) => (s.world.state === 'stopped' || s.world.state === 'failed') && !s.worldBusy,
  perform: ({ lab }) => lab.startWorld(),
});
register({
  name: 'world.stop',
  label: 'Stop the world…',
  predicate: (s) => (s.world.state === 'running' || s.world.state === 'failed') && !s.worldBusy,
  perform: ({ lab }) => stopWorld(lab),
});
register({
  name: 'world.reset',
  label: 'Restart the world… (an empty world with the same nodes; with a lab: rebuild it at this step)',
  predicate: (s) => (s.world.state === 'running' || s.world.state === 'failed') && !s.worldBusy,
  perform: ({ lab }) => restartWorld(lab),
});
register({
  name: 'home',
  label: 'Home: all labs (the open lab keeps its progress)',
  perform: ({ lab }) => goHome(lab),
});
register({
  name: 'terminal.newSandbox',
  label: 'New terminal on the sandbox',
  shortcut: 'Ctrl+Shift+`',
  predicate: running,
  perform: ({ lab }) => lab.openTerminal({ kind: 'sandbox' }),
});
register({
  name: 'pod.create',
  label: 'Create pod…',
  predicate: running,
  perform: () => document.getElementById('pod-create-name')?.focus(),
});
register({
  name: 'terminal.close',
  label: 'Close tab',
  shortcut: 'Ctrl+Shift+X',
  predicate: hasTab,
  perform: ({ lab, state }) => {
    if (state.activeTab) lab.closeTab(state.activeTab);
  },
});
register({
  name: 'terminal.reopen',
  label: 'Reopen terminal (after its shell exited)',
  predicate: (s) => activeTab(s)?.status === 'exited' && running(s),
  perform: ({ lab }) => lab.activeSession()?.reopen(),
});
const tabCount = (s: AppState) => s.tabs.length;
register({
  name: 'tab.next',
  label: 'Focus next tab',
  shortcut: 'Ctrl+PageDown',
  predicate: (s) => tabCount(s) > 1,
  perform: ({ lab }) => lab.cycleTab(1),
});
register({
  name: 'tab.previous',
  label: 'Focus previous tab',
  shortcut: 'Ctrl+PageUp',
  predicate: (s) => tabCount(s) > 1,
  perform: ({ lab }) => lab.cycleTab(-1),
});
/** The tool bar's shortcuts, in its order (Alt+1 … Alt+5). */
export const TOOL_SHORTCUTS = {
  terminal: 'Alt+1',
  timeline: 'Alt+2',
  topology: 'Alt+3',
  editor: 'Alt+4',
  views: 'Alt+5',
} as const;
register({
  name: 'view.terminal',
  label: "Terminal: show it (one on the lab's first node if none is open)",
  shortcut: TOOL_SHORTCUTS.terminal,
  perform: ({ lab, state }) => showTerminal(lab, state),
});
for (const [tool, t] of Object.entries(centreTools) as [ToolName, (typeof centreTools)[ToolName]][]) {
  register({
    name: `tool.open:${tool}`,
    label: t.label,
    shortcut: TOOL_SHORTCUTS[tool],
    perform: ({ lab, state }) => (state.layout.beside === tool ? lab.setLayout({ beside: null }) : lab.openTool(tool)),
  });
}
register({
  name: 'view.liveViews',
  label: 'Live views: show or hide (the right pane)',
  shortcut: TOOL_SHORTCUTS.views,
  perform: ({ lab, state }) => toggleViews(lab, state),
});
register({
  name: 'view.guide',
  label: 'Guide: fold or unfold (the left pane)',
  shortcut: 'Alt+G',
  perform: ({ lab }) => lab.toggleGuide(),
});
register({
  name: 'focus.next',
  label: 'Move the focus to the next pane (guide → terminal → tool → live views)',
  shortcut: 'F6',
  perform: ({ lab }) => void cycleFocus(lab, 1),
});
register({
  name: 'focus.previous',
  label: 'Move the focus to the previous pane',
  shortcut: 'Shift+F6',
  perform: ({ lab }) => void cycleFocus(lab, -1),
});
register({
  name: 'terminal.find',
  label: 'Find in terminal',
  shortcut: 'Ctrl+Shift+F',
  predicate: (s) => activeTab(s) !== undefined,
  perform: ({ lab }) => lab.setSearch(true),
});
register({
  name: 'terminal.copy',
  label: 'Copy terminal selection',
  shortcut: 'Ctrl+Shift+C',
  predicate: (s) => activeTab(s) !== undefined,
  // with nothing selected the key does nothing, as in other terminals
  keyTest: (e) => matchesShortcut('Ctrl+Shift+C', e),
  perform: ({ lab }) => lab.activeSession()?.copySelection(),
});
register({
  name: 'terminal.paste',
  label: 'Paste into terminal',
  // The key is the browser's own paste (xterm receives it, no clipboard permission needed); from the
  // palette it reads the clipboard instead. So no keyTest: the key must reach the browser untouched.
  shortcut: 'Ctrl+Shift+V',
  keyTest: () => false,
  predicate: (s) => activeTab(s)?.status === 'live',
  perform: ({ lab }) => lab.activeSession()?.pasteFromClipboard(),
});
register({
  name: 'theme.toggle',
  label: 'Toggle light/dark theme (overrides the system)',
  perform: ({ lab }) => lab.toggleTheme(),
});
register({
  name: 'theme.system',
  label: 'Follow the system theme',
  predicate: (s) => s.themeOverride !== null,
  perform: ({ lab }) => lab.followSystemTheme(),
});

// ---- timeline: step-through and faults ----
const stepping = () => currentTimeline()?.stepping()?.state === 'paused';
register({
  name: 'timeline.next',
  label: 'Timeline: next step (step-through)',
  shortcut: 'F10',
  predicate: stepping,
  perform: ({ lab }) => timelineOf(lab).next(),
});
register({
  name: 'timeline.continue',
  label: 'Timeline: continue (run the rest without pausing)',
  shortcut: 'F8',
  predicate: stepping,
  perform: ({ lab }) => timelineOf(lab).continue(),
});
register({
  name: 'timeline.faults',
  label: 'Timeline: inject a fault…',
  predicate: running,
  perform: ({ lab }) => {
    lab.openTool('timeline');
    timelineOf(lab).setFaultMenu(true);
  },
});

// --- CNI config editor ---
const editorOpen = (s: AppState) => s.layout.besideTools.includes('editor') && running(s);
register({
  name: 'editor.save',
  label: 'Save the CNI config (format on save; Ctrl+S in the editor)',
  predicate: editorOpen,
  perform: () => editorCommands.save?.(),
});
register({
  name: 'editor.newFile',
  label: 'New CNI config file…',
  predicate: editorOpen,
  perform: ({ lab }) => (lab.openTool('editor'), editorCommands.newFile?.()),
});
register({
  name: 'editor.runAdd',
  label: 'Run CNI ADD with the config in the editor',
  predicate: editorOpen,
  perform: () => editorCommands.runAdd?.(),
});
// --- end CNI config editor ---

// ---- netview: live network views and the topology ----
register({
  name: 'netview.pickNamespace',
  label: 'Live views: choose a namespace',
  predicate: running,
  perform: () => document.getElementById('nv-ns')?.focus(),
});
const TABLE_LABELS: Record<(typeof TABLES)[number], string> = {
  links: 'links',
  addrs: 'addresses',
  routes: 'routes',
  neighs: 'neighbours',
  fdb: 'bridge FDB',
};
for (const t of TABLES) {
  register({
    name: `netview.table:${t}`,
    label: `Live views: show ${TABLE_LABELS[t]}`,
    predicate: running,
    perform: ({ lab }) => netviewOf(lab).setTable(t),
  });
}
for (const [family, words] of [
  ['all', 'IPv4 and IPv6'],
  ['inet', 'IPv4 only (ip -4)'],
  ['inet6', 'IPv6 only (ip -6)'],
] as const) {
  register({
    name: `netview.family:${family}`,
    label: `Live views: ${words}`,
    predicate: running,
    perform: ({ lab }) => netviewOf(lab).setFamily(family),
  });
}
/** Exports once the topology tab has drawn (it may have just been opened). */
async function exportTopology(lab: Lab, kind: 'svg' | 'png'): Promise<void> {
  lab.openTool('topology');
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ex = netviewOf(lab).exporter;
  if (!ex) throw new Error('the topology is not drawn yet');
  if (kind === 'svg') download('podnet-topology.svg', new Blob([ex.svg()], { type: 'image/svg+xml' }));
  else download('podnet-topology.png', await ex.png());
}
register({
  name: 'topology.exportSvg',
  label: 'Export the topology as SVG',
  predicate: running,
  perform: ({ lab }) => exportTopology(lab, 'svg'),
});
register({
  name: 'topology.exportPng',
  label: 'Export the topology as PNG',
  predicate: running,
  perform: ({ lab }) => exportTopology(lab, 'png'),
});

register({
  name: 'path.follow',
  label: 'Follow a packet… (its real path, hop by hop, on the topology)',
  predicate: running,
  perform: ({ lab }) => pathOf(lab).openForm(),
});

// ---- labs (guide/LabGuide.tsx): each acts on the open lab, and says so when none is open ----
function withLab(
  lab: Lab,
  fn: (g: ReturnType<typeof guideOf>, v: NonNullable<ReturnType<ReturnType<typeof guideOf>['get']>['view']>) => unknown,
): Promise<unknown> {
  const g = guideOf(lab);
  const v = g.get().view;
  if (!v) return Promise.resolve(lab.notify('No lab is open: choose one in the guide (left pane)'));
  return Promise.resolve(fn(g, v));
}
register({
  name: 'lab.catalogue',
  label: 'Lab: show all labs (close the open one)',
  perform: ({ lab }) => withLab(lab, (g) => g.close()),
});
register({
  name: 'lab.check',
  label: 'Lab: check this step',
  perform: ({ lab }) => withLab(lab, (g) => g.check()),
});
register({
  name: 'lab.checkAndGoOn',
  label: 'Lab: check, and go on to the next step when it passes',
  shortcut: 'Ctrl+Shift+Enter',
  perform: ({ lab }) => withLab(lab, (g) => g.checkAndGoOn()),
});
register({
  name: 'lab.runNext',
  label: "Lab: run the step's next command block",
  shortcut: 'Alt+Enter',
  perform: ({ lab }) => withLab(lab, (g) => g.runNext()),
});
register({
  name: 'lab.next',
  label: 'Lab: next step',
  perform: ({ lab }) =>
    withLab(lab, (g, v) =>
      v.done.includes(v.current) && v.current + 1 < v.steps.length
        ? g.goto(v.current + 1)
        : lab.notify('Finish this step first (its checks must pass), or jump'),
    ),
});
register({
  name: 'lab.previous',
  label: 'Lab: previous step',
  perform: ({ lab }) => withLab(lab, (g, v) => v.current > 0 && g.goto(v.current - 1)),
});
register({
  name: 'lab.hint',
  label: 'Lab: show a hint',
  perform: ({ lab }) => withLab(lab, (g, v) => g.nextHint(v.current)),
});
register({
  name: 'lab.solution.show',
  label: 'Lab: show the solution',
  perform: ({ lab }) => withLab(lab, (g, v) => g.showSolution(v.current)),
});
register({
  name: 'lab.solution.apply',
  label: "Lab: apply this step's solution",
  perform: ({ lab }) => withLab(lab, (g) => g.applySolution()),
});
register({
  name: 'lab.reset',
  label: 'Lab: reset… (fresh world at step 1, progress cleared)',
  perform: ({ lab }) => withLab(lab, (g) => g.reset()),
});

// ---- the world's own controls, each saying what it ends before it does ----

/** Stop asks first while there is something to lose. */
async function stopWorld(lab: Lab): Promise<void> {
  const g = guideOf(lab);
  const v = g.get().view;
  const terms = lab.state.tabs.filter((t) => t.status === 'live').length;
  const ok = await lab.confirm({
    title: 'Stop the world?',
    body: `Every process, namespace and interface of the world ends${terms ? `, with its ${terms} terminal${terms > 1 ? 's' : ''}` : ''}.${v ? ` “${v.title}” keeps its progress: Reset or reopen it to build its world again.` : ''}`,
    confirm: 'Stop the world',
  });
  if (ok) await lab.stopWorld();
}

/** With a lab open, the world's restart is the lab's: rebuilt at this step. Without, an empty world again. */
async function restartWorld(lab: Lab): Promise<void> {
  const g = guideOf(lab);
  const v = g.get().view;
  if (v) return g.jump(v.current);
  const ok = await lab.confirm({
    title: 'Restart the world?',
    body: `The world stops and an empty one starts with the same ${lab.state.world.nodes.length} node${lab.state.world.nodes.length === 1 ? '' : 's'}: its terminals end, and its pods and everything made in it are gone.`,
    confirm: 'Restart the world',
  });
  if (ok) await lab.resetWorld();
}

/** Home: the lab is closed (its progress is kept; its world keeps running until another starts). */
async function goHome(lab: Lab): Promise<void> {
  const g = guideOf(lab);
  lab.setFreePlay(false);
  if (g.get().view) await g.close();
  else await g.refreshCatalogue();
}

function showTerminal(lab: Lab, state: AppState): void {
  const live = state.tabs.find((t) => t.key === state.activeTab) ?? state.tabs[0];
  if (live) return lab.activate(live.key);
  if (state.world.state !== 'running')
    return lab.notify('No world is running: open a lab, or start a world for free play');
  const first = guideOf(lab).get().view?.nodes[0] ?? state.world.nodes[0]?.name ?? 'node1';
  lab.openTerminal(terminalTarget(first));
}

function toggleViews(lab: Lab, state: AppState): void {
  const hiddenByTool = state.layout.views && !rightPaneShown(state.layout, window.innerWidth);
  // the tool beside the terminals had taken the live views' room: give it back
  if (hiddenByTool) lab.setLayout({ beside: null });
  else lab.toggleViews();
}

/** One action per node of the running world: "New terminal on node1" (Ctrl+Shift+1), … */
function nodeActions(state: AppState): Action[] {
  return state.world.nodes.map((n, i) => {
    const target: TerminalTarget = { kind: 'node', node: n.name };
    return {
      name: `terminal.newNode:${n.name}` as const,
      label: `New terminal on ${n.name}`,
      ...(i < 9 ? { shortcut: `Ctrl+Shift+${i + 1}` } : {}),
      predicate: running,
      perform: ({ lab }: ActionContext) => lab.openTerminal(target),
    };
  });
}

/** Every action for this state, in the order the palette lists them. */
export function allActions(state: AppState): Action[] {
  const i = registry.findIndex((a) => a.name === 'terminal.newSandbox') + 1;
  return [...registry.slice(0, i), ...nodeActions(state), ...registry.slice(i)];
}

export function isEnabled(a: Action, state: AppState): boolean {
  return a.predicate ? a.predicate(state) : true;
}

export function keyMatches(a: Action, e: KeyboardEvent): boolean {
  if (a.keyTest) return a.keyTest(e);
  return a.shortcut ? matchesShortcut(a.shortcut, e) : false;
}

/** The enabled action a key event triggers, if any. */
export function actionForKey(e: KeyboardEvent, state: AppState): Action | undefined {
  return allActions(state).find((a) => keyMatches(a, e) && isEnabled(a, state));
}

/** Performs an action if it applies now; a failure becomes a notice, never an unhandled rejection. */
export function runAction(a: Action, lab: Lab): void {
  const state = lab.state;
  if (!isEnabled(a, state)) return;
  try {
    void Promise.resolve(a.perform({ lab, state })).catch((e: unknown) =>
      lab.notify(`${a.label}: ${(e as Error).message ?? String(e)}`),
    );
  } catch (e) {
    lab.notify(`${a.label}: ${(e as Error).message ?? String(e)}`);
  }
}

export function runNamed(name: ActionName, lab: Lab): void {
  const a = allActions(lab.state).find((x) => x.name === name);
  if (a) runAction(a, lab);
}
