// The catalogue in Chromium follows the labs folder: a lab folder an author makes appears on the open
// page, and one removed goes, with no reload (the engine watches the folder and pushes lab.catalogue).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, ownProgress, type Session } from './harness.js';

const LABS = join(import.meta.dirname, '../../labs');
const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;
let shelf: string;
let progress: ReturnType<typeof ownProgress>;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  shelf = mkdtempSync(join(tmpdir(), 'podnet-e2e-shelf-'));
  progress = ownProgress('podnet-e2e-progress-');
  cpSync(join(LABS, '01-network-namespaces'), join(shelf, '01-network-namespaces'), { recursive: true });
  // the engine's LabsPart reads it when it is made
  process.env.PODNET_LABS_DIR = shelf;
  s = await openSession({ width: 1440, height: 900 });
}, 60_000);
afterAll(async () => {
  await s?.close();
  delete process.env.PODNET_LABS_DIR;
  progress?.done();
  rmSync(shelf, { recursive: true, force: true });
});

describe('the catalogue in Chromium', () => {
  it('shows a new lab folder, then drops it when removed, without a reload', async () => {
    const { page } = s;
    await expect.poll(() => page.getByTestId('lab-open-01-network-namespaces').count(), { timeout: 20_000 }).toBe(1);
    // nothing reloads the page from here: a marker set now must still be there at the end
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const lab = join(shelf, '20-my-lab');
    mkdirSync(lab);
    cpSync(join(LABS, '01-network-namespaces', 'steps'), join(lab, 'steps'), { recursive: true });
    const yaml = readFileSync(join(LABS, '01-network-namespaces', 'lab.yaml'), 'utf8');
    writeFileSync(join(lab, 'lab.yaml'), yaml.replace(/^title: .*$/m, 'title: My own lab'));
    await expect.poll(() => page.getByTestId('lab-open-20-my-lab').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByText('My own lab').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'catalogue-new-lab.png') });
    rmSync(lab, { recursive: true });
    await expect.poll(() => page.getByTestId('lab-open-20-my-lab').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(s.errors).toEqual([]);
  }, 120_000);
});
