// The renderer's state: one plain object, replaced (never mutated) on every change, read by React
// through useSyncExternalStore. Small on purpose: the engine owns the truth, this mirrors it.
import { useSyncExternalStore } from 'react';
import type { PodInfo, TerminalTarget, WorldStatus } from '../../src-main/api/contract.ts';
import type { Payload } from '../../src-main/api/contract.ts';
import type { ConnectionState } from '../api/connection.ts';

export type ThemeName = 'light' | 'dark';

/** A terminal tab. `key` is the tab's own; `id` is the engine's terminal, which changes on reopen. */
export interface TabState {
  key: string;
  id: string | null;
  title: string;
  target: TerminalTarget;
  status: 'opening' | 'live' | 'exited';
  /** Matches of the terminal's open search, as the search addon counts them. */
  search: { index: number; count: number } | null;
  /** Output arrived while the tab was not shown. */
  unseen: boolean;
}

/** The centre's tools besides terminals (workspace/centre-tools.tsx). */
export type ToolName = 'editor' | 'timeline' | 'topology';

export const toolKey = (tool: ToolName) => `tool-${tool}`;

/** A tool's tab: at most one per tool; its key is toolKey(tool). */
export interface ToolTabState {
  key: string;
  tool: ToolName;
}

export interface Notice {
  id: number;
  text: string;
  /** How many times the same text came again while shown (one toast, not a stack). */
  repeats: number;
}

/** Where the workspace's panes are, remembered per lab (state/layout.ts). */
export interface Layout {
  /** The guide folded to a rail. */
  guideCollapsed: boolean;
  /** The right pane (live views, topology below) shown. */
  views: boolean;
  /** Tools opened beside the terminals, and the one shown (null: the terminals take the centre). */
  besideTools: ToolName[];
  beside: ToolName | null;
  /** The beside tool's share of the centre (0.25–0.75). */
  besideShare: number;
}

/** A question before something destructive: the workspace shows it as a modal dialog. */
export interface ConfirmRequest {
  id: number;
  title: string;
  body: string;
  /** The confirming button's words ("Rebuild the world"). */
  confirm: string;
  resolve(ok: boolean): void;
}

export interface AppState {
  connection: ConnectionState;
  connectionDetail: string;
  world: WorldStatus;
  /** Nodes for the next world start (1–8). */
  nodeCount: number;
  /** The runtime of the next free-play world: the model (step-through, faults) or the real containerd. */
  runtime: 'model' | 'containerd';
  progress: Payload<'world.progress'> | null;
  /** A world request in flight ("starting", "stopping", "resetting"): buttons wait for it. */
  worldBusy: string | null;
  pods: PodInfo[];
  podsBusy: Record<string, 'creating' | 'deleting'>;
  /** Terminal tabs. */
  tabs: TabState[];
  /** Tool tabs, shown before the terminals. */
  tools: ToolTabState[];
  /** The active tab's key: a terminal's or a tool's. */
  activeTab: string | null;
  notices: Notice[];
  layout: Layout;
  confirm: ConfirmRequest | null;
  /** The learner chose free play (a world without a lab): the home screen steps aside. */
  freePlay: boolean;
  paletteOpen: boolean;
  searchOpen: boolean;
  themeOverride: ThemeName | null;
  systemTheme: ThemeName;
}

export const initialWorld: WorldStatus = { state: 'stopped', nodes: [] };

export class Store {
  private state: AppState;
  private readonly listeners = new Set<() => void>();

  constructor(initial: AppState) {
    this.state = initial;
  }

  get = (): AppState => this.state;

  set(update: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    const patch = typeof update === 'function' ? update(this.state) : update;
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
}

export function useStore<T>(store: Store, select: (s: AppState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}

export function resolvedTheme(s: Pick<AppState, 'themeOverride' | 'systemTheme'>): ThemeName {
  return s.themeOverride ?? s.systemTheme;
}
