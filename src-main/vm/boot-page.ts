// What the desktop window shows while the bundled VM boots (a minute or more under emulation): each
// stage as it is reached, then the guest engine's own page replaces it. Self-contained: no script or
// style from anywhere, and nothing it shows is markup (each line is set as text).

/** The page, as a data: URL for the window; `say(line)` in it adds a stage, `fail(text)` shows the error. */
export function bootPageUrl(): string {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Podnet Lab — starting the bundled VM</title>
<style>
  body { margin: 0; height: 100vh; display: grid; place-items: center; background: #16181d; color: #d7dae0;
    font: 15px/1.5 system-ui, sans-serif; }
  main { width: min(640px, 90vw); }
  h1 { font-size: 20px; font-weight: 600; margin: 0 0 4px; }
  p.sub { margin: 0 0 20px; color: #9aa1ad; }
  ol { list-style: none; padding: 0; margin: 0; font-family: ui-monospace, monospace; font-size: 13px; }
  li { padding: 4px 0 4px 22px; position: relative; color: #9aa1ad; }
  li::before { content: '✓'; position: absolute; left: 0; color: #4caf7a; }
  li:last-child { color: #d7dae0; }
  li:last-child::before { content: '…'; color: #e0b341; }
  body.failed li:last-child::before { content: '✕'; color: #e0604f; }
  #error { display: none; margin-top: 16px; padding: 10px 12px; border-left: 3px solid #e0604f;
    background: #2a1c1c; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
  #clock { margin-top: 16px; color: #6d7480; font-size: 13px; }
</style></head>
<body><main>
  <h1>Starting the bundled VM</h1>
  <p class="sub">The lab worlds run in a small Linux guest on this machine. Your progress stays here.</p>
  <ol id="stages" role="status" aria-live="polite"></ol>
  <div id="error" role="alert"></div>
  <div id="clock" aria-hidden="true"></div>
</main>
<script>
  const t0 = Date.now();
  const clock = document.getElementById('clock');
  const tick = setInterval(() => { clock.textContent = ((Date.now() - t0) / 1000).toFixed(0) + ' s'; }, 1000);
  window.say = (line) => {
    const li = document.createElement('li');
    li.textContent = String(line);
    document.getElementById('stages').append(li);
  };
  window.fail = (text) => {
    clearInterval(tick);
    document.body.classList.add('failed');
    const e = document.getElementById('error');
    e.textContent = String(text);
    e.style.display = 'block';
  };
</script>
</body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}

/** The script that adds one stage to the page (the text passed as a JSON string, never as markup). */
export const sayScript = (line: string): string => `window.say(${JSON.stringify(line)})`;
export const failScript = (text: string): string => `window.fail(${JSON.stringify(text)})`;
