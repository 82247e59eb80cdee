// End to end, in Debian's Chromium: terminal tabs across world restarts and page reloads. A reset reuses
// a node's tab (one tab, its old output kept, a live shell in the new world); a tab whose pod is gone
// closes itself unless it holds output nobody saw; a reload shows each terminal's earlier output again.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHost } from '../../src-main/web/server.js';
import { openSession, RENDERER, startWorld, typeIn, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

interface Tab {
  /** The tab's own key (its element id): the same tab keeps it when its shell is reopened. */
  key: string;
  testId: string;
  title: string;
  status: string;
  unseen: boolean;
}

/** The terminal tabs as the strip shows them. */
function tabs(page: Page): Promise<Tab[]> {
  return page.locator('.tabs [role="tab"][data-status]').evaluateAll((els) =>
    els.map((e) => ({
      key: e.id,
      testId: e.getAttribute('data-testid')!.replace(/^tab-/, ''),
      title: e.querySelector('.tab-title')?.textContent ?? '',
      status: e.getAttribute('data-status') ?? '',
      unseen: e.hasAttribute('data-unseen'),
    })),
  );
}

async function live(page: Page, title: string): Promise<string> {
  let found: Tab | undefined;
  await expect
    .poll(
      async () => {
        found = (await tabs(page)).find((t) => t.title === title && t.status === 'live');
        return !!found;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return found!.testId;
}

async function waitFor(page: Page, id: string, re: RegExp, what: 'text' | 'all' = 'text'): Promise<string> {
  let last = '';
  await expect
    .poll(
      async () => {
        last = await page.evaluate(
          ({ i, w }) => (w === 'all' ? window.podnetScreens.all(i) : window.podnetScreens.text(i)) ?? '',
          { i: id, w: what },
        );
        return re.test(last);
      },
      { timeout: 20_000, message: `terminal ${id} never showed ${re}` },
    )
    .toBe(true);
  return last;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('terminal tabs in Chromium', () => {
  it('a reset reuses the node’s tab; a pod’s tab closes itself unless it holds unseen output', async () => {
    const { page, engine } = s;
    await startWorld(page, 2, 30_000);
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-node1').click();
    const n1 = await live(page, 'node1');
    const n1Key = (await tabs(page)).find((t) => t.title === 'node1')!.key;
    await waitFor(page, n1, /root@node1/);
    await typeIn(page, n1, 'echo before-reset-$((40+2))');
    await waitFor(page, n1, /^before-reset-42$/m);

    // two pods, a terminal in each: one seen, one whose output arrives while another tab is shown
    await engine.api['pod.create']({ name: 'seen', node: 'node1' });
    await engine.api['pod.create']({ name: 'quiet', node: 'node2' });
    await expect.poll(() => page.locator('[data-testid^="pod-row-"]').count(), { timeout: 15_000 }).toBe(2);
    await page.getByTestId('pod-terminal-seen').click();
    const seen = await live(page, 'pod/seen');
    await waitFor(page, seen, /root@pod\/seen/);
    await page.getByTestId('pod-terminal-quiet').click();
    const quiet = await live(page, 'pod/quiet');
    await waitFor(page, quiet, /root@pod\/quiet/);
    await typeIn(page, quiet, 'sleep 1.5; echo late-$((5*5))');
    await page.getByTestId(`tab-${n1}`).click();
    await waitFor(page, quiet, /^late-25$/m);
    await expect.poll(async () => (await tabs(page)).find((t) => t.title === 'pod/quiet')?.unseen).toBe(true);

    await engine.api['world.reset']({});
    // one node1 tab, live in the new world, its old output kept above the new prompt
    const n1again = await live(page, 'node1');
    const after = await tabs(page);
    expect(after.filter((t) => t.title === 'node1')).toHaveLength(1);
    expect(after.find((t) => t.title === 'node1')!.key).toBe(n1Key);
    await waitFor(page, n1again, /before-reset-42[\s\S]*root@node1:\/#\s*$/, 'all');
    await typeIn(page, n1again, 'echo after-reset-$((2*21))');
    await waitFor(page, n1again, /^after-reset-42$/m);
    // the pods are gone with the old world: the seen one's tab closed itself, the unseen one stays, marked
    await expect.poll(async () => (await tabs(page)).map((t) => t.title).sort()).toEqual(['node1', 'pod/quiet']);
    const q = (await tabs(page)).find((t) => t.title === 'pod/quiet')!;
    expect(q).toMatchObject({ status: 'exited', unseen: true });
    expect(await page.locator('.tab-unseen').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'terminal-tabs-after-reset.png') });

    // a shell that ended: opening node1 from the menu reopens that tab rather than adding another
    await typeIn(page, n1again, 'exit');
    await expect.poll(async () => (await tabs(page)).find((t) => t.key === n1Key)?.status).toBe('exited');
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-node1').click();
    const n1third = await live(page, 'node1');
    expect((await tabs(page)).filter((t) => t.title === 'node1').map((t) => t.key)).toEqual([n1Key]);
    await waitFor(page, n1third, /root@node1:\/#\s*$/);

    // looked at, the dead pod tab loses its mark; the next restart closes it
    await page.getByTestId(`tab-${q.testId}`).click();
    await expect.poll(async () => (await tabs(page)).find((t) => t.title === 'pod/quiet')?.unseen).toBe(false);
    await page.getByTestId(`tab-${n1third}`).click();
    await engine.api['world.reset']({});
    await live(page, 'node1');
    await expect.poll(async () => (await tabs(page)).map((t) => t.title)).toEqual(['node1']);
    expect(s.errors).toEqual([]);
  }, 180_000);

  it('shows each terminal’s earlier output again after a page reload', async () => {
    const { page } = s;
    const id = await live(page, 'node1');
    await typeIn(page, id, 'seq 1 3000 | sed s/^/row-/; echo mark-$((3*3))');
    await waitFor(page, id, /^mark-9$/m);
    await page.reload();
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 15_000 }).toMatch(/running/i);
    const again = await live(page, 'node1');
    expect(again).toBe(id); // the same engine terminal, adopted
    const all = await waitFor(page, id, /^mark-9$/m, 'all');
    expect(all).toMatch(/^row-1$/m);
    expect(all).toMatch(/^row-3000$/m);
    expect(all).not.toMatch(/earlier output is not kept/);
    // its shell is live: output after the reload follows the replayed output, once
    await typeIn(page, id, 'echo after-reload-$((7*6))');
    const end = await waitFor(page, id, /^after-reload-42$/m, 'all');
    expect(end.match(/^mark-9$/gm)).toHaveLength(1);
    await page.screenshot({ path: join(SHOTS, 'terminal-after-reload.png') });
    expect(s.errors).toEqual([]);
  }, 120_000);

  it('shows what a shell printed while the page was disconnected, once the connection is back', async () => {
    const { page, engine } = s;
    const id = await live(page, 'node1');
    await typeIn(page, id, 'echo before-drop-$((4*4))');
    await waitFor(page, id, /^before-drop-16$/m);
    // the host goes, its sockets with it, and comes back on the same port and token; the engine runs on
    const { port, token } = s.host;
    await s.host.close();
    await expect
      .poll(() => page.getByTestId('connection-state').innerText(), { timeout: 10_000 })
      .toMatch(/disconnected/i);
    await engine.api['terminal.input']({ id, data: 'seq 1 500 | sed s/^/gap-/; echo gap-done-$((6*7))\r' });
    const engineCopy = async () => atob((await engine.api['terminal.scrollback']({ id })).data);
    await expect.poll(engineCopy, { timeout: 10_000 }).toMatch(/^gap-done-42\r?$/m);
    s.host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: RENDERER, port, token });
    await expect
      .poll(() => page.getByTestId('connection-state').innerText(), { timeout: 15_000 })
      .toMatch(/^connected/i);
    // drawn again from the engine's copy: what came in the gap, and what came before it once, not twice
    const all = await waitFor(page, id, /^gap-done-42$/m, 'all');
    expect(all).toMatch(/^gap-1$/m);
    expect(all).toMatch(/^gap-500$/m);
    expect(all.match(/^before-drop-16$/gm)).toHaveLength(1);
    // the same shell, live: what is typed now follows, once
    await typeIn(page, id, 'echo after-drop-$((3*5))');
    const end = await waitFor(page, id, /^after-drop-15$/m, 'all');
    expect(end.match(/^gap-done-42$/gm)).toHaveLength(1);
    expect((await tabs(page)).filter((t) => t.title === 'node1')).toHaveLength(1);
    await page.screenshot({ path: join(SHOTS, 'terminal-after-reconnect.png') });
    expect(s.errors.filter((e) => !/WebSocket/i.test(e))).toEqual([]);
  }, 120_000);

  it('says a shell exited after all of its output, not in the middle of it', async () => {
    const { page } = s;
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-node2').click();
    const id = await live(page, 'node2');
    await waitFor(page, id, /root@node2/);
    // output still being parsed when the exit arrives
    await typeIn(page, id, 'seq 1 200000 | sed s/^/tail-/; exit');
    const all = await waitFor(page, id, /shell exited/, 'all');
    const lines = all.trimEnd().split('\n');
    // bash's own "exit" (an interactive shell says it), then the app's line
    expect(lines.slice(-3, -1)).toEqual(['tail-200000', 'exit']);
    expect(lines.at(-1)).toMatch(/^\[shell exited/);
    expect(all.match(/shell exited/g)).toHaveLength(1);
    await page.getByTestId(`tab-${await live(page, 'node1')}`).click();
  }, 120_000);

  it('draws no row of the old screen during `yes` after `clear` (the stale-rows glitch)', async () => {
    const { page } = s;
    const id = await live(page, 'node1');
    // a full screen of rows that must never be drawn again once cleared
    await typeIn(page, id, 'seq 1 200 | sed s/^/old-screen-/');
    await waitFor(page, id, /^old-screen-200$/m);
    const drawn = () =>
      page
        .locator(`[data-testid="terminal-${id}"] .xterm-rows > div`)
        .evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()));
    // the buffer holds the rows a frame before the DOM draws them
    await expect
      .poll(async () => (await drawn()).some((r) => r.startsWith('old-screen-')), { timeout: 5_000 })
      .toBe(true);
    await typeIn(page, id, 'clear; yes');
    await waitFor(page, id, /^y$/m);
    // sampled through the flood: every drawn row is "y", or the command line that started it
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      for (const r of await drawn()) seen.add(r);
      await page.waitForTimeout(50);
    }
    const stale = [...seen].filter((r) => r !== 'y' && r !== '' && !r.includes('clear; yes'));
    expect(stale, 'rows drawn during the flood that are not its own').toEqual([]);
    expect(seen.has('y')).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'terminal-yes-after-clear.png') });
    await page.keyboard.press('Control+C');
    await typeIn(page, id, 'echo stopped-$((1+1))');
    await waitFor(page, id, /^stopped-2$/m);
    expect(s.errors).toEqual([]);
  }, 120_000);
});
