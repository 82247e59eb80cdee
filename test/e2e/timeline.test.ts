// The lifecycle timeline end to end, in Debian's Chromium: step-through from the pods panel holds SyncPod
// after NewNetNS (the netns has only lo, DOWN: in the UI and in the kernel), Continue completes it, the
// steps are listed in DESIGN.md's order, a step shows its env/stdin/stdout, and a fault's leak is reported.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSnapshot } from '../../src-main/runtime/leaks.js';
import { KILLPOD_STEPS_PLUGIN, SYNCPOD_STEPS } from '../helpers.js';
import { openSession, startWorld, stopWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

const DESIGN_ORDER = SYNCPOD_STEPS;

async function stepRows(page: Page): Promise<string[]> {
  return page
    .getByTestId('timeline-step-row')
    .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-component')}:${e.getAttribute('data-name')}`));
}

async function createPod(page: Page, name: string, node: string): Promise<void> {
  await page.getByTestId('pod-create-name').fill(name);
  await page.getByTestId('pod-create-node').selectOption(node);
  await page.getByTestId('pod-create-step').uncheck();
  await page.getByTestId('pod-create').click();
  await expect.poll(() => page.getByTestId(`pod-row-${name}`).innerText(), { timeout: 20_000 }).toMatch(/Ready/);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession({ width: 1600, height: 1000 });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the lifecycle timeline in Chromium', () => {
  it('steps through SyncPod, shows the steps in order with details, and reports what a fault leaked', async () => {
    const { page } = s;
    await startWorld(page, 2, 20_000);
    const world = s.engine.session.runningWorld!;

    // create with "step through": the timeline opens, paused before SyncPod
    await page.getByTestId('pod-create-name').fill('web');
    await page.getByTestId('pod-create-node').selectOption('node1');
    await page.getByTestId('pod-create-step').check();
    await page.getByTestId('pod-create').click();
    await expect.poll(() => page.getByTestId('tool-timeline').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 15_000 }).toBe('SyncPod');
    // the header says what is modelled, and which real plugins run
    expect(await page.getByTestId('timeline-fidelity').innerText()).toMatch(
      /^Modelled: containerd 2\.1\.9 · go-cni 1\.1\.13 · libcni 1\.3\.0 · kubelet 1\.35 · with the real CNI plugins 1\.9\.1\+ds1-\d+ \(pinned\)$/,
    );

    // Next step, by button and by the F10 key, until the pause sits right after NewNetNS
    await page.getByTestId('timeline-next').click();
    // kubelet 1.35's syncPod refuses a non-hostNetwork pod first if the runtime's network is not ready
    await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 10_000 }).toBe('NetworkReady gate');
    await page.keyboard.press('F10');
    await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 10_000 }).toBe('PrepareResources');
    // the palette lists the step-through actions with their keys
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('palette-input').fill('next step');
    expect(await page.getByTestId('palette-item-timeline.next').innerText()).toMatch(/Timeline: next step[\s\S]*F10/);
    await page.getByTestId('palette-item-timeline.next').click();
    await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 10_000 }).toBe('GetPodDNS');
    for (const next of ['RunPodSandbox', 'NewNetNS', 'setupPodNetwork']) {
      await page.keyboard.press('F10');
      await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 10_000 }).toBe(next);
    }
    expect(await page.getByTestId('pause-after').innerText()).toBe('NewNetNS');
    // the UI shows the new netns as it is: only lo, DOWN
    await expect.poll(() => page.getByTestId('pause-links').innerText(), { timeout: 10_000 }).toBe('lo DOWN');
    // and so does the kernel, read through the World API
    const [op] = (await s.engine.api['timeline.list']({})).filter((o) => o.state === 'paused');
    const netns = op!.pause!.netns!;
    const links = JSON.parse(
      await world.run({ kind: 'node', node: 'node1' }, ['ip', '-json', '-n', netns.split('/').pop()!, 'link', 'show']),
    ) as { ifname: string; flags: string[] }[];
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(links[0]!.flags).not.toContain('UP');
    // and the live view of that namespace (no pod claims it yet: a pinned netns on node1) says the same
    const nsId = `netns:node1:${netns.split('/').pop()}`;
    await expect
      .poll(() => page.locator(`[data-testid="nv-ns"] option[value="${nsId}"]`).count(), { timeout: 15_000 })
      .toBe(1);
    await page.getByTestId('nv-ns').selectOption(nsId);
    await page.getByTestId('nv-tab-links').click();
    const liveRows = () =>
      page
        .locator('[data-testid="nv-table-links"] tbody tr[data-testid="nv-row-links"]')
        .evaluateAll((trs) =>
          trs.map((tr) =>
            `${tr.querySelector('td[data-col="ifname"]')?.textContent ?? tr.getAttribute('data-name')} ${tr.querySelector('td[data-col="operstate"]')?.textContent ?? ''}`.trim(),
          ),
        );
    await expect.poll(liveRows, { timeout: 15_000 }).toEqual(['lo DOWN']);
    // the bars so far: the open steps hatched, NewNetNS done
    await expect.poll(async () => page.locator('[data-testid^="timeline-bar-"][data-name="NewNetNS"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'timeline-paused-after-newnetns.png') });

    // Continue: the rest runs, the pod is Ready, the steps are in DESIGN.md's order
    await page.getByTestId('timeline-continue').click();
    await expect.poll(() => page.getByTestId('pod-row-web').innerText(), { timeout: 20_000 }).toMatch(/Ready/);
    await expect
      .poll(async () => (await stepRows(page)).filter((r) => !r.startsWith('cni:') || r === 'cni:CNI ADD'), {
        timeout: 10_000,
      })
      .toEqual(DESIGN_ORDER);
    expect(await page.getByTestId('timeline-pause').count()).toBe(0);

    // two nodes, four pods
    await createPod(page, 'api', 'node2');
    await createPod(page, 'db', 'node1');
    await createPod(page, 'cache', 'node2');
    expect(await page.locator('[data-testid^="pod-row-"]').count()).toBe(4);

    // pick web's SyncPod and a plugin exec: env, stdin and stdout, pretty-printed
    const webOp = (await s.engine.api['timeline.list']({})).find((o) => o.pod === 'web' && o.kind === 'syncPod')!;
    await page.getByTestId('timeline-op').selectOption(String(webOp.id));
    await expect.poll(async () => (await stepRows(page)).length, { timeout: 10_000 }).toBeGreaterThan(13);
    await page.locator('[data-testid="timeline-step-row"][data-name="NewNetNS"]').click();
    await expect
      .poll(() => page.getByTestId('detail-source').getAttribute('href'), { timeout: 10_000 })
      .toMatch(
        /^https:\/\/github\.com\/containerd\/containerd\/blob\/v2\.1\.9\/internal\/cri\/server\/sandbox_run\.go#L\d+$/,
      );
    await page.locator('[data-testid="timeline-step-row"][data-name="bridge ADD"]').click();
    await expect
      .poll(() => page.getByTestId('detail-env').innerText(), { timeout: 10_000 })
      .toMatch(/^CNI_COMMAND=ADD$/m);
    expect(await page.getByTestId('detail-env').innerText()).toContain(`CNI_NETNS=${netns}`);
    expect(JSON.parse(await page.getByTestId('detail-stdin').innerText())).toMatchObject({
      type: 'bridge',
      name: 'podnet',
    });
    const stdout = await page.getByTestId('detail-stdout').innerText();
    expect(stdout).toContain('\n  "ips": [');
    expect(JSON.parse(stdout).ips[0].address).toMatch(/^10\.244\.1\.\d+\/24$/);
    await page.screenshot({ path: join(SHOTS, 'timeline-two-nodes-four-pods-details.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'timeline-details-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });

    // a step-through delete from the pods panel, and F8 (Continue) runs the rest of KillPod
    await page.getByTestId('pod-step-delete-db').click();
    await expect.poll(() => page.getByTestId('pause-next').innerText(), { timeout: 10_000 }).toBe('KillPod');
    expect(await page.locator('[data-testid^="pod-row-"]').count()).toBe(4);
    await page.keyboard.press('F8');
    await expect.poll(() => page.locator('[data-testid^="pod-row-"]').count(), { timeout: 20_000 }).toBe(3);
    await expect
      .poll(async () => (await stepRows(page)).filter((r) => !r.startsWith('cni:') || r === 'cni:CNI DEL'), {
        timeout: 10_000,
      })
      .toEqual(KILLPOD_STEPS_PLUGIN);

    // a fault from the menu: portmap fails on ADD and DEL, and the IP reservation leaks
    await page.getByTestId('timeline-faults').click();
    await page.getByTestId('fault-node').selectOption('node1');
    await expect
      .poll(() => page.getByTestId('fault-plugin').locator('option').allInnerTexts(), { timeout: 10_000 })
      .toEqual(['bridge', 'portmap']);
    await page.getByTestId('fault-plugin').selectOption('portmap');
    await page.getByTestId('fault-also-del').check();
    await page.getByTestId('fault-pod-name').fill('leaky');
    expect(await page.getByTestId('fault-explain').innerText()).toMatch(
      /stays on disk under \/var\/lib\/cni\/networks/,
    );
    await page.screenshot({ path: join(SHOTS, 'timeline-fault-menu.png') });
    await page.getByTestId('fault-run').click();
    await expect
      .poll(() => page.getByTestId('timeline-leaks').innerText(), { timeout: 30_000 })
      .toMatch(/What leaked \(1\)/);
    const leak = await page.getByTestId('timeline-leaks').innerText();
    expect(leak).toMatch(
      /IP reservation podnet\/10\.244\.1\.\d+ .*\/var\/lib\/cni\/networks\/podnet\/10\.244\.1\.\d+ is still on node1's disk/,
    );
    // as the kubelet reports it (kubectl describe pod's FailedCreatePodSandBox), libcni's wording inside
    expect(await page.getByTestId('timeline-report').innerText()).toMatch(
      /✗ Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="portmap" failed \(add\): injected fault: portmap fails on ADD and DEL/,
    );
    await page.locator('[data-testid="timeline-step-row"][data-name="undo: teardown pod network (CNI DEL)"]').click();
    await page.screenshot({ path: join(SHOTS, 'timeline-fault-leak.png') });
    expect(await page.locator('[data-testid^="pod-row-"]').count()).toBe(3);

    // stopping the world ends it all
    await stopWorld(page);
    await expect.poll(() => page.getByTestId('world-state').innerText(), { timeout: 20_000 }).toMatch(/stopped/i);
    expect(hostSnapshot(world.id).processes).toEqual([]);
    expect(s.errors).toEqual([]);
  }, 180_000);
});
