// The bridge's web page in a real browser: a simulator writes, the bridge
// serves, headless Chromium draws. Asserts what an operator sees: all grey
// while all is normal (no red or amber anywhere), the trend full the moment
// the page opens (the bridge's history), hovering and clicking showing a
// cell's and a module's values, a scenario applied from the page raising an
// alarm (the anomaly monitor's, read by the bridge from the alarm segment)
// in the list and the banner, acknowledged from the banner; a thermal
// runaway colouring its cell, module and rack critical and no healthy rack;
// and the phone-width layout keeping the rack labels. Saves screenshots
// (ws_bridge_browser.png, ws_bridge_phone.png in the working directory;
// docs/images/ holds copies).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const shmInit = process.env.BRT_SHM_INIT;
const simulator = process.env.BRT_SIMULATOR;
const monitor = process.env.BRT_ANOMALY_MONITOR;
const bridgePath = process.env.BRT_WS_BRIDGE;
const segment = `brt_test_browser_${process.pid}`;
const token = 'browser-test-token-0123';
// BRT_BROWSER_GEOMETRY="100,10,100" runs the same checks on 100,000 cells.
const [racks, modules, cellsPerModule] = (process.env.BRT_BROWSER_GEOMETRY || '20,10,32').split(',').map(Number);
const cells = racks * modules * cellsPerModule;
const children = [];
const scratch = mkdtempSync(join(tmpdir(), 'brt-browser-'));

function fail(message) {
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) fail(message);
  console.log(`ok: ${message}`);
}

function start(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  children.push(child);
  return child;
}

async function until(what, condition, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main() {
  const created = spawnSync(shmInit, ['--shm-name', segment, '--racks', String(racks),
    '--modules', String(modules), '--cells', String(cellsPerModule)], { encoding: 'utf8' });
  if (created.status !== 0) fail(`brt-shm-init failed: ${created.stderr}`);
  // Ten simulated seconds a second: a heated cell reaches its critical
  // temperature within seconds.
  start([simulator, '--shm-name', segment, '--speed', '10']);
  // The alarm server: the page's alarm list is its (the bridge runs no alarm engine).
  start([monitor, '--shm-name', segment, '--format', 'json']);
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, token + '\n');
  chmodSync(tokenFile, 0o600);
  const bridge = start([bridgePath, '--shm-name', segment, '--listen', '127.0.0.1:0',
    '--control-token-file', tokenFile]);
  const port = await until('the bridge to listen', () => {
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(bridge.output);
    return match && match[1];
  });
  const url = `http://127.0.0.1:${port}/`;
  await until('the writer to be live', async () => (await fetch(url + 'health')).status === 200);
  // The bridge keeps the racks' trends from its start: a page that opens
  // later starts with them.
  await until('three seconds of history on the bridge', async () =>
    (await (await fetch(url + 'api/v1/racks/0/history?fields=voltage_v')).json()).points >= 3);

  const browser = await chromium.launch({
    executablePath: process.env.BRT_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(url);

    // The heatmap draws every cell, and keeps drawing new frames.
    const first = await until('the first heatmap', () => page.evaluate(
      () => window.brt.heatmapFramesDrawn >= 1 && window.brt.lastDrawn));
    check(first.cells === cells && first.valid === cells, `heatmap drew all ${cells} cells (${first.valid} valid)`);
    check(first.metric === 'voltage_v' && first.min > 2.5 && first.max < 4.5,
      `voltage range ${first.min.toFixed(3)}..${first.max.toFixed(3)} V is a battery's`);
    const firstFrame = await page.evaluate(() => window.brt.lastHeatmapFrame);
    await until('newer frames drawn', () => page.evaluate(
      (frame) => window.brt.lastHeatmapFrame > frame + 5, firstFrame));
    check(true, 'the heatmap follows live frames');
    // Calm while all is normal: greys only, no alarm colour anywhere.
    const calm = await page.evaluate(() => {
      const canvas = document.getElementById('heatmap');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const greys = new Set();
      let alarmColoured = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r > 150 && g < 110 && b < 110) alarmColoured++;                    // red
        if (r > 160 && g > 120 && b < 70) alarmColoured++;                     // amber
        if (r === g && g === b && r >= 58 && r <= 190) greys.add(r);
      }
      const rows = [...document.querySelectorAll('#rack-table tbody tr')];
      return {
        alarmColoured, greys: greys.size, alarmCells: window.brt.lastDrawn.alarmCells,
        rows: rows.length, normalRows: rows.filter((row) => row.dataset.severity === 'normal').length,
      };
    });
    check(calm.alarmColoured === 0 && calm.alarmCells === 0, `no red or amber while all is normal (${calm.alarmColoured} pixels)`);
    check(calm.greys > 3, `normal cells are shades of grey (${calm.greys} greys)`);
    check(calm.rows === racks && calm.normalRows === racks, `the rack table lists ${racks} racks, all normal`);
    const trendAtOpen = await until('the trend from the bridge\'s history', () => page.evaluate(
      () => window.brt.historyMessages >= 1 && window.brt.history.points.length));
    check(trendAtOpen >= 3, `the trend starts with ${trendAtOpen} points of history`);
    const rackState = await page.$$eval('#rack-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    check(rackState[0] === 'rack 0' && rackState[1] === 'normal' && rackState[3].startsWith('profile') &&
      ['on', 'off'].includes(rackState[5]) && /^\d+\.\d$/.test(rackState[6]),
      `the rack table shows mode, protection, HVAC and air: ${rackState.join(' | ')}`);
    check(/ambient 25\.0 °C/.test(await page.textContent('#ambient')), 'the ambient temperature is shown');
    const drawMs = await page.evaluate(() => [...window.brt.drawMs].sort((a, b) => a - b));
    console.log(`heatmap draw: median ${drawMs[drawMs.length >> 1].toFixed(2)} ms, ` +
      `max ${drawMs[drawMs.length - 1].toFixed(2)} ms over ${drawMs.length} frames`);

    // Hover: the tooltip names the cell and its values.
    const centre = await page.evaluate(() => window.brt.cellCentre(2, 3, 5));
    await page.mouse.move(centre.x, centre.y);
    // Above 20,000 cells the heatmap carries one metric; the others come
    // from the module's document a moment later: hover again until shown.
    let nudge = 0;
    const tooltip = await until('the tooltip with the cell\'s values', async () => {
      await page.mouse.move(centre.x + (nudge++ % 2) * 0.3, centre.y);
      const text = await page.textContent('#tooltip');
      return (await page.isVisible('#tooltip')) && /Temperature\s+-?\d/.test(text) && text;
    });
    check(tooltip.includes('rack 2 module 3 cell 5'), 'hover names the cell');
    check(/Voltage\s+\d\.\d{3} V/.test(tooltip) && /Temperature\s+-?\d+\.\d °C/.test(tooltip) &&
      /State of charge\s+\d+\.\d %/.test(tooltip) && /Resistance\s+\d+\.\d{3} mΩ/.test(tooltip),
      `hover shows its values with labels and units: ${JSON.stringify(tooltip)}`);
    check(!/voltage_v|resistance_ohm/.test(tooltip), 'and no raw keys');

    // Click: the module's cells as bars, from the module view.
    await page.mouse.click(centre.x, centre.y);
    const module = await until('the module chart', () => page.evaluate(() => {
      const m = window.brt.module;
      return window.brt.moduleBarsDrawn >= 1 && m && { rack: m.rack, module: m.module, cells: m.cell_list.length };
    }));
    check(module.rack === 2 && module.module === 3 && module.cells === cellsPerModule,
      `clicking shows that module's ${cellsPerModule} cells`);
    check((await page.textContent('#module-title')).startsWith('Rack 2 module 3'), 'the module title names it');

    // Control from the page: apply a sensor dropout; its alarm appears.
    await page.fill('#token', token);
    await page.selectOption('#scenario', 'sensor_fault');
    await page.fill('#target-rack', '4');
    await page.fill('#target-module', '6');
    await page.fill('#target-cell', '7');
    await page.click('#apply');
    await until('the command answer', async () => (await page.textContent('#control-result')).includes('applied'));
    check(true, 'the bridge applied the scenario');
    const alarm = await until('the alarm in the list', () => page.evaluate(() => {
      const items = [...document.querySelectorAll('#alarm-list li.alarm')];
      const hit = items.find((li) => li.dataset.rule === 'sensor_dropout' && li.textContent.includes('rack 4 module 6 cell 7'));
      return hit && hit.textContent;
    }), 60000);
    check(alarm.includes('warning'), `the alarm list shows it: "${alarm}"`);
    check(await page.isHidden('#alarm-system'), 'no "alarm monitor not running" while the monitor runs');
    // The banner counts what waits for an operator; acknowledged from it
    // (with the Control panel's token), the monitor's list says who.
    const banner = await until('the banner', async () => (await page.isVisible('#alarm-banner')) &&
      page.textContent('#banner-text'));
    check(/^\d+ unacknowledged alarms?/.test(banner), `the banner counts it: "${banner}"`);
    const chip = await page.getAttribute('#alarm-counts .count.warning', 'data-unacknowledged');
    check(Number(chip) >= 1, `the header's warning count marks ${chip} unacknowledged`);
    await page.click('#acknowledge-all');
    const acknowledged = await until('the acknowledgement in the list', () => page.evaluate(() => {
      const li = [...document.querySelectorAll('#alarm-list li.alarm')].find((item) => item.dataset.rule === 'sensor_dropout');
      return li && li.dataset.state === 'acknowledged' && li.textContent;
    }));
    check(acknowledged.includes('ack by rest 127.0.0.1'), `acknowledged from the page: "${acknowledged}"`);
    await until('the banner to go', () => page.isHidden('#alarm-banner'), 10000).catch(async (error) => {
      fail(`${error.message}: it says "${await page.textContent('#banner-text')}"`);
    });
    check(true, 'with nothing left to acknowledge the banner goes');
    await page.click('#clear');
    await until('the clear answer', async () => (await page.textContent('#control-result')).includes('clear'));

    // A thermal runaway heater on one cell: it, its module and its rack go
    // critical; the healthy racks stay calm.
    await page.selectOption('#scenario', 'thermal_runaway');
    await page.fill('#target-rack', '9');
    await page.fill('#target-module', '2');
    await page.fill('#target-cell', '3');
    await page.click('#apply');
    await until('the heated cell to go critical', () => page.evaluate(
      () => window.brt.rackSeverity[9] === 'critical'), 120000);
    await page.waitForTimeout(700);  // the next heatmap frame with the new alarm list
    const hot = await page.evaluate(() => {
      const g = window.brt.geometry;
      const centre = window.brt.cellCentre(9, 2, 3);
      const canvas = document.getElementById('heatmap');
      const rect = canvas.getBoundingClientRect();
      const ratio = canvas.width / rect.width;
      const pixel = canvas.getContext('2d').getImageData(
        Math.floor((centre.x - rect.left) * ratio), Math.floor((centre.y - rect.top) * ratio), 1, 1).data;
      const rows = [...document.querySelectorAll('#rack-table tbody tr')];
      const critical = rows.filter((row) => row.dataset.severity === 'critical').map((row) => Number(row.dataset.rack));
      return { pixel: [...pixel.slice(0, 3)], critical, racks: g.racks };
    });
    check(hot.pixel[0] > 180 && hot.pixel[1] < 110 && hot.pixel[2] < 110,
      `the heated cell is drawn critical red (rgb ${hot.pixel.join(',')})`);
    check(hot.critical.length === 1 && hot.critical[0] === 9, `only rack 9 is critical in the rack table (${hot.critical})`);
    // The rack's own BMS opens its contactor on the over-temperature: the
    // rack table and the alarm say so in words.
    const tripped = await until('the protection trip in the rack table', () => page.evaluate(() => {
      const row = document.querySelector('#rack-table tbody tr[data-rack="9"]');
      const trip = [...document.querySelectorAll('#alarm-list li.alarm')].find((li) => li.dataset.rule === 'rack_protection_trip');
      return row && trip && /CONTACTOR OPEN/.test(row.textContent) && `${row.cells[4].textContent} | ${trip.textContent}`;
    }), 60000);
    check(/trip: over-temperature/.test(tripped) && /contactor opened on over-temperature/.test(tripped),
      `the trip is named: ${tripped}`);
    // The cell's own alarm (the rack's protection trip, a rack-wide alarm,
    // may be critical too).
    const cellAlarm = await page.evaluateHandle(() => [...document.querySelectorAll('#alarm-list li.alarm.critical')]
      .find((li) => li.textContent.includes('rack 9 module 2 cell 3')));
    await cellAlarm.asElement().click();
    const moduleShown = await until('the module of the alarm', () => page.evaluate(() => {
      const m = window.brt.module;
      return m && m.rack === 9 && m.module === 2 && window.brt.focus && window.brt.focus.rack === 9 && m;
    }));
    check(moduleShown.module === 2, 'clicking the alarm shows its module');
    await page.selectOption('#metric', 'temperature_c');
    await until('the temperature map', () => page.evaluate(() => window.brt.lastDrawn.metric === 'temperature_c'));
    await until('the temperature trend from history', () => page.evaluate(
      () => window.brt.history && window.brt.history.metric === 'temperature_c' && window.brt.history.points.length >= 3));
    check(true, 'changing the metric brings its history');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(500);
    await page.screenshot({ path: 'ws_bridge_browser.png' });
    console.log(`screenshot: ${process.cwd()}/ws_bridge_browser.png`);
    check(errors.length === 0, `no script errors (${errors.join('; ')})`);

    // A phone, 390 CSS pixels wide: the rack labels stay readable.
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    phone.on('pageerror', (error) => errors.push(String(error)));
    await phone.goto(url);
    await until('the phone heatmap', () => phone.evaluate(() => window.brt.heatmapFramesDrawn >= 2));
    const labels = await phone.evaluate(() => window.brt.rackLabels);
    const fits = await phone.evaluate(() => {
      const canvas = document.getElementById('heatmap').getBoundingClientRect();
      return canvas.right <= window.innerWidth + 1 && document.documentElement.scrollWidth <= window.innerWidth + 1;
    });
    check(fits, 'at 390 px the heatmap and the page fit the width');
    check(labels.drawn === racks && labels.fontCssPx >= 9,
      `at 390 px all ${labels.drawn} rack labels are drawn at ${labels.fontCssPx.toFixed(1)} px`);
    await phone.screenshot({ path: 'ws_bridge_phone.png' });
    console.log(`screenshot: ${process.cwd()}/ws_bridge_phone.png`);
    check(errors.length === 0, `no script errors on the phone (${errors.join('; ')})`);
  } finally {
    await browser.close();
  }
}

let status = 0;
try {
  await main();
} catch (error) {
  console.error(`FAILED: ${error.message}`);
  for (const child of children) console.error(`--- ${child.spawnargs[0]}:\n${child.output}`);
  status = 1;
}
for (const child of children) child.kill('SIGTERM');
await new Promise((resolve) => setTimeout(resolve, 300));
spawnSync(shmInit, ['--shm-name', segment, '--remove', '--force']);
rmSync(`/dev/shm/${segment}.alarms`, { force: true });  // the monitor keeps it when it exits
rmSync(scratch, { recursive: true, force: true });
process.exit(status);
