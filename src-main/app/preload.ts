// The preload: exposes exactly the contract (request, onEvent) to the sandboxed renderer, nothing else.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const RPC_CHANNEL = 'podnet:rpc';
const EVENT_CHANNEL = 'podnet:event';
let nextId = 1;

contextBridge.exposeInMainWorld('podnet', {
  async request(method: string, params: unknown): Promise<unknown> {
    const reply = (await ipcRenderer.invoke(RPC_CHANNEL, { id: nextId++, method: String(method), params })) as {
      result?: unknown;
      error?: { code: string; message: string };
    };
    if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result;
  },
  onEvent(listener: (event: string, payload: unknown) => void): () => void {
    const handler = (_e: IpcRendererEvent, m: { event: string; payload: unknown }) => listener(m.event, m.payload);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
});
