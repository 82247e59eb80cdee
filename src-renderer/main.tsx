// The renderer's start: pick the transport, make the client and the lab, render the workspace.
import './api/page-token.ts'; // first: the token leaves the address bar before anything else runs
import './api/zod-csp.ts'; // before anything imports the contract
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles/app.css';
import { createClient } from '../src-main/api/client.ts';
import { pickTransport } from './api/transport.ts';
import { LabContext } from './state/context.ts';
import { Lab } from './state/lab.ts';
import { layoutKey, loadLayout } from './state/layout.ts';
import { loadPrefs } from './state/prefs.ts';
import { initialWorld, resolvedTheme, Store } from './state/store.ts';
import { bayFor, keepSpareXterm } from './terminal/spare-xterm.ts';
import { warmState, warmXtermOnce } from './terminal/warm-xterm.ts';
import { Workspace } from './workspace/Workspace.tsx';
import { mountWorkshopNotice } from './workshop/WorkshopNotice.tsx';

const prefs = loadPrefs();
const transport = pickTransport();
const store = new Store({
  connection: transport.connection,
  connectionDetail: transport.detail,
  world: initialWorld,
  nodeCount: prefs.nodeCount,
  runtime: prefs.runtime,
  progress: null,
  worldBusy: null,
  pods: [],
  podsBusy: {},
  tabs: [],
  tools: [],
  activeTab: null,
  notices: [],
  layout: loadLayout(layoutKey(null)),
  confirm: null,
  freePlay: false,
  paletteOpen: false,
  searchOpen: false,
  themeOverride: prefs.themeOverride,
  systemTheme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
});
// the theme is set before the first paint, so a dark desktop never flashes light
document.documentElement.dataset.theme = resolvedTheme(store.get());
const lab = new Lab(store, createClient(transport), transport);
// Read-only window onto terminal screens: with the WebGL renderer the text is on a canvas, not in the DOM.
Object.defineProperty(window, 'podnetScreens', {
  value: Object.freeze({
    text: (id: string) => lab.screenOf(String(id)) ?? null,
    pace: (id: string) => lab.paceOf(String(id)) ?? null,
    all: (id: string) => lab.bufferOf(String(id)) ?? null,
    warm: () => ({ ...warmState }),
  }),
});
lab.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LabContext.Provider value={lab}>
      <Workspace />
    </LabContext.Provider>
  </StrictMode>,
);
// a workshop seat's messages from the instructor (and a mirror's banner): nothing shows outside a workshop
mountWorkshopNotice(lab.client);
// the first terminal's xterm, built and opened before anyone clicks "Start world"
keepSpareXterm(() => resolvedTheme(store.get()), { timeout: 2000 });
// then xterm's code warmed up on a throwaway one, so a first flood of output parses at full speed
warmXtermOnce(resolvedTheme(store.get()), bayFor);
