// A new learner's path in Debian's Chromium: the home screen offers "Start with lab 1"; lab 1's steps
// open the terminal and point the live view themselves; checks stay neutral until the learner acts;
// the keyboard runs the next block and checks-and-goes-on; "Lab complete" shows the time spent and
// opens the next lab. Then a step that opens the timeline beside a terminal, and every path that would
// destroy the world (or unsaved edits) asking first. Screenshots at 1440×900 and 1280×720 in out/screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, ownProgress, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;
let progress: ReturnType<typeof ownProgress>;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  progress = ownProgress('podnet-e2e-path-');
  s = await openSession({ width: 1440, height: 900 });
}, 60_000);
afterAll(async () => {
  await s?.close();
  progress?.done();
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error('page errors:', s.errors);
});

const state = (id: string) => s.page.getByTestId(`lab-check-${id}`).getAttribute('data-state');
const title = () => s.page.getByTestId('lab-step-title').innerText();
const idle = () => expect.poll(() => s.page.getByTestId('lab-busy').count(), { timeout: 90_000 }).toBe(0);

/** One screenshot at each of the two sizes the issue names, then back to 1440×900. */
async function shots(page: Page, name: string, show?: string): Promise<void> {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.waitForTimeout(300);
  if (show) await page.getByTestId(show).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, `${name}-1440.png`) });
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForTimeout(300);
  if (show) await page.getByTestId(show).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`) });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.waitForTimeout(200);
}

/** The confirmation dialog is up, says `re`; it is answered with Cancel or the confirming button. */
async function answer(page: Page, re: RegExp, ok: boolean): Promise<void> {
  const d = page.getByTestId('confirm-dialog');
  await d.waitFor({ timeout: 5000 });
  expect(await d.innerText()).toMatch(re);
  await page.getByTestId(ok ? 'confirm-ok' : 'confirm-cancel').click();
  await expect.poll(() => d.count()).toBe(0);
}

describe("a new learner's path", () => {
  it('home → "Start with lab 1" → steps that open the terminal and the live view → finish → "Next lab"', async () => {
    const { page } = s;
    // the home screen: the path, numbered and grouped, one primary action
    await expect
      .poll(() => page.getByTestId('home-primary').innerText(), { timeout: 15_000 })
      .toMatch(/^Start with lab 1 · Network namespaces/i);
    expect(await page.getByTestId('home-free-play').isVisible()).toBe(true);
    expect(await page.locator('.path-group h3').first().innerText()).toMatch(/kernel/);
    expect(await page.getByTestId('lab-open-01-network-namespaces').getAttribute('class')).toMatch(/next/);
    await shots(page, 'path-home');

    await page.getByTestId('home-primary').click();
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/3 · An empty network namespace/);
    await idle();
    // the step opened a terminal on node1 by itself, and the guide is wide enough for its commands
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count(), { timeout: 20_000 }).toBe(1);
    const guideBox = (await page.locator('.pane-left').boundingBox())!;
    expect(guideBox.width).toBeGreaterThanOrEqual(420);
    // checks are neutral until the learner acts: evaluated (failing), but not shown red
    await expect.poll(() => page.getByTestId('lab-check-lo-down').getAttribute('data-state')).toBe('unknown');
    await page.waitForTimeout(1500);
    expect(await state('lo-down')).toBe('unknown');
    expect(await page.locator('.lab-check.fail').count()).toBe(0);
    // the next block is marked, and a code line wraps at spaces only
    expect(await page.getByTestId('lab-cmd-0').getAttribute('data-next')).toBe('true');
    expect(
      await page
        .locator('.lab-cmd-text')
        .first()
        .evaluate((el) => getComputedStyle(el).wordBreak),
    ).toBe('normal');
    await shots(page, 'path-lab1-step1');

    // Alt+Enter runs the next block in node1's terminal; the live view follows the new netns
    await page.getByTestId('lab-step-title').click();
    await page.keyboard.press('Alt+Enter');
    await expect.poll(() => state('lo-down'), { timeout: 20_000 }).toBe('ok');
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 20_000 }).toBe('netns:node1:demo');
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count()).toBe(1);
    await page.locator('#q-links').fill('1');
    await page.getByTestId('lab-question-links').getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => page.getByTestId('lab-question-links').innerText()).toMatch(/✓ 1/);
    await shots(page, 'path-lab1-live-view');
    // the live views over the topology: a splitter the keyboard moves, remembered across a reload
    const heights = async () => ({
      views: (await page.locator('.right-views').boundingBox())!.height,
      topology: (await page.getByTestId('right-topology').boundingBox())!.height,
    });
    const before = await heights();
    await page.getByTestId('splitter-top').focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    const moved = await heights();
    expect(moved.views).toBe(before.views + 48);
    expect(moved.topology).toBe(before.topology - 48);
    await page.waitForTimeout(400); // the size is saved once the keys settle
    await page.reload();
    await expect.poll(title, { timeout: 20_000 }).toMatch(/Step 1\/3/);
    await expect.poll(async () => (await heights()).views, { timeout: 20_000 }).toBe(moved.views);
    // the reload adopted the lab's terminal: no second node1 shell was opened beside it
    await page.waitForTimeout(1000);
    expect((await s.engine.api['terminal.list']({})).filter((t) => t.title === 'node1' && !t.exited)).toHaveLength(1);

    // Ctrl+Shift+Enter: check, and go on (the step passes)
    await page.getByTestId('lab-step-title').click();
    await page.keyboard.press('Control+Shift+Enter');
    await expect.poll(title, { timeout: 20_000 }).toMatch(/Step 2\/3 · Bring up lo/);
    // a block that fails on purpose says so; the one after it does not
    expect(await page.getByTestId('lab-cmd-fails-0').innerText()).toBe('fails on purpose');
    expect(await page.getByTestId('lab-cmd-fails-1').count()).toBe(0);
    // a failing check after the learner pressed Check is shown red, with expected vs found
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('lo-up'), { timeout: 20_000 }).toBe('fail');
    await page.getByTestId('lab-cmd-run-1').click();
    await expect.poll(() => state('lo-up'), { timeout: 20_000 }).toBe('ok');
    await page.getByTestId('lab-check-button').click();
    await expect.poll(title, { timeout: 20_000 }).toMatch(/Step 3\/3/);
    await page.getByTestId('lab-solution-show').click();
    await page.getByTestId('lab-solution-apply').click();
    await expect.poll(() => page.getByTestId('lab-complete').count(), { timeout: 30_000 }).toBe(1);
    // what the solution ran is shown in node1's terminal, as comments (the shell's prompt stays its own)
    const node1 = (await s.engine.api['terminal.list']({})).filter((t) => t.title === 'node1' && !t.exited).at(-1)!.id;
    await expect
      .poll(() => page.evaluate((i) => window.podnetScreens.text(i) ?? '', node1), { timeout: 20_000 })
      .toMatch(
        /# solution: ip -n demo link add d0 type bridge\n.*# solution: ip -n demo addr add 10\.200\.0\.1\/24 dev d0\n.*# solution: ip -n demo link set d0 up\n.*root@node1/,
      );
    expect(await page.getByTestId('lab-time-spent').innerText()).toMatch(/^\d+ (min|h)/);
    expect(await page.getByTestId('lab-next-lab').innerText()).toMatch(/Next lab: .*veth/i);
    await shots(page, 'path-lab1-complete', 'lab-complete');

    await page.getByTestId('lab-next-lab').click();
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/6 · A veth pair/);
    await idle();
    expect(s.errors).toEqual([]);
  }, 400_000);

  it('a step opens the timeline beside a terminal; opening another lab asks first', async () => {
    const { page } = s;
    const worldBefore = s.engine.session.runningWorld!.id;
    // home keeps lab 02's world running: opening lab 06 from there asks, and Cancel keeps it
    await page.getByTestId('lab-catalogue-back').click();
    await page.getByTestId('lab-open-06-pod-sandbox').click();
    await answer(page, /Opening a lab builds its own world: the running world .* will end/, false);
    expect(s.engine.session.runningWorld!.id).toBe(worldBefore);
    await page.getByTestId('lab-open-06-pod-sandbox').click();
    await answer(page, /will end/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/4 · RunPodSandbox/);
    await idle();
    // the step's `open: timeline`: the timeline beside the terminals, both on screen at once
    await expect.poll(() => page.getByTestId('tool-timeline').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await page.getByTestId('beside').getAttribute('data-tool')).toBe('timeline');
    await page.getByTestId('lab-cmd-run-0').click();
    await page.getByTestId('lab-cmd-run-1').click();
    await expect
      .poll(() => page.locator('[data-testid^="tab-t"][data-status="live"]').count(), { timeout: 20_000 })
      .toBe(1);
    // the kubelet block ran in the engine; node1's terminal, where its pod lands, says what it ran (in its
    // scrollback: the second command, typed at once, may print after it and scroll it off the screen)
    const node1 = (await s.engine.api['terminal.list']({})).find((t) => t.title === 'node1' && !t.exited)!.id;
    await expect
      .poll(() => page.evaluate((i) => window.podnetScreens.all(i) ?? '', node1), { timeout: 20_000 })
      .toContain('# kubelet: syncPod web node1');
    const term = (await page.locator('.centre-terminals').boundingBox())!;
    const tl = (await page.getByTestId('beside').boundingBox())!;
    expect(term.width).toBeGreaterThan(250);
    expect(tl.x).toBeGreaterThanOrEqual(term.x + term.width - 1);
    await expect
      .poll(() => page.getByTestId('timeline-op').locator('option').count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await shots(page, 'path-timeline-beside-terminal');
    // the layout is remembered for the lab: the reload finds the timeline beside the terminals again
    await page.reload();
    await expect.poll(title, { timeout: 20_000 }).toMatch(/Step 1\/4/);
    await expect.poll(() => page.getByTestId('tool-timeline').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(s.errors).toEqual([]);
  }, 300_000);

  it('every path that would destroy the world asks first; Cancel changes nothing', async () => {
    const { page } = s;
    const world = () => s.engine.session.runningWorld?.id;
    const w0 = world();
    expect(w0).toBeDefined();

    // a future step's dot
    await page.getByTestId('lab-step-pill-3').click();
    await answer(page, /Rebuild the world at step 4\?[\s\S]*is lost/, false);
    // Jump to…
    await page.getByTestId('lab-jump').selectOption('2');
    await answer(page, /Rebuild the world at step 3\?/, false);
    // the lab's one Reset
    await page.getByTestId('lab-reset').click();
    await answer(page, /Reset “The pod sandbox[\s\S]*progress .* is cleared/i, false);
    // the world's own restart and stop, under the World menu, with their consequences
    await page.getByTestId('world-menu').click();
    expect(await page.locator('.world-menu').innerText()).toMatch(
      /Rebuild the lab's world at step 1[\s\S]*lost[\s\S]*Stop the world/,
    );
    await page.getByTestId('world-reset').click();
    await answer(page, /Rebuild the world at step 1\?/, false);
    await page.getByTestId('world-menu').click();
    await page.getByTestId('world-stop').click();
    await answer(page, /Stop the world\?[\s\S]*keeps its progress/, false);
    expect(world()).toBe(w0);
    expect(await title()).toMatch(/Step 1\/4/);

    // confirmed, the dot does rebuild: a new world, at step 4
    await page.getByTestId('lab-step-pill-3').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shots(page, 'path-confirm-rebuild');
    await page.getByTestId('confirm-ok').click();
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 4\/4/);
    await idle();
    expect(world()).not.toBe(w0);
    expect(s.errors).toEqual([]);
  }, 300_000);

  it('the editor asks before dropping unsaved edits; F6 moves the focus between panes; toasts leave by themselves', async () => {
    const { page } = s;
    // the guide folds to a rail and back (button, Alt+G); Alt+2 toggles the timeline beside the terminals
    await page.getByTestId('guide-collapse').click();
    await expect.poll(async () => (await page.locator('.pane-left').boundingBox())!.width).toBeLessThan(60);
    await page.keyboard.press('Alt+G');
    await expect.poll(async () => (await page.locator('.pane-left').boundingBox())!.width).toBeGreaterThanOrEqual(420);
    const beside = () => page.getByTestId('beside').getAttribute('data-tool');
    expect(await beside()).toBe('timeline');
    await page.getByTestId('lab-step-title').click();
    await page.keyboard.press('Alt+2');
    await expect.poll(beside).toBe('');
    await page.keyboard.press('Alt+2');
    await expect.poll(beside).toBe('timeline');
    await page.getByTestId('toolbar-editor').click();
    await expect.poll(() => page.getByTestId('tool-editor').isVisible(), { timeout: 20_000 }).toBe(true);
    await expect
      .poll(() => page.evaluate(() => window.podnetEditor?.value() ?? ''), { timeout: 20_000 })
      .toMatch(/"plugins"/);
    const before = await page.evaluate(() => window.podnetEditor!.value());
    await page.evaluate(() =>
      window.podnetEditor!.setValue(window.podnetEditor!.value().replace('"plugins"', '"plugins" ')),
    );
    await page.getByTestId('tab-close-tool-editor').click();
    await answer(page, /unsaved edits[\s\S]*drops them/, false);
    expect(await page.getByTestId('tool-editor').isVisible()).toBe(true);
    expect(await page.evaluate(() => window.podnetEditor!.value())).not.toBe(before);
    await page.getByTestId('tab-close-tool-editor').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shots(page, 'path-editor-unsaved');
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('tool-editor').count()).toBe(0);

    // F6 from the guide: the terminal takes the keyboard, then the tool beside it / the live views
    await page.getByTestId('lab-step-title').click();
    await page.keyboard.press('F6');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest('[data-region]')?.getAttribute('data-region')))
      .toBe('terminal');
    await page.keyboard.press('F6');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest('[data-region]')?.getAttribute('data-region')))
      .not.toBe('terminal');
    await page.keyboard.press('Shift+F6');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest('[data-region]')?.getAttribute('data-region')))
      .toBe('terminal');

    // a toast floats (the guide does not move), and leaves by itself
    const g0 = (await page.getByTestId('lab-step-title').boundingBox())!;
    await page.evaluate(() => void 0);
    await page.locator('.lab-cmd').first().getByRole('button', { name: /^Copy/ }).click();
    await page.getByTestId('notice').first().waitFor({ timeout: 5000 });
    const g1 = (await page.getByTestId('lab-step-title').boundingBox())!;
    expect(g1.y).toBe(g0.y);
    await expect.poll(() => page.getByTestId('notice').count(), { timeout: 10_000 }).toBe(0);

    // home again: the primary action continues where the learner left off; lab 1's card shows it done
    await page.getByTestId('home').click();
    try {
      await expect
        .poll(() => page.getByTestId('home-primary').innerText(), { timeout: 15_000 })
        .toMatch(/^Continue: lab 6, step 4 · The pod sandbox/);
    } catch (e) {
      // seen once in CI ("Start lab 2"): what the home page decided from, for the next time
      const list = await s.engine.api['lab.list']({});
      const lab6 = list.find((l) => l.id === '06-pod-sandbox');
      console.error('home-primary failed; lab 6 in lab.list:', JSON.stringify(lab6));
      console.error("the page's prefs:", await page.evaluate(() => JSON.stringify(localStorage)));
      console.error('lab.state:', JSON.stringify(await s.engine.api['lab.state']({})));
      throw e;
    }
    expect(await page.getByTestId('lab-open-01-network-namespaces').getAttribute('data-progress')).toBe('done');
    await shots(page, 'path-home-continue');
    expect(s.errors).toEqual([]);
  }, 200_000);

  it('lab 10 opens the topology beside the terminals; lab 14 opens the CNI editor on the broken file', async () => {
    const { page } = s;
    await page.getByTestId('lab-open-10-vxlan-overlay').click();
    await answer(page, /will end/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/4/);
    await idle();
    await expect.poll(() => page.getByTestId('beside').getAttribute('data-tool'), { timeout: 20_000 }).toBe('topology');
    // a lab whose step names no terminal still opens with one, on its first node
    await expect
      .poll(() => page.locator('[data-testid^="tab-t"][data-status="live"]').count(), { timeout: 20_000 })
      .toBe(1);
    await page.getByTestId('topology-svg').waitFor({ timeout: 20_000 });
    // one topology: beside the terminals, not also in the right pane
    expect(await page.getByTestId('right-topology').count()).toBe(0);
    // commands wrap at their spaces only: no word of a command (a MAC, a flag) is split over two lines
    const split = await page
      .locator('.lab-cmd-text .word')
      .evaluateAll((els) => els.filter((e) => e.getClientRects().length > 1).map((e) => e.textContent));
    expect(split).toEqual([]);
    expect(await page.locator('.lab-cmd-text .word').count()).toBeGreaterThan(20);
    await shots(page, 'path-lab10-topology');

    await page.getByTestId('lab-catalogue-back').click();
    await page.getByTestId('lab-open-14-network-ready').click();
    await answer(page, /will end/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/5/);
    await idle();
    await page.getByTestId('lab-jump').selectOption('2');
    await answer(page, /Rebuild the world at step 3\?/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 3\/5 · A good file behind a broken one/);
    await idle();
    await expect.poll(() => page.getByTestId('beside').getAttribute('data-tool'), { timeout: 20_000 }).toBe('editor');
    await expect
      .poll(() => page.getByTestId('cni-current').innerText(), { timeout: 30_000 })
      .toMatch(/node1:\/etc\/cni\/net\.d\/10-podnet\.conflist/);
    await shots(page, 'path-lab14-editor');
    expect(s.errors).toEqual([]);
  }, 400_000);

  it("lab 03's ARP step: its checks run (neutral) and leave client's ARP table as the learner will find it", async () => {
    const { page } = s;
    await page.getByTestId('lab-catalogue-back').click();
    await page.getByTestId('lab-open-03-bridge').click();
    await answer(page, /will end/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/4/);
    await idle();
    await page.getByTestId('lab-jump').selectOption('1');
    await answer(page, /Rebuild the world at step 2\?/, true);
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 2\/4 · Same-node traffic and ARP/);
    await idle();
    // the step's checks are evaluated (failing, shown neutral) — several times, as the world changes
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('arp'), { timeout: 20_000 }).toBe('fail');
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 20_000 }).toBe('pod:client');
    const pods = await s.engine.api['pod.list']({});
    const client = pods.find((p) => p.name === 'client')!;
    const world = s.engine.session.runningWorld!;
    const neigh = await world.run({ kind: 'pod', node: client.node, netns: client.netns }, [
      'ip',
      'neigh',
      'show',
      '10.244.1.2',
    ]);
    // no entry for web: the learner's first `ip neigh` shows the table before any traffic to web
    expect(neigh.trim()).toBe('');
    await page.getByTestId('lab-cmd-run-0').click();
    await expect.poll(() => state('arp'), { timeout: 30_000 }).toBe('ok');
    await expect.poll(() => state('arp-back'), { timeout: 30_000 }).toBe('ok');
    expect(s.errors).toEqual([]);
  }, 300_000);
});
