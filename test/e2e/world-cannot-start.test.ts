// In the UI: a world that cannot start shows why and the doctor's fix, not a stack trace. Once with
// an empty plugin folder (this process's engine), once with user namespaces really denied (the browser
// host run under a seccomp filter, test/fixtures/deny-userns.c).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, openSession } from './harness.js';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'out/screenshots');
const DENY_USERNS = join(ROOT, 'out/test-fixtures/deny-userns');
const started = new Set<ChildProcess>();

beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(join(ROOT, 'out/test-fixtures'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', DENY_USERNS, join(ROOT, 'test/fixtures/deny-userns.c')]);
});
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function startAndExpectFix(page: Page, fix: RegExp, shot: string): Promise<void> {
  await page.getByTestId('world-start').click();
  await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 30_000 }).toMatch(/failed/i);
  const error = page.getByTestId('world-error');
  await expect.poll(() => error.isVisible()).toBe(true);
  expect(await page.getByTestId('world-error-fix').innerText()).toMatch(fix);
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack trace anywhere
  // the node1 terminal the start opened with it goes with the failed start (the error box says why)
  await expect.poll(() => page.locator('.tabs [role="tab"][data-status]').count()).toBe(0);
  await page.screenshot({ path: join(SHOTS, shot) });
}

describe('a world that cannot start, in Chromium', () => {
  it('an empty plugin folder: the error and the doctor’s fix', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'podnet-no-plugins-'));
    const saved = process.env.PODNET_CNI_PATH;
    process.env.PODNET_CNI_PATH = empty; // this file's own process: the engine below reads it
    const s = await openSession({ width: 1280, height: 800 }, 'light');
    try {
      await startAndExpectFix(
        s.page,
        /CNI plugins: none in PODNET_CNI_PATH[\s\S]*fix: sudo apt-get install containernetworking-plugins/,
        'world-cannot-start-no-plugins.png',
      );
      expect(await s.page.getByTestId('world-error').innerText()).toContain('no CNI plugins found');
      expect(s.errors).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.PODNET_CNI_PATH;
      else process.env.PODNET_CNI_PATH = saved;
      await s.close();
      rmSync(empty, { recursive: true, force: true });
    }
  }, 90_000);

  it('user namespaces denied: the error and the doctor’s fix', async () => {
    const web = spawn(DENY_USERNS, [process.execPath, join(ROOT, 'out/src-main/web/main.js')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.add(web);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      web.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      web.once('exit', (c) => reject(new Error(`the web host exited (${c}): ${out}`)));
    });
    const profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      colorScheme: 'dark',
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await startAndExpectFix(
        page,
        /user namespaces \(unshare -Urnm --pid, lo up\): unshare: unshare failed: Operation not permitted\n\s*fix: /,
        'world-cannot-start-userns-denied.png',
      );
      expect(await page.getByTestId('world-error').innerText()).toContain('Operation not permitted');
      expect(errors).toEqual([]);
    } finally {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
      web.kill('SIGTERM');
      await new Promise((r) => (web.exitCode !== null || web.signalCode !== null ? r(null) : web.once('exit', r)));
    }
  }, 90_000);
});
