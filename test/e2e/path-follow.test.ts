// Follow a packet, end to end in Debian's Chromium: a free-play world of 2 nodes (its control plane routes
// each node's pod CIDR to the other), a pod on each made from the pods panel; "Follow a packet…" from the
// palette and the topology's tool bar, a ping from the node1 pod to the node2 pod sent with Enter. The
// drawing's hops are the engine's (the `path.followed` event the test hears names each hop's namespace and
// interface), in the list too; a hop clicked on the drawing shows its decision; a ping to an address nowhere in the world is
// dropped on node1 and the drawing and the panel say why; `podnet path` typed in node1's terminal is drawn
// too. Screenshots at 1440×900 and 1280×720.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathResult } from '../../src-renderer/path/types.js';
import { openSession, startWorld, typeIn, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;
const followed: PathResult[] = [];

async function createPod(page: Page, name: string, node: string): Promise<string> {
  await page.getByTestId('pod-create-name').fill(name);
  await page.getByTestId('pod-create-node').selectOption(node);
  await page.getByTestId('pod-create').click();
  const row = page.getByTestId(`pod-row-${name}`);
  await expect.poll(() => row.innerText().catch(() => ''), { timeout: 30_000 }).toMatch(/10\.244\.\d+\.\d+/);
  return /10\.244\.\d+\.\d+/.exec(await row.innerText())![0];
}

/** The next result the engine announces (`path.followed`), once the page shows it too. */
async function nextFollowed(page: Page, before: number): Promise<PathResult> {
  await expect.poll(() => followed.length, { timeout: 90_000 }).toBeGreaterThan(before);
  await page.getByTestId('path-result').waitFor({ timeout: 20_000 });
  return followed[followed.length - 1]!;
}

const hopsOnDrawing = (page: Page) =>
  page.locator('[data-testid^="path-hop-"][data-at]').evaluateAll((els) =>
    els.map((e) => ({
      i: Number(e.getAttribute('data-testid')!.replace('path-hop-', '')),
      at: e.getAttribute('data-at'),
    })),
  );

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession({ width: 1440, height: 900 });
  s.engine.events.on('event', (name, payload) => {
    if (name === ('path.followed' as string)) {
      const p = payload as PathResult | { result: PathResult };
      followed.push('hops' in p ? p : p.result);
    }
  });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('follow a packet on the topology', () => {
  it('a ping pod → pod across nodes, drawn hop by hop; a hop clicked shows its decision; a drop shows its reason', async () => {
    const { page } = s;
    await startWorld(page, 2, 60_000);
    const cp = page.getByTestId('control-plane-state');
    await expect.poll(() => cp.getAttribute('data-state'), { timeout: 90_000 }).toBe('ready');
    const clientIp = await createPod(page, 'client', 'node1');
    const serverIp = await createPod(page, 'server', 'node2');
    // the control plane's route to node2's pods, in node1 (a cross-node path needs it)
    const world = s.engine.session.runningWorld!;
    await expect
      .poll(async () => world.run({ kind: 'node', node: 'node1' }, ['ip', 'route', 'show']), { timeout: 60_000 })
      .toMatch(/10\.244\.2\.0\/24 via 192\.0\.2\.12 dev eth0/);

    // the palette's "Follow a packet…": the topology beside the terminals, the form focused
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('follow a packet');
    await page.keyboard.press('Enter');
    const tool = page.getByTestId('tool-topology');
    await tool.getByTestId('topo-box-pod:server').waitFor({ timeout: 20_000 });
    const from = tool.getByTestId('path-from');
    const focused = () => from.evaluate((e) => e === document.activeElement);
    await expect.poll(focused).toBe(true);
    // the topology's own button closes the panel and opens it again, the focus in the form again
    await tool.getByTestId('topo-follow').click();
    expect(await tool.getByTestId('path-panel').count()).toBe(0);
    await tool.getByTestId('topo-follow').click();
    await expect.poll(focused).toBe(true);
    await from.selectOption('pod:client');
    await tool.getByTestId('path-to').selectOption('pod:server');
    await tool.getByTestId('path-kind-ping').check();
    // Enter sends; the panel says what it is doing while the engine follows
    const before = followed.length;
    await from.press('Enter');
    await expect(tool.getByTestId('path-progress').innerText()).resolves.toMatch(/Capturing in \d+ namespaces/);
    const r = await nextFollowed(page, before);
    expect(r.drop).toBeUndefined();
    expect(r.hops[0]!.packet.src).toBe(clientIp);
    expect(r.hops.find((h) => h.leg === 'request')!.packet.dst).toBe(serverIp);

    // the drawing's hops are the result's, in order; the list names each hop's interface
    await expect.poll(() => hopsOnDrawing(page).then((h) => h.length), { timeout: 10_000 }).toBe(r.hops.length);
    expect(await hopsOnDrawing(page)).toEqual(r.hops.map((h, i) => ({ i, at: `${h.space}|${h.ifname}` })));
    for (const [i, h] of r.hops.entries())
      expect(await tool.getByTestId(`path-hop-if-${i}`).innerText()).toBe(h.ifname);
    // every hop's interface is one the topology draws (a port, or a bridge's bar)
    for (const h of r.hops) {
      const id = `${h.space}|${h.ifname}`;
      expect(await tool.locator(`[data-testid="topo-port-${id}"], [data-testid="topo-bridge-${id}"]`).count()).toBe(1);
    }
    // the path crossed nodes: out of node1's eth0, into node2's, and the server pod's eth0 took the request in
    const ix = (space: string, ifname: string, dir: string, leg = 'request') =>
      r.hops.findIndex((h) => h.space === space && h.ifname === ifname && h.direction === dir && h.leg === leg);
    expect(ix('node:node1', 'eth0', 'out')).toBeGreaterThan(0);
    expect(ix('node:node2', 'eth0', 'in')).toBeGreaterThan(ix('node:node1', 'eth0', 'out'));
    expect(ix('pod:server', 'eth0', 'in')).toBeGreaterThan(ix('node:node2', 'eth0', 'in'));
    expect(r.hops.some((h) => h.leg === 'reply')).toBe(true);

    // a hop clicked on the drawing: its decision (node1's route lookup that sent it out of eth0) in the details
    const out = ix('node:node1', 'eth0', 'out');
    await tool.getByTestId(`path-hop-${out}`).click();
    const details = tool.getByTestId('path-hop-details');
    await expect.poll(() => details.getAttribute('aria-label')).toBe(`Hop ${out + 1}`);
    expect(await tool.getByTestId('path-detail-route-command').innerText()).toBe(r.hops[out]!.decision.route!.command);
    expect(await tool.getByTestId('path-detail-route').innerText()).toMatch(/via 192\.0\.2\.12 dev eth0/);
    expect(await tool.getByTestId('path-detail-interface').innerText()).toMatch(/^eth0/);
    expect(await tool.getByTestId(`path-hop-item-${out}`).getAttribute('aria-selected')).toBe('true');
    // the list is keyboard navigable: ArrowDown selects the next hop, and the drawing rings it
    await tool.getByTestId('path-hops').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => details.getAttribute('aria-label')).toBe(`Hop ${out + 2}`);
    expect(await tool.getByTestId(`path-hop-${out + 1}`).getAttribute('aria-pressed')).toBe('true');

    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'path-follow-ping-1440.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'path-follow-ping-1280.png') });
    await page.setViewportSize({ width: 1440, height: 900 });

    // a ping to an address nowhere in the world: node1 has no route for it; the drop is marked with its reason
    await tool.getByTestId('path-to').selectOption('__typed__');
    await tool.getByTestId('path-to-text').fill('198.51.100.7');
    const before2 = followed.length;
    await tool.getByTestId('path-to-text').press('Enter');
    const d = await nextFollowed(page, before2);
    expect(d.drop?.reason).toBe('no route');
    await expect.poll(() => tool.getByTestId('path-drop-reason').innerText()).toMatch(/no route/);
    expect(await tool.getByTestId('path-drop-reason').innerText()).toContain(d.drop!.detail);
    expect(await tool.getByTestId('path-drop').textContent()).toBe('no route');
    // the last hop where it was seen is chosen, its details say so
    expect(await tool.getByTestId('path-hop-drop').innerText()).toMatch(/Last seen here: no route/);
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(SHOTS, 'path-follow-drop-1440.png') });

    // a path followed in a terminal (`podnet path` in node1, through the engine) is drawn too, marked as such
    const tab = page.locator('.tabs [role="tab"][data-status="live"]').first();
    const term = (await tab.getAttribute('data-testid'))!.replace(/^tab-/, '');
    const before3 = followed.length;
    await typeIn(page, term, 'podnet path pod:server pod:client');
    const t = await nextFollowed(page, before3);
    expect(t.from).toBe('pod:server');
    await expect
      .poll(() => tool.getByTestId('path-title').innerText(), { timeout: 20_000 })
      .toMatch(/followed elsewhere/);
    await expect.poll(() => hopsOnDrawing(page)).toEqual(t.hops.map((h, i) => ({ i, at: `${h.space}|${h.ifname}` })));
    await page.getByTestId('tool-topology').getByTestId('path-lines').waitFor();

    // Clear removes the drawing
    await tool.getByTestId('topo-path-clear').click();
    expect(await tool.locator('[data-testid="path-markers"]').count()).toBe(0);
    expect(s.errors).toEqual([]);
  }, 300_000);
});
