// End to end, in Debian's Chromium: free play's "Start world" opens node1's terminal with the world (its
// tab and xterm are there while the world starts; its prompt comes as the world runs), the keyboard is
// in it, "+" → node1 shows that untouched tab instead of doubling it, a restart reuses it, and a reload
// during the start adopts the terminal the start opened instead of leaving it without a tab.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, stopWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session | undefined;

beforeAll(() => mkdirSync(SHOTS, { recursive: true }));
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The terminal tabs as the strip shows them, in order. */
const tabs = (page: Page) =>
  page.locator('.tabs [role="tab"][data-status]').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-testid')!.slice(4),
      key: e.id,
      title: e.querySelector('.tab-title')?.textContent ?? '',
      status: e.getAttribute('data-status'),
      selected: e.getAttribute('aria-selected') === 'true',
    })),
  );

const screen = (page: Page, id: string) => page.evaluate((i) => window.podnetScreens.text(i) ?? '', id);

async function clickStart(page: Page, nodes: number): Promise<void> {
  await page.getByTestId('node-count').fill(String(nodes));
  await page.getByTestId('world-start').click();
}

async function livePrompt(page: Page): Promise<string> {
  await expect
    .poll(async () => (await tabs(page)).filter((t) => t.title === 'node1' && t.status === 'live').length, {
      timeout: 30_000,
    })
    .toBe(1);
  const id = (await tabs(page)).find((t) => t.title === 'node1')!.id;
  await expect.poll(() => screen(page, id), { timeout: 20_000 }).toMatch(/root@node1:\/# *$/m);
  return id;
}

describe('"Start world" in free play, in Chromium', () => {
  it('opens node1 with the world, keyboard in it; "+" → node1 shows it; a restart reuses it (1440×900)', async () => {
    s = await openSession({ width: 1440, height: 900 });
    const { page } = s;
    // the real containerd's start (~1 s per node) leaves time to see the start under way
    await page.getByTestId('runtime-select').selectOption('containerd');
    await clickStart(page, 2);
    // the tab is there while the world starts, before any "+" click
    await expect.poll(async () => (await tabs(page)).map((t) => t.title)).toEqual(['node1']);
    expect(await page.getByTestId('world-state').innerText()).toMatch(/starting/i);
    // a start that takes a while shows the side panes while it goes on (a quick one, once it has started)
    const cameFirst = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const text = (sel: string) => document.querySelector<HTMLElement>(sel)?.innerText ?? '';
          const look = () => {
            // what the panes say then: the world is starting, not that none runs
            if (document.querySelector('[data-testid="lab-catalogue"]'))
              resolve(`the panes: ${text('[data-testid="topology-empty"]')} | ${text('.pods')} | ${text('.views.nv')}`);
            else if (/running/i.test(document.querySelector('[data-testid="world-state"]')?.textContent ?? ''))
              resolve('the world running');
            else requestAnimationFrame(look);
          };
          look();
        }),
    );
    expect(cameFirst).toMatch(/^the panes: /);
    expect(cameFirst).toMatch(
      /The world is starting…[\s\S]*\| [\s\S]*The world is starting: pods[\s\S]*\| [\s\S]*The world is starting: its namespaces/,
    );
    expect(cameFirst).not.toMatch(/No world is running|Start a world/);
    await page.screenshot({ path: join(SHOTS, 'start-flow-starting-1440.png') });
    const id = await livePrompt(page);
    // node1's prompt comes once the nodes exist; each node's containerd starts after that
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 30_000 }).toMatch(/running/i);
    await page.screenshot({ path: join(SHOTS, 'start-flow-prompt-1440.png') });
    // the keyboard is in the terminal: typed without a click, it runs in node1
    await page.keyboard.type('hostname');
    await page.keyboard.press('Enter');
    await expect.poll(() => screen(page, id)).toMatch(/^node1$/m);
    // typed in, it is the person's: "+" → node1 now opens a second one beside it
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-node1').click();
    await expect
      .poll(async () => (await tabs(page)).filter((t) => t.title === 'node1' && t.status === 'live').length, {
        timeout: 20_000,
      })
      .toBe(2);
    const first = (await tabs(page)).find((t) => t.id === id)!.key;
    // stopped and started again: the first node1 tab is reused for the new world's node1, no third one
    await stopWorld(page);
    await page.getByTestId('runtime-select').selectOption('model');
    await page.getByTestId('node-count').fill('2');
    // a start from the workspace keeps the side panes on screen all along (only a start from home waits for them)
    const panesGone = await page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const gone = new Set<string>();
          const look = () => {
            if (!document.querySelector('[data-testid="nv-ns"]')) gone.add('the live views');
            if (!document.querySelector('[data-testid="lab-catalogue"]')) gone.add('the labs');
          };
          const watch = new MutationObserver(look);
          watch.observe(document.body, { subtree: true, childList: true });
          document.querySelector<HTMLElement>('[data-testid="world-start"]')!.click();
          const until = () => {
            look();
            if (/running/i.test(document.querySelector('[data-testid="world-state"]')?.textContent ?? '')) {
              watch.disconnect();
              resolve([...gone]);
            } else requestAnimationFrame(until);
          };
          requestAnimationFrame(until);
        }),
    );
    expect(panesGone).toEqual([]);
    await expect
      .poll(
        async () =>
          (await tabs(page))
            .filter((t) => t.title === 'node1' && t.status === 'live')
            .map((t) => t.key)
            .join(),
        { timeout: 30_000 },
      )
      .toBe(first);
    expect(s.errors).toEqual([]);
  }, 120_000);

  it('a reload during the start: the terminal the start opened gets its tab, one node1 only (1280×720)', async () => {
    s = await openSession({ width: 1280, height: 720 });
    const { page, engine } = s;
    // the real containerd's start (~1 s per node, before the world runs) keeps the start under way long
    // enough for the reloaded page to find it starting
    await page.getByTestId('runtime-select').selectOption('containerd');
    await clickStart(page, 2);
    // the start (and node1's request right behind it) has reached the engine; the page goes away mid-start
    await expect
      .poll(() => engine.session['world.status']().then((w) => w.state), { timeout: 10_000 })
      .toBe('starting');
    await page.reload();
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 30_000 }).toMatch(/starting/i);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 60_000 }).toMatch(/running/i);
    await expect.poll(async () => (await engine.api['terminal.list']({})).length, { timeout: 10_000 }).toBe(1);
    const id = await livePrompt(page);
    expect((await engine.api['terminal.list']({})).map((t) => t.id)).toEqual([id]);
    expect((await tabs(page)).map((t) => t.title)).toEqual(['node1']);
    await page.screenshot({ path: join(SHOTS, 'start-flow-after-reload-1280.png') });
    // and a start at this size, shown as it runs
    await stopWorld(page);
    await page.getByTestId('runtime-select').selectOption('model');
    await clickStart(page, 2);
    await page.screenshot({ path: join(SHOTS, 'start-flow-starting-1280.png') });
    await livePrompt(page);
    await page.screenshot({ path: join(SHOTS, 'start-flow-prompt-1280.png') });
    expect(s.errors).toEqual([]);
  }, 120_000);
});
