// End to end in Chromium: live views that are right. The tables follow the terminal switched to. A
// namespace made by hand in a node (lab 01's `ip netns add demo`) is live: changed from the node, its
// rows appear as the kernel has them, and the topology counts it as a netns, not a pod ("1 node").
// Routes default to what `ip route` shows, with all tables one click away; an FDB entry the bridge
// learned is marked. Screenshots at 1440×900 and 1280×720 (2 nodes, pods, a VXLAN tunnel, the routes
// and tunnels panel) go to out/screenshots. A row that went stays struck through for its own moment, however
// many changes follow it, and through a stream of changes it goes with a change, in no draw of its own.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src-main/world/world.js';
import { openSession, startWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** A column of the live rows on screen (rows that just went are left out). */
const column = (page: Page, table: string, col: string) =>
  page
    .locator(`[data-testid="nv-table-${table}"] tr[data-testid="nv-row-${table}"] td[data-col="${col}"]`)
    .allTextContents();

/** The live row whose column `col` reads `value`, as { column: text }. */
async function row(page: Page, table: string, col: string, value: string): Promise<Record<string, string> | null> {
  const rows = await page
    .locator(`[data-testid="nv-table-${table}"] tr[data-testid="nv-row-${table}"]`)
    .evaluateAll((trs) =>
      trs.map((tr) =>
        Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.col!, td.textContent ?? ''])),
      ),
    );
  return rows.find((r) => r[col] === value) ?? null;
}

async function openTopology(page: Page): Promise<void> {
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('Open the world topology');
  await page.keyboard.press('Enter');
  await page.getByTestId('topology-svg').waitFor({ timeout: 10_000 });
}

/** A session with a 1-node world running, its live views on node1's links: the page, the world and node1. */
async function node1Links(width: number, height: number) {
  s = await openSession({ width, height });
  const { page } = s;
  await startWorld(page, 1);
  const world = s.engine.session.runningWorld!;
  const node1: Target = { kind: 'node', node: 'node1' };
  await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 10_000 }).toBe('node:node1');
  await page.getByTestId('nv-tab-links').click();
  return { page, world, node1 };
}

describe('live views that are right', () => {
  it('a row that went leaves the table even while other changes keep coming; the rows then equal ip -json', async () => {
    const { page, world, node1 } = await node1Links(1440, 900);
    const gone = page.locator('[data-testid="nv-table-links"] tr[data-gone][data-name="g0"]');
    await world.run(node1, ['ip', 'link', 'add', 'g0', 'type', 'veth', 'peer', 'name', 'g0p']);
    await expect.poll(() => column(page, 'links', 'ifname'), { timeout: 10_000 }).toContain('g0');
    // the peer as the live row names it (the topology's name for it comes a moment after the row)
    await expect.poll(async () => (await row(page, 'links', 'ifname', 'g0'))?.peer, { timeout: 10_000 }).toMatch(/g0p/);
    const peer = (await row(page, 'links', 'ifname', 'g0'))!.peer;
    await world.run(node1, ['ip', 'link', 'del', 'g0']);
    await expect.poll(() => gone.count(), { timeout: 10_000 }).toBe(1);
    // struck through, it keeps that peer all the while (the topology's new names have none for a link that
    // went, and the row read "ifN" once they came): read in the page at every frame until the row goes
    const struckPeers = await page.evaluate(
      () =>
        new Promise<string[]>((done) => {
          const seen: string[] = [];
          const look = () => {
            const td = document.querySelector(
              '[data-testid="nv-table-links"] tr[data-gone][data-name="g0"] td[data-col="peer"]',
            );
            if (!td) return done(seen);
            if (seen.at(-1) !== td.textContent) seen.push(td.textContent ?? '');
            requestAnimationFrame(look);
          };
          look();
        }),
    );
    expect(struckPeers).toEqual([peer]);
    await world.run(node1, ['ip', 'link', 'add', 'g0', 'type', 'veth', 'peer', 'name', 'g0p']);
    await expect.poll(() => column(page, 'links', 'ifname'), { timeout: 10_000 }).toContain('g0');
    await world.run(node1, ['ip', 'link', 'del', 'g0']);
    await expect.poll(() => gone.count(), { timeout: 10_000 }).toBe(1);
    // a steady stream of other changes (one every 250 ms, each marking rows): g0's strike-through still ends
    let churn = true;
    const stream = (async () => {
      for (let i = 0; churn; i++) {
        await world.run(node1, ['ip', 'link', 'add', `c${i}`, 'type', 'veth', 'peer', 'name', `c${i}p`]);
        await new Promise((r) => setTimeout(r, 250));
        await world.run(node1, ['ip', 'link', 'del', `c${i}`]);
      }
    })();
    try {
      await expect.poll(() => gone.count(), { timeout: 10_000 }).toBe(0);
      // and the rows struck through are only the few of the last moments, not every one since g0
      expect(await page.locator('[data-testid="nv-table-links"] tr[data-gone]').count()).toBeLessThan(16);
    } finally {
      churn = false;
      await stream;
    }
    const names = (JSON.parse(await world.run(node1, ['ip', '-json', 'link', 'show'])) as { ifname: string }[])
      .map((l) => l.ifname)
      .sort();
    await expect.poll(async () => (await column(page, 'links', 'ifname')).sort(), { timeout: 10_000 }).toEqual(names);
  });

  it('through a stream of changes, what is due to fade goes with the next change, in no draw of its own', async () => {
    const { page, world, node1 } = await node1Links(1440, 900);
    const stats = () =>
      page.evaluate(() =>
        (
          window as unknown as { podnetNetview: { stats(): { fadesWithDiff: number; fadesAlone: number } } }
        ).podnetNetview.stats(),
      );
    const before = await stats();
    // changes as fast as the node's own shell makes them, a few ms apart (one exec for them all: no wait of
    // the engine's spawns spaces them), for longer than a mark lasts and the batch after it
    await world.run(
      node1,
      [
        'sh',
        '-c',
        'end=$(($(date +%s) + 4)); i=0; while [ "$(date +%s)" -lt "$end" ]; do ' +
          'ip link add f$i type veth peer name p$i; ip link del f$i; i=$((i + 1)); done',
      ],
      { timeoutMs: 30_000 },
    );
    // read as the stream ends: a fade of its last rows, on their own, comes only 250 ms after them
    const during = await stats();
    expect(during.fadesWithDiff).toBeGreaterThan(before.fadesWithDiff);
    // a fade drawn alone between two changes can hold up the next change's row
    expect(during.fadesAlone).toBe(before.fadesAlone);
    // and once the stream stops, the last rows that went still fade, on their own
    const gone = page.locator('[data-testid="nv-table-links"] tr[data-gone]');
    await expect.poll(() => gone.count(), { timeout: 10_000 }).toBe(0);
    expect((await stats()).fadesAlone).toBeGreaterThan(during.fadesAlone);
  });

  it('a change redraws only its own rows: the others stay the same elements; a changed row flashes anew', async () => {
    const { page, world, node1 } = await node1Links(1440, 900);
    await world.run(node1, ['ip', 'link', 'add', 'k0', 'type', 'veth', 'peer', 'name', 'k0p']);
    const links = '[data-testid="nv-table-links"]';
    await expect.poll(() => column(page, 'links', 'ifname'), { timeout: 10_000 }).toContain('k0');
    // every row on screen is tagged (a property of the element, not an attribute the page could copy)
    const tagged = () =>
      page.evaluate(
        (sel) =>
          [...document.querySelectorAll<HTMLElement>(`${sel} tr[data-name]`)]
            .filter((tr) => (tr as unknown as { kept?: true }).kept)
            .map((tr) => tr.dataset.name!)
            .sort(),
        links,
      );
    const before = await page.evaluate((sel) => {
      const rows = [...document.querySelectorAll<HTMLElement>(`${sel} tr[data-testid="nv-row-links"]`)];
      for (const tr of rows) (tr as unknown as { kept?: true }).kept = true;
      return rows.map((tr) => tr.dataset.name!).sort();
    }, links);
    expect(before).toContain('k0');
    // one exec: a link added, and k0 changed
    await world.run(node1, ['sh', '-ec', 'ip link add k1 type veth peer name k1p; ip link set k0 mtu 1400']);
    await expect.poll(() => row(page, 'links', 'ifname', 'k0'), { timeout: 10_000 }).toMatchObject({ mtu: '1400' });
    await expect.poll(() => column(page, 'links', 'ifname')).toContain('k1');
    // k0 is a new element (its flash starts again), marked changed; k1 and k1p are new, marked added
    expect(await page.locator(`${links} tr.nv-changed[data-name="k0"]`).count()).toBe(1);
    expect(await page.locator(`${links} tr.nv-added[data-name="k1"]`).count()).toBe(1);
    expect(await tagged()).toEqual(before.filter((n) => n !== 'k0'));
    // and a mark that fades leaves its row the same element
    await page.evaluate((sel) => {
      for (const tr of document.querySelectorAll(`${sel} tr[data-name^="k"]`))
        (tr as unknown as { kept?: true }).kept = true;
    }, links);
    await expect
      .poll(() => page.locator(`${links} tr.nv-added, ${links} tr.nv-changed`).count(), { timeout: 10_000 })
      .toBe(0);
    expect(await tagged()).toEqual([...before.filter((n) => n !== 'k0'), 'k0', 'k1', 'k1p'].sort());
  });

  it('a hand-made netns in a node is live and counted as a netns; routes as ip route; 1 node', async () => {
    // wide enough that the topology opened beside the terminal leaves the live views on screen (ROOM_FOR_ALL)
    s = await openSession({ width: 1680, height: 1000 });
    const { page } = s;
    await startWorld(page, 1);
    const world = s.engine.session.runningWorld!;
    const node1: Target = { kind: 'node', node: 'node1' };
    // the tables follow the terminal the learner switches to
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 10_000 }).toBe('node:node1');
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-sandbox').click();
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 10_000 }).toBe('sandbox');
    await page.getByTestId('new-terminal').click();
    await page.getByTestId('terminal-menu-item-node1').click();
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 10_000 }).toBe('node:node1');
    await openTopology(page);
    await expect.poll(() => page.getByTestId('topo-counts').textContent()).toMatch(/^1 node · 0 pods · /);

    // lab 01, as a learner types it in a node terminal
    await world.run(node1, ['ip', 'netns', 'add', 'demo']);
    const ns = 'netns:node1:demo';
    await expect
      .poll(() => page.locator(`[data-testid="nv-ns"] option[value="${ns}"]`).count(), { timeout: 10_000 })
      .toBe(1);
    await expect
      .poll(() => page.getByTestId('topo-counts').textContent())
      .toMatch(/^1 node · 0 pods · 1 other netns · /);
    await page.getByTestId('nv-ns').selectOption(ns);
    await page.getByTestId('nv-tab-links').click();
    await expect.poll(() => row(page, 'links', 'ifname', 'lo'), { timeout: 5000 }).toMatchObject({ operstate: 'DOWN' });
    await world.run(node1, ['ip', '-n', 'demo', 'link', 'set', 'lo', 'up']);
    await expect
      .poll(() => row(page, 'links', 'ifname', 'lo'), { timeout: 5000 })
      .toMatchObject({ operstate: 'UNKNOWN', flags: 'LOOPBACK,UP,LOWER_UP' });
    for (const cmd of [
      'ip -n demo link add d0 type bridge',
      'ip -n demo addr add 10.200.0.1/24 dev d0',
      'ip -n demo link set d0 up',
    ])
      await world.run(node1, ['sh', '-ec', cmd]);
    await expect
      .poll(() => row(page, 'links', 'ifname', 'd0'), { timeout: 5000 })
      .toMatchObject({ info_kind: 'bridge' });
    await page.getByTestId('nv-tab-addrs').click();
    await expect.poll(() => column(page, 'addrs', 'local'), { timeout: 5000 }).toContain('10.200.0.1');
    // routes: what `ip -n demo route` shows, and nothing of the local table until asked
    await page.getByTestId('nv-tab-routes').click();
    const ipRoute = JSON.parse(await world.run(node1, ['ip', '-n', 'demo', '-json', 'route', 'show'])) as {
      dst: string;
    }[];
    await expect.poll(() => column(page, 'routes', 'dst'), { timeout: 5000 }).toEqual(ipRoute.map((r) => r.dst));
    expect(ipRoute.map((r) => r.dst)).toEqual(['10.200.0.0/24']);
    expect(await page.locator('.nv-cmd').textContent()).toBe('ip -json route show');
    await page.getByTestId('nv-route-tables').click();
    await expect.poll(() => column(page, 'routes', 'table')).toContain('local');
    expect(await page.locator('.nv-cmd').textContent()).toBe('ip -json route show table all');
    await page.screenshot({ path: join(SHOTS, 'live-views-handmade-netns-1440.png') });
  }, 90_000);

  it('a long table draws the rows near its view: all counted, its end reached by scrolling, a far row shown from the topology', async () => {
    const { page, world, node1 } = await node1Links(1680, 1000);
    await world.run(node1, ['sh', '-ec', 'for i in $(seq 0 39); do ip link add d$i type veth peer name d${i}p; done']);
    const ipLinks = () =>
      world
        .run(node1, ['ip', '-json', 'link', 'show'])
        .then((out) => (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname));
    const links = await ipLinks();
    expect(links.length).toBeGreaterThan(80);
    const table = page.getByTestId('nv-table-links');
    // the tab and the table count every link; far fewer rows are drawn, the others stood in for by a spacer
    await expect
      .poll(() => page.locator('#nv-tab-links .count').textContent(), { timeout: 10_000 })
      .toBe(String(links.length));
    expect(await table.getAttribute('aria-rowcount')).toBe(String(links.length + 1));
    const top = await column(page, 'links', 'ifname');
    expect(top.length).toBeGreaterThan(10);
    expect(top.length).toBeLessThan(links.length);
    expect(top).toEqual(links.slice(0, top.length));
    expect(await table.locator('tr.nv-spacer[data-spacer="below"]').count()).toBe(1);
    // scrolled to its end: the last links are drawn, in ip's order, and one added there appears
    const scroller = page.locator('.right-views');
    await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(async () => (await column(page, 'links', 'ifname')).at(-1)).toBe(links.at(-1));
    const end = await column(page, 'links', 'ifname');
    expect(end).toEqual(links.slice(links.length - end.length));
    expect(await table.locator('tr.nv-spacer[data-spacer="above"]').count()).toBe(1);
    await world.run(node1, ['ip', 'link', 'add', 'dlast', 'type', 'veth', 'peer', 'name', 'dlastp']);
    await expect
      .poll(async () => (await column(page, 'links', 'ifname')).at(-1), { timeout: 10_000 })
      .toMatch(/^dlast/);
    // from the topology, a link far up the table: scrolled to, drawn and focused
    await openTopology(page);
    await page.getByTestId('topo-port-node:node1|d2').click();
    await page.getByTestId('topo-show-row').click();
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.name), { timeout: 5000 })
      .toBe('d2');
    expect(await scroller.evaluate((el) => el.scrollTop)).toBeLessThan(
      await scroller.evaluate((el) => el.scrollHeight / 2),
    );
    await page.screenshot({ path: join(SHOTS, 'live-views-long-table-1680.png') });
  }, 90_000);

  for (const [w, h] of [
    [1440, 900],
    [1280, 720],
  ] as const) {
    it(`2 nodes at ${w}×${h}: learned FDB entries marked, kind and flags on screen, the topology readable`, async () => {
      s = await openSession({ width: w, height: h });
      const { page, engine } = s;
      await startWorld(page, 2);
      const world = engine.session.runningWorld!;
      const pods: Record<string, { ip: string; netns: string }> = {};
      for (const [name, node] of [
        ['web', 'node1'],
        ['api', 'node1'],
        ['db', 'node2'],
      ] as const)
        pods[name] = await engine.api['pod.create']({ name, node });
      for (const [a, b] of [
        ['node1', 'node2'],
        ['node2', 'node1'],
      ] as const) {
        const t: Target = { kind: 'node', node: a };
        await world.run(t, [
          'sh',
          '-ec',
          `ip link add vxlan42 type vxlan id 42 remote ${world.node(b).underlayIp} dstport 4789 dev eth0 && ip link set vxlan42 up`,
        ]);
      }
      // traffic across cni0 so its FDB learns the pods' MACs
      await world.run({ kind: 'pod', node: 'node1', netns: pods.web!.netns }, [
        'ping',
        '-c',
        '1',
        '-W',
        '2',
        pods.api!.ip,
      ]);

      await page.waitForSelector('[data-testid="nv-ns"] option[value="node:node1"]', { state: 'attached' });
      await page.getByTestId('nv-ns').selectOption('node:node1');
      await page.getByTestId('nv-tab-fdb').click();
      const fdb = JSON.parse(await world.run({ kind: 'node', node: 'node1' }, ['bridge', '-json', 'fdb', 'show'])) as {
        mac: string;
        state?: string;
      }[];
      const learned = fdb.filter((f) => !f.state).map((f) => f.mac);
      expect(learned.length).toBeGreaterThan(0);
      await expect
        .poll(
          () =>
            page
              .locator('[data-testid="nv-table-fdb"] tr.nv-learned td[data-col="mac"]')
              .allTextContents()
              .then((m) => m.filter((x) => learned.includes(x)).length),
          { timeout: 5000 },
        )
        .toBe(learned.length);
      await page.getByTestId('nv-tab-links').click();
      // the columns that teach are on screen at the default width, not scrolled off to the right
      const pane = await page.locator('.nv-table-wrap').boundingBox();
      for (const col of ['info_kind', 'flags']) {
        const th = await page.locator(`[data-testid="nv-table-links"] td[data-col="${col}"]`).first().boundingBox();
        expect(th!.x + th!.width, `${col} column within the pane`).toBeLessThanOrEqual(pane!.x + pane!.width + 1);
      }
      mkdirSync(SHOTS, { recursive: true });
      await page.waitForTimeout(1800); // flashes fade
      await page.screenshot({ path: join(SHOTS, `live-views-links-${w}.png`) });
      await page.getByTestId('nv-tab-routes').click();
      await page.screenshot({ path: join(SHOTS, `live-views-routes-${w}.png`) });

      await openTopology(page);
      await expect.poll(() => page.getByTestId('topo-counts').textContent()).toMatch(/^2 nodes · 3 pods · /);
      // no text in the drawing under 11 px on screen
      await expect
        .poll(() =>
          page.evaluate(() => {
            const svg = document.querySelector<SVGSVGElement>('[data-testid="topology-svg"]')!;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return Math.min(
              ...[...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale),
            );
          }),
        )
        .toBeGreaterThanOrEqual(11);
      await page.screenshot({ path: join(SHOTS, `live-views-topology-${w}.png`) });
      await page.getByTestId('topo-routes-toggle').click();
      await expect
        .poll(() => page.getByTestId('topo-routes-node:node1').textContent(), { timeout: 5000 })
        .toContain('10.244.');
      await expect.poll(() => page.getByTestId('topo-tunnels').textContent()).toContain('VNI 42');
      await page.screenshot({ path: join(SHOTS, `live-views-topology-routes-${w}.png`) });
      expect(s.errors).toEqual([]);
    }, 120_000);
  }
});
