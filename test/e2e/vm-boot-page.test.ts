// The page the desktop window shows while the bundled VM boots (src-main/vm/boot-page.ts), in Chromium:
// each stage is added as text (a hostile line stays text), the error is shown, and it is screenshotted.
// The window itself is Electron's (not runnable here); the page and the scripts it is driven by are these.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootPageUrl, failScript, sayScript } from '../../src-main/vm/boot-page.js';
import { CHROMIUM, CHROMIUM_ARGS } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});
afterAll(async () => browser?.close());

describe('the bundled VM boot page', () => {
  it('lists each stage as text, the last one in progress, and shows a failure', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(bootPageUrl());
    await expect(page.title()).resolves.toContain('starting the bundled VM');
    const stages = [
      'booting the bundled VM (QEMU, TCG) …',
      'guest kernel 7.2.13+deb14-amd64 up after 38.1 s; starting the engine in it …',
    ];
    for (const s of stages) await page.evaluate(sayScript(s));
    const hostile = '<img src=x onerror="document.title=\'owned\'"> `${x}` "\u2028';
    await page.evaluate(sayScript(hostile));
    expect(await page.locator('#stages li').allTextContents()).toEqual([...stages, hostile]);
    expect(await page.locator('#stages img').count()).toBe(0);
    expect(await page.title()).not.toBe('owned');
    expect(await page.getByRole('status').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'vm-boot-progress.png') });

    await page.evaluate(failScript("the guest's engine listening did not happen within 900 s"));
    await expect(page.getByRole('alert').textContent()).resolves.toContain('did not happen within 900 s');
    expect(await page.getByRole('alert').isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'vm-boot-failed.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
