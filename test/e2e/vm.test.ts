// The browser host in VM mode, end to end in Debian's Chromium: `npm run web -- --vm` boots the bundled VM
// (TCG here), the page is the guest engine's, reached over the forwarded loopback port with the token; lab 1
// builds its world in the guest, a terminal on node1 runs the step's command, and the check turns green.
// Its own test group (npm run test:vm): the image must be built first (npm run vm:build).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostArch } from '../../src-main/vm/guest-spec.js';
import { IMAGE_FILES, imageDir } from '../../src-main/vm/image.js';
import { CHROMIUM, CHROMIUM_ARGS } from './harness.js';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'out/screenshots');
let host: ChildProcess;
let hostOut = '';
let context: BrowserContext;
let page: Page;
let profile: string;
let url: string;
const errors: string[] = [];

/** QEMU processes of podnet's VMs in web mode. */
function webQemus(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.startsWith('qemu-system') && cmd.includes('podnet.mode=web');
      } catch {
        return false;
      }
    })
    .map(Number);
}
let before: number[] = [];

beforeAll(async () => {
  if (!existsSync(join(imageDir(hostArch()), IMAGE_FILES.initrd)))
    throw new Error('no VM image: run "npm run vm:build" (npm run test:vm builds it first)');
  mkdirSync(SHOTS, { recursive: true });
  before = webQemus();
  // the browser host as `npm run web -- --vm` starts it
  host = spawn(process.execPath, [join(ROOT, 'out/src-main/web/main.js'), '--vm'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  host.stdout!.setEncoding('utf8');
  host.stderr!.setEncoding('utf8');
  host.stderr!.on('data', (d: string) => (hostOut += d));
  url = await new Promise<string>((res, rej) => {
    host.stdout!.on('data', (d: string) => {
      hostOut += d;
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(hostOut);
      if (m) res(m[1]!);
    });
    host.once('exit', (c) =>
      rej(new Error(`npm run web -- --vm exited (${c}) before the engine was ready:\n${hostOut}`)),
    );
  });
  profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1500, height: 950 },
    colorScheme: 'dark',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
}, 1_000_000);

/** On a failure: what the page showed and said, and what the host printed. */
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  await page?.screenshot({ path: join(SHOTS, 'vm-failure.png') }).catch(() => {});
  console.error('page errors:', errors, '\nhost output:', hostOut);
});

afterAll(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  host?.kill('SIGKILL'); // only if the test below did not end it
});

const state = (id: string) => page.getByTestId(`lab-check-${id}`).getAttribute('data-state');

describe('the browser host in VM mode (QEMU; TCG on this machine)', () => {
  it('lab 1 in the guest: its world starts, a node1 terminal runs the step, the check turns green; Ctrl-C ends the VM', async () => {
    expect(hostOut).toMatch(/Podnet Lab is running in the bundled VM \(guest kernel \S+\)/);
    // the page took the token from its URL and dropped it
    await expect.poll(() => page.url()).not.toMatch(/token=/);
    await page.getByTestId('lab-open-01-network-namespaces').click();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 600_000, interval: 1000 })
      .toMatch(/An empty network namespace/);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 600_000 }).toMatch(/running/i);
    await page.getByTestId('lab-check-button').click();
    await expect.poll(() => state('lo-down'), { timeout: 300_000 }).toBe('fail');
    // the step's command, clicked: a terminal on node1 opens in the guest's world and runs it
    await page.getByTestId('lab-cmd-run-0').click();
    await expect.poll(() => page.locator('[data-testid^="tab-t"]').count(), { timeout: 300_000 }).toBe(1);
    await expect.poll(() => state('lo-down'), { timeout: 300_000, interval: 1000 }).toBe('ok');
    // the terminal is the guest's: its kernel is Debian's, not this host's
    const term = page.locator('[data-testid^="terminal-"] .xterm').first();
    await term.click();
    await page.keyboard.type('uname -r');
    await page.keyboard.press('Enter');
    const hostKernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const guestKernel = /guest kernel (\S+)\)/.exec(hostOut)![1]!;
    expect(guestKernel).not.toBe(hostKernel);
    await expect
      .poll(() => page.locator('[data-testid^="terminal-"] .xterm-rows').first().innerText(), { timeout: 120_000 })
      .toContain(guestKernel);
    await page.screenshot({ path: join(SHOTS, 'vm-lab-green-check.png') });
    expect(errors).toEqual([]);

    // Ctrl-C on the host: the VM ends with it, nothing left
    const mine = webQemus().filter((p) => !before.includes(p));
    expect(mine).toHaveLength(1);
    host.kill('SIGINT');
    await new Promise((r) => host.once('exit', r));
    const t0 = Date.now();
    while (existsSync(`/proc/${mine[0]}`) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(`/proc/${mine[0]}`)).toBe(false);
  }, 2_400_000);
});
