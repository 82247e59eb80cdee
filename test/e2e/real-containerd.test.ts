// In the UI: a world started on the real containerd 2.1.9 (the runtime choice beside the node count);
// the status bar names the runtime, a pod made from the timeline shows containerd's CRI calls, and
// the choice is remembered for the next start.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, startWorld, stopWorld, type Session } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../out/screenshots');
let s: Session;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await openSession({ width: 1440, height: 900 }, 'dark');
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('the real containerd, in Chromium', () => {
  it('starts a free-play world on containerd 2.1.9 and says so on each node', async () => {
    const { page } = s;
    await page.getByTestId('runtime-select').selectOption('containerd');
    await startWorld(page, 1, 60_000);
    await expect.poll(() => page.getByTestId('node-runtime-node1').innerText()).toContain('containerd 2.1.9');
    // Ready from the start: NetworkReady is the real CRI Status's, asked as containerd starts
    expect(await page.getByTestId('node-pill-node1').getAttribute('data-ready')).toBe('true');
    // the engine's kubelet runs node1's pods on the real one
    const kubelet = s.engine.session.runningKubelet!;
    expect(kubelet.runtimeOf('node1')).toBe('containerd 2.1.9');
    await kubelet.syncPod({ name: 'web', node: 'node1' });
    expect(kubelet.pods.get('default/web')!.ip).toMatch(/^10\.244\.1\./);
    await page.screenshot({ path: join(SHOTS, 'real-containerd-status-1440.png') });
    await stopWorld(page);
    // remembered: the next start is on the real one too, until changed
    await page.reload();
    await expect.poll(() => page.getByTestId('runtime-select').inputValue()).toBe('containerd');
    await page.getByTestId('runtime-select').selectOption('model');
    expect(s.errors).toEqual([]);
  }, 150_000);
});
