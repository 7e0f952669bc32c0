// The bridge's web page in a real browser: a simulator writes, the bridge
// serves, headless Chromium draws. Asserts that the heatmap shows live
// values, that hovering and clicking show a cell's and a module's values,
// and that a scenario applied from the page raises an alarm (the anomaly
// monitor's, read by the bridge from the alarm segment) in its list.
// Saves a screenshot (ws_bridge_browser.png in the working directory).
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
  start([simulator, '--shm-name', segment]);
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
    const colours = await page.evaluate(() => {
      const canvas = document.getElementById('heatmap');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    });
    check(colours > 20, `the canvas shows many colours (${colours})`);
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
      return (await page.isVisible('#tooltip')) && /temperature_c\s+-?\d/.test(text) && text;
    });
    check(tooltip.includes('rack 2 module 3 cell 5'), 'hover names the cell');
    check(/voltage_v\s+\d\.\d{3} V/.test(tooltip) && /temperature_c\s+-?\d+\.\d °C/.test(tooltip),
      'hover shows its voltage and temperature');

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
    // Acknowledged from the page (the Control panel's token): the monitor's list says who.
    await page.click('#alarm-list li.alarm[data-rule="sensor_dropout"] button');
    const acknowledged = await until('the acknowledgement in the list', () => page.evaluate(() => {
      const li = [...document.querySelectorAll('#alarm-list li.alarm')].find((item) => item.dataset.rule === 'sensor_dropout');
      return li && li.dataset.state === 'acknowledged' && li.textContent;
    }));
    check(acknowledged.includes('ack by rest 127.0.0.1'), `acknowledged from the page: "${acknowledged}"`);

    await page.selectOption('#metric', 'temperature_c');
    await until('the temperature map', () => page.evaluate(() => window.brt.lastDrawn.metric === 'temperature_c'));
    await page.selectOption('#metric', 'voltage_v');
    await page.mouse.move(centre.x, centre.y);
    await page.waitForTimeout(500);
    await page.screenshot({ path: 'ws_bridge_browser.png' });
    console.log(`screenshot: ${process.cwd()}/ws_bridge_browser.png`);
    check(errors.length === 0, `no script errors (${errors.join('; ')})`);
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
