// End-to-end harness: the real browser host (in this process) serving the built renderer, and Debian's
// Chromium driven by playwright-core. Nothing is faked: the world, the pty and the UI are real.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createEngine, type Engine } from '../../src-main/engine/engine.js';
import { engineTerminals } from '../../src-main/terminal/terminal-service.js';
import { startWebHost, type WebHost } from '../../src-main/web/server.js';

export const CHROMIUM = process.env.PODNET_CHROMIUM ?? '/usr/bin/chromium';
// from test/e2e (vitest) or out/test/e2e (a compiled benchmark)
export const RENDERER =
  [join(import.meta.dirname, '../../out/renderer'), join(import.meta.dirname, '../../renderer')].find((d) =>
    existsSync(join(d, 'index.html')),
  ) ?? join(import.meta.dirname, '../../out/renderer');

/** The flags every test and benchmark gives Chromium (headless is the driver's). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

declare global {
  interface Window {
    /** What the renderer exposes to tests (src-renderer/main.tsx): a terminal's visible text, and its output pacer's counts. */
    podnetScreens: {
      text(id: string): string | null;
      pace(id: string): {
        frames: number;
        holds: number;
        batched?: number;
        deferred?: number;
        piecesWhileFrameDue?: number;
      } | null;
      /** The whole buffer, scrollback included. */
      all(id: string): string | null;
      /** xterm's warm-up after the page's load (src-renderer/terminal/warm-xterm.ts). */
      warm(): { done: boolean; stopped: boolean; bytes: number };
    };
  }
}

/**
 * A learner's progress in a folder of the test's own, never the user's: the engine's LabsPart reads
 * PODNET_PROGRESS_DIR when it is made, so call this before openSession; `done` unsets it and removes the folder.
 */
export function ownProgress(prefix: string): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env.PODNET_PROGRESS_DIR = dir;
  return {
    dir,
    done() {
      delete process.env.PODNET_PROGRESS_DIR;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The engine and the browser host on a free port, with no browser yet. */
export async function startHost(): Promise<{ engine: Engine; host: WebHost }> {
  const engine = createEngine(engineTerminals());
  return { engine, host: await startWebHost({ api: engine.api, events: engine.events, rendererDir: RENDERER }) };
}

/** Starts a world of `nodes` from the world bar and waits until it runs (no vitest here: benchmarks use it too). */
export async function startWorld(page: Page, nodes: number, timeout = 30_000): Promise<void> {
  await page.getByTestId('node-count').fill(String(nodes));
  await page.getByTestId('world-start').click();
  const t0 = Date.now();
  let state: string;
  while (!/running/i.test((state = await page.getByTestId('world-state').innerText()))) {
    if (Date.now() - t0 > timeout)
      throw new Error(`the world is not running after ${timeout} ms: the status bar says "${state}"`);
    await page.waitForTimeout(100);
  }
}

/** Types a line into terminal `id` (its xterm clicked first), then Enter. */
export async function typeIn(page: Page, id: string, text: string): Promise<void> {
  await page.locator(`[data-testid="terminal-${id}"] .xterm`).click();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/** Stops the world from the World menu, answering its confirmation (the stop asks first). */
export async function stopWorld(page: Page, timeout = 20_000): Promise<void> {
  await page.getByTestId('world-menu').click();
  await page.getByTestId('world-stop').click();
  await page.getByTestId('confirm-ok').click();
  const t0 = Date.now();
  while (!/stopped/i.test(await page.getByTestId('world-state').innerText())) {
    if (Date.now() - t0 > timeout) throw new Error(`the world did not stop within ${timeout} ms`);
    await page.waitForTimeout(100);
  }
}

export interface Session {
  engine: Engine;
  host: WebHost;
  /** Chromium's own version line. */
  chromiumVersion: string;
  context: BrowserContext;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

export async function openSession(
  viewport = { width: 1440, height: 900 },
  colorScheme: 'light' | 'dark' = 'dark',
): Promise<Session> {
  const { engine, host } = await startHost();
  const profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
  // a fresh profile each time (playwright takes the user-data dir itself, not as an argument)
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(host.url);
  return {
    engine,
    host,
    chromiumVersion: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(),
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => {});
      await host.close().catch(() => {});
      await engine.dispose().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
