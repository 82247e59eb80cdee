// The workshop room's end-to-end flow in Debian's Chromium (issue 19's done-when), for any running room:
// two learners join from the join page, each opens a different lab in their own seat, one's terminal cannot
// see the other's world; the instructor's view shows both with their step and checks, sends a message every
// seat shows, opens a read-only mirror, and resets one seat while the other is untouched. Run in process
// (test/e2e/workshop.test.ts) and against the container image under podman (test/e2e/workshop-container.test.ts).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Workshop } from '../../src-main/workshop/workshop-server.js';
import { CHROMIUM, CHROMIUM_ARGS, typeIn } from './harness.js';

/** A running room the flow drives: its two URLs, and the server itself when it runs in this process. */
export interface RoomUnderTest {
  joinUrl: string;
  instructorUrl: string;
  /** in process only: the flow also checks the seats' engines and worlds directly */
  inProcess?: Workshop;
  close(): Promise<void>;
}

/** The flow's tests, in a describe of their own; `prefix` names its screenshots (workshop-*.png in process). */
export function workshopFlow(title: string, start: () => Promise<RoomUnderTest>, prefix = 'workshop'): void {
  const SHOTS = join(import.meta.dirname, '../../out/screenshots');
  let w: RoomUnderTest;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  async function newPage(viewport = { width: 1400, height: 880 }): Promise<Page> {
    const context = await browser.newContext({ viewport, colorScheme: 'dark' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    w = await start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 300_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await w?.close();
  }, 120_000);
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error('page errors:', errors);
  });

  /** Joins from the join page with a name, then opens the seat from the link it shows. */
  async function joinAs(page: Page, name: string, shot?: string): Promise<string> {
    await page.goto(w.joinUrl);
    await page.getByTestId('join-name').fill(name);
    await page.getByTestId('join-submit').click();
    await expect.poll(() => page.getByTestId('join-seat').isVisible(), { timeout: 10_000 }).toBe(true);
    const url = await page.getByTestId('join-url').innerText();
    expect(url).toMatch(/\/\?token=[\w-]{32}$/);
    if (shot) await page.screenshot({ path: join(SHOTS, shot) });
    await page.getByTestId('join-open').click();
    await page.waitForURL((u) => u.pathname === '/');
    return url;
  }

  /** Opens a lab from the home screen and waits until its world is built. */
  async function openLab(page: Page, id: string, title: RegExp): Promise<void> {
    await page.getByTestId(`lab-open-${id}`).click();
    await expect.poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 120_000 }).toMatch(title);
    await expect.poll(() => page.getByTestId('lab-busy').count(), { timeout: 120_000 }).toBe(0);
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count(), { timeout: 30_000 }).toBe(1);
  }

  async function terminalId(page: Page): Promise<string> {
    const testid = await page.locator('[data-testid^="tab-t"]').first().getAttribute('data-testid');
    return testid!.slice('tab-'.length);
  }

  const screen = (page: Page, id: string) => page.evaluate((t) => window.podnetScreens.all(t) ?? '', id);

  const row = (page: Page, name: string) => page.getByTestId(`seat-${name}`);

  /** Counts the processes whose command line is "sleep 4242" among those this terminal's world can see. */
  const SCAN =
    'n=0; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " 2>/dev/null < $f | grep -q "^sleep 4242" && n=$((n+1)); done; echo "sleep-4242:$n"';

  describe(title, () => {
    let ada: Page;
    let grace: Page;
    let teacher: Page;
    let adaTerm: string;
    let graceTerm: string;

    it('two learners join and each opens a different lab; one’s terminal cannot see the other’s world', async () => {
      ada = await newPage();
      grace = await newPage();
      await joinAs(ada, 'Ada', `${prefix}-join.png`);
      await joinAs(grace, 'Grace');
      if (w.inProcess) expect(w.inProcess.room.list().map((s) => s.name)).toEqual(['Ada', 'Grace']);
      await Promise.all([
        openLab(ada, '01-network-namespaces', /An empty network namespace/),
        openLab(grace, '02-veth-pair', /Step 1\//),
      ]);
      adaTerm = await terminalId(ada);
      graceTerm = await terminalId(grace);
      // Ada makes something of her own; Grace looks for it, and for Ada's processes
      await typeIn(ada, adaTerm, 'ip netns add demo; touch /tmp/ada-was-here; ip netns list');
      await expect.poll(() => screen(ada, adaTerm), { timeout: 20_000 }).toMatch(/^demo\b/m);
      // a process of Ada's, found by its command line (the scan's own never starts with "sleep")
      await typeIn(ada, adaTerm, 'sleep 4242 & clear');
      await typeIn(ada, adaTerm, SCAN);
      await expect.poll(() => screen(ada, adaTerm), { timeout: 20_000 }).toMatch(/sleep-4242:1\b/);
      await typeIn(grace, graceTerm, 'touch /tmp/grace-was-here');
      await typeIn(grace, graceTerm, 'echo "netns:[$(ip netns list | tr "\\n" " ")]"; ls /tmp/ada-was-here');
      await typeIn(grace, graceTerm, SCAN);
      await expect.poll(() => screen(grace, graceTerm), { timeout: 20_000 }).toMatch(/sleep-4242:\d+/);
      const seen = await screen(grace, graceTerm);
      expect(seen).toMatch(/netns:\[[^\]]*\]/);
      expect(/netns:\[([^\]]*)\]/.exec(seen)![1]).not.toMatch(/\bdemo\b/);
      expect(seen).toMatch(/ls: cannot access '\/tmp\/ada-was-here': No such file or directory/);
      expect(seen).toMatch(/sleep-4242:0\b/);
      // Ada's check turned green in her seat only
      await expect
        .poll(() => ada.getByTestId('lab-check-lo-down').getAttribute('data-state'), { timeout: 20_000 })
        .toBe('ok');
      await ada.screenshot({ path: join(SHOTS, `${prefix}-seat-ada.png`) });
      await grace.screenshot({ path: join(SHOTS, `${prefix}-seat-grace.png`) });
    }, 400_000);

    it('the instructor’s view shows both, live, with their lab, step and checks; a message reaches every seat', async () => {
      teacher = await newPage({ width: 1300, height: 700 });
      await teacher.goto(w.instructorUrl);
      // the token leaves the address bar at once
      await expect.poll(() => teacher.url()).not.toMatch(/token=/);
      await expect
        .poll(() => teacher.getByTestId('instructor-connection').innerText(), { timeout: 10_000 })
        .toBe('live');
      await expect
        .poll(() => row(teacher, 'Ada').getByTestId('seat-lab').getAttribute('data-lab'))
        .toBe('01-network-namespaces');
      expect(await row(teacher, 'Grace').getByTestId('seat-lab').getAttribute('data-lab')).toBe('02-veth-pair');
      expect(await row(teacher, 'Ada').getByTestId('seat-step').innerText()).toBe('1 of 3');
      expect(await row(teacher, 'Grace').getByTestId('seat-step').innerText()).toMatch(/^1 of \d+$/);
      await expect.poll(() => row(teacher, 'Ada').getByTestId('seat-checks').innerText()).toBe('1 of 1 ✓');
      expect(await row(teacher, 'Ada').getByTestId('seat-world').innerText()).toBe('running');
      expect(await row(teacher, 'Ada').getAttribute('data-overdue')).toBe('false');
      // live, not polled: Ada goes on to step 2 and the view follows without a reload
      await ada.getByTestId('lab-next').click();
      await expect
        .poll(() => row(teacher, 'Ada').getByTestId('seat-step').innerText(), { timeout: 10_000 })
        .toBe('2 of 3');
      await teacher.getByTestId('message-text').fill('Five minutes left on this lab');
      await teacher.getByTestId('message-send').click();
      await expect.poll(() => teacher.getByTestId('instructor-result').innerText()).toBe('sent to 2 seats');
      for (const p of [ada, grace])
        await expect
          .poll(() => p.getByTestId('workshop-message-text').innerText(), { timeout: 10_000 })
          .toBe('Five minutes left on this lab');
      await ada.screenshot({ path: join(SHOTS, `${prefix}-message.png`) });
      await teacher.screenshot({ path: join(SHOTS, `${prefix}-instructor.png`) });
    }, 120_000);

    it('a read-only mirror of a seat shows its guide and terminal; typing in it changes nothing', async () => {
      const [mirror] = await Promise.all([
        teacher.context().waitForEvent('page'),
        row(teacher, 'Grace').getByTestId('seat-watch').click(),
      ]);
      mirror.on('pageerror', (e) => errors.push(e.message));
      await expect
        .poll(() => mirror.getByTestId('workshop-mirror').innerText(), { timeout: 20_000 })
        .toMatch(/Read-only mirror of Grace's seat/);
      await expect
        .poll(() => mirror.getByTestId('lab-step-title').innerText(), { timeout: 20_000 })
        .toMatch(/Step 1\//);
      await expect.poll(() => mirror.locator(`[data-testid="tab-${graceTerm}"]`).count(), { timeout: 20_000 }).toBe(1);
      await expect.poll(() => screen(mirror, graceTerm), { timeout: 20_000 }).toMatch(/sleep-4242:0/);
      // Grace types: the mirror shows it
      await typeIn(grace, graceTerm, 'echo mirrored-$((40+2))');
      await expect.poll(() => screen(mirror, graceTerm), { timeout: 20_000 }).toMatch(/mirrored-42/);
      // the instructor types in the mirror: nothing reaches Grace's shell
      await typeIn(mirror, graceTerm, 'echo from-the-mirror-$((1+1))');
      await typeIn(grace, graceTerm, 'echo after-$((3+3))');
      await expect.poll(() => screen(grace, graceTerm), { timeout: 20_000 }).toMatch(/after-6/);
      expect(await screen(grace, graceTerm)).not.toMatch(/from-the-mirror-2/);
      await mirror.screenshot({ path: join(SHOTS, `${prefix}-mirror.png`) });
      await mirror.close();
    }, 120_000);

    it('the instructor resets one seat (after a confirmation); the other is untouched', async () => {
      const graceWorld = w.inProcess?.room.list()[1]!.engine.session.runningWorld;
      await row(teacher, 'Ada').getByTestId('seat-reset').click();
      await expect.poll(() => teacher.getByTestId('instructor-confirm').isVisible()).toBe(true);
      expect(await teacher.getByTestId('instructor-confirm').innerText()).toMatch(
        /Reset Ada's seat\? Ada's lab starts again at step 1/,
      );
      await teacher.screenshot({ path: join(SHOTS, `${prefix}-reset-confirm.png`) });
      await teacher.getByTestId('instructor-confirm-ok').click();
      await expect
        .poll(() => teacher.getByTestId('instructor-result').innerText(), { timeout: 120_000 })
        .toBe("Ada's lab starts again at step 1");
      await expect
        .poll(() => row(teacher, 'Ada').getByTestId('seat-step').innerText(), { timeout: 10_000 })
        .toBe('1 of 3');
      // Ada's page follows: step 1, a fresh world (her namespace and file are gone)
      await expect
        .poll(() => ada.getByTestId('lab-step-title').innerText(), { timeout: 60_000 })
        .toMatch(/Step 1\/3 · An empty network namespace/);
      if (w.inProcess) {
        const adaWorld = w.inProcess.room.list()[0]!.engine.session.runningWorld!;
        expect((await adaWorld.exec({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'list'])).stdout).not.toMatch(
          /demo/,
        );
        expect((await adaWorld.exec({ kind: 'node', node: 'node1' }, ['ls', '/tmp/ada-was-here'])).code).not.toBe(0);
        // Grace: the same world, her file
        expect(w.inProcess.room.list()[1]!.engine.session.runningWorld).toBe(graceWorld);
        expect((await graceWorld!.exec({ kind: 'node', node: 'node1' }, ['ls', '/tmp/grace-was-here'])).code).toBe(0);
      }
      // the same, seen from the learners' own terminals: Ada's new world lacks her namespace and file ...
      // a new world's terminal (its id may be the old one's: ids count per world) without the old scrollback
      try {
        await expect.poll(() => ada.locator('[data-testid^="tab-t"]').count(), { timeout: 30_000 }).toBe(1);
      } catch (e) {
        // seen once in the container (2 tabs for 30 s): which tabs, for the next time
        const tabs = await ada
          .locator('[data-testid^="tab-t"]')
          .evaluateAll((els) =>
            els.map((el) => `${el.getAttribute('data-testid')} ${el.getAttribute('data-status')} ${el.textContent}`),
          );
        console.error("Ada's tabs after the reset:", JSON.stringify(tabs));
        throw e;
      }
      const adaNew = await terminalId(ada);
      await expect
        .poll(() => ada.getByTestId(`tab-${adaNew}`).getAttribute('data-status'), { timeout: 30_000 })
        .toBe('live');
      await expect.poll(() => screen(ada, adaNew), { timeout: 30_000 }).not.toMatch(/ada-was-here/);
      // the shell prints "reset-2:[…]" (the typed line has "$((1+1))"), so only its output matches
      await typeIn(ada, adaNew, 'echo "reset-$((1+1)):[$(ip netns list | tr "\\n" " ")]"; ls /tmp/ada-was-here');
      await expect.poll(() => screen(ada, adaNew), { timeout: 20_000 }).toMatch(/ada-was-here': No such file/);
      expect(/reset-2:\[([^\]]*)\]/.exec(await screen(ada, adaNew))![1]).not.toMatch(/\bdemo\b/);
      // ... while Grace's live terminal, in the same world, still has her file
      expect(await grace.getByTestId(`tab-${graceTerm}`).getAttribute('data-status')).toBe('live');
      await typeIn(grace, graceTerm, 'ls /tmp/grace-was-here && echo still-$((7*6))');
      await expect.poll(() => screen(grace, graceTerm), { timeout: 20_000 }).toMatch(/still-42/);
      expect(await row(teacher, 'Grace').getByTestId('seat-step').innerText()).toMatch(/^1 of \d+$/);
      expect(await row(teacher, 'Grace').getByTestId('seat-world').innerText()).toBe('running');
      await teacher.screenshot({ path: join(SHOTS, `${prefix}-after-reset.png`) });
      expect(errors).toEqual([]);
    }, 200_000);
  });
}
