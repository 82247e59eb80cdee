// The Electron host: one hardened window, the contract over IPC, and an orderly end. Thin on purpose:
// everything it serves lives in the engine (engine/engine.ts) and runs in plain Node.
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dispatch } from '../api/dispatch.js';
import { createEngine } from '../engine/engine.js';
import { ProgressStore } from '../labs/progress.js';
import { engineTerminals } from '../terminal/terminal-service.js';
import { chooseBackend, readBackendSettings, saveBackendSettings, vmOffer } from '../vm/backend-choice.js';
import { bootPageUrl, failScript, sayScript } from '../vm/boot-page.js';
import { startVmSession, type VmSession } from '../vm/vm-host.js';
import { userNamespaceCheck } from '../world/doctor.js';
import {
  EVENT_CHANNEL,
  externalUrlAllowed,
  isTrustedSender,
  navigationAllowed,
  RPC_CHANNEL,
  windowOptions,
} from './security.js';

// Natively or in the bundled VM (docs/vm.md): --vm / --native, the remembered choice, or what this machine can
// do (macOS and Windows: the VM; a Linux that cannot make a world's namespaces: the VM is offered)
const settingsFile = join(app.getPath('userData'), 'settings.json');
const choice = chooseBackend({
  argv: process.argv,
  platform: process.platform,
  settings: readBackendSettings(settingsFile),
  nativeWorks: () => userNamespaceCheck(),
});
let engine: ReturnType<typeof createEngine> | undefined;
let vm: VmSession | undefined;
const rendererFile = join(import.meta.dirname, '../renderer/index.html');
let appUrl = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(rendererFile).href;
let win: BrowserWindow | undefined;

function createWindow(): void {
  const options = windowOptions(join(import.meta.dirname, '../preload/preload.cjs'));
  // in VM mode no preload: the page speaks to the guest's engine over its WebSocket, as in a browser
  win = new BrowserWindow(
    vm ? { ...options, webPreferences: { ...options.webPreferences, preload: undefined } } : options,
  );
  win.once('ready-to-show', () => win?.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (externalUrlAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!navigationAllowed(url, appUrl)) e.preventDefault();
  });
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  if (vm) void win.loadURL(vm.url);
  else if (!engine) void win.loadURL(bootPageUrl());
  else if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(rendererFile);
}

function startNativeEngine(): void {
  engine = createEngine(engineTerminals());
  engine.events.on('event', (event, payload) => {
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, { event, payload });
  });
}

ipcMain.handle(RPC_CHANNEL, async (e, msg: unknown) => {
  if (!isTrustedSender(e.senderFrame, appUrl))
    return { id: -1, error: { code: 'unauthorized', message: 'this frame may not use the Podnet Lab API' } };
  if (!engine) return { id: -1, error: { code: 'unavailable', message: 'the engine runs in the VM' } };
  return dispatch(engine.api, msg);
});

let ending = false;
async function endAndQuit(): Promise<void> {
  if (ending) return;
  ending = true;
  // within 4 s in every state: the world's init ends its world when this process's lifeline goes
  setTimeout(() => app.exit(1), 4000).unref();
  // The world, its pods and every terminal end before the app does (a start under way is cancelled).
  await engine?.dispose().catch(() => {});
  await vm?.vm.stop();
  app.exit(0);
}

app.on('before-quit', (e) => {
  if (!ending) {
    e.preventDefault();
    void endAndQuit();
  }
});
app.on('window-all-closed', () => void endAndQuit());
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void endAndQuit());

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (ev, url) => {
    if (!navigationAllowed(url, appUrl)) ev.preventDefault();
  });
});

void app.whenReady().then(() => {
  // No permission is ever granted: no camera, microphone, notifications, geolocation…
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  void chosenBackend().then((backend) => {
    if (backend === 'native') {
      startNativeEngine();
      return createWindow();
    }
    console.log(`podnet: the worlds run in the bundled VM (${choice.why})`);
    bootInWindow();
  });
});

/** The choice made; where the VM is only offered, the learner answers (and may have it remembered). */
async function chosenBackend(): Promise<'native' | 'vm'> {
  if (choice.backend !== 'ask') return choice.backend;
  const offer = vmOffer(choice.why);
  const r = await dialog.showMessageBox({
    type: 'warning',
    message: offer.message,
    detail: offer.detail,
    buttons: offer.buttons,
    defaultId: 0,
    cancelId: 1,
    noLink: true,
    checkboxLabel: 'Remember this choice',
  });
  const backend = r.response === 0 ? 'vm' : 'native';
  if (r.checkboxChecked) saveBackendSettings(settingsFile, { backend });
  return backend;
}

/** The window at once, with each stage of the boot (minutes under TCG), then the guest engine's page. */
function bootInWindow(): void {
  createWindow();
  const say = (s: string) => {
    console.log(`podnet --vm: ${s}`);
    if (win && !win.isDestroyed()) void win.webContents.executeJavaScript(sayScript(s)).catch(() => {});
  };
  // the learner's progress stays in the progress folder the app uses without the VM (shared with the guest)
  void startVmSession(say, new ProgressStore().dir).then(
    (session) => {
      vm = session;
      appUrl = session.url;
      void session.vm.exited.then(() => void endAndQuit());
      if (win && !win.isDestroyed()) void win.loadURL(session.url);
      else createWindow();
    },
    (e: Error) => {
      console.error(`podnet --vm: ${e.message}`);
      if (win && !win.isDestroyed()) void win.webContents.executeJavaScript(failScript(e.message)).catch(() => {});
      dialog.showErrorBox(
        'The bundled VM did not start',
        `${e.message}\n\nSee docs/vm.md; \`podnet doctor\` checks this machine.`,
      );
      app.exit(1);
    },
  );
}
