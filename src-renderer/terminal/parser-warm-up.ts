// xterm's parser is slow until V8 has compiled it: a page's first flood (`cat` of a big file, `ip -d
// link` with 200 pods) ran ~1.3× slower than later ones and stalled a frame for 50–100 ms. Once a page
// is idle after its first terminal opened, a terminal nobody sees (never opened: no renderer, no DOM)
// parses ~1 MB of ordinary shell output in small pieces, each when the page is idle again, so the code
// is compiled before it is needed. It shares nothing with the learner's terminals but the code.
import { Terminal } from '@xterm/xterm';

/** What a terminal commonly prints: plain lines, `ls --color`, a prompt; CR LF as the pty sends them. */
function sample(): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < 64; i++) {
    lines.push(
      `drwxr-xr-x  2 root root  4096 Dec  4 21:${String(i % 60).padStart(2, '0')} \x1b[01;34mdir-${i}\x1b[0m`,
      `${i + 2}: veth${i}@if${i + 3}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP`,
      `    link/ether 0a:58:0a:f4:00:${(i % 256).toString(16).padStart(2, '0')} brd ff:ff:ff:ff:ff:ff link-netnsid ${i}`,
      `\x1b[32mroot@node1\x1b[0m:\x1b[34m/\x1b[0m# echo ${'0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, (i % 36) + 1)}`,
    );
  }
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
}

const PIECES = 64;
let started = false;

/** Warms the parser once per page, in idle time (a busy page never waits for it). */
export function warmParserWhenIdle(): void {
  if (started || typeof requestIdleCallback !== 'function') return;
  started = true;
  const idle = (fn: () => void) => requestIdleCallback(fn, { timeout: 5000 });
  idle(() => {
    const term = new Terminal({ cols: 100, rows: 30, scrollback: 1000 });
    const piece = sample();
    let n = 0;
    const step = () => {
      if (++n > PIECES) return term.dispose();
      term.write(piece, () => idle(step));
    };
    step();
  });
}
