// The lab as the renderer drives it: engine events update the store, user intents become requests.
// Actions (../actions.ts) and components call these methods; none of them touches the transport.
import type { PodnetClient } from '../../src-main/api/client.ts';
import {
  requests,
  type PodOptions,
  type TerminalInfo,
  type TerminalTarget,
  type WorldStatus,
} from '../../src-main/api/contract.ts';
import type { RendererTransport } from '../api/connection.ts';
import { TerminalSession } from '../terminal/session.ts';
import { keepSpareXterm } from '../terminal/spare-xterm.ts';
import { editorCommands } from '../editor/commands.ts';
import { layoutKey, loadLayout, saveLayout } from './layout.ts';
import { savePrefs } from './prefs.ts';
import {
  resolvedTheme,
  type AppState,
  type Layout,
  type Store,
  type TabState,
  type ThemeName,
  type ToolName,
} from './store.ts';

/** Output for a terminal no tab has claimed yet (it can beat terminal.open's answer): bounded. */
const PENDING_MAX_BYTES = 256 * 1024;
const PENDING_MAX_IDS = 16;
const MAX_NOTICES = 3;
/** How long a toast stays: long enough to read a sentence, then it leaves by itself. */
const NOTICE_MS = 7000;
const NOTICE_SHORT_MS = 2200;
/** The CNI editor's least share of the centre when it opens beside the terminals. */
const EDITOR_SHARE = 0.64;

export class Lab {
  readonly sessions = new Map<string, TerminalSession>();
  private markAdopted!: () => void;
  /** Resolves once the engine's terminals have been adopted (after a reload: before anything opens another). */
  readonly adopted = new Promise<void>((resolve) => (this.markAdopted = resolve));
  private readonly pending = new Map<string, Uint8Array[]>();
  private tabSeq = 0;
  private noticeSeq = 0;
  private confirmSeq = 0;
  private readonly noticeTimers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Whose layout the panes show: the open lab's id, or null (free play). */
  private layoutOwner: string | null = null;
  /** The tab a free-play start opened by itself, until someone types in it or takes it from the "+" menu. */
  private firstTab: string | null = null;
  /** A running world's status held back until the first tab's prompt is drawn (FIRST_PROMPT_WAIT_MS at most). */
  private heldWorld: WorldStatus | null = null;
  private heldFor: string | null = null;
  /** Reloaded while a world was starting: the terminals it opens (the one asked for with the start) are adopted once it runs. */
  private adoptOnRunning = false;
  /** Connected before: a 'connected' from now on is a reconnect after a drop. */
  private connectedOnce = false;

  constructor(
    readonly store: Store,
    readonly client: PodnetClient,
    private readonly transport: RendererTransport,
  ) {}

  /** Subscribes to the engine's events, then fetches the state (again after every reconnect). */
  start(): void {
    this.client.on('world.changed', (w) => this.onWorld(w));
    this.client.on('world.progress', (p) => this.store.set({ progress: p }));
    this.client.on('pods.changed', (pods) => {
      this.store.set({ pods });
    });
    this.client.on('terminal.data', ({ id, data }) => this.onData(id, data));
    this.client.on('terminal.exit', ({ id, code, signal }) => this.sessionById(id)?.exited(code, signal));
    const connected = () => {
      // back after a drop: output sent meanwhile is lost to the page, so each live terminal is drawn again
      // from the engine's copy (now, before the new socket's first output arrives)
      if (this.connectedOnce) for (const s of this.sessions.values()) s.reconnected();
      this.connectedOnce = true;
      void this.sync();
    };
    this.transport.onConnection((c) => {
      this.store.set({ connection: c, connectionDetail: this.transport.detail });
      if (c === 'connected') connected();
    });
    this.store.set({ connection: this.transport.connection, connectionDetail: this.transport.detail });
    if (this.transport.connection === 'connected') connected();
  }

  get state(): AppState {
    return this.store.get();
  }

  async sync(): Promise<void> {
    try {
      const [world, pods, terms] = await Promise.all([
        this.client.call('world.status', {}),
        this.client.call('pod.list', {}),
        this.client.call('terminal.list', {}),
      ]);
      const was = this.state.world.state;
      this.onWorld(world);
      // onWorld asks when the state changed to stopped or failed; a page that finds it so asks here
      if ((world.state === 'stopped' || world.state === 'failed') && world.state === was) this.prepareNext();
      this.store.set({ pods });
      this.adoptTerminals(terms);
      this.adoptOnRunning = world.state === 'starting';
    } catch (e) {
      this.notify(`Could not read the lab's state: ${(e as Error).message}`);
    } finally {
      this.markAdopted();
    }
  }

  // ---- world ----

  setNodeCount(n: number): void {
    const nodes = Math.max(1, Math.min(8, Math.round(n) || 1));
    this.store.set({ nodeCount: nodes });
    savePrefs({ nodeCount: nodes });
  }

  setRuntime(runtime: 'model' | 'containerd'): void {
    this.store.set({ runtime });
    savePrefs({ runtime });
  }

  startWorld(): Promise<void> {
    const nodes = this.state.nodeCount;
    const runtime = this.state.runtime;
    const started = this.worldOp('starting', () => this.client.call('world.start', { nodes, runtime }));
    const first = this.openWithWorld();
    return started.then(() => {
      // a start that failed leaves no tab of its own behind (its error is in the world's error box)
      const s = first && this.sessions.get(first);
      const world = this.heldWorld ?? this.state.world;
      if (s && world.state !== 'running' && s.status !== 'live' && this.firstTab === first) this.closeTab(first);
    });
  }

  /**
   * Free play's first terminal, node1's, asked for right behind world.start: its tab and xterm are built
   * while the world starts, and the engine answers with the shell it started the moment node1 existed.
   * A dead node1 tab from an earlier world is reused rather than another added. Returns the new tab's key.
   */
  private openWithWorld(): string | null {
    const target: TerminalTarget = { kind: 'node', node: FIRST_NODE };
    const dead = [...this.sessions.values()].find((x) => x.status === 'exited' && sameTarget(x.target, target));
    if (dead) {
      void dead.reopen();
      this.activate(dead.key);
      return null;
    }
    if ([...this.sessions.values()].some((x) => x.status !== 'exited' && sameTarget(x.target, target))) return null;
    const s = this.newSession(target);
    this.firstTab = s.key;
    this.activate(s.key);
    return s.key;
  }

  stopWorld(): Promise<void> {
    this.firstTab = null;
    return this.worldOp('stopping', () => this.client.call('world.stop', {}));
  }

  resetWorld(): Promise<void> {
    this.firstTab = null;
    return this.worldOp('resetting', () => this.client.call('world.reset', {}));
  }

  private async worldOp(label: string, op: () => Promise<WorldStatus>): Promise<void> {
    this.store.set({ worldBusy: label, progress: null });
    try {
      this.onWorld(await op());
    } catch (e) {
      // a failed start is already on screen: world.changed carried its error and fix
      if (this.state.world.state !== 'failed') this.notify((e as Error).message);
    } finally {
      this.store.set({ worldBusy: null });
    }
  }

  /** No world runs: the engine starts the next one's sandbox ahead, off the path of the next "Start world". */
  private prepareNext(): void {
    void this.client.call('world.prepare', {}).catch(() => {});
  }

  private onWorld(world: WorldStatus): void {
    if (this.holdRunning(world)) return;
    const was = this.state.world.state;
    // the same status again (world.start's answer after its world.changed): nothing to draw again
    if (JSON.stringify(world) === JSON.stringify(this.state.world)) return;
    // the control plane starts in the background: its failure is told once, with why (the world runs on)
    const cp = world.controlPlane;
    if (cp?.state === 'failed' && this.state.world.controlPlane?.state !== 'failed')
      this.notify(cp.error ?? 'the control plane could not start');
    this.store.set((s) => ({ world, progress: world.state === 'starting' ? s.progress : null }));
    if ((world.state === 'stopped' || world.state === 'failed') && world.state !== was) this.prepareNext();
    if (world.state === 'running' && was !== 'running' && this.adoptOnRunning) {
      this.adoptOnRunning = false;
      void this.client
        .call('terminal.list', {})
        .then((list) => this.adoptTerminals(list))
        .catch(() => {});
    }
    if (world.state === 'running' && was !== 'running') {
      // a new world (a start, a reset, another lab): nodes are known now, its pods once asked
      this.reuseDeadTabs(false);
      void this.client
        .call('pod.list', {})
        .then((pods) => {
          this.store.set({ pods });
          this.reuseDeadTabs(true);
        })
        .catch(() => {});
    }
    // the world left the state its terminals live in (a start's node1 terminal lives from before it runs)
    if (world.state !== 'running' && world.state !== was) {
      // The engine ends every terminal with the world and sends no exit for them: say so in each tab.
      this.pending.clear();
      for (const s of this.sessions.values()) if (s.status === 'live') s.ended('the world stopped');
    }
  }

  /**
   * A world that has just started is shown running once the terminal opened with it has drawn its
   * prompt: drawing the running world's views takes the page tens of ms, and the prompt is what the
   * person waits for. True while held (the newest status is shown when the wait ends).
   */
  private holdRunning(world: WorldStatus): boolean {
    if (this.heldWorld) {
      this.heldWorld = world;
      return world.state === 'running';
    }
    const first = this.firstTab ? this.sessions.get(this.firstTab) : undefined;
    if (world.state !== 'running' || this.state.world.state === 'running' || !first || first.status === 'exited')
      return false;
    if (this.heldFor === first.key) return false; // held once already: this is its release
    this.heldFor = first.key;
    this.heldWorld = world;
    const release = () => {
      const held = this.heldWorld;
      this.heldWorld = null;
      if (held && this.state.world !== held) this.onWorld(held);
    };
    void Promise.race([first.firstShown, new Promise((r) => setTimeout(r, FIRST_PROMPT_WAIT_MS))]).then(release);
    return true;
  }

  // ---- pods ----

  /** Checks a pod's name, node and options as the engine will; undefined when they are fine. */
  validatePod(name: string, node: string, options: PodOptions = {}): string | undefined {
    const r = requests['pod.create'].params.safeParse({ name, node, ...options });
    if (!r.success) return r.error.issues.map((i) => i.message).join('; ');
    if (options.hostNetwork && options.hostPort && options.hostPort !== 80)
      return `with hostNetwork the hostPort must equal the containerPort (80), not ${options.hostPort}`;
    return undefined;
  }

  async createPod(name: string, node: string, options: PodOptions = {}): Promise<boolean> {
    const invalid = this.validatePod(name, node, options);
    if (invalid) {
      this.notify(`Pod not created: ${invalid}`);
      return false;
    }
    this.setPodBusy(name, 'creating');
    try {
      const pod = await this.client.call('pod.create', { name, node, ...options });
      // pods.changed usually comes first; this covers a transport that delivers it later
      this.store.set((s) => ({ pods: s.pods.some((p) => p.name === pod.name) ? s.pods : [...s.pods, pod] }));
      return true;
    } catch (e) {
      this.notify((e as Error).message);
      return false;
    } finally {
      this.setPodBusy(name, null);
    }
  }

  async deletePod(name: string): Promise<void> {
    this.setPodBusy(name, 'deleting');
    try {
      await this.client.call('pod.delete', { name });
    } catch (e) {
      this.notify((e as Error).message);
    } finally {
      this.setPodBusy(name, null);
    }
  }

  private setPodBusy(name: string, what: 'creating' | 'deleting' | null): void {
    this.store.set((s) => {
      const podsBusy = { ...s.podsBusy };
      if (what) podsBusy[name] = what;
      else delete podsBusy[name];
      return { podsBusy };
    });
  }

  // ---- terminals ----

  openTerminal(target: TerminalTarget): void {
    // the shell the start opened by itself, not yet typed in, is the one asked for: shown, not doubled
    const first = this.firstTab ? this.sessions.get(this.firstTab) : undefined;
    if (first && !first.typed && first.status !== 'exited' && sameTarget(first.target, target)) {
      this.firstTab = null;
      this.activate(first.key);
      return;
    }
    // a dead tab on the same target is reused rather than a new one added beside it
    const dead = [...this.sessions.values()].find((x) => x.status === 'exited' && sameTarget(x.target, target));
    if (dead && this.state.world.state === 'running') {
      void dead.reopen();
      this.activate(dead.key);
      return;
    }
    const s = this.newSession(target);
    this.activate(s.key);
  }

  /**
   * After a world (re)start: each dead tab whose target is in the new world reopens its shell there
   * (one per target); the others close, unless they hold output nobody has seen. Pod tabs are judged
   * once the new world's pods are known.
   */
  private reuseDeadTabs(podsKnown: boolean): void {
    if (this.state.world.state !== 'running') return;
    const nodes = new Set(this.state.world.nodes.map((n) => n.name));
    const pods = new Set(this.state.pods.map((p) => p.name));
    const taken = new Set<string>();
    for (const s of this.sessions.values()) if (s.status !== 'exited') taken.add(JSON.stringify(s.target));
    const gone: string[] = [];
    for (const s of this.sessions.values()) {
      if (s.status !== 'exited') continue;
      const t = s.target;
      if (t.kind === 'pod' && !podsKnown) continue;
      const there = t.kind === 'sandbox' || (t.kind === 'node' ? nodes.has(t.node) : pods.has(t.pod));
      const key = JSON.stringify(t);
      if (there && !taken.has(key)) {
        taken.add(key);
        void s.reopen();
      } else if (!s.unseen) gone.push(s.key);
    }
    for (const key of gone) this.closeTab(key);
  }

  /** Opens a tool (the CNI editor, the timeline, the topology) beside the terminals, or shows it if it is open. */
  openTool(tool: ToolName): void {
    const l = this.state.layout;
    this.setLayout({
      besideTools: l.besideTools.includes(tool) ? l.besideTools : [...l.besideTools, tool],
      beside: tool,
      // the editor has a file list and a run panel beside its text: it needs the larger share
      ...(tool === 'editor' && l.besideShare < EDITOR_SHARE ? { besideShare: EDITOR_SHARE } : {}),
    });
  }

  /** Closes a tool beside the terminals; the editor asks first when it holds unsaved edits. */
  async closeTool(tool: ToolName): Promise<boolean> {
    if (tool === 'editor' && (editorCommands.unsaved?.() ?? 0) > 0) {
      const n = editorCommands.unsaved?.() ?? 0;
      const ok = await this.confirm({
        title: 'Close the CNI editor?',
        body: `${n === 1 ? 'A file has' : `${n} files have`} unsaved edits. Closing the editor drops them; the files on the node stay as they were last saved.`,
        confirm: 'Drop the edits and close',
      });
      if (!ok) return false;
    }
    const l = this.state.layout;
    const rest = l.besideTools.filter((t) => t !== tool);
    this.setLayout({ besideTools: rest, beside: l.beside === tool ? (rest[rest.length - 1] ?? null) : l.beside });
    return true;
  }

  // ---- layout: panes, remembered per lab ----

  setLayout(patch: Partial<Layout>): void {
    const layout = { ...this.state.layout, ...patch };
    this.store.set({ layout });
    saveLayout(layoutKey(this.layoutOwner), layout);
  }

  /** The panes as this lab (or free play, null) left them. */
  useLayoutOf(labId: string | null): void {
    if (labId === this.layoutOwner) return;
    this.layoutOwner = labId;
    this.store.set({ layout: loadLayout(layoutKey(labId)) });
  }

  toggleGuide(): void {
    this.setLayout({ guideCollapsed: !this.state.layout.guideCollapsed });
  }

  toggleViews(): void {
    this.setLayout({ views: !this.state.layout.views });
  }

  setFreePlay(on: boolean): void {
    this.store.set({ freePlay: on });
  }

  /** Asks before something destructive; resolves true when the person confirmed. */
  confirm(q: { title: string; body: string; confirm: string }): Promise<boolean> {
    // a question still open is answered "no": one dialog at a time
    this.state.confirm?.resolve(false);
    return new Promise((resolve) => {
      const id = ++this.confirmSeq;
      this.store.set({
        confirm: {
          id,
          ...q,
          resolve: (ok) => {
            if (this.state.confirm?.id === id) this.store.set({ confirm: null });
            resolve(ok);
          },
        },
      });
    });
  }

  /** The keys of every centre tab, in the strip's order: tools, then terminals. */
  tabKeys(): string[] {
    return [...this.state.tools.map((t) => t.key), ...this.state.tabs.map((t) => t.key)];
  }

  closeTab(key: string): void {
    const keys = this.tabKeys();
    const i = keys.indexOf(key);
    if (i < 0) return;
    const s = this.sessions.get(key);
    s?.close();
    this.sessions.delete(key);
    const rest = keys.filter((k) => k !== key);
    this.store.set((st) => {
      const tabs = st.tabs.filter((t) => t.key !== key);
      const next = st.activeTab === key ? (rest[Math.min(i, rest.length - 1)] ?? null) : st.activeTab;
      return {
        tabs,
        tools: st.tools.filter((t) => t.key !== key),
        activeTab: next,
        searchOpen: tabs.length ? st.searchOpen : false,
      };
    });
    const active = this.activeSession();
    if (active) requestAnimationFrame(() => active.focus());
  }

  /** Shows a tab; its terminal takes the keyboard unless the focus must stay where it is (the tab strip). */
  activate(key: string, focus = true): void {
    if (!this.tabKeys().includes(key)) return;
    this.store.set({ activeTab: key });
    this.sessions.get(key)?.seen();
    // after React has shown the panel: fit to it, then take the keyboard
    requestAnimationFrame(() => {
      const s = this.sessions.get(key);
      s?.layout();
      if (focus) s?.focus();
    });
  }

  /** Moves to the next (+1) or previous (-1) tab, wrapping around. */
  cycleTab(delta: number): void {
    const keys = this.tabKeys();
    if (!keys.length) return;
    const i = keys.indexOf(this.state.activeTab ?? '');
    const next = keys[(i + delta + keys.length) % keys.length];
    if (next) this.activate(next);
  }

  activeSession(): TerminalSession | undefined {
    const key = this.state.activeTab;
    return key ? this.sessions.get(key) : undefined;
  }

  /** Read-only: a terminal's visible text, by engine id (tests and benchmarks read screens this way). */
  screenOf(id: string): string | undefined {
    return this.sessionById(id)?.screenText();
  }

  /** Read-only: a terminal's whole buffer as text, scrollback included. */
  bufferOf(id: string): string | undefined {
    return this.sessionById(id)?.bufferText();
  }

  paceOf(id: string): { frames: number; holds: number } | undefined {
    return this.sessionById(id)?.paceStats;
  }

  private sessionById(id: string): TerminalSession | undefined {
    for (const s of this.sessions.values()) if (s.id === id) return s;
    return undefined;
  }

  private newSession(target: TerminalTarget, existing?: TerminalInfo): TerminalSession {
    const key = `k${++this.tabSeq}`;
    const s = new TerminalSession(
      key,
      target,
      {
        client: this.client,
        theme: () => resolvedTheme(this.state),
        changed: (x) => this.updateTab(x),
        bound: (x) => this.flushPending(x),
        notify: (t) => this.notify(t),
        sizeHint: () => this.activeSession()?.fittedSize,
        visible: () => this.state.activeTab === key && document.visibilityState === 'visible',
      },
      existing,
    );
    this.sessions.set(key, s);
    this.store.set((st) => ({ tabs: [...st.tabs, tabOf(s)] }));
    keepSpareXterm(() => resolvedTheme(this.state), { after: s.firstShown }); // the next tab's xterm
    return s;
  }

  /** Terminals the engine has (after a reload or a reconnect) get a tab; tabs whose terminal is gone say so. */
  private adoptTerminals(list: TerminalInfo[]): void {
    const known = new Set(list.map((t) => t.id));
    for (const s of this.sessions.values())
      if (s.status === 'live' && s.id && !known.has(s.id)) s.ended('this terminal is gone');
    for (const info of list) {
      const s = this.sessionById(info.id);
      if (!s) this.newSession(info.target, info);
      else if (info.exited && s.status === 'live') s.exited(null, null);
    }
    if (!this.state.activeTab && this.state.tabs[0]) this.activate(this.state.tabs[0].key);
  }

  private onData(id: string, data: Uint8Array): void {
    const s = this.sessionById(id);
    if (s) return s.write(data);
    let buf = this.pending.get(id);
    if (!buf) {
      if (this.pending.size >= PENDING_MAX_IDS) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(id, (buf = []));
    }
    if (buf.reduce((n, d) => n + d.length, 0) < PENDING_MAX_BYTES) buf.push(data);
  }

  private flushPending(s: TerminalSession): void {
    if (!s.id) return;
    const buf = this.pending.get(s.id);
    this.pending.delete(s.id);
    for (const d of buf ?? []) s.write(d);
  }

  private updateTab(s: TerminalSession): void {
    this.store.set((st) => ({ tabs: st.tabs.map((t) => (t.key === s.key ? tabOf(s) : t)) }));
  }

  // ---- workspace ----

  /** A toast: it leaves by itself (sooner when short), and the same text again refreshes it instead of stacking. */
  notify(text: string, opts: { short?: boolean } = {}): void {
    const ms = opts.short ? NOTICE_SHORT_MS : NOTICE_MS;
    const same = this.state.notices.find((n) => n.text === text);
    const id = same?.id ?? ++this.noticeSeq;
    if (same)
      this.store.set((s) => ({ notices: s.notices.map((n) => (n.id === id ? { ...n, repeats: n.repeats + 1 } : n)) }));
    else
      this.store.set((s) => {
        const notices = [...s.notices, { id, text, repeats: 0 }];
        for (const gone of notices.slice(0, -MAX_NOTICES)) this.clearNoticeTimer(gone.id);
        return { notices: notices.slice(-MAX_NOTICES) };
      });
    this.clearNoticeTimer(id);
    this.noticeTimers.set(
      id,
      setTimeout(() => this.dismiss(id), ms),
    );
  }

  /** Keeps a toast while the pointer is on it (someone is reading it), for a full period after. */
  holdNotice(id: number, hold: boolean): void {
    this.clearNoticeTimer(id);
    if (!hold)
      this.noticeTimers.set(
        id,
        setTimeout(() => this.dismiss(id), NOTICE_MS),
      );
  }

  dismiss(id: number): void {
    this.clearNoticeTimer(id);
    this.store.set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
  }

  private clearNoticeTimer(id: number): void {
    clearTimeout(this.noticeTimers.get(id));
    this.noticeTimers.delete(id);
  }

  setPalette(open: boolean): void {
    this.store.set({ paletteOpen: open });
  }

  setSearch(open: boolean): void {
    if (open && !this.activeSession()) return;
    if (open && this.state.searchOpen) {
      (document.getElementById('terminal-search-input') as HTMLInputElement | null)?.select();
      return;
    }
    this.store.set({ searchOpen: open });
    if (!open) {
      const s = this.activeSession();
      s?.clearSearch();
      s?.focus();
    }
  }

  setSystemTheme(t: ThemeName): void {
    this.store.set({ systemTheme: t });
    this.applyTheme();
  }

  /** Light ↔ dark, overriding the system's choice (remembered). */
  toggleTheme(): void {
    const next: ThemeName = resolvedTheme(this.state) === 'dark' ? 'light' : 'dark';
    this.store.set({ themeOverride: next });
    savePrefs({ themeOverride: next });
    this.applyTheme();
  }

  followSystemTheme(): void {
    this.store.set({ themeOverride: null });
    savePrefs({ themeOverride: null });
    this.applyTheme();
  }

  private applyTheme(): void {
    const t = resolvedTheme(this.state);
    for (const s of this.sessions.values()) s.setTheme(t);
  }
}

function tabOf(s: TerminalSession): TabState {
  return {
    key: s.key,
    id: s.id,
    title: s.title,
    target: s.target,
    status: s.status,
    search: s.searchResults,
    unseen: s.unseen,
  };
}

const sameTarget = (a: TerminalTarget, b: TerminalTarget) => JSON.stringify(a) === JSON.stringify(b);

/** How long a started world's status waits at most for its first terminal's prompt to be drawn. */
const FIRST_PROMPT_WAIT_MS = 250;

/** Free play's first node (the engine names a world's nodes node1…nodeN): its terminal opens with the world. */
const FIRST_NODE = 'node1';
