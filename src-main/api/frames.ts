// Terminal output on the WebSocket as binary frames: the pty's bytes go to xterm as they came, with
// no JSON escaping on the way out and no string decoding on the way in (the bulk of a flood's cost).
// Every other message stays a JSON text frame. Pure TypeScript: the renderer decodes with it too.
//   byte 0: frame kind (1 = terminal.data) · byte 1: id length n · bytes 2..2+n: id (ASCII) · rest: output
export const enum FrameKind {
  TerminalData = 1,
}

const MAX_ID = 32;

/**
 * A terminal.data frame's head: kind, id length, id. The host sends the head and the output as one
 * message in two fragments (RFC 6455 fragmentation), so the output is sent as it is, never copied.
 */
export function terminalDataHead(id: string): Uint8Array {
  if (id.length > MAX_ID || !/^[\x21-\x7e]+$/.test(id))
    throw new Error(`a terminal id must be 1-${MAX_ID} printable ASCII characters, not ${JSON.stringify(id)}`);
  const head = new Uint8Array(2 + id.length);
  head[0] = FrameKind.TerminalData;
  head[1] = id.length;
  for (let i = 0; i < id.length; i++) head[2 + i] = id.charCodeAt(i);
  return head;
}

/** A whole terminal.data frame: its head, then the output. */
export function encodeTerminalData(id: string, data: Uint8Array): Uint8Array {
  const head = terminalDataHead(id);
  const frame = new Uint8Array(head.length + data.length);
  frame.set(head);
  frame.set(data, head.length);
  return frame;
}

/** A binary frame back into its event; undefined for anything malformed (never acted on). */
export function decodeFrame(
  frame: Uint8Array,
): { event: 'terminal.data'; payload: { id: string; data: Uint8Array } } | undefined {
  if (frame.length < 3 || frame[0] !== FrameKind.TerminalData) return undefined;
  const n = frame[1]!;
  if (n === 0 || n > MAX_ID || frame.length < 2 + n) return undefined;
  let id = '';
  for (let i = 0; i < n; i++) {
    const c = frame[2 + i]!;
    if (c < 0x21 || c > 0x7e) return undefined; // an id is printable ASCII, as encodeTerminalData sends it
    id += String.fromCharCode(c);
  }
  return { event: 'terminal.data', payload: { id, data: frame.subarray(2 + n) } };
}
