// Drives the operator's console (/admin) in Debian's chromium through playwright-core, as an operator would, and
// writes what the page showed to OUT/result.json for the C++ test (tests/integration/console.test.cpp), which
// compares it with PostgreSQL and the simulator's record. Exits non-zero, naming the step, when a step fails.
//
//   node console.mjs --url http://127.0.0.1:PORT --token TOKEN --out DIR --mode ui|coverage
//
// ui: a wrong token gets nothing; the tree shows the real actors; the chart draws candles; restart a connection;
//     pause ETHUSDT (its stored trade count must not move), resume it. coverage: the heat-map's cells.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
};
const base = arg('url');
const token = arg('token');
const out = arg('out');
const mode = arg('mode', 'ui');
const executablePath = arg('chromium', '/usr/bin/chromium');
const pushPort = arg('push', '');
mkdirSync(out, { recursive: true });
const result = { mode, steps: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let step = 'start';
const log = (s) => { step = s; result.steps.push(s); console.log(new Date().toISOString(), s); };

async function adminGet(path, bearer = token) {
  const r = await fetch(base + path, { headers: { Authorization: 'Bearer ' + bearer } });
  return { status: r.status, body: await r.text() };
}

// Stored trades of one symbol, read through the console's history route (the REST API's /symbols).
async function storedCount(symbol) {
  const r = await adminGet('/admin/api/history/symbols');
  const row = JSON.parse(r.body).find((s) => s.exchange === 'binance' && s.symbol === symbol);
  return row ? row.trade_count : 0;
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
page.on('console', (m) => { if (m.type() === 'error') console.log('page error:', m.text()); });
try {
  log('open the page');
  await page.goto(base + '/admin');
  await page.waitForSelector('#login:not([hidden])');

  log('a wrong token gets nothing');
  await page.fill('#token', 'wrong-token-wrong-token-wrong');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('refused'));
  result.wrong_token = {
    console_hidden: await page.isHidden('#console'),
    actor_nodes: await page.locator('li[data-kind]').count(),
    api: await adminGet('/admin/api/actors', 'wrong-token-wrong-token-wrong'),
    events: await adminGet('/admin/api/events', 'wrong-token-wrong-token-wrong'),
  };

  log('the right token opens the console');
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#console:not([hidden])');
  await page.waitForSelector('#status.live', { timeout: 20000 });
  await page.waitForSelector('li[data-kind="connection"]', { timeout: 20000 });
  await page.waitForSelector('li[data-kind="symbol_window"]', { timeout: 20000 });
  result.tree = await page.$$eval('li[data-kind]', (xs) => xs.map((x) => ({
    name: x.dataset.name, kind: x.dataset.kind, id: Number(x.dataset.id),
    parent: x.parentElement.closest('li[data-kind]')?.dataset.name || null })));

  if (mode === 'coverage') {
    log('the coverage heat-map');
    await page.fill('#coverage-exchange', 'binance');
    await page.fill('#coverage-hours', '3');
    await page.click('#coverage-form button[type=submit]');
    await page.waitForSelector('td.cov[data-unfillable]:not([data-unfillable="0"])', { timeout: 30000 });
    await page.waitForSelector('td.cov[data-filled]:not([data-filled="0"])', { timeout: 30000 });
    result.coverage = await page.$$eval('td.cov[data-series]', (xs) => xs.map((x) => ({ ...x.dataset })));
    await page.locator('#coverage').screenshot({ path: join(out, 'coverage.png') });
  } else {
    log('the chart draws candles and gets live ones');
    await page.fill('#chart-symbol', 'BTCUSDT');
    await page.fill('#chart-interval', '1s');
    await page.click('#chart-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#candles g.candle').length >= 5, null, { timeout: 30000 });
    const firstLast = await page.$eval('#candles g.candle:last-of-type', (g) => Number(g.dataset.openTimeMs));
    await page.waitForFunction((t) => {
      const gs = document.querySelectorAll('#candles g.candle');
      return gs.length && Number(gs[gs.length - 1].dataset.openTimeMs) > t;
    }, firstLast, { timeout: 20000 });
    result.chart = { first_last_open_ms: firstLast };

    log('restart the binance connection');
    const counter = () => page.$eval('[data-exchange="binance"] [data-counter="reconnects"] b', (b) => Number(b.textContent));
    const connId = () => page.$eval('[data-exchange="binance"] tr[data-connection] button.restart', (b) => Number(b.dataset.actor));
    const before = { reconnects: await counter(), actor: await connId() };
    await page.click('[data-exchange="binance"] tr[data-connection] button.restart');
    await page.waitForFunction(() => document.getElementById('message').textContent.startsWith('restart: restarting'));
    await page.waitForFunction((old) => {
      const b = document.querySelector('[data-exchange="binance"] tr[data-connection] button.restart');
      const state = document.querySelector('[data-exchange="binance"] tr[data-connection] td.state');
      return b && Number(b.dataset.actor) !== old && state && state.textContent === 'connected';
    }, before.actor, { timeout: 30000 });
    await page.waitForFunction((r) => Number(document.querySelector(
      '[data-exchange="binance"] [data-counter="reconnects"] b').textContent) > r, before.reconnects, { timeout: 10000 });
    result.restart = { before, after: { reconnects: await counter(), actor: await connId() } };

    log('pause ETH/USDT: its trades stop');
    await page.click('[data-symbol="binance.ETH/USDT"] button.pause');
    await page.waitForSelector('[data-symbol="binance.ETH/USDT"] button.resume', { timeout: 10000 });
    await sleep(2000); // trades already published when the pause came are still being stored
    const c1 = await storedCount('ETHUSDT');
    const b1 = await storedCount('BTCUSDT');
    await sleep(3000);
    const c2 = await storedCount('ETHUSDT');
    const b2 = await storedCount('BTCUSDT');
    log('resume ETH/USDT');
    await page.click('[data-symbol="binance.ETH/USDT"] button.resume');
    await page.waitForSelector('[data-symbol="binance.ETH/USDT"] button.pause', { timeout: 10000 });
    result.pause = { eth_before: c1, eth_after: c2, btc_before: b1, btc_after: b2 };

    log('a push client, disconnected by the operator');
    const closed = page.evaluate((port) => new Promise((resolve) => {
      const ws = new WebSocket('ws://127.0.0.1:' + port + '/');
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
      setTimeout(() => resolve({ code: -1, reason: 'not closed within 30 s' }), 30000);
      window.pushClient = ws;
    }), Number(pushPort));
    await page.waitForSelector('#push tr[data-client] button.disconnect', { timeout: 15000 });
    await page.click('#push tr[data-client] button.disconnect');
    result.disconnect = await closed;
    await page.waitForFunction(() => !document.querySelector('#push tr[data-client]'), null, { timeout: 10000 });

    log('candles on the page');
    await page.click('#chart-form button[type=submit]'); // reloaded from the API: revisions included
    await page.waitForFunction(() => document.querySelectorAll('#candles g.candle').length >= 10, null, { timeout: 20000 });
    await sleep(1500);
    result.candles = await page.$$eval('#candles g.candle', (gs) => gs.map((g) => ({
      open_time_ms: Number(g.dataset.openTimeMs), open: g.dataset.open, high: g.dataset.high, low: g.dataset.low,
      close: g.dataset.close })));
    await page.screenshot({ path: join(out, 'console.png'), fullPage: false });
  }
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = step + ': ' + e.message;
  console.error('FAILED at', result.error);
  await page.screenshot({ path: join(out, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 1));
  await browser.close();
}
process.exit(result.ok ? 0 : 1);
