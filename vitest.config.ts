import { defineConfig } from 'vitest/config';

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
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
