import { startHost } from '/work/main/out/test/e2e/harness.js';
import { launchBareChromium } from '/work/main/out/bench/bare-chromium.js';
import { bareDriver, startToPrompt, topSelf } from '/work/main/out/bench/terminal-flood.js';
const h = await startHost();
const b = await launchBareChromium(h.host.url);
await new Promise((r) => setTimeout(r, 1500));
await b.send('Profiler.enable'); await b.send('Profiler.setSamplingInterval', { interval: 100 }); await b.send('Profiler.start');
const r = await startToPrompt(bareDriver(b));
const { profile } = await b.send('Profiler.stop');
console.log(JSON.stringify(r));
for (const l of topSelf(profile, 35)) console.log(l);
// bottom-up by url-less top-down: functions with largest total
await b.close(); await h.host.close(); await h.engine.dispose(); process.exit(0);
