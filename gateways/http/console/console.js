// The operator's console: one page, no library. The admin token is asked once and kept in sessionStorage;
// every call sends it as `Authorization: Bearer`. Live data comes from GET /admin/api/events (server-sent
// events read with fetch() and a stream reader, since EventSource cannot send the header).
'use strict';

const tokenKey = 'mi-admin-token';
const $ = (id) => document.getElementById(id);
let streamAbort = null;
let candles = [];
let chartKey = '';

function token() { return sessionStorage.getItem(tokenKey) || ''; }

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function table(headers, rows, attrs = {}) {
  return el('table', attrs, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows));
}

function ms(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1000) return n + ' ms';
  if (n < 120000) return (n / 1000).toFixed(1) + ' s';
  return Math.round(n / 60000) + ' min';
}

function showLogin(why) {
  if (streamAbort) streamAbort.abort();
  $('console').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = why || '';
  $('status').textContent = 'not connected';
  $('status').className = 'status';
}

async function api(path, opts = {}) {
  const r = await fetch(path, { ...opts, headers: { ...(opts.headers || {}), Authorization: 'Bearer ' + token() } });
  if (r.status === 401) {
    sessionStorage.removeItem(tokenKey);
    showLogin('That token was refused.');
    throw new Error('unauthorized');
  }
  return r;
}

function say(text, ok = true) {
  const m = $('message');
  m.textContent = text;
  m.className = 'message ' + (ok ? 'ok' : 'bad');
}

async function act(name, params) {
  try {
    const r = await api('/admin/api/' + name, { method: 'POST', body: JSON.stringify(params),
      headers: { 'Content-Type': 'application/json' } });
    const body = await r.json().catch(() => ({}));
    say(name + ': ' + (body.result || body.error || r.status), r.ok);
    return r.ok;
  } catch (e) {
    say(name + ': ' + e.message, false);
    return false;
  }
}

// --- sections -------------------------------------------------------------------------------------------

function renderActors(data) {
  const node = (a, parentKind) => {
    const restartable = parentKind === 'supervisor' && a.kind !== 'supervisor';
    const li = el('li', { 'data-name': a.name, 'data-kind': a.kind, 'data-id': a.id },
      el('span', { class: 'name' }, a.name), ' ',
      el('span', { class: 'kind' }, a.kind), ' ',
      el('span', { class: 'state state-' + a.state.replace(/\s/g, '-') }, a.state), ' ',
      el('span', { class: 'small' }, a.handled + ' msgs, ' + a.busy_ms + ' ms busy',
        a.last_ms ? ', last ' + ms(Date.now() - a.last_ms) + ' ago' : ''));
    if (a.last_error) li.append(' ', el('span', { class: 'error small' }, a.last_error));
    if (restartable)
      li.append(' ', el('button', { class: 'restart', 'data-actor': a.id,
        onclick: () => act('restart', { actor: a.id }) }, 'restart'));
    if (a.restarts && a.restarts.length)
      li.append(el('div', { class: 'small restarts' }, a.restarts.length + ' restarts, last: ' +
        a.restarts[a.restarts.length - 1].child + ' (' + a.restarts[a.restarts.length - 1].reason + ')'));
    if (a.children && a.children.length) li.append(el('ul', {}, ...a.children.map((c) => node(c, a.kind))));
    return li;
  };
  const body = $('actors').querySelector('.body');
  body.replaceChildren(el('ul', { class: 'tree' }, ...data.actors.map((a) => node(a, ''))));
}

function renderConnections(data) {
  const body = $('connections').querySelector('.body');
  body.replaceChildren(...data.exchanges.map((x) => {
    const paused = new Set(x.paused.map((p) => p.symbol));
    const conns = x.connections.map((c) => el('tr', { 'data-connection': c.name },
      el('td', {}, c.name), el('td', { class: 'state' }, c.state), el('td', {}, ms(c.last_message_age_ms)),
      el('td', {}, c.handled), el('td', { class: 'error' }, c.last_error),
      el('td', {}, el('button', { class: 'restart', 'data-actor': c.id, onclick: () => act('restart', { actor: c.id }) },
        'restart'))));
    const symbols = x.symbols.map((s) => el('tr', { 'data-symbol': x.exchange + '.' + s.symbol },
      el('td', {}, s.symbol), el('td', {}, paused.has(s.symbol) ? 'paused' : s.up ? 'up' : 'refused'),
      el('td', {}, paused.has(s.symbol)
        ? el('button', { class: 'resume', onclick: () => act('resume', { exchange: x.exchange, symbol: s.symbol }) }, 'resume')
        : el('button', { class: 'pause', onclick: () => act('pause', { exchange: x.exchange, symbol: s.symbol }) }, 'pause'))));
    return el('div', { class: 'exchange', 'data-exchange': x.exchange },
      el('h3', {}, x.exchange),
      el('div', { class: 'counters' },
        ...['trades_received', 'reconnects', 'gaps_detected', 'backfilled_trades', 'gaps_unfillable', 'missing_trades',
          'symbols_rejected', 'frames_rejected'].map((k) =>
          el('span', { class: 'counter', 'data-counter': k }, k.replace(/_/g, ' ') + ': ', el('b', {}, x[k])))),
      table(['connection', 'state', 'last message', 'messages', 'last error', ''], conns),
      table(['symbol', 'state', ''], symbols, { class: 'symbols' }));
  }));
}

function renderJetstream(data) {
  $('jetstream').querySelector('.body').replaceChildren(
    table(['stream', 'messages', 'bytes', 'first seq', 'last seq', 'error'], data.streams.map((s) =>
      el('tr', { 'data-stream': s.name }, el('td', {}, s.name), el('td', {}, s.messages), el('td', {}, s.bytes),
        el('td', {}, s.first_seq), el('td', {}, s.last_seq), el('td', { class: 'error' }, s.error)))),
    table(['consumer', 'stream', 'pending', 'unacked', 'redelivered'], data.consumers.map((c) =>
      el('tr', { 'data-consumer': c.name }, el('td', {}, c.name), el('td', {}, c.stream), el('td', {}, c.pending),
        el('td', {}, c.ack_pending), el('td', {}, c.redelivered)))),
    el('div', { class: 'small' }, 'publish in flight ' + data.publish.in_flight + ', retries ' + data.publish.retries +
      ', dead letters ' + JSON.stringify(data.dead_letters)));
}

function renderDatabase(data) {
  $('database').querySelector('.body').replaceChildren(
    el('div', { class: 'small' }, 'REST API database: ' + (data.api_database_up ? 'up' : 'down or not probed') +
      ', rows in default partitions: ' + JSON.stringify(data.default_partition_rows) +
      ', audit mismatches: ' + JSON.stringify(data.audit.mismatches)),
    table(['table', 'rows', 'batches', 'failures', 'mean', 'p50', 'p99'], data.tables.map((t) =>
      el('tr', {}, el('td', {}, t.table), el('td', {}, t.rows), el('td', {}, t.batches), el('td', {}, t.batch_failures),
        el('td', {}, t.batch_mean_ms + ' ms'), el('td', {}, t.batch_p50_ms + ' ms'), el('td', {}, t.batch_p99_ms + ' ms')))),
    table(['writer', 'state', 'messages', 'last error'], data.savers.map((s) =>
      el('tr', {}, el('td', {}, s.name), el('td', {}, s.state), el('td', {}, s.handled), el('td', { class: 'error' }, s.last_error)))),
    el('div', { class: 'scroll' }, table(['partition', 'range'], data.partitions.map((p) =>
      el('tr', {}, el('td', {}, p.name), el('td', { class: 'small' }, (p.range || '').replace('FOR VALUES ', '')))))));
}

function renderPush(data) {
  $('push').querySelector('.body').replaceChildren(
    el('div', {}, 'clients ', el('b', { 'data-counter': 'clients' }, data.clients), ', messages dropped ',
      el('b', {}, data.dropped), ', sessions failed ', el('b', {}, data.sessions_failed)),
    table(['client', 'peer', 'API key', 'dropped', ''], data.slowest.map((c) =>
      el('tr', { 'data-client': c.id }, el('td', {}, c.id), el('td', {}, c.peer || ''), el('td', {}, c.key_id || '–'),
        el('td', {}, c.dropped),
        el('td', {}, el('button', { class: 'disconnect', onclick: () => act('disconnect', { client: c.id }) }, 'disconnect'))))));
}

// --- chart (plain SVG) ---------------------------------------------------------------------------------------

function drawChart() {
  const svg = $('candles');
  const W = 800, H = 260, pad = 6;
  svg.replaceChildren();
  if (!candles.length) { $('chart-info').textContent = 'no candles'; return; }
  const lows = candles.map((c) => Number(c.low)), highs = candles.map((c) => Number(c.high));
  const lo = Math.min(...lows), hi = Math.max(...highs), span = hi - lo || 1;
  const y = (v) => pad + (H - 2 * pad) * (1 - (Number(v) - lo) / span);
  const step = W / Math.max(candles.length, 20), w = Math.max(1, step * 0.6);
  const ns = 'http://www.w3.org/2000/svg';
  candles.forEach((c, i) => {
    const x = i * step + step / 2, up = Number(c.close) >= Number(c.open);
    const g = document.createElementNS(ns, 'g');
    g.setAttribute('class', 'candle ' + (up ? 'up' : 'down'));
    for (const k of ['open_time_ms', 'open', 'high', 'low', 'close']) g.setAttribute('data-' + k.replace(/_/g, '-'), c[k]);
    const wick = document.createElementNS(ns, 'line');
    wick.setAttribute('x1', x); wick.setAttribute('x2', x);
    wick.setAttribute('y1', y(c.high)); wick.setAttribute('y2', y(c.low));
    const body = document.createElementNS(ns, 'rect');
    const top = Math.min(y(c.open), y(c.close));
    body.setAttribute('x', x - w / 2); body.setAttribute('width', w);
    body.setAttribute('y', top); body.setAttribute('height', Math.max(1, Math.abs(y(c.open) - y(c.close))));
    const title = document.createElementNS(ns, 'title');
    title.textContent = new Date(c.open_time_ms).toISOString() + ' O ' + c.open + ' H ' + c.high + ' L ' + c.low + ' C ' + c.close;
    g.append(wick, body, title);
    svg.append(g);
  });
  const last = candles[candles.length - 1];
  $('chart-info').textContent = candles.length + ' candles; last ' + new Date(last.open_time_ms).toISOString() +
    ' close ' + last.close;
}

function mergeCandles(fresh) {
  for (const c of fresh) {
    const i = candles.findIndex((x) => x.open_time_ms === c.open_time_ms);
    if (i >= 0) candles[i] = c; else candles.push(c);
  }
  candles.sort((a, b) => a.open_time_ms - b.open_time_ms);
  if (candles.length > 200) candles = candles.slice(candles.length - 200);
  drawChart();
}

async function loadChart() {
  const ex = $('chart-exchange').value.trim(), sym = $('chart-symbol').value.trim(), iv = $('chart-interval').value.trim();
  chartKey = ex + '.' + sym + '.' + iv;
  const q = new URLSearchParams({ exchange: ex, symbol: sym, interval: iv, limit: '100' });
  const r = await api('/admin/api/history/klines?' + q);
  const body = await r.json();
  candles = r.ok ? body : [];
  if (!r.ok) $('chart-info').textContent = body.msg || body.error || ('HTTP ' + r.status);
  else drawChart();
  openStream();
}

// --- coverage heat-map ---------------------------------------------------------------------------------------

async function loadCoverage() {
  const hours = Math.max(1, Math.min(24 * 31, Number($('coverage-hours').value) || 24));
  const now = Date.now(), to = now - (now % 3600000); // this hour, and the hours before it
  const q = new URLSearchParams({ from: String(to - (hours - 1) * 3600000), to: String(to) });
  if ($('coverage-exchange').value.trim()) q.set('exchange', $('coverage-exchange').value.trim());
  if ($('coverage-symbol').value.trim()) q.set('symbol', $('coverage-symbol').value.trim());
  const r = await api('/admin/api/history/coverage?' + q);
  const body = await r.json();
  const out = $('coverage').querySelector('.body');
  if (!r.ok) { out.textContent = body.msg || body.error || ('HTTP ' + r.status); return; }
  const series = [...new Set(body.hours.map((h) => h.exchange + '.' + h.symbol))].sort();
  const hourList = [...new Set(body.hours.map((h) => h.hour_ms))].sort((a, b) => a - b);
  const cell = new Map(body.hours.map((h) => [h.exchange + '.' + h.symbol + '@' + h.hour_ms, h]));
  const max = Math.max(1, ...body.hours.map((h) => h.trades));
  const rows = series.map((s) => el('tr', {}, el('th', {}, s), ...hourList.map((hr) => {
    const h = cell.get(s + '@' + hr);
    if (!h) return el('td', { class: 'cov empty' }, '');
    const cls = h.gaps_unfillable > 0 ? 'lost' : h.audit === 'mismatch' ? 'lost' : h.gaps_filled > 0 ? 'filled' : 'ok';
    const light = 90 - Math.round(45 * h.trades / max);
    return el('td', { class: 'cov ' + cls, style: cls === 'ok' ? 'background: hsl(140, 45%, ' + light + '%)' : '',
      'data-series': s, 'data-hour': new Date(hr).toISOString().replace('.000Z', 'Z'), 'data-trades': h.trades,
      'data-gaps': h.gaps_detected, 'data-filled': h.gaps_filled, 'data-unfillable': h.gaps_unfillable,
      'data-audit': h.audit || '', title: new Date(hr).toISOString() + ': ' + h.trades + ' trades, ' + h.gaps_detected +
        ' gaps (' + h.gaps_filled + ' filled, ' + h.gaps_unfillable + ' unfillable, ' + h.missing_trades +
        ' trades lost), audit ' + (h.audit || 'not run') },
    String(h.trades), h.gaps_detected ? el('sup', {}, h.gaps_filled + '/' + h.gaps_unfillable) : '');
  })));
  out.replaceChildren(rows.length ? table(['', ...hourList.map((h) => new Date(h).toISOString().slice(5, 13) + 'h')], rows,
    { class: 'heatmap' }) : el('p', {}, 'no stored trades or gaps in that range'));
}

// --- live events ----------------------------------------------------------------------------------------------

const renderers = { actors: renderActors, connections: renderConnections, jetstream: renderJetstream,
  database: renderDatabase, push: renderPush, candles: (c) => mergeCandles(c) };

async function openStream() {
  if (streamAbort) streamAbort.abort();
  const abort = new AbortController();
  streamAbort = abort;
  const q = chartKey ? '?chart=' + encodeURIComponent(chartKey) : '';
  try {
    const r = await api('/admin/api/events' + q, { signal: abort.signal });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    $('status').textContent = 'live';
    $('status').className = 'status live';
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let name = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data && renderers[name]) {
          try { renderers[name](JSON.parse(data)); } catch (e) { console.error(name, e); }
        }
      }
    }
    throw new Error('stream ended');
  } catch (e) {
    if (abort.signal.aborted || !token()) return;
    $('status').textContent = 'reconnecting (' + e.message + ')';
    $('status').className = 'status bad';
    setTimeout(() => { if (streamAbort === abort) openStream(); }, 2000);
  }
}

function start() {
  $('login').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  loadChart().catch(() => {});
  loadCoverage().catch(() => {});
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(tokenKey, $('token').value.trim());
  $('token').value = '';
  try {
    const r = await api('/admin/api/actors');
    if (r.ok) start();
  } catch (e) { /* showLogin already said why */ }
});
$('logout').addEventListener('click', () => { sessionStorage.removeItem(tokenKey); showLogin(''); });
$('chart-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadChart().catch(() => {}); });
$('coverage-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadCoverage().catch(() => {}); });
$('audit-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  act('audit', { hour: $('audit-hour').value.trim() }).then(() => loadCoverage().catch(() => {}));
});
$('redrive-form').addEventListener('submit', (ev) => { ev.preventDefault(); act('redrive', { kind: $('redrive-kind').value }); });
setInterval(() => { if (!$('console').hidden) loadCoverage().catch(() => {}); }, 15000);

if (token()) api('/admin/api/actors').then((r) => { if (r.ok) start(); }).catch(() => {});
else showLogin('');
