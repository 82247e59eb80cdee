// The control plane in the app, end to end in Debian's Chromium: a free-play world starts it in the
// background (the status bar says starting, then ready); kubectl apply in node1's terminal makes a pod
// that the pods panel and the topology show without a reload (marked as the API's, Running with its IP;
// one that fits no node stays Pending), and the timeline shows the apply on its control-plane lane with
// the kubelet's SyncPod on the same axis. Screenshots at 1440×900 and 1280×720 in out/screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, startWorld, typeIn, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

const screenText = (page: Page, id: string) => page.evaluate((i) => window.podnetScreens.all(i) ?? '', id);

async function waitForText(page: Page, id: string, re: RegExp, timeout = 60_000): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeout) {
    last = await screenText(page, id);
    if (re.test(last)) return last;
    await page.waitForTimeout(150);
  }
  throw new Error(`terminal ${id} never showed ${re}; it shows:\n${last}`);
}

/** A node terminal from the "+" menu (the untouched node1 tab "Start world" opened, or a new one): its engine id. */
async function openTerminal(page: Page, node: string): Promise<string> {
  await page.getByTestId('new-terminal').click();
  await page.getByTestId(`terminal-menu-item-${node}`).click();
  const selected = page.locator('.tabs [role="tab"][data-status="live"][aria-selected="true"]');
  await expect.poll(() => selected.locator('.tab-title').textContent(), { timeout: 15_000 }).toBe(node);
  return (await selected.getAttribute('data-testid'))!.replace(/^tab-/, '');
}

const pod = (name: string, extra = '') =>
  `printf 'apiVersion: v1\\nkind: Pod\\nmetadata: {name: ${name}, labels: {app: ${name}}}\\nspec:\\n  containers: [{name: httpd, image: busybox}]\\n${extra}' | kubectl apply -f -`;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession({ width: 1440, height: 900 });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the control plane in the app', () => {
  it('kubectl apply in node1: the pod in the pods panel and the topology, the apply on the control-plane lane', async () => {
    const { page } = s;
    await startWorld(page, 2, 30_000);
    // started in the background, after the world runs: the status bar follows it to ready
    const cp = page.getByTestId('control-plane-state');
    await expect.poll(() => cp.getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
    expect(await cp.getAttribute('title')).toMatch(
      /etcd http:\/\/192\.0\.2\.10:2379 · API server http:\/\/192\.0\.2\.10:6443/,
    );

    const t = await openTerminal(page, 'node1');
    await waitForText(page, t, /root@node1/);
    await typeIn(page, t, 'kubectl get nodes');
    await waitForText(page, t, /node1\s+Ready\s[\s\S]*node2\s+Ready\s/);
    // a Service first: the pod's Ready then reaches its EndpointSlice and kube-proxy, on the same operation
    await typeIn(
      page,
      t,
      "printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: web}\\nspec: {selector: {app: web}, ports: [{port: 80}]}\\n' | kubectl apply -f -",
    );
    await waitForText(page, t, /service\/web created/);
    await typeIn(page, t, `${pod('web')} && kubectl wait --for=condition=Ready pod/web --timeout=60s`);
    await waitForText(page, t, /pod\/web condition met/);

    // the pods panel: the API's pod, Running and Ready on its node with its IP, without a reload
    const row = page.getByTestId('pod-row-web');
    await expect.poll(() => row.innerText(), { timeout: 20_000 }).toMatch(/Ready[\s\S]*node\d[\s\S]*10\.244\.\d\.\d+/);
    expect(await page.getByTestId('pod-api-web').innerText()).toBe('API');
    // the topology draws its namespace, with its IP
    await expect
      .poll(() => page.locator('[data-testid="topo-box-pod:web"]').first().textContent(), { timeout: 20_000 })
      .toMatch(/pod web[\s\S]*10\.244\.\d\.\d+/);

    // a pod no node fits stays Pending: in the panel, and named in the topology's sandbox band
    await typeIn(page, t, pod('picky', '  nodeSelector: {disk: ssd}\\n'));
    await waitForText(page, t, /pod\/picky created/);
    await expect
      .poll(() => page.getByTestId('pod-phase-picky').getAttribute('data-phase'), { timeout: 20_000 })
      .toBe('Pending');
    expect(await page.getByTestId('pod-row-picky').innerText()).toMatch(/not scheduled/);
    await expect
      .poll(() => page.locator('[data-testid="topo-box-sandbox"]').first().textContent(), { timeout: 20_000 })
      .toMatch(/Pending, not scheduled: pod picky/);

    // the timeline: the apply's operation, its control-plane lane and the kubelet's lanes on one axis
    await page.getByTestId('toolbar-timeline').click();
    const picker = page.getByTestId('timeline-op');
    const webOp = await picker
      .locator('option')
      .evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.textContent] as const))
      .then((os) =>
        os.find(([, text]) => /API create → SyncPod default\/web|API create → SyncPod web/.test(text ?? '')),
      );
    expect(webOp, 'the apply of web is an operation of the timeline').toBeDefined();
    await picker.selectOption(webOp![0]);
    const rows = () =>
      page
        .getByTestId('timeline-step-row')
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-component')}:${e.getAttribute('data-name')}`));
    await expect.poll(async () => (await rows()).join('\n'), { timeout: 20_000 }).toMatch(/kubelet:SyncPod/);
    const names = (await rows()).filter((r) => !/^(cri|containerd|cni|kernel):/.test(r) && r !== 'kubelet:SyncPod');
    const order = [
      /^apiserver:kubectl create pods default\/web 201$/,
      /^apiserver:watch ADDED pods default\/web → .*kube-scheduler/,
      /^apiserver:kube-scheduler create pods\/binding default\/web 201$/,
      /^apiserver:kubelet patch pods\/status default\/web 200$/,
      /^apiserver:kube-controller-manager (update|create) endpointslices default\/web-\w{5} 20[01]$/,
      /^apiserver:watch MODIFIED endpointslices default\/web-\w{5} → .*kube-proxy/,
    ].map((re) => names.findIndex((n) => re.test(n)));
    expect(
      order.every((i) => i >= 0),
      names.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(await page.locator('.tl-lane-title.lane-apiserver').innerText()).toBe('control plane');
    expect(await page.locator('.tl-bar.lane-apiserver').count()).toBeGreaterThan(4);
    expect(await page.locator('.tl-bar.lane-cni').count()).toBeGreaterThan(0);
    // a request's details: who, verb, path, the code
    await page.locator('.tl-bar.lane-apiserver[data-name="kubectl create pods default/web 201"]').click();
    await expect
      .poll(() => page.getByTestId('detail-inputs').innerText(), { timeout: 10_000 })
      .toMatch(/"component": "kubectl"[\s\S]*"verb": "create"[\s\S]*"path": "\/api\/v1\/namespaces\/default\/pods"/);
    expect(await page.getByTestId('detail-outputs').innerText()).toMatch(/"code": 201/);
    await page.screenshot({ path: join(SHOTS, 'control-plane-timeline-1440.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'control-plane-timeline-1280.png') });

    // the topology as a tool, beside the terminal
    await page.getByTestId('toolbar-topology').click();
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'control-plane-topology-1280.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'control-plane-topology-1440.png') });

    // the pods panel deletes an API pod through the API: Terminating, then gone
    await page.getByTestId('pod-delete-web').click();
    await page
      .getByTestId('confirm-ok')
      .click({ timeout: 2000 })
      .catch(() => {});
    await expect.poll(() => page.getByTestId('pod-row-web').count(), { timeout: 30_000 }).toBe(0);
    expect(s.errors).toEqual([]);
  }, 240_000);
});
