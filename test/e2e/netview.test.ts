// End to end in Chromium: the live tables and the topology against the kernel. A pod created from the UI
// shows up as a veth on cni0 in the node's link table and as eth0 with its IP in the pod's; the topology
// draws the veth edge between them; a table's content equals `ip -json` read through the World API; an
// interface clicked in the topology shows its details and its row; the drawing exports as SVG and PNG.
// Screenshots (2 nodes, 4 pods) go to out/screenshots for a person to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Target, World } from '../../src-main/world/world.js';
import { openSession, startWorld, stopWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

type J = Record<string, unknown>;

/**
 * Until the table on screen equals what `ip` reads, both read again each time: the kernel's own routes
 * change after a pod's links come up (IPv6's link-local routes follow duplicate address detection), so a
 * read taken once can be behind the live table.
 */
async function untilSame<T>(onScreen: () => Promise<T>, fromIp: () => Promise<T>, ms = 5000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const got = await onScreen();
    const want = await fromIp();
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() - t0 > ms) return void expect(got).toEqual(want);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The table on screen: one object per live row (rows that just went are left out), by ip -json column name. */
async function tableRows(page: Page, table: string): Promise<Record<string, string>[]> {
  return page
    .locator(`[data-testid="nv-table-${table}"] tbody tr[data-testid="nv-row-${table}"]`)
    .evaluateAll((trs) =>
      trs.map((tr) =>
        Object.fromEntries(
          [...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-col')!, td.textContent ?? '']),
        ),
      ),
    );
}

const sortBy = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));

/** The links table as ip -json says it should read (the resolved peer column aside). */
async function expectedLinks(w: World, t: Target): Promise<Record<string, string>[]> {
  const links = JSON.parse(await w.run(t, ['ip', '-json', '-details', 'link', 'show'])) as J[];
  return links.map((l) => ({
    ifindex: String(l.ifindex),
    ifname: String(l.ifname),
    operstate: String(l.operstate),
    mtu: String(l.mtu),
    master: (l.master as string | undefined) ?? '',
    address: (l.address as string | undefined) ?? '',
    info_kind: ((l.linkinfo as J | undefined)?.info_kind as string | undefined) ?? '',
    flags: (l.flags as string[]).join(','),
  }));
}

/** The routes table as `ip -json route show table all` (v4 then v6, or one of them) says it should read. */
async function expectedRoutes(w: World, t: Target, families = ['-4', '-6']): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for (const fam of families) {
    for (const r of JSON.parse(await w.run(t, ['ip', fam, '-json', 'route', 'show', 'table', 'all'])) as J[]) {
      const s = (k: string) => (r[k] === undefined ? '' : typeof r[k] === 'string' ? r[k] : JSON.stringify(r[k]));
      out.push({
        dst: s('dst'),
        gateway: s('gateway'),
        dev: s('dev'),
        scope: s('scope'),
        protocol: s('protocol'),
        prefsrc: s('prefsrc'),
        table: r.table === undefined ? 'main' : s('table'),
        type: s('type'),
        metric: s('metric'),
      });
    }
  }
  return out;
}

const linkKey = (r: Record<string, string>) => r.ifindex!.padStart(6, '0');
const routeKey = (r: Record<string, string>) => `${r.table}|${r.dst}|${r.dev}|${r.type}`;
const withoutPeer = (rows: Record<string, string>[]) => rows.map(({ peer: _peer, ...r }) => r);

async function selectNs(page: Page, ns: string): Promise<void> {
  await expect
    .poll(() => page.locator(`[data-testid="nv-ns"] option[value="${ns}"]`).count(), { timeout: 15_000 })
    .toBe(1);
  await page.getByTestId('nv-ns').selectOption(ns);
  await page
    .getByTestId('nv-table-links')
    .or(page.getByTestId('nv-table-addrs'))
    .or(page.getByTestId('nv-table-routes'))
    .first()
    .waitFor({ timeout: 10_000 });
}

async function createPod(page: Page, name: string, node: string): Promise<string> {
  await page.getByTestId('pod-create-name').fill(name);
  await page.getByTestId('pod-create-node').selectOption(node);
  await page.getByTestId('pod-create').click();
  await expect
    .poll(
      () =>
        page
          .getByTestId(`pod-row-${name}`)
          .innerText()
          .catch(() => ''),
      { timeout: 20_000 },
    )
    .toMatch(/10\.244\.\d+\.\d+/);
  return /10\.244\.\d+\.\d+/.exec(await page.getByTestId(`pod-row-${name}`).innerText())![0];
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession({ width: 1600, height: 960 });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('live network views and the topology in Chromium', () => {
  it('a pod appears in the node and pod tables and as a veth edge; tables equal ip -json; click → details → row; export', async () => {
    const { page } = s;
    await startWorld(page, 2);
    const world = s.engine.session.runningWorld!;
    const node1: Target = { kind: 'node', node: 'node1' };

    // the node's link table, live
    await selectNs(page, 'node:node1');
    await page.getByTestId('nv-tab-links').click();
    await expect.poll(async () => (await tableRows(page, 'links')).map((r) => r.ifname)).toContain('eth0');
    const vethOnCni0 = async () =>
      (await tableRows(page, 'links')).find((r) => r.info_kind === 'veth' && r.master === 'cni0');
    const t0 = Date.now();
    const ip = await createPod(page, 'web', 'node1');
    await expect.poll(vethOnCni0, { timeout: 10_000 }).toBeTruthy();
    console.log(
      `netview e2e: the veth row was on screen ${Date.now() - t0} ms after the create click (the pod's whole SyncPod included)`,
    );
    // the peer is resolved across namespaces once the topology has both ends
    await expect.poll(async () => (await vethOnCni0())?.peer, { timeout: 5000 }).toBe('pod/web:eth0');
    const veth = (await vethOnCni0())!;

    // the node's tables equal ip -json for node1
    await expect
      .poll(async () => sortBy(withoutPeer(await tableRows(page, 'links')), linkKey), { timeout: 5000 })
      .toEqual(sortBy(await expectedLinks(world, node1), linkKey));
    await page.getByTestId('nv-tab-routes').click();
    const routesOnScreen = async () => sortBy(await tableRows(page, 'routes'), routeKey);
    // by default what `ip route` shows: the main table, IPv4
    await untilSame(routesOnScreen, async () =>
      sortBy(
        (await expectedRoutes(world, node1, ['-4'])).filter((r) => r.table === 'main'),
        routeKey,
      ),
    );
    expect(await page.locator('.nv-cmd').textContent()).toBe('ip -json route show');
    // all tables and both families one click each away
    await page.getByTestId('nv-route-tables').click();
    await page.getByTestId('nv-family').selectOption('all');
    await untilSame(routesOnScreen, async () => sortBy(await expectedRoutes(world, node1), routeKey));
    // IPv4 only, as ip -4 shows it
    await page.getByTestId('nv-family').selectOption('inet');
    await untilSame(routesOnScreen, async () => sortBy(await expectedRoutes(world, node1, ['-4']), routeKey));
    expect(await page.locator('.nv-cmd').textContent()).toBe('ip -4 -json route show table all');
    await page.getByTestId('nv-family').selectOption('all');

    // a diff that does not follow the last seq (one was lost): the renderer re-fetches the snapshot and does not apply it
    const refetches = () =>
      page.evaluate(
        () =>
          (window as unknown as { podnetNetview: { stats(): { refetches: number } } }).podnetNetview.stats().refetches,
      );
    const before = await refetches();
    const bogus = { index: 999, name: 'lost0', state: 'UP', flags: [], mtu: 1500 };
    const none = { added: [], changed: [], removed: [] };
    s.engine.events.emit('event', 'netview.diff', {
      ns: 'node:node1',
      seq: 1_000_000,
      at: Date.now(),
      diff: {
        links: { ...none, added: [{ key: '999', row: bogus }] },
        addrs: none,
        routes: none,
        neighs: none,
        fdb: none,
      },
    });
    await expect.poll(refetches, { timeout: 5000 }).toBe(before + 1);
    await page.getByTestId('nv-tab-links').click();
    await expect
      .poll(async () => sortBy(withoutPeer(await tableRows(page, 'links')), linkKey), { timeout: 5000 })
      .toEqual(sortBy(await expectedLinks(world, node1), linkKey));

    // the pod's own tables: eth0 with its IP, content equal to ip -json in the pod's netns
    await selectNs(page, 'pod:web');
    const pod = (await s.engine.api['pod.list']({})).find((p) => p.name === 'web')!;
    const podT: Target = { kind: 'pod', node: 'node1', netns: pod.netns };
    await page.getByTestId('nv-tab-links').click();
    await expect
      .poll(async () => (await tableRows(page, 'links')).find((r) => r.ifname === 'eth0')?.peer)
      .toBe(`node1:${veth.ifname}`);
    await page.getByTestId('nv-tab-addrs').click();
    await expect
      .poll(async () =>
        (await tableRows(page, 'addrs'))
          .filter((r) => r.ifname === 'eth0' && r.family === 'inet')
          .map((r) => `${r.local}/${r.prefixlen}`),
      )
      .toEqual([`${ip}/24`]);
    await page.getByTestId('nv-tab-links').click();
    await expect
      .poll(async () => sortBy(withoutPeer(await tableRows(page, 'links')), linkKey), { timeout: 5000 })
      .toEqual(sortBy(await expectedLinks(world, podT), linkKey));

    // a change in the pod made behind the UI's back: the row flashes in, then equals ip -json again
    await world.run(podT, ['ip', 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    // the new row is marked (it flashes) when it arrives
    await expect
      .poll(() => page.locator('[data-testid="nv-table-links"] tr.nv-added[data-name="probe0"]').count(), {
        timeout: 5000,
      })
      .toBe(1);
    await world.run(podT, ['ip', 'link', 'del', 'probe0']);
    await expect
      .poll(async () => (await tableRows(page, 'links')).map((r) => r.ifname), { timeout: 5000 })
      .not.toContain('probe0');

    // the topology: the veth edge between node1 and the pod
    await page.keyboard.press('Control+Shift+P');
    await page.keyboard.type('Open the world topology');
    await page.keyboard.press('Enter');
    await page.getByTestId('topology-svg').waitFor({ timeout: 10_000 });
    const edge = page.locator(`[data-testid="topo-edge-veth"][data-ends~="node:node1|${veth.ifname}"]`);
    await expect.poll(() => edge.getAttribute('data-ends'), { timeout: 10_000 }).toMatch(/pod:web\|eth0/);
    await expect.poll(() => page.getByTestId('topo-ip-pod:web').textContent(), { timeout: 5000 }).toBe(`${ip}/24`);

    // click the pod's eth0: its details, then its row in the pod's table
    await page.getByTestId('topo-port-pod:web|eth0').click();
    await expect
      .poll(() => page.getByTestId('topo-detail-peer').textContent())
      .toBe(`node1: ${veth.ifname} (#${veth.ifindex})`);
    await selectNs(page, 'node:node2');
    await page.getByTestId('topo-show-row').click();
    await expect.poll(() => page.getByTestId('nv-ns').inputValue()).toBe('pod:web');
    await expect
      .poll(() => page.locator('[data-testid="nv-table-links"] tr.nv-focus td[data-col="ifname"]').textContent(), {
        timeout: 5000,
      })
      .toBe('eth0');

    // 2 nodes, 4 pods: screenshots of the tables and the topology
    await createPod(page, 'api', 'node1');
    await createPod(page, 'db', 'node2');
    await createPod(page, 'cache', 'node2');
    await expect.poll(() => page.locator('[data-testid="topo-edge-veth"]').count(), { timeout: 10_000 }).toBe(6); // 4 pods + 2 node uplinks
    // a VXLAN tunnel between the nodes, as an overlay would make: drawn as an arch with its VNI
    for (const [a, b] of [
      ['node1', 'node2'],
      ['node2', 'node1'],
    ] as const) {
      await world.run({ kind: 'node', node: a }, [
        'ip',
        'link',
        'add',
        'vxlan42',
        'type',
        'vxlan',
        'id',
        '42',
        'remote',
        world.node(b).underlayIp,
        'dstport',
        '4789',
        'dev',
        'eth0',
      ]);
      await world.run({ kind: 'node', node: a }, ['ip', 'link', 'set', 'vxlan42', 'up']);
    }
    await expect.poll(() => page.locator('[data-testid="topo-edge-tunnel"]').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('.topo-edge-label').textContent()).toBe('VXLAN VNI 42');
    await page.getByTestId('topo-port-pod:web|eth0').click();
    await selectNs(page, 'node:node1');
    await page.getByTestId('nv-tab-links').click();
    await page.waitForTimeout(1800); // flashes fade
    await page.screenshot({ path: join(SHOTS, 'netview-topology-links-dark.png') });
    await page.getByTestId('nv-tab-routes').click();
    await page.locator('.pane-right').screenshot({ path: join(SHOTS, 'netview-routes-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await selectNs(page, 'pod:db');
    await page.getByTestId('nv-tab-addrs').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'netview-topology-addrs-light.png') });

    // exports: a standalone SVG with the pods in it, and a PNG
    const [svgDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('topo-export-svg').click()]);
    await svgDl.saveAs(join(SHOTS, 'topology-export.svg'));
    const svg = readFileSync(join(SHOTS, 'topology-export.svg'), 'utf8');
    expect(svg).toMatch(/^<\?xml[^]*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const name of ['pod web', 'pod api', 'pod db', 'pod cache', ip]) expect(svg).toContain(name);
    expect(svg).not.toContain('var(--');
    const [pngDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('topo-export-png').click()]);
    await pngDl.saveAs(join(SHOTS, 'topology-export.png'));
    expect(readFileSync(join(SHOTS, 'topology-export.png')).subarray(1, 4).toString()).toBe('PNG');

    // and from the palette
    await page.keyboard.press('Control+Shift+P');
    await page.keyboard.type('Export the topology as SVG');
    const [palDl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(palDl.suggestedFilename()).toBe('podnet-topology.svg');

    // a deleted pod leaves the views
    await page.getByTestId('pod-delete-db').click();
    await expect.poll(() => page.locator('[data-testid="topo-box-pod:db"]').count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('nv-ns').inputValue(), { timeout: 5000 }).toBe('node:node2');

    // the world stops: both views say so, and nothing of them is left running
    await stopWorld(page);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 20_000 }).toMatch(/stopped/i);
    await page.getByTestId('topology-empty').waitFor({ timeout: 5000 });
    expect(await page.locator('.pane-right').innerText()).toMatch(/Start a world to watch/);
    expect(s.errors).toEqual([]);
  }, 180_000);
});
