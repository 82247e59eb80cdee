// A control-plane lab in the app, as a learner takes it, in Debian's Chromium: lab 22 opened from the home
// screen starts its world with the control plane (the status bar follows it to ready); step 1's Run blocks
// (kubectl apply of two pods with a readiness probe in node1, their Service, then the ClusterIP asked from
// node2) turn the step's checks green; the pods panel shows the API's pods. Screenshots at 1440×900 and
// 1280×720 in out/screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, ownProgress, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;
let progress: ReturnType<typeof ownProgress>;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  progress = ownProgress('podnet-e2e-cp-');
  s = await openSession({ width: 1440, height: 900 });
}, 60_000);
afterAll(async () => {
  await s?.close();
  progress?.done();
});

describe('a lab with the control plane', () => {
  it("lab 22: the control plane starts with the lab; step 1's blocks in node1 and node2 turn its checks green", async () => {
    const { page } = s;
    const title = () => page.getByTestId('lab-step-title').innerText();
    await page.getByTestId('lab-open-22-pod-to-service').click();
    await expect.poll(title, { timeout: 90_000 }).toMatch(/Step 1\/4 · Running is not Ready/);
    const cp = page.getByTestId('control-plane-state');
    await expect.poll(() => cp.getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');

    // the step's checks: neutral until the learner acts
    const checks = () => page.locator('.lab-check').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(await checks()).toHaveLength(2);
    expect(await checks()).not.toContain('ok');

    // the pods, then the Service (node1); once the slice lists them, the ClusterIP from node2 (its own terminal)
    for (const i of [0, 1]) await page.getByTestId(`lab-cmd-run-${i}`).click();
    await expect.poll(checks, { timeout: 90_000 }).toContain('ok');
    await page.getByTestId('lab-cmd-run-2').click();
    await expect.poll(checks, { timeout: 90_000 }).toEqual(['ok', 'ok']);
    // node2's block ran in its own terminal, which may still be coming up when the checks turn green
    const tabs = () =>
      page
        .locator('.tabs [role="tab"][data-status="live"] .tab-title')
        .evaluateAll((els) => els.map((e) => e.textContent));
    await expect.poll(tabs, { timeout: 30_000 }).toEqual(['node1', 'node2']);

    // the pods panel (folded under a lab's guide): the API's pods, Running but not Ready, each on its node
    await page.locator('.left-pods > summary').click();
    for (const [pod, node] of [
      ['web-1', 'node1'],
      ['web-2', 'node2'],
    ] as const) {
      await expect
        .poll(() => page.getByTestId(`pod-row-${pod}`).innerText(), { timeout: 20_000 })
        .toMatch(new RegExp(`NotReady[\\s\\S]*${node}[\\s\\S]*10\\.244\\.\\d\\.\\d+`));
      expect(await page.getByTestId(`pod-api-${pod}`).innerText()).toBe('API');
    }
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'lab22-step1-1440.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'lab22-step1-1280.png') });
    expect(s.errors).toEqual([]);
  }, 240_000);
});
