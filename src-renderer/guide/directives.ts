// A step's ```tools blocks, carried out: open a tool beside the terminals (or the live views, or a
// terminal), point the live views at a namespace and table, open a node's CNI file in the editor,
// follow a pod's namespace as soon as it exists. The lab format is labs/format.ts's ToolDirective.
import type { LabStep } from '../../src-main/api/contract.ts';
import { editorCommands, pendingOpen } from '../editor/commands.ts';
import { netviewOf, TABLES, type TableName } from '../views/netview-store.ts';
import { terminalTarget, type Guide } from './guide-store.ts';

export type ToolDirective = NonNullable<LabStep['tools']>[number];

/** A lab's namespace ("node1", "node1/demo", "pod/web", "sandbox") as the live views' id. */
export function nsIdOf(ref: string): string {
  if (ref === 'sandbox') return 'sandbox';
  if (ref.startsWith('pod/')) return `pod:${ref.slice(4)}`;
  const [node, pin] = ref.split('/');
  return pin ? `netns:${node}:${pin}` : `node:${node}`;
}

/** How long `follow:` waits for its namespace to appear (a pod the step's kubelet block creates). */
const FOLLOW_MS = 120_000;

function follow(guide: Guide, ns: string, table?: TableName): void {
  const nv = netviewOf(guide.lab);
  const step = guide.get().view?.current;
  const here = () => nv.get().topology?.namespaces.some((n) => n.id === ns) ?? false;
  const go = () => {
    void nv.select(ns);
    if (table) nv.setTable(table);
  };
  if (here()) return go();
  // until it exists, its node (a hand-made netns is made on a node; a pod's node is not known yet)
  const node = /^netns:([^:]+):/.exec(ns)?.[1];
  if (node && nv.get().ns !== `node:${node}`) void nv.select(`node:${node}`);
  const t0 = Date.now();
  const off = nv.subscribe(() => {
    // the learner moved on, or it took too long: stop waiting
    if (guide.get().view?.current !== step || Date.now() - t0 > FOLLOW_MS) return void off();
    if (here()) {
      off();
      go();
    }
  });
}

/** One block's words, for its button in the guide: "Open the timeline · node1 routes". */
export function describeDirective(d: ToolDirective): string {
  const parts: string[] = [];
  if (d.open)
    parts.push(
      d.open.startsWith('terminal') ? `Open ${d.open}` : `Open the ${d.open === 'views' ? 'live views' : d.open}`,
    );
  if (d.view) parts.push(`Show ${d.view}`);
  if (d.edit) parts.push(`Edit ${d.edit}`);
  if (d.follow) parts.push(`Follow ${d.follow}`);
  return parts.join(' · ');
}

/**
 * Carries out one block. `current` says whether its step is still the one shown: a terminal can take a
 * moment to open, and a step shown meanwhile (a jump) must not have its view taken back.
 */
export async function applyDirective(
  guide: Guide,
  d: ToolDirective,
  current: () => boolean = () => true,
): Promise<void> {
  const lab = guide.lab;
  if (d.open === 'views') lab.setLayout({ views: true });
  else if (d.open === 'timeline' || d.open === 'topology' || d.open === 'editor') lab.openTool(d.open);
  else if (d.open?.startsWith('terminal')) {
    const v = guide.get().view;
    const name = d.open.slice(9) || v?.nodes[0] || 'node1';
    // reuses the live terminal on that target, if there is one; the guide keeps the keyboard
    await guide
      .terminalFor(terminalTarget(name))
      .catch((e: unknown) => lab.notify(`Could not open ${d.open}: ${(e as Error).message}`));
    if (!current()) return;
  }
  if (d.view) {
    const [ref, table] = d.view.split(' ');
    lab.setLayout({ views: true });
    follow(guide, nsIdOf(ref!), TABLES.includes(table as TableName) ? (table as TableName) : undefined);
  }
  if (d.follow) {
    lab.setLayout({ views: true });
    follow(guide, nsIdOf(d.follow));
  }
  if (d.edit) {
    const [node, path] = d.edit.split(':');
    const name = path!.split('/').pop()!;
    lab.openTool('editor');
    if (editorCommands.openFile) editorCommands.openFile(node!, name);
    else pendingOpen.file = { node: node!, name };
  }
}

export async function applyDirectives(guide: Guide, ds: ToolDirective[], current: () => boolean): Promise<void> {
  for (const d of ds) {
    if (!current()) return;
    await applyDirective(guide, d, current);
  }
}
