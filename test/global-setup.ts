// The test run's state folder (vitest.config.ts): removed when the run ends.
import { rmSync } from 'node:fs';

export default function setup(): () => void {
  return () => {
    const dir = process.env.PODNET_TEST_STATE_HOME;
    if (dir && /podnet-test-state-/.test(dir)) rmSync(dir, { recursive: true, force: true });
  };
}
