// The Electron host's security decisions, as plain functions (no electron import): window options,
// who may call the API, where the window may go. Tested without the Electron binary.

/** The IPC channels: one for requests, one for events. The preload exposes nothing else. */
export const RPC_CHANNEL = 'podnet:rpc';
export const EVENT_CHANNEL = 'podnet:event';

/** BrowserWindow options, hardened as in Electron's security checklist. */
export function windowOptions(preloadPath: string) {
  return {
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'Podnet Lab',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  } as const;
}

export interface SenderFrame {
  url: string;
  /** null for the top frame */
  parent: unknown;
}

/** Only the app's own top frame may call the API: not a sub-frame, not another page. */
export function isTrustedSender(frame: SenderFrame | null | undefined, appUrl: string): boolean {
  if (!frame || frame.parent) return false;
  try {
    const u = new URL(frame.url);
    const app = new URL(appUrl);
    if (app.protocol === 'file:') return u.protocol === 'file:' && u.pathname === app.pathname;
    return u.origin === app.origin;
  } catch {
    return false;
  }
}

/** The window never navigates away from the app. */
export function navigationAllowed(target: string, appUrl: string): boolean {
  try {
    const u = new URL(target);
    const app = new URL(appUrl);
    return app.protocol === 'file:' ? u.protocol === 'file:' && u.pathname === app.pathname : u.origin === app.origin;
  } catch {
    return false;
  }
}

/** A link a person clicked (in a terminal, say) may open in their browser: plain http(s) only. */
export function externalUrlAllowed(target: string): boolean {
  try {
    const u = new URL(target);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
  } catch {
    return false;
  }
}
