// npm run podnet -- ARGS: the CLI of this tree, built first only when its sources changed; the check
// (ensure.mjs, quiet) and the CLI run in one Node.js process.
import { ensure } from './ensure.mjs';

ensure('app', { quiet: true });
await import('../bin/podnet.mjs');
