// The workshop's own pages: the join page (a name → the seat's URL) and the instructor's view. Plain
// HTML with their script as files of their own (the CSP allows no inline script); text is set as
// text, never as HTML, so a learner's name cannot become markup.

const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="/workshop/workshop.css">
</head>`;

/** Text for an HTML page's body or a quoted attribute. */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The join page; `full` says the room has no free seat before anyone types a name. */
export function joinPage(state: { free: number; seats: number }): string {
  const full = state.free <= 0;
  return `${head('Join the workshop — Podnet Lab')}
<body class="join">
<main>
<h1>Podnet Lab workshop</h1>
<p class="lead">Type your name to take a seat: your own lab world, terminals and progress.</p>
<form id="join-form" data-testid="join-form"${full ? ' hidden' : ''}>
  <label for="join-name">Your name</label>
  <input id="join-name" data-testid="join-name" name="name" autocomplete="name" maxlength="40" required autofocus>
  <button type="submit" data-testid="join-submit">Take a seat</button>
</form>
<p id="join-error" data-testid="join-error" class="error" role="alert"${full ? '' : ' hidden'}>${
    full ? escapeHtml(`All ${state.seats} seats of this room are taken: ask the instructor.`) : ''
  }</p>
<section id="join-seat" data-testid="join-seat" hidden>
  <p>Your seat is ready. Open it, and bookmark it: this link is yours alone (it brings you back to your seat after a reconnect or from another tab).</p>
  <p><a id="join-url" data-testid="join-url" href="#"></a></p>
  <p><a id="join-open" data-testid="join-open" class="button" href="#">Open my seat</a></p>
</section>
</main>
<script src="/workshop/join.js"></script>
</body>
</html>
`;
}

export const JOIN_JS = `'use strict';
(function () {
  var room = new URL(location.href).searchParams.get('room') || '';
  var form = document.getElementById('join-form');
  var err = document.getElementById('join-error');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = document.getElementById('join-name').value;
    var button = form.querySelector('button');
    button.disabled = true;
    err.hidden = true;
    fetch('/api/join?room=' + encodeURIComponent(room), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: name }),
    })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (a) {
        if (!a.ok) throw new Error(a.j.error || 'the seat could not be taken');
        var link = document.getElementById('join-url');
        link.textContent = a.j.url;
        link.href = a.j.url;
        document.getElementById('join-open').href = a.j.url;
        form.hidden = true;
        document.getElementById('join-seat').hidden = false;
        document.getElementById('join-open').focus();
      })
      .catch(function (e) {
        err.textContent = e.message;
        err.hidden = false;
        button.disabled = false;
      });
  });
})();
`;

export function instructorPage(): string {
  return `${head('Instructor — Podnet Lab workshop')}
<body class="instructor">
<header>
  <h1>Workshop: the instructor's view</h1>
  <p id="room" data-testid="room-line"></p>
  <p id="conn" data-testid="instructor-connection" class="conn">connecting…</p>
</header>
<section class="controls">
  <form id="assign-form" data-testid="assign-form">
    <label for="assign-lab">Open a lab in every seat</label>
    <select id="assign-lab" data-testid="assign-lab"></select>
    <button type="submit" data-testid="assign-submit">Assign to all</button>
  </form>
  <form id="message-form" data-testid="message-form">
    <label for="message-text">Message to every seat</label>
    <input id="message-text" data-testid="message-text" maxlength="500" required>
    <button type="submit" data-testid="message-send">Send</button>
  </form>
  <div id="confirm" data-testid="instructor-confirm" class="confirm" role="alertdialog" aria-labelledby="confirm-text" hidden>
    <p id="confirm-text"></p>
    <button type="button" id="confirm-ok" data-testid="instructor-confirm-ok">Yes</button>
    <button type="button" id="confirm-cancel" data-testid="instructor-confirm-cancel">Cancel</button>
  </div>
  <p id="result" data-testid="instructor-result" role="status"></p>
</section>
<table data-testid="seats">
<thead><tr><th>Learner</th><th>Lab</th><th>Step</th><th>Checks</th><th>On this step</th><th>Last active</th><th>World</th><th></th></tr></thead>
<tbody id="seats"></tbody>
</table>
<p id="empty" data-testid="seats-empty">No learner has joined yet: share the join URL.</p>
<script src="/workshop/instructor.js"></script>
</body>
</html>
`;
}

export const INSTRUCTOR_JS = `'use strict';
(function () {
  var KEY = 'podnet.instructor';
  var url = new URL(location.href);
  var token = url.searchParams.get('token');
  if (token !== null) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search);
    try { sessionStorage.setItem(KEY, token); } catch (e) {}
  } else {
    try { token = sessionStorage.getItem(KEY); } catch (e) {}
  }
  var seats = [];
  var room = null;
  var ws = null;
  var seq = 0;
  var waiting = {};
  var pendingConfirm = null;
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function send(msg, done) {
    if (!ws || ws.readyState !== 1) { $('result').textContent = 'not connected: wait for the connection'; return; }
    msg.id = ++seq;
    waiting[msg.id] = done || function () {};
    ws.send(JSON.stringify(msg));
  }
  function confirmThen(text, fn, action) {
    pendingConfirm = fn;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = action;
    $('confirm').hidden = false;
    $('confirm-ok').focus();
  }
  $('confirm-ok').addEventListener('click', function () {
    var fn = pendingConfirm; pendingConfirm = null; $('confirm').hidden = true; if (fn) fn();
  });
  $('confirm-cancel').addEventListener('click', function () { pendingConfirm = null; $('confirm').hidden = true; });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !$('confirm').hidden) { pendingConfirm = null; $('confirm').hidden = true; }
  });
  function reply(r) { $('result').textContent = r.ok ? r.message : 'failed: ' + r.message; }
  // rows are made once per seat and updated in place: a button keeps its focus while the times tick
  var rows = {};
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function makeRow(s) {
    var tr = el('tr', null, { 'data-testid': 'seat-' + s.name, 'data-seat': s.id });
    var c = {};
    var who = el('td');
    who.appendChild(el('span', s.name, { 'data-testid': 'seat-name' }));
    c.page = el('span', '', { class: 'muted' });
    who.appendChild(c.page);
    tr.appendChild(who);
    ['lab', 'step', 'checks'].forEach(function (k) { c[k] = el('td', '', { 'data-testid': 'seat-' + k }); tr.appendChild(c[k]); });
    c.onStep = el('td', '', { 'data-testid': 'seat-on-step' });
    c.onStepText = el('span');
    c.flag = el('span', ' ⚑ long on this step', { class: 'flag', 'data-testid': 'seat-flag' });
    c.onStep.appendChild(c.onStepText);
    c.onStep.appendChild(c.flag);
    tr.appendChild(c.onStep);
    c.active = el('td', '', { 'data-testid': 'seat-active' });
    c.world = el('td', '', { 'data-testid': 'seat-world' });
    tr.appendChild(c.active);
    tr.appendChild(c.world);
    var act = el('td');
    c.watch = el('a', 'Watch', { target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'seat-watch', 'aria-label': 'Watch ' + s.name + "'s seat (read-only)" });
    act.appendChild(c.watch);
    var reset = el('button', 'Reset', { type: 'button', 'data-testid': 'seat-reset', 'aria-label': 'Reset ' + s.name + "'s seat" });
    reset.addEventListener('click', function () {
      var cur = seats.filter(function (x) { return x.id === s.id; })[0] || s;
      var what = cur.lab ? cur.name + "'s lab starts again at step 1 (a fresh world; their progress in it is cleared)." : cur.name + "'s world is started afresh.";
      confirmThen('Reset ' + cur.name + '\\'s seat? ' + what, function () { send({ op: 'reset', seat: s.id }, reply); }, 'Reset ' + cur.name);
    });
    act.appendChild(reset);
    tr.appendChild(act);
    return { tr: tr, c: c };
  }
  function render() {
    var now = Date.now();
    var body = $('seats');
    $('empty').hidden = seats.length > 0;
    seats.forEach(function (s) {
      var r = rows[s.id] || (rows[s.id] = makeRow(s));
      if (r.tr.parentNode !== body) body.appendChild(r.tr);
      var c = r.c;
      var onStep = now - s.stepSince;
      var overdue = s.stepBudgetMs !== null && s.step !== null && onStep > s.stepBudgetMs;
      r.tr.setAttribute('data-overdue', String(overdue));
      r.tr.className = overdue ? 'overdue' : '';
      setText(c.page, s.connected ? '' : ' (page closed)');
      setText(c.lab, s.lab ? s.lab.title : '—');
      c.lab.setAttribute('data-lab', s.lab ? s.lab.id : '');
      setText(c.step, s.step === null ? '—' : (s.step + 1) + ' of ' + s.lab.steps);
      setText(c.checks, s.checks ? s.checks.passed + ' of ' + s.checks.total + (s.checks.complete ? ' ✓' : '') : '—');
      setText(c.onStepText, s.step === null ? '—' : ago(onStep));
      c.flag.hidden = !overdue;
      if (s.stepBudgetMs !== null) c.flag.title = 'more than ' + ago(s.stepBudgetMs) + ': 3× this step\\'s share of the lab\\'s stated time';
      setText(c.active, ago(now - s.lastActivity) + ' ago');
      setText(c.world, s.busy ? s.busy : s.idleStopped ? 'stopped (idle; rebuilt on return)' : s.world);
      if (c.watch.getAttribute('href') !== s.mirror) c.watch.setAttribute('href', s.mirror);
    });
  }
  $('assign-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var lab = $('assign-lab').value;
    if (!lab) return;
    confirmThen('Open ' + lab + ' in every seat? Each learner\\'s current world is replaced (their progress is kept).', function () {
      $('result').textContent = 'opening ' + lab + ' in every seat…';
      send({ op: 'assign', lab: lab }, reply);
    }, 'Open in every seat');
  });
  $('message-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = $('message-text').value;
    send({ op: 'message', text: text }, function (r) { reply(r); if (r.ok) $('message-text').value = ''; });
  });
  function connect() {
    var proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(proto + '://' + location.host + '/instructor', ['podnet-instructor', 'podnet-token.' + (token || '')]);
    ws.onopen = function () { $('conn').textContent = 'live'; $('conn').dataset.state = 'live'; };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === 'room') {
        seats = m.seats;
        if (!room) {
          var sel = $('assign-lab');
          sel.textContent = '';
          m.labs.forEach(function (l) { sel.appendChild(el('option', l.id + ' — ' + l.title, { value: l.id })); });
        }
        room = m;
        $('room').textContent = 'Room ' + m.code + ' · ' + m.seats.length + ' of ' + m.capacity + ' seats taken · join: ' + location.origin + '/join?room=' + m.code;
        render();
      } else if (m.type === 'reply' && waiting[m.id]) {
        var fn = waiting[m.id]; delete waiting[m.id]; fn(m);
      }
    };
    ws.onclose = function (ev) {
      $('conn').textContent = ev.code === 1008 || !token ? 'refused: open the instructor URL the server printed' : 'disconnected; reconnecting…';
      $('conn').dataset.state = 'down';
      if (token && ev.code !== 1008) setTimeout(connect, 1500);
    };
  }
  connect();
  // the times are counted here from the server's timestamps: the view is pushed, never polled
  setInterval(render, 1000);
})();
`;

export const WORKSHOP_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; padding: 24px; background: Canvas; color: CanvasText; }
main { max-width: 560px; margin: 8vh auto; }
h1 { font-size: 1.5rem; margin: 0 0 8px; }
.lead { color: GrayText; }
label { display: block; margin: 16px 0 4px; font-weight: 600; }
input, select { font: inherit; padding: 6px 8px; min-width: 260px; }
button, .button { font: inherit; padding: 6px 14px; margin: 4px 4px 4px 0; cursor: pointer; border-radius: 4px;
  border: 1px solid #2563eb; background: #2563eb; color: #fff; text-decoration: none; display: inline-block; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.error { color: #dc2626; font-weight: 600; }
#join-url { word-break: break-all; }
.instructor header { display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
.conn { margin-left: auto; color: GrayText; }
.controls { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-end; margin: 8px 0 16px; }
.confirm { border: 1px solid #f59e0b; padding: 8px 12px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #8884; }
tr.overdue { background: #f59e0b22; }
.flag { color: #b45309; font-weight: 600; }
.muted { color: GrayText; }
td button { padding: 2px 10px; }
td a { margin-right: 8px; }
`;
