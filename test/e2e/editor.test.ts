// End to end, in Debian's Chromium: node1's CNI config in the Monaco editor. Break it (a trailing comma,
// then a gateway outside the subnet) and see the marker on the right line; fix it; run ADD on a new pod
// and see its IP and the plugin outputs; remove every config and see node1 become NotReady; restore it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, startWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

type Marker = { owner: string; line: number; severity: string; message: string };
const markers = (page: Page) => page.evaluate<Marker[]>(() => window.podnetEditor?.markers() ?? []);
const setText = (page: Page, text: string) => page.evaluate((t) => window.podnetEditor!.setValue(t), text);
const editorText = (page: Page) => page.evaluate(() => window.podnetEditor?.value() ?? '');
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

declare global {
  interface Window {
    podnetEditor?: {
      value(): string;
      setValue(text: string): void;
      focusAt(line: number, column: number): void;
      markers(): Marker[];
    };
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the CNI config editor in Chromium', () => {
  it('edits, validates, runs ADD, and follows NetworkReady', async () => {
    const { page } = s;
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await startWorld(page, 2);

    // opened from the palette, with node1's config loaded in Monaco
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('CNI config editor');
    await page.getByTestId('palette-item-tool.open:editor').click();
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain('"name": "podnet"');
    await expect.poll(() => page.getByTestId('cni-file-10-podnet.conflist').innerText()).toMatch(/network/);
    const good = await editorText(page);
    // Monaco drew it: the editor's own view lines are in the DOM
    await expect.poll(() => page.locator('.cni-monaco .view-line').count()).toBeGreaterThan(10);

    // a trailing comma: Monaco's JSON marker and the engine's problem, on the comma's line
    const comma = good.replace('"portMappings": true\n      }', '"portMappings": true\n      },');
    const commaLine = lineOf(comma, '},\n    }');
    await setText(page, comma);
    await expect
      .poll(
        async () =>
          (await markers(page)).filter((m) => m.owner === 'json' && m.severity === 'error').map((m) => m.line),
        { timeout: 10_000 },
      )
      .toContain(commaLine);
    await expect
      .poll(() => page.locator('[data-testid="cni-problem"][data-rule="syntax"]').getAttribute('data-line'))
      .toBe(String(commaLine));

    // a gateway outside the subnet: the engine's semantic marker on the gateway's line
    const gw = good.replace(
      '"subnet": "10.244.1.0/24"',
      '"subnet": "10.244.1.0/24",\n              "gateway": "10.244.2.1"',
    );
    const gwLine = lineOf(gw, '"gateway"');
    await setText(page, gw);
    await expect
      .poll(async () => (await markers(page)).filter((m) => m.owner === 'podnet').map((m) => [m.line, m.message]), {
        timeout: 10_000,
      })
      .toEqual([
        [
          gwLine,
          'containerd loads this file (libcni decodes only name, cniVersion, type and the other generic fields), but ADD will fail: gateway 10.244.2.1 is outside the subnet 10.244.1.0/24',
        ],
      ]);
    // a warning (issue #14): containerd loads the file; the banner says what that means for node1
    await expect.poll(() => page.locator('.cni-monaco .squiggly-warning').count()).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('cni-verdict').innerText())
      .toBe("containerd loads this file and node1 stays Ready, but every pod's ADD will fail: see the warnings below");
    await page.screenshot({ path: join(SHOTS, 'editor-error-marker.png') });

    // the schemas in Monaco: hover documents a field in the plugin docs' words; completion offers fields
    await setText(page, good);
    await page.locator('.cni-monaco .view-line span', { hasText: '"isGateway"' }).first().hover();
    await expect
      .poll(() => page.locator('.monaco-hover:not(.hidden)').innerText(), { timeout: 10_000 })
      .toContain('Assign an IP address to the bridge');
    const partial = good.replace('"bridge": "cni0",', '"bridge": "cni0",\n      "hair": true,');
    await setText(page, partial);
    await page.evaluate(
      ([l, c]) => window.podnetEditor!.focusAt(l!, c!),
      [lineOf(partial, '"hair"'), partial.split('\n')[lineOf(partial, '"hair"') - 1]!.indexOf('"hair"') + 6],
    );
    await page.keyboard.press('Control+Space');
    await expect.poll(() => page.locator('.suggest-widget').innerText(), { timeout: 10_000 }).toContain('hairpinMode');
    await page.keyboard.press('Escape');

    // fixed: no markers, and Ctrl+S saves (formatted) with nothing to report
    await setText(page, good);
    await expect.poll(async () => (await markers(page)).length, { timeout: 10_000 }).toBe(0);
    await page.locator('.cni-monaco .view-line').first().click();
    await page.keyboard.press('Control+S');
    await expect.poll(() => page.getByTestId('cni-problem-count').innerText()).toBe('no problems');
    await expect.poll(() => page.getByTestId('cni-current').innerText()).not.toContain('●');

    // ADD on a new pod: its IP and each plugin's output
    await page.getByTestId('cni-new-name').fill('try1');
    await page.getByTestId('cni-run-ADD').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/ADD succeeded/);
    const ip = await page.getByTestId('cni-ip').first().innerText();
    expect(ip).toMatch(/^10\.244\.1\.\d+\/24 via 10\.244\.1\.1$/);
    expect(await page.getByTestId('cni-exec').locator('summary').allInnerTexts()).toEqual([
      expect.stringMatching(/^bridge ADD · exit 0/),
      expect.stringMatching(/^portmap ADD · exit 0/),
    ]);
    expect(await page.getByTestId('cni-exec-stdout').first().innerText()).toContain(ip.split(' ')[0]!);
    expect(await page.getByTestId('cni-diff').innerText()).toMatch(
      new RegExp(`pod addr eth0 ${ip.split(' ')[0]!.replace(/\./g, '\\.')}`),
    );
    // the kernel agrees: the editor's namespace has that address
    const world = s.engine.session.runningWorld!;
    expect(
      await world.run({ kind: 'pod', node: 'node1', netns: '/run/netns/editor-try1' }, [
        'ip',
        '-br',
        'addr',
        'show',
        'eth0',
      ]),
    ).toContain(ip.split(' ')[0]!);
    await page.screenshot({ path: join(SHOTS, 'editor-run-panel-add.png') });

    // the same panel in the light theme
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('Toggle light');
    await page.getByTestId('palette-item-theme.toggle').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.screenshot({ path: join(SHOTS, 'editor-run-panel-add-light.png') });

    // DEL takes it down again
    await page.getByTestId('cni-run-DEL').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/DEL succeeded/);

    // a cniVersion the plugins (1.9.1: up to 1.1.0) do not speak: the node's check marks it, and ADD shows
    // the plugin's own error, code 1, in libcni's words
    const v11 = good.replace('"cniVersion": "1.0.0"', '"cniVersion": "1.2.0"');
    await setText(page, v11);
    await expect
      .poll(async () => (await markers(page)).filter((m) => m.owner === 'podnet').map((m) => m.line), {
        timeout: 10_000,
      })
      .toContain(lineOf(v11, '"type": "bridge"'));
    await page.getByTestId('cni-new-name').fill('try2');
    await page.getByTestId('cni-run-ADD').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/ADD failed/);
    expect(await page.getByTestId('cni-error').innerText()).toMatch(
      /^bridge: code 1 — Incompatible CNI version\nplugin type="bridge" failed \(add\): incompatible CNI versions; config is "1\.2\.0"/,
    );
    await page.screenshot({ path: join(SHOTS, 'editor-run-panel-error.png') });
    await setText(page, good);
    await page.getByTestId('cni-run-DEL').click();
    await expect.poll(() => page.getByTestId('cni-outcome').innerText(), { timeout: 30_000 }).toMatch(/DEL succeeded/);
    expect(await page.getByTestId('cni-target').inputValue()).toBe('new');

    // a second file from a template; its unsaved edits survive switching files; then it goes
    await page.getByTestId('cni-new').click();
    await page.getByTestId('cni-dialog-name').fill('20-spare.conflist');
    await page.getByTestId('cni-template').selectOption({ label: 'ptp + host-local' });
    await page.getByTestId('cni-dialog-ok').click();
    await expect.poll(() => editorText(page), { timeout: 10_000 }).toContain('"type": "ptp"');
    await expect
      .poll(() => page.getByTestId('cni-file-20-spare.conflist').getAttribute('title'))
      .toMatch(/another file sorts first/);
    const edited = (await editorText(page)).replace('"ptpnet"', '"edited"');
    await setText(page, edited);
    await page.getByTestId('cni-file-10-podnet.conflist').click();
    await expect.poll(() => editorText(page)).toContain('"name": "podnet"');
    await expect.poll(() => page.getByTestId('cni-file-20-spare.conflist').innerText()).toContain('●');
    await page.getByTestId('cni-file-20-spare.conflist').click();
    await expect.poll(() => editorText(page)).toBe(edited);
    await page.getByTestId('cni-delete').click();
    await page.getByTestId('cni-dialog-ok').click();
    await expect.poll(() => page.getByTestId('cni-file-20-spare.conflist').count()).toBe(0);
    await page.getByTestId('cni-file-10-podnet.conflist').click();
    await expect.poll(() => editorText(page)).toContain('"name": "podnet"');

    // every config removed: node1 becomes NotReady within one status interval
    await page.getByTestId('cni-delete').click();
    await page.getByTestId('cni-dialog-ok').click();
    await expect.poll(() => page.getByTestId('cni-file-10-podnet.conflist').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('node-pill-node1').getAttribute('data-ready'), { timeout: 12_000 })
      .toBe('false');
    // containerd 2.1's words: go-cni has no config loaded
    expect(await page.getByTestId('node-pill-node1').getAttribute('title')).toBe(
      "node1: NetworkReady=false — NetworkPluginNotReady: Network plugin returns error: cni plugin not initialized · containerd's log (crictl info, lastCNILoadStatus): cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config",
    );

    // restored: a new file from the bridge + host-local template, edited to node1's subnet, saved
    await page.getByTestId('cni-new').click();
    await page.getByTestId('cni-dialog-name').fill('10-podnet.conflist');
    await page.getByTestId('cni-dialog-ok').click();
    await expect.poll(() => editorText(page), { timeout: 10_000 }).toContain('"type": "bridge"');
    await setText(page, good);
    await page.getByTestId('cni-save').click();
    await expect
      .poll(() => page.getByTestId('node-pill-node1').getAttribute('data-ready'), { timeout: 12_000 })
      .toBe('true');
    expect(s.errors).toEqual([]);
    // Monaco, its workers and its font came from the app's own host: nothing else was asked for
    expect(requests.filter((u) => !u.startsWith(new URL(s.host.url).origin) && !u.startsWith('data:'))).toEqual([]);
    expect(requests.some((u) => /json\.worker-[\w-]+\.js$/.test(u))).toBe(true);
  }, 180_000);
});
