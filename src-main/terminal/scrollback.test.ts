import { describe, expect, it, vi } from 'vitest';
import { PromptGate, Scrollback } from './scrollback.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('Scrollback', () => {
  it('keeps everything while under its bound, in order', () => {
    const s = new Scrollback(100);
    s.push(bytes('root@node1:/# ls\r\n'));
    s.push(bytes('a b\r\n'));
    expect(text(s.snapshot())).toBe('root@node1:/# ls\r\na b\r\n');
  });
  it('drops the oldest output past its bound and starts on a line of its own', () => {
    const s = new Scrollback(20);
    for (let i = 0; i < 10; i++) s.push(bytes(`line-${i}\r\n`));
    const kept = text(s.snapshot());
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(kept).toMatch(/^line-\d\r\n/);
    expect(kept.endsWith('line-9\r\n')).toBe(true);
  });
  it('keeps only the end of a piece larger than its bound, and copies what it keeps', () => {
    const s = new Scrollback(8);
    const big = bytes('xxxxxxxxxx\nabc\ndef');
    s.push(big);
    big.fill(0x41);
    expect(text(s.snapshot())).toBe('abc\ndef'); // the last 8 bytes, "\nabc\ndef", from after their first line break
  });
  it("keeps exactly the last bytes across the ring's wrap, in order, whatever the pieces' sizes", () => {
    const limit = 5000;
    const s = new Scrollback(limit);
    let all = '';
    for (let i = 0; i < 400; i++) {
      // pieces of 1 to 900 bytes: some wrap the ring, some fill most of it
      const piece = `${i}:${'abcdefghij'.repeat(i % 90)}\n`;
      all += piece;
      s.push(bytes(piece));
      const expected = all.length <= limit ? all : all.slice(all.indexOf('\n', all.length - limit) + 1);
      expect(text(s.snapshot())).toBe(expected);
    }
    expect(s.bytes).toBe(limit);
  });
  it('keeps a multi-byte character whole when a piece splits it', () => {
    const s = new Scrollback(64);
    const b = bytes('a ✓ b\n');
    s.push(b.subarray(0, 3)); // "a " and the first byte of "✓"
    s.push(b.subarray(3));
    expect(text(s.snapshot())).toBe('a ✓ b\n');
  });
});

describe('PromptGate', () => {
  it('holds input until a prompt ("# " or "$ ") ends the output', () => {
    vi.useFakeTimers();
    try {
      const wrote: string[] = [];
      const g = new PromptGate((d) => wrote.push(d), 1000);
      g.input('echo a\r');
      g.output(bytes('\x1b[?2004hroot@node1:/'));
      expect(wrote).toEqual([]);
      g.output(bytes('# '));
      expect(wrote).toEqual(['echo a\r']);
      g.input('echo b\r');
      expect(wrote).toEqual(['echo a\r', 'echo b\r']);
      const h = new PromptGate((d) => wrote.push(d), 1000);
      h.input('x');
      h.output(bytes('user@host:~$ '));
      expect(wrote.at(-1)).toBe('x');
    } finally {
      vi.useRealTimers();
    }
  });
  it('lets input through after its wait when no prompt comes, and nothing after dispose', () => {
    vi.useFakeTimers();
    try {
      const wrote: string[] = [];
      const g = new PromptGate((d) => wrote.push(d), 1000);
      g.input('late\r');
      vi.advanceTimersByTime(999);
      expect(wrote).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(wrote).toEqual(['late\r']);
      const h = new PromptGate((d) => wrote.push(d), 1000);
      h.input('never');
      h.dispose();
      vi.advanceTimersByTime(2000);
      expect(wrote).toEqual(['late\r']);
    } finally {
      vi.useRealTimers();
    }
  });
});
