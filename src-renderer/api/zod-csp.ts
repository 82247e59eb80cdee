// zod compiles object parsers with `new Function` unless told not to; our CSP (script-src 'self', no
// 'unsafe-eval') forbids that, and even the caught probe is reported as a violation. Schemas read this
// flag when they are created, so this module must be imported before the contract (main.tsx: first).
import { z } from 'zod';

z.config({ jitless: true });
