// Guided labs end to end, in Debian's Chromium: open lab 1 from the catalogue, click its commands
// (they run in a node1 terminal), see the checks turn green; reload and find the progress kept; jump
// to lab 10's last step (two nodes, VXLAN) and find its world built. Screenshots in out/screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, ownProgress, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;
let progress: ReturnType<typeof ownProgress>;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  progress = ownProgress('podnet-e2e-progress-');
  s = await openSession({ width: 1500, height: 950 });
}, 60_000);
afterAll(async () => {
  await s?.close();
  progress?.done();
});

/** On a failure, what the page said (errors, notices) helps more than a timeout. */
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error('page errors:', s.errors);
});

const state = (id: string) => s.page.getByTestId(`lab-check-${id}`).getAttribute('data-state');

describe('guided labs in Chromium', () => {
  it('lab 1: commands run in their terminal, checks turn green, progress survives a reload', async () => {
    const { page } = s;
    await page.getByTestId('lab-open-01-network-namespaces').click();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 90_000 })
      .toMatch(/An empty network namespace/);
    // the world was built for the lab; its check is neutral until the learner acts, then failing with expected vs found
    await expect.poll(() => state('lo-down'), { timeout: 15_000 }).toBe('unknown');
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('lo-down'), { timeout: 15_000 }).toBe('fail');
    const failing = await page.getByTestId('lab-check-lo-down').innerText();
    expect(failing).toMatch(/expected\s+demo exists and has lo, DOWN/);
    expect(failing).toMatch(/found\s+no network namespace "demo" on node1/);
    await page.getByTestId('lab-hint').click();
    await expect.poll(() => page.locator('.lab-hint').innerText()).toMatch(/ip netns add demo/);
    await page.screenshot({ path: join(SHOTS, 'lab-failing-check.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.screenshot({ path: join(SHOTS, 'lab-failing-check-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });

    // click the step's first command: a terminal on node1 opens and runs it; the check turns green by itself
    await page.getByTestId('lab-cmd-run-0').click();
    await expect.poll(() => state('lo-down'), { timeout: 20_000 }).toBe('ok');
    expect(s.engine.session.runningWorld).toBeDefined();
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count()).toBe(1);
    // the question computed from the world
    await page.locator('#q-links').fill('1');
    await page.getByTestId('lab-question-links').getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => page.getByTestId('lab-question-links').innerText()).toMatch(/✓ 1/);

    await page.getByTestId('lab-next').click();
    await expect.poll(() => page.getByTestId('lab-step-title').innerText()).toMatch(/Bring up lo/);
    // the second block brings lo up (and pings) in the same node1 terminal
    await page.getByTestId('lab-cmd-run-1').click();
    await expect.poll(() => state('lo-up'), { timeout: 20_000 }).toBe('ok');
    await expect.poll(() => state('check-2'), { timeout: 20_000 }).toBe('ok');
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'lab-green-checks.png') });

    // reload the app: the open lab, its step and what is done come back
    await page.reload();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 20_000 })
      .toMatch(/Step 2\/3 · Bring up lo/);
    expect(await page.getByTestId('lab-step-pill-0').getAttribute('class')).toMatch(/done/);
    expect(await page.getByTestId('lab-step-pill-1').getAttribute('class')).toMatch(/done/);
    await expect.poll(() => state('lo-up'), { timeout: 15_000 }).toBe('ok');
    expect(s.errors).toEqual([]);
  }, 400_000);

  it("jumps to lab 10's last step (two nodes, VXLAN): the world is built with the earlier solutions", async () => {
    const { page } = s;
    await page.getByTestId('lab-catalogue-back').click();
    await page.getByTestId('lab-open-10-vxlan-overlay').click();
    // lab 1's world is still running: opening another lab asks first
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 90_000 }).toMatch(/Step 1\/4/);
    await expect.poll(() => page.getByTestId('lab-busy').count(), { timeout: 90_000 }).toBe(0);
    await page.getByTestId('lab-jump').selectOption('3');
    await page.getByTestId('confirm-ok').click();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 90_000 })
      .toMatch(/Step 4\/4 · Watch the encapsulation/);
    await expect.poll(() => page.getByTestId('lab-busy').count(), { timeout: 90_000 }).toBe(0);
    const world = s.engine.session.runningWorld!;
    expect([...world.nodes.keys()]).toEqual(['node1', 'node2']);
    // steps 1-3's solutions are in the world: the VTEPs, the routes, and a reaches b over the overlay
    expect(await world.run({ kind: 'node', node: 'node2' }, ['ip', '-d', 'link', 'show', 'flannel.1'])).toMatch(
      /vxlan id 1 local 192\.0\.2\.12/,
    );
    expect(await world.run({ kind: 'node', node: 'node1' }, ['ip', 'route', 'show', '10.244.2.0/24'])).toMatch(
      /via 10\.244\.2\.0 dev flannel\.1 onlink/,
    );
    await expect.poll(() => page.getByTestId('pod-row-b').textContent(), { timeout: 10_000 }).toMatch(/node2/);
    for (const n of [0, 1, 2])
      expect(await page.getByTestId(`lab-step-pill-${n}`).getAttribute('class')).toMatch(/done/);
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('capture'), { timeout: 20_000 }).toBe('fail');
    expect(await page.getByTestId('lab-check-capture').innerText()).toMatch(/found\s+no capture in \/run\/vxlan\.pcap/);
    await page.screenshot({ path: join(SHOTS, 'lab-jump-two-nodes.png') });
    // the step's own commands, clicked: tcpdump on node1's eth0 (a terminal on the node), once it has
    // opened its capture file (so it is listening), pings from pod a (a terminal in the pod) through the overlay
    await page.getByTestId('lab-cmd-run-0').click();
    await expect
      .poll(async () => (await world.exec({ kind: 'node', node: 'node1' }, ['test', '-e', '/run/vxlan.pcap'])).code, {
        timeout: 60_000,
      })
      .toBe(0);
    await page.getByTestId('lab-cmd-run-1').click();
    await expect.poll(() => state('capture'), { timeout: 90_000 }).toBe('ok');
    await expect.poll(() => page.getByTestId('lab-complete').count(), { timeout: 10_000 }).toBe(1);
    expect(s.errors).toEqual([]);
  }, 400_000);

  it("lab 13: a pod terminal shows the pod's resolv.conf; the kube-dns rules make the check green", async () => {
    const { page } = s;
    if (await page.getByTestId('lab-catalogue-back').count()) await page.getByTestId('lab-catalogue-back').click();
    await page.getByTestId('lab-open-13-pod-dns').click();
    await page.getByTestId('confirm-ok').click();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 90_000 })
      .toMatch(/Step 1\/3 · The pod's resolv.conf/);
    await expect.poll(() => page.getByTestId('lab-busy').count(), { timeout: 90_000 }).toBe(0);
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('resolves'), { timeout: 30_000 }).toBe('fail');
    // the first command runs in a terminal in pod client: it shows the pod's file, not the node's
    await page.getByTestId('lab-cmd-run-0').click();
    const screenText = () =>
      page.evaluate(() => {
        const screens = window.podnetScreens;
        return ['t1', 't2', 't3', 't4', 't5', 't6'].map((i) => screens.text(i) ?? '').join('\n');
      });
    await expect
      .poll(screenText, { timeout: 20_000 })
      .toMatch(
        /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local lab\.example[\s\S]*nameserver 10\.96\.0\.10[\s\S]*options ndots:5/,
      );
    // the iptables block on node1, then the lookup in the pod
    await page.getByTestId('lab-cmd-run-2').click();
    await page.getByTestId('lab-cmd-run-3').click();
    await expect.poll(() => state('resolves'), { timeout: 30_000 }).toBe('ok');
    await expect
      .poll(screenText, { timeout: 20_000 })
      .toMatch(/10\.96\.0\.10\s+STREAM kube-dns\.kube-system\.svc\.cluster\.local/);
    await page.locator('#q-ndots').fill('5');
    await page.getByTestId('lab-question-ndots').getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => page.getByTestId('lab-question-ndots').innerText()).toMatch(/✓ 5/);
    await page.screenshot({ path: join(SHOTS, 'lab-13-pod-dns.png') });
    expect(s.errors).toEqual([]);
  }, 400_000);
});
