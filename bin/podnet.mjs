#!/usr/bin/env node
// Runs the built CLI (npm run build compiles src-main to out/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = join(dirname(fileURLToPath(import.meta.url)), '../out/src-main/cli/podnet.js');
if (!existsSync(entry)) {
  process.stderr.write('podnet: not built yet: run "npm run build" in the Podnet Lab folder\n');
  process.exit(1);
}
await import(entry);
