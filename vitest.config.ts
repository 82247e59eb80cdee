import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// A learner's progress lives under XDG_STATE_HOME (src-main/labs/progress.ts): a test that opens a lab
// without a folder of its own writes to one of the run's, never to the user's (test/global-setup.ts removes it).
const stateHome = (process.env.PODNET_TEST_STATE_HOME ??= mkdtempSync(join(tmpdir(), 'podnet-test-state-')));

export default defineConfig({
  test: {
    include: ['src-main/**/*.test.ts', 'test/**/*.test.ts'],
    // the bundled VM's tests boot QEMU (minutes under TCG): their own group, npm run test:vm
    // so do the workshop's container image and Kubernetes manifests' (podman, a kubectl dry run): npm run test:workshop-image
    exclude: [
      '**/node_modules/**',
      ...(process.env.PODNET_VM_TESTS ? [] : ['test/vm.test.ts', 'test/e2e/vm.test.ts']),
      ...(process.env.PODNET_WORKSHOP_IMAGE_TESTS
        ? []
        : ['test/e2e/workshop-container.test.ts', 'test/workshop-k8s.test.ts']),
    ],
    // Worlds are real namespaces and processes: give them time, and keep files apart so 2 cores are not oversubscribed.
    testTimeout: 60_000,
    env: { XDG_STATE_HOME: stateHome },
    globalSetup: ['test/global-setup.ts'],
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
