#!/usr/bin/env bash
# Set-up alone, for those who want it before the first `npm start` or `npm test` (both do it themselves):
# the Debian packages, node_modules, the pinned binaries, the build; then the doctor's report.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/ensure.mjs test
# the bundled VM's host tools (QEMU, cpio, zstd, kmod's depmod): docs/vm.md
scripts/vm-host-packages.sh
node bin/podnet.mjs doctor
