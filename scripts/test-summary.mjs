// Prints the test run's plain closing line ("tests: N passed, N failed") from Vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'out/test-results.json';
try {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
} catch (e) {
  console.log(`tests: no report at ${file} (${e.message})`);
  process.exit(1);
}
