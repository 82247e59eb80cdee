// The browser host's access token: taken from the page's URL on first load and removed from the address
// bar and history at once (main.tsx imports this first), then kept in this tab's sessionStorage so a
// reload still connects. The WebSocket presents it as a subprotocol; no cookie ever carries it.
const KEY = 'podnet.token';

function takeToken(): string | undefined {
  if (typeof window === 'undefined' || window.podnet) return undefined;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    try {
      sessionStorage.setItem(KEY, fromUrl);
    } catch {
      /* storage refused (a private window's policy): this load still has it */
    }
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The token this page was opened with (or undefined: the Electron host, or a page opened without it). */
export const pageToken: string | undefined = takeToken();
