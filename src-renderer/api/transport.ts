// Picks the transport once, at start: the preload's bridge in Electron, the WebSocket otherwise.
// Nothing else in the renderer knows which one it got.
import { ipcTransport } from './ipc-transport.ts';
import type { RendererTransport } from './connection.ts';
import { wsTransport } from './ws-transport.ts';

export function pickTransport(): RendererTransport {
  return window.podnet ? ipcTransport(window.podnet) : wsTransport();
}
