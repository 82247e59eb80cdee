// A workshop room end to end in Debian's Chromium, the server in this process: the flow of
// test/e2e/workshop-flow.ts. Screenshots in out/screenshots/workshop-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkshop } from '../../src-main/workshop/workshop-server.js';
import { RENDERER } from './harness.js';
import { workshopFlow } from './workshop-flow.js';

workshopFlow('a workshop room in Chromium', async () => {
  const state = mkdtempSync(join(tmpdir(), 'podnet-e2e-workshop-'));
  const w = await startWorkshop({ seats: 4, idleMs: 60 * 60_000, stateDir: state, rendererDir: RENDERER });
  return {
    joinUrl: w.joinUrl,
    instructorUrl: w.instructorUrl,
    inProcess: w,
    close: async () => {
      await w.close();
      rmSync(state, { recursive: true, force: true });
    },
  };
});
