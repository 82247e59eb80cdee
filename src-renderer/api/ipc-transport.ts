// The Electron transport: the preload's bridge over IPC. It cannot drop, so it is always connected.
import type { ConnectionState, RendererTransport } from './connection.ts';

export function ipcTransport(bridge: PodnetBridge): RendererTransport {
  return {
    connection: 'connected' satisfies ConnectionState,
    detail: 'Electron IPC',
    request: (method, params) => bridge.request(method, params),
    onEvent: (listener) => bridge.onEvent(listener),
    onConnection: () => () => {},
  };
}
