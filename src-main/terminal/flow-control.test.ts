import { describe, expect, it, vi } from 'vitest';
import { encodeTerminalData, decodeFrame } from '../api/frames.js';
import { AckCounter, DataBuffer, FlowControl, FlowController } from './flow-control.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('FlowController', () => {
  it('pauses above the high watermark and resumes only below the low one', () => {
    const f = new FlowController(100, 10);
    expect(f.sent(60)).toBe(false);
    expect(f.sent(60)).toBe(true);
    expect(f.isPaused).toBe(true);
    expect(f.ack(100)).toBe(false); // 20 left: still above the low watermark
    expect(f.ack(15)).toBe(true);
    expect(f.isPaused).toBe(false);
  });
  it('acks in batches no larger than the low watermark, so a paused pty always resumes', () => {
    expect(FlowControl.AckBatchBytes).toBeLessThanOrEqual(FlowControl.LowWatermarkBytes);
    const a = new AckCounter(10);
    expect(a.parsed(4)).toBe(0);
    expect(a.parsed(7)).toBe(11);
    expect(a.parsed(3)).toBe(0);
  });
});

describe('DataBuffer', () => {
  it('merges pieces over its window into one', () => {
    vi.useFakeTimers();
    try {
      const out: string[] = [];
      const b = new DataBuffer((d) => out.push(new TextDecoder().decode(d)), 5);
      b.push(bytes('root@'));
      b.push(bytes('node1# '));
      expect(out).toEqual([]);
      vi.advanceTimersByTime(5);
      expect(out).toEqual(['root@node1# ']);
    } finally {
      vi.useRealTimers();
    }
  });
  it('sends at once when a flood fills it, without waiting for the window', () => {
    const out: number[] = [];
    const b = new DataBuffer((d) => out.push(d.length), 1000, 64);
    b.push(new Uint8Array(40));
    b.push(new Uint8Array(30));
    expect(out).toEqual([70]);
    b.dispose();
  });
});

describe('terminal data frames', () => {
  it('carry the id and the bytes unchanged, multi-byte characters included', () => {
    const data = bytes('héllo ✓ \x1b[1mbold\x1b[0m');
    const f = decodeFrame(encodeTerminalData('t12', data));
    expect(f?.event).toBe('terminal.data');
    expect(f?.payload.id).toBe('t12');
    expect([...f!.payload.data]).toEqual([...data]);
  });
  it('a malformed frame decodes to nothing', () => {
    expect(decodeFrame(new Uint8Array([]))).toBeUndefined();
    expect(decodeFrame(new Uint8Array([2, 1, 65, 66]))).toBeUndefined(); // unknown kind
    expect(decodeFrame(new Uint8Array([1, 0, 65]))).toBeUndefined(); // empty id
    expect(decodeFrame(new Uint8Array([1, 40, 65]))).toBeUndefined(); // id longer than the frame
  });
  it('refuses an id that is not short printable ASCII', () => {
    expect(() => encodeTerminalData('t 1', new Uint8Array())).toThrow('a terminal id must be');
    expect(() => encodeTerminalData('x'.repeat(33), new Uint8Array())).toThrow('a terminal id must be');
  });
});
