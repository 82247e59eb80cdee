// End to end, in Debian's Chromium: how the editor reads when the file has problems. Every finding is
// a warning (issue #14), so the editor says above the text what containerd 2.1 will do with the file:
// a broken first file makes the node NotReady; a missing plugin loads, the node stays Ready, ADD fails.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, startWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

const setText = (page: Page, text: string) => page.evaluate((t) => window.podnetEditor!.setValue(t), text);
const editorText = (page: Page) => page.evaluate(() => window.podnetEditor?.value() ?? '');
const findings = (page: Page) =>
  page
    .getByTestId('cni-problem')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-rule'), e.getAttribute('data-finding')]));

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('warnings in the CNI config editor', () => {
  it('says what containerd does: cannot load (node NotReady), loads but ADD fails, STATUS not sent below 1.1.0', async () => {
    const { page } = s;
    await startWorld(page, 1);
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('CNI config editor');
    await page.getByTestId('palette-item-tool.open:editor').click();
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain('"name": "podnet"');
    const good = await editorText(page);
    expect(await page.getByTestId('cni-verdict').count()).toBe(0);

    // a trailing comma, saved: the marker stays a warning, the banner says the node is NotReady
    const broken = good.replace('"portMappings": true\n      }', '"portMappings": true\n      },');
    await setText(page, broken);
    await expect
      .poll(() => page.getByTestId('cni-verdict').innerText(), { timeout: 10_000 })
      .toBe(
        "containerd cannot load this file: saving it makes node1 NotReady (the first file of /etc/cni/net.d stops containerd's load)",
      );
    await page.getByTestId('cni-save').click();
    await expect
      .poll(() => page.getByTestId('node-pill-node1').getAttribute('data-ready'), { timeout: 12_000 })
      .toBe('false');
    // the CRI condition says only "cni plugin not initialized"; the load error is containerd's log, shown beside it
    expect(await page.getByTestId('node-pill-node1').getAttribute('title')).toMatch(
      /^node1: NetworkReady=false — NetworkPluginNotReady: Network plugin returns error: cni plugin not initialized · containerd's log \(crictl info, lastCNILoadStatus\): cni config load failed: failed to load CNI config list file \/etc\/cni\/net\.d\/10-podnet\.conflist: /,
    );
    await expect
      .poll(() => page.getByTestId('cni-verdict').innerText())
      .toMatch(/^containerd cannot load this file: node1 NotReady \(its config load stops at this first file/);
    expect(await page.getByTestId('cni-verdict').getAttribute('data-verdict')).toBe('cannot-load');
    expect(await findings(page)).toEqual([['syntax', 'cannot-load']]);
    expect(await page.getByTestId('cni-problem').first().innerText()).toMatch(
      /^\d+:\d+ cannot load invalid JSON: trailing comma: .*containerd cannot load this file/,
    );
    expect(await page.getByTestId('cni-problem-count').innerText()).toBe('1 warning');
    await page.screenshot({ path: join(SHOTS, 'editor-cannot-load.png') });

    // a plugin the node does not have: containerd loads the file, node1 stays Ready, ADD fails
    const missing = good.replace('"type": "portmap"', '"type": "flannel"');
    expect(missing).not.toBe(good);
    await setText(page, missing);
    await page.getByTestId('cni-save').click();
    await expect
      .poll(() => page.getByTestId('node-pill-node1').getAttribute('data-ready'), { timeout: 12_000 })
      .toBe('true');
    await expect
      .poll(() => page.getByTestId('cni-verdict').innerText(), { timeout: 10_000 })
      .toBe("containerd loads this file and node1 stays Ready, but every pod's ADD will fail: see the warnings below");
    await expect.poll(() => findings(page)).toContainEqual(['plugin-missing', 'fails-add']);
    await page.getByTestId('cni-new-name').fill('try1');
    await page.getByTestId('cni-run-ADD').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/^ADD failed/);
    expect(await page.getByTestId('cni-error-message').innerText()).toBe(
      'plugin type="flannel" failed (add): failed to find plugin "flannel" in path [/opt/cni/bin]',
    );
    await page.screenshot({ path: join(SHOTS, 'editor-plugin-missing.png') });
    await page.getByTestId('cni-run-DEL').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/^DEL /);

    // STATUS on a 1.0.0 list: libcni sends nothing and reports success; the panel says so
    await setText(page, good);
    await page.getByTestId('cni-save').click();
    await page.getByTestId('cni-run-STATUS').click();
    await expect
      .poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 })
      .toMatch(/^STATUS sent nothing[\s\S]*libcni sends no STATUS for a cniVersion 1\.0\.0 list: nothing was run/);
    expect(await page.getByTestId('cni-verdict').count()).toBe(0);
    expect(await page.getByTestId('cni-problem-count').innerText()).toBe('no problems');
    expect(s.errors).toEqual([]);
  }, 120_000);
});
