// End-to-end harness: the real browser host (in this process) serving the built renderer, and Debian's
// Chromium driven by playwright-core. Nothing is faked: the world, the pty and the UI are real.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createEngine, type Engine } from '../../src-main/api/engine.js';
import { TerminalService } from '../../src-main/terminal/terminal-service.js';
import { startWebHost, type WebHost } from '../../src-main/web/server.js';

export const CHROMIUM = process.env.PODNET_CHROMIUM ?? '/usr/bin/chromium';
// from test/e2e (vitest) or out/test/e2e (a compiled benchmark)
export const RENDERER = [join(import.meta.dirname, '../../out/renderer'), join(import.meta.dirname, '../../renderer')].find((d) => existsSync(join(d, 'index.html'))) ?? join(import.meta.dirname, '../../out/renderer');

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

export async function openSession(viewport = { width: 1440, height: 900 }, colorScheme: 'light' | 'dark' = 'dark'): Promise<Session> {
  const engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  const host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: RENDERER });
  const profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
  // a fresh profile each time (playwright takes the user-data dir itself, not as an argument)
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
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
