// The WebSocket kubectl 1.36 speaks to pods/exec (RFC 6455, with Kubernetes' channel subprotocols
// v5.channel.k8s.io / v4.channel.k8s.io: each binary message begins with its stream's number — 0 stdin,
// 1 stdout, 2 stderr, 3 the error stream's Status, 4 resize, 255 close a stream, v5).
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The server's answer to the client's handshake, with the subprotocol it chose. */
export function handshake(key: string, protocol: string): string {
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
    `Sec-WebSocket-Protocol: ${protocol}`,
    '',
    '',
  ].join('\r\n');
}

/** One unmasked frame from the server (FIN set). */
export function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/** A binary message on one channel. */
export const channelMessage = (channel: number, data: Buffer | string) =>
  frame(2, Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]));

/** Reads the client's (masked) frames from the socket: each whole message, by opcode. */
export function readFrames(socket: Duplex, head: Buffer, on: (opcode: number, payload: Buffer) => void): void {
  let buf = head;
  let parts: Buffer[] = [];
  let firstOpcode = 0;
  const drain = () => {
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0]! & 0x80) !== 0;
      const opcode = buf[0]! & 0x0f;
      const masked = (buf[1]! & 0x80) !== 0;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (buf.length < at + len) return;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
      buf = buf.subarray(at + len);
      if (opcode >= 8) {
        on(opcode, payload);
        continue;
      }
      if (opcode !== 0) firstOpcode = opcode;
      parts.push(payload);
      if (fin) {
        on(firstOpcode, Buffer.concat(parts));
        parts = [];
      }
    }
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    drain();
  });
  drain();
}
