// End to end, in Debian's Chromium against the browser host: start a world, terminals on a node and in a
// pod, resize, close, stop; and nothing is left. Screenshots go to out/screenshots for a person to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSnapshot } from '../../src-main/runtime/leaks.js';
import { openSession, startWorld, stopWorld, typeIn, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

/** The visible text of a terminal, from xterm's buffer (the WebGL renderer draws on a canvas). */
async function screenText(page: Page, id: string): Promise<string> {
  return page.evaluate((i) => window.podnetScreens.text(i) ?? '', id);
}

/** The rows xterm's DOM renderer has drawn: what a person sees, which may lag the buffer while a flood is held. */
async function drawnText(page: Page, id: string): Promise<string> {
  return page
    .locator(`[data-testid="terminal-${id}"] .xterm-rows > div`)
    .evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n'));
}

/** Once output stops, the drawn screen catches up with the buffer. */
async function expectDrawnToMatch(page: Page, id: string): Promise<void> {
  const t0 = Date.now();
  let drawn = '';
  let buffer = '';
  while (Date.now() - t0 < 3000) {
    // a prompt's trailing space is a character in the buffer but trimmed from the drawn row
    [drawn, buffer] = [await drawnText(page, id), (await screenText(page, id)).replace(/ +$/gm, '')];
    if (drawn === buffer) return;
    await page.waitForTimeout(100);
  }
  expect(drawn, 'the drawn screen still differs from the buffer 3 s after output stopped').toBe(buffer);
}

async function waitForText(page: Page, id: string, re: RegExp, timeout = 10_000): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeout) {
    last = await screenText(page, id);
    if (re.test(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`terminal ${id} never showed ${re}; it shows:\n${last}`);
}

/** Opens a terminal from the "+" menu; its tab is the one shown (free play's node1, opened with the start and untouched, is shown rather than doubled). */
async function openTerminal(page: Page, item: string): Promise<string> {
  await page.getByTestId('new-terminal').click();
  await page.getByTestId(`terminal-menu-item-${item}`).click();
  const shown = page.locator('[data-testid^="tab-t"][aria-selected="true"][data-status="live"]');
  await expect.poll(() => shown.locator('.tab-title').textContent(), { timeout: 10_000 }).toBe(item);
  return (await shown.getAttribute('data-testid'))!.replace(/^tab-/, '');
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the workspace in Chromium', () => {
  it('starts a world, opens terminals on a node and in a pod, resizes, closes, stops, and leaves nothing', async () => {
    const { page } = s;
    await startWorld(page, 2, 20_000);
    await expect.poll(() => page.getByTestId('node-pill-node1').innerText()).toMatch(/Ready/);
    const worldId = s.engine.session.runningWorld!.id;

    // free play's start opened node1's terminal by itself; "+" → node1 shows that one, untouched, rather than a second
    const termTabs = page.locator('.tabs [role="tab"][data-status]');
    await expect.poll(() => termTabs.locator('.tab-title').allTextContents(), { timeout: 20_000 }).toEqual(['node1']);
    const t1 = await openTerminal(page, 'node1');
    expect(await termTabs.count()).toBe(1);
    await waitForText(page, t1, /root@node1/);
    await typeIn(page, t1, 'ip -br link');
    const links = await waitForText(page, t1, /eth0@if\d+\s+UP/);
    expect(links).toMatch(/lo\s+UNKNOWN/);

    // a pod, and a terminal in it showing its eth0 address
    await page.getByTestId('pod-create-name').fill('web');
    await page.getByTestId('pod-create-node').selectOption('node1');
    await page.getByTestId('pod-create').click();
    await expect
      .poll(() => page.getByTestId('pod-row-web').innerText(), { timeout: 15_000 })
      .toMatch(/10\.244\.1\.\d+/);
    const podIp = /10\.244\.1\.\d+/.exec(await page.getByTestId('pod-row-web').innerText())![0];
    await page.getByTestId('pod-terminal-web').click();
    const tabIds = () =>
      page
        .locator('[data-testid^="tab-t"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace(/^tab-/, '')));
    await expect.poll(async () => (await tabIds()).filter((x) => x !== t1).length, { timeout: 10_000 }).toBe(1);
    const t2 = (await tabIds()).find((x) => x !== t1)!;
    await waitForText(page, t2, /root@pod\/web/);
    await typeIn(page, t2, 'ip -br addr show eth0');
    await waitForText(page, t2, new RegExp(`eth0@if\\d+\\s+UP\\s+${podIp.replace(/\./g, '\\.')}/24`));
    await page.screenshot({ path: join(SHOTS, 'workspace-two-terminals.png') });

    // resize follows the pane
    await typeIn(page, t2, 'clear; stty size');
    const before = /(\d+) (\d+)/.exec(await waitForText(page, t2, /^\d+ \d+$/m))!;
    await page.setViewportSize({ width: 1100, height: 700 });
    await page.waitForTimeout(500);
    await typeIn(page, t2, 'clear; stty size');
    await expect
      .poll(
        async () =>
          /(\d+) (\d+)/
            .exec(await screenText(page, t2))
            ?.slice(1)
            .join(' '),
        { timeout: 10_000 },
      )
      .not.toBe(before.slice(1).join(' '));

    // closing a tab ends its shell (the shells the engine keeps started ahead for the next terminals stay)
    const world = s.engine.session.runningWorld!;
    const shells = async () =>
      (await world.run({ kind: 'sandbox' }, ['ps', '-e', '-o', 'args']))
        .split('\n')
        .filter((l) => l.startsWith('bash --noprofile')).length;
    const open = await shells();
    await page.getByTestId(`tab-close-${t2}`).click();
    await expect.poll(async () => (await s.engine.api['terminal.list']({})).map((t) => t.id)).not.toContain(t2);
    await expect.poll(shells, { timeout: 5000 }).toBe(open - 1);

    // stopping the world leaves nothing of it
    await stopWorld(page);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 20_000 }).toMatch(/stopped/i);
    expect(hostSnapshot(worldId).processes).toEqual([]);
    expect(s.errors).toEqual([]);
  }, 120_000);

  it('keeps up with a flood: the screen is held and drawn at the end, Ctrl-C stops `yes` at once, and a program that syncs its own output is left alone', async () => {
    const { page } = s;
    await startWorld(page, 1, 20_000);
    const pace = (id: string) => page.evaluate((i) => window.podnetScreens.pace(i), id);

    // 16.5 MB in a few seconds is a flood: the screen is held during it, and the last lines are drawn after it
    const t = await openTerminal(page, 'node1');
    await waitForText(page, t, /root@node1/);
    await typeIn(page, t, 'yes flood-line | head -n 1500000; echo flood-$((6*7))');
    // the prompt after it too: output that comes after the counts below are read would count against the burst
    const end = await waitForText(page, t, /^flood-42\nroot@node1:\/# *$/m, 60_000);
    expect(end).toMatch(/^flood-line\nflood-42$/m);
    await expectDrawnToMatch(page, t);
    expect((await pace(t))!.holds).toBeGreaterThan(0);
    // xterm's per-line calls (input box, selection, scrollbar) wait while held: all four were found in xterm
    expect((await pace(t))!.deferred).toBe(4);
    // before and between the holds, a big piece is parsed with those calls made once, at its end
    expect((await pace(t))!.batched).toBeGreaterThan(0);

    // on a slow machine (the page's CPU throttled fourfold) output waits behind output at each release: while
    // the released hold's frame is due, xterm is given pieces one task at a time, not left idle, and every
    // byte is acked once (a lost ack would leave the pty paused and the flood unfinished)
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const slow = (await pace(t))!;
    await typeIn(page, t, 'yes slow-line | head -n 400000; echo slow-$((6*7))');
    await waitForText(page, t, /^slow-42$/m, 60_000);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await expectDrawnToMatch(page, t);
    expect((await pace(t))!.holds).toBeGreaterThan(slow.holds);
    expect((await pace(t))!.piecesWhileFrameDue).toBeGreaterThan(slow.piecesWhileFrameDue!);

    // a burst that is no flood (about 24 KiB at once): batched, drawn whole, nothing held
    const before = (await pace(t))!;
    await typeIn(page, t, 'clear; seq 100000 104000 | tr "\\n" " "; echo; echo burst-$((5*5))');
    await waitForText(page, t, /^burst-25$/m, 20_000);
    await expectDrawnToMatch(page, t);
    expect((await pace(t))!.batched).toBeGreaterThan(before.batched!);
    expect((await pace(t))!.holds).toBe(before.holds);

    // an endless flood: Ctrl-C reaches the shell through it, and the prompt answers again
    await typeIn(page, t, 'clear; yes');
    await waitForText(page, t, /^y$/m);
    await page.screenshot({ path: join(SHOTS, 'terminal-during-yes.png') });
    await page.keyboard.press('Control+C');
    await typeIn(page, t, 'echo after-$((1+1))');
    await waitForText(page, t, /^after-2$/m, 20_000);
    await expectDrawnToMatch(page, t);

    // mode 2026 from the program itself: its own holds, none of ours
    const u = await openTerminal(page, 'node1');
    await waitForText(page, u, /root@node1/);
    await typeIn(
      page,
      u,
      "printf '\\033[?2026h'; yes synced | head -n 1000000; printf '\\033[?2026l'; echo sync-$((2*3))",
    );
    await waitForText(page, u, /^sync-6$/m, 60_000);
    await expectDrawnToMatch(page, u);
    expect((await pace(u))!.holds).toBe(0);

    await stopWorld(page);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 20_000 }).toMatch(/stopped/i);
    expect(s.errors).toEqual([]);
  }, 180_000);
});
