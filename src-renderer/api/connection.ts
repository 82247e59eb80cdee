// A transport as the renderer sees it: the contract's Transport plus whether it is connected, so the
// status bar can say "disconnected" without the UI knowing which transport it has.
import type { Transport } from '../../src-main/api/client.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface RendererTransport extends Transport {
  readonly connection: ConnectionState;
  /** Called on every change; "connected" again after a drop means state must be fetched anew. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** A short, human explanation of the current state (tooltip). */
  readonly detail: string;
}
