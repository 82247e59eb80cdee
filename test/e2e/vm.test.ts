// The browser host in VM mode, end to end in Debian's Chromium: `npm run web -- --vm` boots the bundled VM
// (TCG here), the page is the guest engine's, reached over the forwarded loopback port with the token; lab 1
// builds its world in the guest, a terminal on node1 runs the step's command, and the check turns green. The
// learner's progress is written through the 9p share to the host's progress folder, outlives the VM, and the
// next boot reads it back; an app killed without a word takes its VM with it.
// Its own test group (npm run test:vm, two boots): the image must be built first (npm run vm:build).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostArch } from '../../src-main/vm/guest-spec.js';
import { IMAGE_FILES, imageDir } from '../../src-main/vm/image.js';
import { isAlive } from '../../src-main/world/procfs.js';
import { podnetQemus } from '../helpers.js';
import { CHROMIUM, CHROMIUM_ARGS } from './harness.js';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'out/screenshots');
const LAB = '01-network-namespaces';
let context: BrowserContext;
let profile: string;
/** The host's progress folder for both boots (the guest's engine keeps progress there, through 9p). */
let progressDir: string;
const errors: string[] = [];

async function gone(pid: number): Promise<boolean> {
  const t0 = Date.now();
  while (isAlive(pid) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 200));
  return !isAlive(pid);
}

interface Boot {
  host: ChildProcess;
  out: () => string;
  url: string;
  qemu: number;
  page: Page;
}
let boot: Boot | undefined;

/** The browser host as `npm run web -- --vm` starts it, its VM ready, and a page on the URL it prints. */
async function bootHost(): Promise<Boot> {
  const before = podnetQemus('web');
  const host = spawn(process.execPath, [join(ROOT, 'out/src-main/web/main.js'), '--vm'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PODNET_PROGRESS_DIR: progressDir },
  });
  let out = '';
  host.stdout.setEncoding('utf8');
  host.stderr.setEncoding('utf8');
  host.stderr.on('data', (d: string) => (out += d));
  const url = await new Promise<string>((res, rej) => {
    host.stdout.on('data', (d: string) => {
      out += d;
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    host.once('exit', (c) => rej(new Error(`npm run web -- --vm exited (${c}) before the engine was ready:\n${out}`)));
  });
  const mine = podnetQemus('web').filter((p) => !before.includes(p));
  expect(mine).toHaveLength(1);
  const page = context.pages()[0] ?? (await context.newPage());
  // the last boot's page lost its engine when that VM ended, and keeps trying to reconnect: leave it
  // first, so none of its refused connections lands among this boot's errors
  await page.goto('about:blank');
  errors.length = 0;
  await page.goto(url);
  return { host, out: () => out, url, qemu: mine[0]!, page };
}

beforeAll(async () => {
  if (!existsSync(join(imageDir(hostArch()), IMAGE_FILES.initrd)))
    throw new Error('no VM image: run "npm run vm:build" (npm run test:vm builds it first)');
  mkdirSync(SHOTS, { recursive: true });
  progressDir = mkdtempSync(join(tmpdir(), 'podnet-e2e-progress-'));
  profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1500, height: 950 },
    colorScheme: 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
}, 120_000);

/** On a failure: what the page showed and said, and what the host printed. */
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  await boot?.page.screenshot({ path: join(SHOTS, 'vm-failure.png') }).catch(() => {});
  console.error('page errors:', errors, '\nhost output:', boot?.out());
});

afterAll(async () => {
  await context?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  boot?.host.kill('SIGKILL'); // only if a test below did not end it (its watchdog then ends the VM)
  if (progressDir) rmSync(progressDir, { recursive: true, force: true });
});

const progressFile = () => join(progressDir, `${LAB}.json`);
const progressOnHost = (): { lab: string; done: number[] } | undefined => {
  try {
    return JSON.parse(readFileSync(progressFile(), 'utf8')) as { lab: string; done: number[] };
  } catch {
    return undefined;
  }
};

describe('the browser host in VM mode (QEMU; TCG on this machine)', () => {
  it('lab 1 in the guest: its world starts, a node1 terminal runs the step, the check turns green; the progress is on the host after Ctrl-C ends the VM', async () => {
    boot = await bootHost();
    const { page } = boot;
    expect(boot.out()).toMatch(/Podnet Lab is running in the bundled VM \(guest kernel \S+\)/);
    expect(boot.out()).toContain(`the learner's progress: on the host (${progressDir})`);
    // the page took the token from its URL and dropped it
    await expect.poll(() => page.url()).not.toMatch(/token=/);
    await expect
      .poll(() => page.getByTestId(`lab-open-${LAB}`).getAttribute('data-progress'), { timeout: 120_000 })
      .toBe('new');
    await page.getByTestId(`lab-open-${LAB}`).click();
    await expect
      .poll(() => page.getByTestId('lab-step-title').innerText(), { timeout: 600_000, interval: 1000 })
      .toMatch(/An empty network namespace/);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 600_000 }).toMatch(/running/i);
    await page.getByTestId('lab-check-button').click();
    const state = (id: string) => page.getByTestId(`lab-check-${id}`).getAttribute('data-state');
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
    const guestKernel = /guest kernel (\S+)\)/.exec(boot.out())![1]!;
    expect(guestKernel).not.toBe(hostKernel);
    await expect
      .poll(() => page.locator('[data-testid^="terminal-"] .xterm-rows').first().innerText(), { timeout: 120_000 })
      .toContain(guestKernel);
    await page.screenshot({ path: join(SHOTS, 'vm-lab-green-check.png') });
    expect(errors).toEqual([]);
    // the step is done: the guest's engine wrote it to the host's folder, through the share
    await expect.poll(() => progressOnHost()?.done, { timeout: 120_000 }).toContain(0);

    // Ctrl-C on the host: the VM ends with it, nothing left, and the progress stays on the host
    boot.host.kill('SIGINT');
    await new Promise((r) => boot!.host.once('exit', r));
    expect(await gone(boot.qemu)).toBe(true);
    expect(progressOnHost()).toMatchObject({ lab: LAB, done: [0] });
    // what the guest made is a plain file of this host's user, mode 0600 (no owner or mode of the guest's)
    const { uid, mode } = statSync(progressFile());
    expect(uid).toBe(process.getuid!());
    expect(mode & 0o7777).toBe(0o600);
  }, 2_400_000);

  it('the next boot reads the progress back; one loopback forward with the token; an app killed without a word takes its VM', async () => {
    boot = await bootHost();
    const { page, url, qemu } = boot;
    // the lab's card shows the step done in the first boot
    const card = page.getByTestId(`lab-open-${LAB}`);
    await expect.poll(() => card.getAttribute('data-progress'), { timeout: 120_000 }).toBe('started');
    expect(await card.getAttribute('aria-label')).toMatch(/— 1 of \d+ steps done/);
    await page.screenshot({ path: join(SHOTS, 'vm-progress-read-back.png') });

    // QEMU listens on loopback only, forwards nothing else, and shares the progress folder only
    const args = readFileSync(`/proc/${qemu}/cmdline`, 'utf8').split('\0');
    const netdev = args[args.indexOf('-netdev') + 1]!;
    expect(netdev).toMatch(/restrict=on/);
    expect(netdev.match(/hostfwd=/g)).toHaveLength(1);
    const port = Number(new URL(url).port);
    expect(netdev).toMatch(new RegExp(`hostfwd=tcp:127\\.0\\.0\\.1:${port}-`));
    expect(args.filter((a) => a === '-virtfs' || a === '-fsdev' || a === '-drive' || a === '-hda')).toEqual([
      '-virtfs',
    ]);
    expect(args[args.indexOf('-virtfs') + 1]).toMatch(
      new RegExp(`^local,id=progress,path=${progressDir},mount_tag=\\S+,security_model=mapped-file,`),
    );
    // the guest's engine serves the page on the forwarded port; another Host name is refused
    // (node:http: fetch does not let a caller set Host)
    expect((await fetch(url)).status).toBe(200);
    const other = await new Promise<number>((res, rej) =>
      get({ host: '127.0.0.1', port, path: '/', headers: { Host: 'evil.example' } }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      }).once('error', rej),
    );
    expect(other).toBe(403);
    expect(errors).toEqual([]);

    // the app dies without a word: its watchdog kills QEMU and removes the VM's temporary folder
    const temp = readdirSync(tmpdir()).filter(
      (f) => f.startsWith('podnet-vm-') && existsSync(join(tmpdir(), f, 'qemu.pid')),
    );
    const ours = temp.find((f) => readFileSync(join(tmpdir(), f, 'qemu.pid'), 'utf8').trim() === String(qemu));
    expect(ours).toBeDefined();
    boot.host.kill('SIGKILL');
    expect(await gone(qemu)).toBe(true);
    await expect.poll(() => existsSync(join(tmpdir(), ours!)), { timeout: 10_000 }).toBe(false);
  }, 1_200_000);
});
