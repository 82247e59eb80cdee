// Writes resources/lab.schema.json from the lab format's zod schemas (run after tsc: npm run build).
import { writeFileSync } from 'node:fs';
import { labJsonSchemaText } from '../out/src-main/labs/schema.js';
writeFileSync(new URL('../resources/lab.schema.json', import.meta.url), labJsonSchemaText());
console.log('wrote resources/lab.schema.json');
