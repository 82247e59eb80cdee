// End to end, in Debian's Chromium: a new tab's xterm is built and opened in the page's idle time (a spare,
// src-renderer/terminal/spare-xterm.ts). It waits hidden, inert: no Tab stop, nothing to focus. The
// first terminal takes it in the theme of the moment; its shell, asked for before the tab was laid out,
// gets the pane's size as soon as it answers. Another spare is built once that terminal's prompt is
// shown, beside it, at the pane's size: the next terminal takes it and its shell opens at that size.
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { TerminalTarget } from '../../src-main/api/contract.js';
import { openSession, typeIn, type Session } from './harness.js';

let s: Session | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The spare's bay: the hidden, inert box its xterm waits in. */
const BAY = '.terminal-container[inert]';

const bays = (page: Page) =>
  page.evaluate(
    (sel) =>
      [...document.querySelectorAll<HTMLElement>(sel)].map((b) => ({
        xterms: b.querySelectorAll('.xterm').length,
        ariaHidden: b.getAttribute('aria-hidden'),
        visibility: getComputedStyle(b).visibility,
        pointerEvents: getComputedStyle(b).pointerEvents,
      })),
    BAY,
  );

const tabs = (page: Page) =>
  page.locator('.tabs [role="tab"][data-status]').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-testid')!.slice(4),
      title: e.querySelector('.tab-title')?.textContent ?? '',
      status: e.getAttribute('data-status'),
    })),
  );

const screen = (page: Page, id: string) => page.evaluate((i) => window.podnetScreens.text(i) ?? '', id);

async function promptOf(page: Page, title: string, prompt: RegExp): Promise<string> {
  await expect
    .poll(async () => (await tabs(page)).some((t) => t.title === title && t.status === 'live'), { timeout: 30_000 })
    .toBe(true);
  const id = (await tabs(page)).find((t) => t.title === title)!.id;
  await expect.poll(() => screen(page, id), { timeout: 20_000 }).toMatch(prompt);
  return id;
}

/** Marks the xterm waiting in the bay, to find it again in a tab's panel. */
const markSpare = (page: Page, mark: string) =>
  page.evaluate(([sel, m]) => document.querySelector(`${sel} .xterm`)!.setAttribute('data-spare', m!), [BAY, mark]);

/** The mark of the xterm in a tab's panel ('' for one built on the click's path). */
const markIn = (page: Page, id: string) =>
  page.evaluate((i) => document.querySelector(`[data-testid="terminal-${i}"] .xterm`)?.getAttribute('data-spare'), id);

/** The height of a terminal's drawn screen and of its scrollbar (which must follow the pane, not the bay). */
const heights = (page: Page, id: string) =>
  page.evaluate((i) => {
    const x = document.querySelector(`[data-testid="terminal-${i}"] .xterm`)!;
    const h = (sel: string) => Math.round(x.querySelector<HTMLElement>(sel)!.getBoundingClientRect().height);
    return { screen: h('.xterm-screen'), scrollbar: h('.xterm-scrollbar.xterm-vertical') };
  }, id);

/** The text colour xterm draws a terminal's rows in (its theme's foreground). */
const rowsColour = (page: Page, id: string) =>
  page.evaluate(
    (i) => getComputedStyle(document.querySelector(`[data-testid="terminal-${i}"] .xterm-rows`)!).color,
    id,
  );

describe('the spare xterm, in Chromium', () => {
  it('waits hidden and inert; a terminal takes it in the theme of the moment; the next takes another, at the pane’s size', async () => {
    s = await openSession({ width: 1280, height: 800 });
    const { page, engine } = s;
    // the engine's side of each terminal's size: what the shell was opened at, and any resize after
    const opened: { target: TerminalTarget; cols: number; rows: number }[] = [];
    const resized: { id: string; cols: number; rows: number }[] = [];
    const api = engine.api as unknown as Record<string, (p: never) => Promise<unknown>>;
    const open = api['terminal.open']!;
    const resize = api['terminal.resize']!;
    api['terminal.open'] = (p: never) => (opened.push(p), open(p));
    api['terminal.resize'] = (p: never) => (resized.push(p), resize(p));

    // built in the page's idle time after the load: one xterm, out of sight and out of the reading order
    await expect.poll(() => bays(page), { timeout: 10_000 }).toHaveLength(1);
    const [bay] = await bays(page);
    expect(bay).toEqual({ xterms: 1, ariaHidden: 'true', visibility: 'hidden', pointerEvents: 'none' });
    // nothing in it takes the focus: not by Tab, not by a script
    const inBay: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const where = await page.evaluate((sel) => {
        const a = document.activeElement;
        return a?.closest(sel) ? `${a.tagName}.${a.className}` : '';
      }, BAY);
      if (where) inBay.push(where);
    }
    expect(inBay).toEqual([]);
    expect(
      await page.evaluate((sel) => {
        const t = document.querySelector<HTMLTextAreaElement>(`${sel} textarea`)!;
        t.focus();
        return document.activeElement === t;
      }, BAY),
    ).toBe(false);

    // the light theme, chosen while the spare (built dark) waits
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('Toggle light');
    await page.getByTestId('palette-item-theme.toggle').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');

    await markSpare(page, 'first');
    await page.getByTestId('node-count').fill('1');
    await page.getByTestId('world-start').click();
    const node1 = await promptOf(page, 'node1', /root@node1:\/# *$/m);
    // the spare left its bay for the tab
    expect(await markIn(page, node1)).toBe('first');
    expect(opened.map((o) => o.target)).toEqual([{ kind: 'node', node: 'node1' }]);
    // asked for at the spare's size (built while the page showed no terminal area, it guessed), then at
    // the pane's own size as soon as the answer came: `stty size` says the pane's
    await typeIn(page, node1, 'stty size');
    await expect.poll(() => screen(page, node1)).toMatch(/^\d+ \d+\s*$/m);
    const [rows, cols] = (await screen(page, node1))
      .match(/^(\d+) (\d+)\s*$/m)!
      .slice(1)
      .map(Number);
    expect(await page.locator(`[data-testid="terminal-${node1}"] .xterm-rows > div`).count()).toBe(rows);
    expect([opened[0]!, ...resized].map((x) => ({ cols: x.cols, rows: x.rows })).at(-1)).toEqual({ cols, rows });
    expect(resized.length).toBeLessThanOrEqual(1);
    // drawn in the light theme's foreground (#24292f), not the dark one it was built in
    expect(await rowsColour(page, node1)).toBe('rgb(36, 41, 47)');
    // its scrollbar is the pane's height, not the bay's (a renderer paused outside the window kept it)
    const h = await heights(page, node1);
    expect(h.scrollbar).toBe(h.screen);

    // another spare once node1's prompt is shown; the next terminal takes it
    await expect.poll(() => bays(page), { timeout: 10_000 }).toHaveLength(1);
    await markSpare(page, 'second');
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-sandbox').click();
    const sandbox = await promptOf(page, 'sandbox', /# *$/m);
    expect(await markIn(page, sandbox)).toBe('second');
    // that spare was built beside a shown terminal, at the pane's size: the shell opened at it, no resize
    expect(opened.at(-1)).toMatchObject({ target: { kind: 'sandbox' }, cols, rows });
    const resizes = resized.length;
    expect(await rowsColour(page, sandbox)).toBe('rgb(36, 41, 47)');
    await typeIn(page, sandbox, 'echo spare-$((6*7))');
    await expect.poll(() => screen(page, sandbox)).toMatch(/^spare-42\s*$/m);
    expect(resized.length).toBe(resizes);

    // back home after a reload, no terminal area to measure: the spare takes the window less the area's
    // margin last measured, so a first start from home opens its shell at the pane's size, no resize
    await engine.api['world.stop']({});
    await page.reload();
    await expect.poll(() => page.getByTestId('world-start').isEnabled(), { timeout: 20_000 }).toBe(true);
    expect(await page.locator('.terminal-panels').count()).toBe(0);
    await expect.poll(() => bays(page), { timeout: 10_000 }).toHaveLength(1);
    const before = resized.length;
    await page.getByTestId('node-count').fill('1');
    await page.getByTestId('world-start').click();
    const again = await promptOf(page, 'node1', /root@node1:\/# *$/m);
    expect(opened.at(-1)).toMatchObject({ target: { kind: 'node', node: 'node1' }, cols, rows });
    await typeIn(page, again, 'stty size');
    await expect.poll(() => screen(page, again)).toMatch(new RegExp(`^${rows} ${cols}\\s*$`, 'm'));
    expect(resized.slice(before)).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('warms xterm up on a throwaway terminal while the loaded page is idle, leaves nothing of it, and stops at a key press', async () => {
    s = await openSession({ width: 1280, height: 800 });
    const { page } = s;
    const warm = () => page.evaluate(() => window.podnetScreens.warm());
    const throwaways = () => page.locator('.terminal-warm-up').count();
    // left alone, it parses its whole sample, then goes: the spare's bay is the only one left
    await expect.poll(warm, { timeout: 20_000 }).toMatchObject({ done: true, stopped: false });
    expect((await warm()).bytes).toBeGreaterThanOrEqual(384 * 1024);
    expect(await throwaways()).toBe(0);
    expect(await bays(page)).toHaveLength(1);
    expect(await page.locator('.xterm').count()).toBe(1);

    // a page loaded again, and a key pressed while it warms up: it stops there, and goes
    await page.reload();
    const stoppedAt = await page.evaluate(async () => {
      const w = () => window.podnetScreens.warm();
      const t0 = performance.now();
      while (!(w().bytes > 0 && !w().done)) {
        if (performance.now() - t0 > 10_000) throw new Error(`the warm-up never began: ${JSON.stringify(w())}`);
        await new Promise((r) => setTimeout(r, 1));
      }
      dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
      return w();
    });
    expect(stoppedAt).toMatchObject({ done: false, stopped: true });
    expect(stoppedAt.bytes).toBeLessThan(384 * 1024);
    expect(await throwaways()).toBe(0);
    // nothing more is written after the key
    await new Promise((r) => setTimeout(r, 500));
    expect(await warm()).toEqual(stoppedAt);
    await expect.poll(() => bays(page), { timeout: 10_000 }).toHaveLength(1);
    expect(s.errors).toEqual([]);
  });
});
