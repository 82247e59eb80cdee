// What the Electron preload exposes (src-main/app/preload.ts): exactly the contract's two calls.
interface PodnetBridge {
  request(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
}

interface Window {
  /** Present only in the Electron window; the browser host is reached over a WebSocket instead. */
  podnet?: PodnetBridge;
}
