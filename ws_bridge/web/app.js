// The brt-ws-bridge dashboard. Plain JavaScript, no libraries, nothing
// fetched from elsewhere: one WebSocket to the bridge carries the summary
// (JSON), the alarms (JSON), the selected module (JSON), the trend history
// (JSON) and the heatmap of every cell (binary: docs/ws-bridge.md, "Binary
// heatmap message"). Colours follow high-performance HMI practice (ISA-101):
// grey while all is normal, colour only for alarms (docs/ws-bridge.md,
// "What am I looking at").
'use strict';

const FIELDS = ['voltage_v', 'current_a', 'temperature_c', 'soc', 'resistance_ohm', 'soh', 'status'];
const UNITS = { voltage_v: 'V', current_a: 'A', temperature_c: '°C', soc: '', resistance_ohm: 'Ω', soh: '' };
const LABELS = {
  voltage_v: 'Voltage', current_a: 'Current', temperature_c: 'Temperature', soc: 'State of charge',
  resistance_ohm: 'Resistance', soh: 'State of health',
};
// Alarm severities as ranks (0: none) and their colours, the only strong
// colours on the page: everything normal is grey (ISA-101).
const SEVERITIES = ['', 'info', 'warning', 'critical'];
const RANK = { info: 1, warning: 2, critical: 3 };
const SEVERITY_RGB = [null, [61, 126, 201], [212, 160, 23], [217, 65, 58]];
const rgba = ([r, g, b]) => (255 << 24) | (b << 16) | (g << 8) | r;  // ImageData is RGBA little-endian
const SEVERITY_PIXEL = SEVERITY_RGB.map((c) => (c ? rgba(c) : 0));
const SEVERITY_CSS = SEVERITY_RGB.map((c) => (c ? `rgb(${c.join(',')})` : ''));
const HEATMAP_MAGIC = 0x48545242;
// Above this many cells the heatmap carries only the chosen metric and the
// status word (4 instead of 28 bytes a cell); hover then asks for the module.
const ALL_FIELDS_MAX_CELLS = 20000;
const HISTORY_MAX_POINTS = 7200;  // live points kept per rack beyond the server's history
const STATUS_NAMES = [
  [1 << 0, 'voltage sensor fault'], [1 << 1, 'temperature sensor fault'],
  [1 << 2, 'current sensor fault'], [1 << 3, 'dropout'], [1 << 4, 'open wire'],
  [1 << 5, 'stuck'], [1 << 6, 'offset drift'], [1 << 8, 'balancing'],
  [1 << 9, 'self-heating'], [1 << 10, 'venting'], [1 << 11, 'thermal runaway'],
];

const $ = (id) => document.getElementById(id);

// State the tests read (tests/ws_bridge/browser/): what was drawn, and when.
const brt = {
  geometry: null,
  heatmapFramesDrawn: 0,
  lastHeatmapFrame: 0,
  lastDrawn: null,        // {metric, min, max, valid, cells}
  summary: null,
  alarms: null,
  module: null,           // the last module message
  moduleBarsDrawn: 0,
  drawMs: [],             // the last heatmap draws' durations
  selected: null,         // {rack, module}
  focus: null,            // {rack, module, cell}: the cell an alarm was clicked for
  connected: false,
  limits: null,           // default alarm limits per chemistry (/api/v1/limits)
  rackSeverity: [],       // worst active alarm per rack: '', 'info', 'warning', 'critical'
  history: null,          // {rack, metric, points: [{t, min, mean, max}]} from the bridge
  historyMessages: 0,
};
window.brt = brt;

let socket = null;
let metric = 'voltage_v';
let heatmap = null;       // {frame, firstCell, cells, fields: {name: typed array}, liveness}
let layout = null;
let trend = [];           // live points: [{t (unix s), racks: Float32Array(racks * 6 * 3)}]
let trendRack = 0;
let trendSeconds = 900;
// Where the active, unshelved alarms are (absolute cell index -> rank,
// module index -> rank), rebuilt with each alarm list.
let cellRank = new Uint8Array(0);
let hoverCell = null;
let hoverModuleFetch = null;
let showSuppressed = false;  // consequences of a first-out alarm: hidden unless asked for

// ---- colour map: a perceptually ordered blue-green-yellow ramp ----------------
const RAMP = [
  [0.0, [48, 18, 59]], [0.15, [70, 107, 227]], [0.3, [40, 170, 225]], [0.45, [30, 210, 160]],
  [0.6, [120, 240, 80]], [0.75, [220, 220, 50]], [0.88, [250, 140, 30]], [1.0, [200, 30, 20]],
];
const LUT = new Uint32Array(256);
(function buildLut() {
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 0;
    while (k < RAMP.length - 2 && x > RAMP[k + 1][0]) k++;
    const [x0, c0] = RAMP[k];
    const [x1, c1] = RAMP[k + 1];
    const f = Math.min(1, Math.max(0, (x - x0) / (x1 - x0)));
    const r = Math.round(c0[0] + f * (c1[0] - c0[0]));
    const g = Math.round(c0[1] + f * (c1[1] - c0[1]));
    const b = Math.round(c0[2] + f * (c1[2] - c0[2]));
    LUT[i] = (255 << 24) | (b << 16) | (g << 8) | r;  // ImageData is RGBA little-endian
  }
})();
// Normal values: a grey from dark to light on a fixed scale (greys never
// stand for an alarm). A cell without a reading: dark violet.
const GREY = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  const v = Math.round(58 + (i / 255) * (190 - 58));
  GREY[i] = rgba([v, v, v]);
}
const NO_READING_RGB = [72, 52, 96];
const NO_READING = rgba(NO_READING_RGB);
const BACKGROUND = rgba([12, 14, 18]);

// The fixed scale of a metric for a chemistry: the default alarm limits, as
// the viewer's --scale state (docs/viewer.md); null where a metric has none.
function fixedRange(field, chemistry) {
  const limits = brt.limits && brt.limits[chemistry];
  if (field === 'soc') return [0, 1];
  if (!limits) return null;
  if (field === 'voltage_v') return [limits.voltage_v.min.msl, limits.voltage_v.max.msl];
  if (field === 'temperature_c') return [limits.temperature_c.min.msl, limits.temperature_c.max.msl];
  if (field === 'soh') return [limits.soh.min.msl, 1];
  return null;
}

function stateMode() {
  return $('scale').value === 'state';
}

function swatch(colour, text) {
  const item = document.createElement('span');
  const box = document.createElement('span');
  box.className = 'swatch';
  box.style.background = colour;
  item.append(box, text);
  return item;
}

function rampCanvas(lut) {
  const canvas = document.createElement('canvas');
  canvas.width = 140;
  canvas.height = 1;
  const context = canvas.getContext('2d');
  const image = context.createImageData(canvas.width, 1);
  const pixels = new Uint32Array(image.data.buffer);
  for (let x = 0; x < canvas.width; x++) pixels[x] = lut[Math.round((x / (canvas.width - 1)) * 255)];
  context.putImageData(image, 0, 0);
  return canvas;
}

// Says what the colours mean, in words: redrawn only when that changes.
let legendKey = '';
function drawLegend(ranges) {
  const key = JSON.stringify([stateMode(), metric, ranges]);
  if (key === legendKey) return;
  legendKey = key;
  const legend = $('legend');
  legend.replaceChildren();
  const text = (t) => document.createTextNode(t);
  if (stateMode()) {
    legend.append(swatch(SEVERITY_CSS[3], 'critical alarm'), swatch(SEVERITY_CSS[2], 'warning'),
      swatch(SEVERITY_CSS[1], 'info'), swatch(`rgb(${NO_READING_RGB.join(',')})`, 'no reading'));
    legend.append(text(`normal ${LABELS[metric].toLowerCase()}:`));
    legend.append(text(" "));
    for (const [name, [lo, hi]] of ranges) {
      legend.append(text(`${name} ${formatValue(lo, metric)}`), rampCanvas(GREY), text(formatValue(hi, metric)));
    }
  } else {
    const [[, [lo, hi]]] = ranges;
    legend.append(text(`${LABELS[metric]}: this frame's range ${formatValue(lo, metric)}`), rampCanvas(LUT),
      text(`${formatValue(hi, metric)} (no alarm colours)`), swatch(`rgb(${NO_READING_RGB.join(',')})`, 'no reading'));
  }
}

function formatValue(value, field) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  const unit = UNITS[field] || '';
  let text;
  if (field === 'soc' || field === 'soh') return (value * 100).toFixed(1) + ' %';
  if (field === 'resistance_ohm') text = (value * 1000).toFixed(3) + ' m';
  else if (field === 'voltage_v') text = value.toFixed(3) + ' ';
  else text = (Math.abs(value) < 0.05 ? 0 : value).toFixed(1) + ' ';  // never "-0.0"
  return text + unit;
}

// ---- WebSocket ------------------------------------------------------------------
function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => {
    brt.connected = true;
    $('connection').textContent = 'connected';
    send({ action: 'subscribe', view: 'summary', rate_hz: 2 });
    send({ action: 'subscribe', view: 'alarms', rate_hz: 2 });
  };
  socket.onclose = () => {
    brt.connected = false;
    $('connection').textContent = 'disconnected: retrying';
    setWriterPill('disconnected', 'bridge unreachable');
    setTimeout(connect, 2000);
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string') {
      onHeatmap(event.data);
      return;
    }
    const message = JSON.parse(event.data);
    switch (message.type) {
      case 'hello': onHello(message); break;
      case 'summary': onSummary(message); break;
      case 'alarms': onAlarms(message); break;
      case 'module': onModule(message); break;
      case 'history': onHistory(message); break;
      case 'error': $('connection').textContent = 'bridge says: ' + message.error; break;
      default: break;
    }
  };
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function subscribeHeatmap() {
  if (!brt.geometry) return;
  const cells = brt.geometry.racks * brt.geometry.modules_per_rack * brt.geometry.cells_per_module;
  const fields = cells <= ALL_FIELDS_MAX_CELLS ? FIELDS : [metric, 'status'];
  // Fewer frames a second for very large systems: drawing stays responsive.
  const rate = cells <= ALL_FIELDS_MAX_CELLS ? 5 : 2;
  send({ action: 'subscribe', view: 'heatmap', rate_hz: rate, fields });
}

function onHello(message) {
  if (message.geometry) setGeometry(message.geometry);
}

function setGeometry(geometry) {
  const changed = !brt.geometry ||
    brt.geometry.racks !== geometry.racks ||
    brt.geometry.modules_per_rack !== geometry.modules_per_rack ||
    brt.geometry.cells_per_module !== geometry.cells_per_module;
  if (!changed) return;
  brt.geometry = {
    racks: geometry.racks, modules_per_rack: geometry.modules_per_rack,
    cells_per_module: geometry.cells_per_module,
  };
  layout = null;
  heatmap = null;
  trend = [];
  brt.history = null;
  cellRank = new Uint8Array(geometry.racks * geometry.modules_per_rack * geometry.cells_per_module);
  if (brt.alarms) placeAlarms(brt.alarms);
  $('trend-rack').max = geometry.racks - 1;
  subscribeHeatmap();
  requestHistory();
}

// ---- summary: header and trend ------------------------------------------------------
function setWriterPill(state, detail) {
  const pill = $('writer');
  pill.className = 'pill state-' + state.replace(/ /g, '-');
  pill.textContent = 'writer ' + state;
  pill.title = detail || '';
}

const FLAG_WORDS = {
  discharge_cutoff: 'discharge cut-off', charger_fault: 'charger fault', grid_outage: 'grid outage',
  contactor_open: 'CONTACTOR OPEN', trip_over_voltage: 'trip: over-voltage', trip_under_voltage: 'trip: under-voltage',
  trip_over_temperature: 'trip: over-temperature', trip_under_temperature: 'trip: under-temperature',
  trip_venting: 'trip: venting', trip_thermal_runaway: 'trip: thermal runaway',
};
// Flags that are the rack's state, not something holding it back.
const STATE_FLAGS = new Set(['hvac_on', 'constant_voltage', 'paused', 'charge_complete']);

function onSummary(summary) {
  brt.summary = summary;
  setWriterPill(summary.writer.liveness, summary.writer.detail);
  if (summary.geometry) setGeometry(summary.geometry);
  const rate = summary.writer.frame_rate_hz ? summary.writer.frame_rate_hz.toFixed(1) : '0';
  $('frame-info').textContent = summary.frame === null
    ? 'no frame yet'
    : `frame ${summary.frame} · ${rate} frames/s · ${summary.geometry ? summary.geometry.cells : 0} cells`;
  $('frame-info').title = `frames this page's bridge missed: ${summary.frames_missed}`;
  const paused = summary.writer.state === 'paused';
  $('sim-state').textContent = paused ? 'simulation PAUSED' : `simulation ${summary.writer.state}`;
  drawRackTable(summary);
  if (summary.frame !== null && summary.racks.length) {
    const racks = summary.racks;
    const values = new Float32Array(racks.length * 6 * 3);
    racks.forEach((rack, r) => {
      FIELDS.slice(0, 6).forEach((field, f) => {
        const s = rack[field];
        const base = (r * 6 + f) * 3;
        values[base] = s.min === null ? NaN : s.min;
        values[base + 1] = s.mean === null ? NaN : s.mean;
        values[base + 2] = s.max === null ? NaN : s.max;
      });
    });
    // Wall-clock time, as the bridge's history is stamped.
    const t = summary.wall_time_ns ? summary.wall_time_ns / 1e9 : Date.now() / 1000;
    if (!trend.length || t > trend[trend.length - 1].t) trend.push({ t, racks: values });
    while (trend.length > HISTORY_MAX_POINTS) trend.shift();
    drawTrend();
  }
}

// One row per rack: its worst alarm, mode and what holds it back, HVAC,
// air temperature and current. Colour only where something is abnormal.
function drawRackTable(summary) {
  $('ambient').textContent = summary.frame === null ? '' : `ambient ${formatValue(summary.ambient_temperature_c, 'temperature_c')}`;
  const body = $('rack-table').tBodies[0];
  const rows = summary.racks || [];
  while (body.rows.length > rows.length) body.deleteRow(-1);
  rows.forEach((rack, r) => {
    const row = body.rows[r] || body.insertRow();
    if (row.cells.length === 0) {
      for (let c = 0; c < 8; c++) row.insertCell();
      row.onclick = () => setTrendRack(r);
    }
    const severity = brt.rackSeverity[rack.rack] || '';
    const held = rack.flags.filter((flag) => !STATE_FLAGS.has(flag)).map((flag) => FLAG_WORDS[flag] || flag.replace(/_/g, ' '));
    let mode = rack.mode;
    if (rack.flags.includes('charge_complete')) mode += ' (full)';
    else if (rack.flags.includes('constant_voltage')) mode += ' (CV)';
    if (rack.flags.includes('paused')) mode += ' (paused)';
    const cells = [
      [`rack ${rack.rack}`, ''], [severity || 'normal', severity], [rack.chemistry.toUpperCase(), ''], [mode, ''],
      [held.length ? held.join(', ') : 'none', held.length ? 'abnormal' : ''],
      [rack.flags.includes('hvac_on') ? 'on' : 'off', ''],
      [formatValue(rack.air_temperature_c, 'temperature_c').replace(' °C', ''), ''],
      [formatValue(rack.string_current_a, 'current_a').replace(' A', ''), ''],
    ];
    cells.forEach(([text, className], c) => {
      const cell = row.cells[c];
      if (cell.textContent !== text) cell.textContent = text;
      if (cell.className !== className) cell.className = className;
    });
    row.dataset.rack = rack.rack;
    row.dataset.severity = severity || 'normal';
  });
}

// The rack's trend: the bridge's history (asked for when the page opens, and
// whenever the rack or the metric changes), then the live summaries.
function requestHistory() {
  if (!brt.geometry || trendRack >= brt.geometry.racks) return;
  send({ action: 'history', rack: trendRack, fields: [metric] });
}

function onHistory(message) {
  const series = message[metric];
  if (message.rack !== trendRack || !series) return;
  const points = message.time_unix_s.map((t, i) => ({
    t: t + message.interval_s / 2,  // the middle of the interval it covers
    min: series.min[i] === null ? NaN : series.min[i],
    mean: series.mean[i] === null ? NaN : series.mean[i],
    max: series.max[i] === null ? NaN : series.max[i],
  }));
  brt.history = { rack: message.rack, metric, interval_s: message.interval_s, points };
  brt.historyMessages++;
  drawTrend();
}

// The points to draw: history older than the first live point, then live.
function trendPoints() {
  const f = FIELDS.indexOf(metric);
  const live = trend.map((point) => {
    const base = (trendRack * 6 + f) * 3;
    return { t: point.t, min: point.racks[base], mean: point.racks[base + 1], max: point.racks[base + 2] };
  }).filter((point) => !Number.isNaN(point.min) || !Number.isNaN(point.mean));
  const history = brt.history && brt.history.rack === trendRack && brt.history.metric === metric ? brt.history.points : [];
  const firstLive = live.length ? live[0].t : Infinity;
  return history.filter((point) => point.t < firstLive).concat(live);
}

function drawTrend() {
  const canvas = $('trend-chart');
  const context = canvas.getContext('2d');
  const width = canvas.width;
  const height = canvas.height;
  context.clearRect(0, 0, width, height);
  $('trend-title').textContent = `Rack ${trendRack} trend: ${$('metric').selectedOptions[0].textContent}`;
  if (!brt.geometry || trendRack >= brt.geometry.racks) return;
  const all = trendPoints();
  const now = all.length ? Math.max(all[all.length - 1].t, Date.now() / 1000) : Date.now() / 1000;
  const points = all.filter((point) => point.t >= now - trendSeconds);
  brt.trendPointsDrawn = points.length;
  if (points.length < 2) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const point of points) {
    for (const v of [point.min, point.mean, point.max]) {
      if (!Number.isNaN(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  if (!Number.isFinite(lo)) return;
  if (hi - lo < 1e-6) { hi += 0.5 * Math.max(Math.abs(hi) * 0.01, 1e-3); lo -= 0.5 * Math.max(Math.abs(lo) * 0.01, 1e-3); }
  const left = 60;
  const x = (t) => left + ((t - (now - trendSeconds)) / trendSeconds) * (width - left - 8);
  const y = (v) => 8 + (1 - (v - lo) / (hi - lo)) * (height - 28);
  context.strokeStyle = '#2c333d';
  context.fillStyle = '#8a94a3';
  context.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    context.beginPath(); context.moveTo(left, y(v)); context.lineTo(width - 8, y(v)); context.stroke();
    context.fillText(formatValue(v, metric), 2, y(v) + 4);
  }
  context.fillText(`-${trendSeconds >= 3600 ? trendSeconds / 3600 + ' h' : trendSeconds / 60 + ' min'}`, left, height - 4);
  context.fillText('now', width - 30, height - 4);
  const colours = ['#4aa3ff', '#ffffff', '#ff9f40'];
  const keys = ['min', 'mean', 'max'];
  // A gap longer than a few points' spacing (writer stopped) is not bridged.
  const gap = Math.max(5, 3 * (brt.history ? brt.history.interval_s : 1));
  for (let k = 0; k < 3; k++) {
    context.strokeStyle = colours[k];
    context.lineWidth = k === 1 ? 1.5 : 1;
    context.beginPath();
    let last = null;
    for (const point of points) {
      const v = point[keys[k]];
      if (Number.isNaN(v)) { last = null; continue; }
      if (last === null || point.t - last > gap) context.moveTo(x(point.t), y(v)); else context.lineTo(x(point.t), y(v));
      last = point.t;
    }
    context.stroke();
  }
  context.lineWidth = 1;
}

// ---- heatmap ---------------------------------------------------------------------
function parseHeatmap(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 64 || view.getUint32(0, true) !== HEATMAP_MAGIC) return null;
  const headerBytes = view.getUint16(6, true);
  const message = {
    frame: Number(view.getBigUint64(8, true)),
    firstCell: view.getUint32(32, true),
    cells: view.getUint32(36, true),
    geometry: {
      racks: view.getUint32(40, true),
      modules_per_rack: view.getUint32(44, true),
      cells_per_module: view.getUint32(48, true),
    },
    mask: view.getUint32(52, true),
    rack: view.getUint32(56, true),
    fields: {},
  };
  let offset = headerBytes;
  for (let f = 0; f < FIELDS.length; f++) {
    if ((message.mask & (1 << f)) === 0) continue;
    message.fields[FIELDS[f]] = f === 6
      ? new Uint32Array(buffer, offset, message.cells)
      : new Float32Array(buffer, offset, message.cells);
    offset += message.cells * 4;
  }
  return message;
}

function onHeatmap(buffer) {
  const message = parseHeatmap(buffer);
  if (!message || message.rack !== 0xFFFFFFFF) return;
  setGeometry(message.geometry);
  heatmap = message;
  if (!heatmap.fields[metric]) subscribeHeatmap();  // the metric changed at a large size
  requestDraw();
}

let drawPending = false;
function requestDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawHeatmap(); });
}

// Racks as blocks of modules (rows) x cells (columns), one native pixel a
// cell, as many racks a row as makes the cells largest on the canvas.
function computeLayout(canvas) {
  const g = brt.geometry;
  const gap = Math.max(1, Math.round(g.cells_per_module / 16));
  const blockW = g.cells_per_module + gap;
  // Rack labels stay readable (13 CSS pixels) however small the cells get,
  // on a phone too: more label rows when a cell is smaller.
  const labelPixels = 13 * (window.devicePixelRatio || 1);
  let labelRows = 2;
  let blockH = 0;
  let best = null;
  for (let attempt = 0; attempt < 6; attempt++) {
    blockH = g.modules_per_rack + gap + labelRows;
    best = null;
    for (let columns = 1; columns <= g.racks; columns++) {
      const rows = Math.ceil(g.racks / columns);
      const scale = Math.min(canvas.width / (columns * blockW), canvas.height / (rows * blockH));
      if (!best || scale > best.scale) best = { columns, rows, scale };
    }
    const needed = Math.ceil(labelPixels / Math.max(best.scale, 0.01));
    if (needed <= labelRows) break;
    labelRows = needed;
  }
  const nativeW = best.columns * blockW;
  const nativeH = best.rows * blockH;
  const offscreen = document.createElement('canvas');
  offscreen.width = nativeW;
  offscreen.height = nativeH;
  const context = offscreen.getContext('2d');
  const image = context.createImageData(nativeW, nativeH);
  // Where each cell's pixel is, computed once per geometry.
  const pixelOf = new Uint32Array(g.racks * g.modules_per_rack * g.cells_per_module);
  let cell = 0;
  for (let rack = 0; rack < g.racks; rack++) {
    const bx = (rack % best.columns) * blockW;
    const by = Math.floor(rack / best.columns) * blockH + labelRows;
    for (let module = 0; module < g.modules_per_rack; module++) {
      for (let c = 0; c < g.cells_per_module; c++) pixelOf[cell++] = (by + module) * nativeW + bx + c;
    }
  }
  const scale = Math.max(0.01, best.scale);
  return {
    ...best, scale, gap, labelRows, blockW, blockH, nativeW, nativeH, offscreen, context, image,
    pixels: new Uint32Array(image.data.buffer), pixelOf,
    drawW: nativeW * scale, drawH: nativeH * scale,
  };
}

function resizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    layout = null;
  }
}

function frameRange(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;       // NaN compares false: skipped
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function rackChemistry(rack) {
  const racks = brt.summary && brt.summary.racks;
  return racks && racks[rack] ? racks[rack].chemistry : 'nmc';
}

function drawHeatmap() {
  const started = performance.now();
  const canvas = $('heatmap');
  resizeCanvas(canvas);
  if (!heatmap || !brt.geometry) return;
  const values = heatmap.fields[metric];
  if (!values) return;
  if (!layout) layout = computeLayout(canvas);
  const g = brt.geometry;
  const cellsPerRack = g.modules_per_rack * g.cells_per_module;
  const [frameLo, frameHi] = frameRange(values);
  const byState = stateMode();
  // One scale per rack: its chemistry's limits (by state), or the frame's range.
  const scales = [];
  const legendRanges = new Map();
  for (let rack = 0; rack < g.racks; rack++) {
    const chemistry = rackChemistry(rack);
    const fixed = byState ? fixedRange(metric, chemistry) : null;
    const [lo, hi] = fixed || [frameLo, frameHi];
    scales.push({ lo, scale: hi > lo ? 255 / (hi - lo) : 0 });
    legendRanges.set(fixed ? chemistry.toUpperCase() : '', [lo, hi]);
  }
  const lut = byState ? GREY : LUT;
  const ranks = byState && cellRank.length === g.racks * cellsPerRack ? cellRank : null;
  const pixels = layout.pixels;
  pixels.fill(BACKGROUND);
  const pixelOf = layout.pixelOf;
  let valid = 0;
  let alarmCells = 0;
  for (let i = 0; i < values.length; i++) {
    const cell = heatmap.firstCell + i;
    const rank = ranks ? ranks[cell] : 0;
    if (rank) { pixels[pixelOf[cell]] = SEVERITY_PIXEL[rank]; alarmCells++; }
    const v = values[i];
    if (Number.isNaN(v)) { if (!rank) pixels[pixelOf[cell]] = NO_READING; continue; }
    valid++;
    if (rank) continue;
    const { lo, scale } = scales[(cell / cellsPerRack) | 0];
    let k = Math.round((v - lo) * scale);
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    pixels[pixelOf[cell]] = lut[k];
  }
  layout.context.putImageData(layout.image, 0, 0);
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = false;
  context.fillStyle = '#0c0e12';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(layout.offscreen, 0, 0, layout.drawW, layout.drawH);
  drawRackLabels(context);
  drawHeatmapMarks(context);
  drawLegend([...legendRanges]);
  brt.heatmapFramesDrawn++;
  brt.lastHeatmapFrame = heatmap.frame;
  brt.lastDrawn = {
    metric, scale: byState ? 'state' : 'range', min: frameLo, max: frameHi, valid, cells: values.length, alarmCells,
  };
  brt.drawMs.push(performance.now() - started);
  if (brt.drawMs.length > 100) brt.drawMs.shift();
}

// Each rack's name above its block; by state, on its worst alarm's colour.
function drawRackLabels(context) {
  const g = brt.geometry;
  const s = layout.scale;
  const height = s * layout.labelRows;
  const ratio = window.devicePixelRatio || 1;
  const font = Math.min(14 * ratio, Math.floor(height * 0.8));
  context.font = `${font}px sans-serif`;
  for (let rack = 0; rack < g.racks; rack++) {
    const x = (rack % layout.columns) * layout.blockW * s;
    const y = Math.floor(rack / layout.columns) * layout.blockH * s;
    const severity = RANK[brt.rackSeverity[rack]] || 0;
    const label = `rack ${rack}`;
    if (severity && stateMode()) {
      context.fillStyle = SEVERITY_CSS[severity];
      context.fillRect(x, y, Math.min(g.cells_per_module * s, context.measureText(label).width + 6), height - 1);
      context.fillStyle = severity === 2 ? '#111' : '#fff';
    } else {
      context.fillStyle = '#8a94a3';
    }
    context.fillText(label, x + 2, y + height * 0.82);
  }
  brt.rackLabels = { drawn: g.racks, fontCssPx: font / ratio };
}

// The selected module and the hovered cell, outlined.
function drawHeatmapMarks(context) {
  const g = brt.geometry;
  const s = layout.scale;
  const outline = (rack, module, first, count, colour) => {
    const x = ((rack % layout.columns) * layout.blockW + first) * s;
    const y = (Math.floor(rack / layout.columns) * layout.blockH + layout.labelRows + module) * s;
    context.strokeStyle = colour;
    context.lineWidth = 2;
    context.strokeRect(x - 1, y - 1, count * s + 2, s + 2);
    context.lineWidth = 1;
  };
  if (brt.selected) outline(brt.selected.rack, brt.selected.module, 0, g.cells_per_module, '#ffffff');
  if (brt.focus && brt.focus.cell !== null) outline(brt.focus.rack, brt.focus.module, brt.focus.cell, 1, '#ffffff');
  if (hoverCell) outline(hoverCell.rack, hoverCell.module, hoverCell.cell, 1, '#ff40ff');
}

// Canvas position (CSS pixels) -> {rack, module, cell, index} or null.
function cellAt(clientX, clientY) {
  if (!layout || !brt.geometry) return null;
  const canvas = $('heatmap');
  const rect = canvas.getBoundingClientRect();
  const ratio = canvas.width / rect.width;
  const nx = Math.floor(((clientX - rect.left) * ratio) / layout.scale);
  const ny = Math.floor(((clientY - rect.top) * ratio) / layout.scale);
  const column = Math.floor(nx / layout.blockW);
  const row = Math.floor(ny / layout.blockH);
  const cell = nx - column * layout.blockW;
  const module = ny - row * layout.blockH - layout.labelRows;
  const rack = row * layout.columns + column;
  const g = brt.geometry;
  if (column >= layout.columns || rack >= g.racks || cell < 0 || cell >= g.cells_per_module ||
      module < 0 || module >= g.modules_per_rack) return null;
  return { rack, module, cell, index: (rack * g.modules_per_rack + module) * g.cells_per_module + cell };
}

// Centre of a cell in page coordinates, for tests and for keyboard users.
brt.cellCentre = (rack, module, cell) => {
  if (!layout) return null;
  const canvas = $('heatmap');
  const rect = canvas.getBoundingClientRect();
  const ratio = canvas.width / rect.width;
  const nx = (rack % layout.columns) * layout.blockW + cell + 0.5;
  const ny = Math.floor(rack / layout.columns) * layout.blockH + layout.labelRows + module + 0.5;
  return { x: rect.left + (nx * layout.scale) / ratio, y: rect.top + (ny * layout.scale) / ratio };
};

function statusText(status) {
  const names = STATUS_NAMES.filter(([bit]) => (status & bit) !== 0).map(([, name]) => name);
  return names.length ? names.join(', ') : 'ok';
}

function showTooltip(event) {
  const tooltip = $('tooltip');
  const found = cellAt(event.clientX, event.clientY);
  // Redraw only when the outlined cell changes, not on every mouse move.
  if ((found && found.index) !== (hoverCell && hoverCell.index)) {
    hoverCell = found;
    requestDraw();
  }
  if (!found || !heatmap) { tooltip.hidden = true; return; }
  const i = found.index - heatmap.firstCell;
  const lines = [`rack ${found.rack} module ${found.module} cell ${found.cell} (${rackChemistry(found.rack).toUpperCase()})`];
  const rank = cellRank[found.index] || 0;
  if (rank) lines.push(`Alarm            ${SEVERITIES[rank]}: see the alarm list`);
  for (const field of FIELDS.slice(0, 6)) {
    const column = heatmap.fields[field];
    if (column) lines.push(`${LABELS[field].padEnd(16)} ${formatValue(column[i], field)}`);
  }
  if (heatmap.fields.status) lines.push(`${'Status'.padEnd(16)} ${statusText(heatmap.fields.status[i])}`);
  if (!heatmap.fields.voltage_v || !heatmap.fields.temperature_c) {
    // A large system: the other values come from the module's own message.
    const cached = brt.hoverModule;
    if (cached && cached.rack === found.rack && cached.module === found.module) {
      const c = cached.cell_list[found.cell];
      for (const field of FIELDS.slice(0, 6)) if (!heatmap.fields[field]) lines.push(`${LABELS[field].padEnd(16)} ${formatValue(c[field], field)} (module view)`);
    } else if (!hoverModuleFetch) {
      hoverModuleFetch = fetch(`/api/v1/racks/${found.rack}/modules/${found.module}`)
        .then((r) => (r.ok ? r.json() : null))
        .then((m) => { brt.hoverModule = m; })
        .finally(() => { hoverModuleFetch = null; });
    }
  }
  tooltip.textContent = lines.join('\n');
  tooltip.hidden = false;
  const wrap = $('heatmap-wrap').getBoundingClientRect();
  let left = event.clientX - wrap.left + 14;
  if (left + 260 > wrap.width) left -= 290;
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${event.clientY - wrap.top + 14}px`;
}

function selectModule(rack, module) {
  brt.selected = { rack, module };
  $('module-title').textContent = `Rack ${rack} module ${module}: loading…`;
  send({ action: 'select', rack, module, rate_hz: 2 });
  setTrendRack(rack);
  requestDraw();
}

function setTrendRack(rack) {
  const changed = rack !== trendRack;
  trendRack = rack;
  $('trend-rack').value = rack;
  if (changed) requestHistory();
  drawTrend();
}

// ---- module bar chart ----------------------------------------------------------------
function onModule(message) {
  if (!brt.selected || message.rack !== brt.selected.rack || message.module !== brt.selected.module) return;
  brt.module = message;
  drawModule();
}

function limitLines(message) {
  const limits = message.limits && message.limits[metric];
  if (!limits) return [];
  const lines = [];
  const colours = { mol: '#3d7ec9', rsl: '#d4a017', msl: '#d9413a' };
  for (const side of ['max', 'min']) {
    const levels = limits[side];
    if (!levels) continue;
    for (const level of ['mol', 'rsl', 'msl']) {
      if (levels[level] !== null && levels[level] !== undefined) {
        lines.push({ value: levels[level], colour: colours[level], label: `${side} ${level.toUpperCase()}` });
      }
    }
  }
  return lines;
}

function drawModule() {
  const message = brt.module;
  if (!message) return;
  const canvas = $('module-chart');
  const context = canvas.getContext('2d');
  const width = canvas.width;
  const height = canvas.height;
  context.clearRect(0, 0, width, height);
  const cells = message.cell_list;
  const values = cells.map((c) => (c[metric] === null ? NaN : c[metric]));
  const limits = limitLines(message);
  const valid = values.filter((v) => !Number.isNaN(v));
  let lo = Math.min(...valid);
  let hi = Math.max(...valid);
  // Show the nearest limits with the bars, so how close the cells are is visible.
  for (const line of limits) {
    if (line.label.endsWith('MSL')) { lo = Math.min(lo, line.value); hi = Math.max(hi, line.value); }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { hi += 1e-3; lo -= 1e-3; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const left = 60;
  const bottom = height - 18;
  const y = (v) => 6 + (1 - (v - lo) / (hi - lo)) * (bottom - 6);
  const barW = (width - left - 6) / cells.length;
  const base = lo < 0 && hi > 0 ? 0 : lo;
  context.font = '11px sans-serif';
  context.fillStyle = '#8a94a3';
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    context.fillText(formatValue(v, metric), 2, y(v) + 4);
  }
  // By state: grey on the chemistry's fixed scale, alarm colours for cells
  // with an alarm; else the module's own range, blue to red.
  const fixed = stateMode() ? fixedRange(metric, message.chemistry) : null;
  const [cLo, cHi] = fixed || [Math.min(...valid), Math.max(...valid)];
  const g = brt.geometry;
  const firstCell = g ? (message.rack * g.modules_per_rack + message.module) * g.cells_per_module : 0;
  values.forEach((v, i) => {
    const x = left + i * barW;
    const rank = stateMode() ? cellRank[firstCell + i] || 0 : 0;
    if (Number.isNaN(v)) {
      context.fillStyle = rank ? SEVERITY_CSS[rank] : `rgb(${NO_READING_RGB.join(',')})`;
      context.fillRect(x + 1, bottom - 4, Math.max(1, barW - 2), 4);
      return;
    }
    let k = cHi > cLo ? Math.round(((v - cLo) / (cHi - cLo)) * 255) : 128;
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    const colour = rank ? SEVERITY_PIXEL[rank] : (fixed ? GREY : LUT)[k];
    context.fillStyle = `rgb(${colour & 255},${(colour >> 8) & 255},${(colour >> 16) & 255})`;
    const top = Math.min(y(v), y(base));
    context.fillRect(x + 1, top, Math.max(1, barW - 2), Math.max(1, Math.abs(y(v) - y(base))));
    if ((cells[i].status & (1 << 11)) !== 0) { context.fillStyle = '#ff2020'; context.fillRect(x + 1, bottom + 2, Math.max(1, barW - 2), 4); }
  });
  context.fillStyle = '#8a94a3';
  context.fillText('cell 0', left, height - 4);
  context.fillText(`cell ${cells.length - 1}`, width - 40, height - 4);
  for (const line of limits) {
    if (line.value < lo || line.value > hi) continue;
    context.strokeStyle = line.colour;
    context.setLineDash([5, 4]);
    context.beginPath(); context.moveTo(left, y(line.value)); context.lineTo(width - 6, y(line.value)); context.stroke();
    context.setLineDash([]);
    if (line.label.endsWith('MSL')) {  // one label a side; the colours say the rest
      context.fillStyle = line.colour;
      context.fillText(line.label, width - 60, y(line.value) + (line.label.startsWith('max') ? -3 : 11));
    }
  }
  $('module-title').textContent = `Rack ${message.rack} module ${message.module} (${message.chemistry}, ${message.mode}): ${$('metric').selectedOptions[0].textContent}`;
  const s = message[metric];
  $('module-info').textContent = `frame ${message.frame} · min ${formatValue(s.min, metric)} · mean ${formatValue(s.mean, metric)} · max ${formatValue(s.max, metric)} · dashed: alarm limits (MOL blue, RSL yellow, MSL red)`;
  brt.moduleBarsDrawn++;
}

// ---- alarms -----------------------------------------------------------------------------
// The list is brt-anomaly-monitor's (the bridge reads its alarm segment); id 0
// is the bridge's own alarm_system alarm: the alarm monitor is not running.
const TRIP_REASONS = ['over-voltage', 'under-voltage', 'over-temperature', 'under-temperature', 'venting', 'thermal runaway'];
const STATE_WORDS = {
  unacknowledged: 'unacknowledged', acknowledged: 'acknowledged', returned_unacknowledged: 'returned, unacknowledged',
};

function alarmPlace(alarm) {
  const parts = [];
  if (alarm.rack !== null) parts.push(`rack ${alarm.rack}`);
  if (alarm.module !== null) parts.push(`module ${alarm.module}`);
  if (alarm.cell !== null) parts.push(`cell ${alarm.cell}`);
  return parts.length ? parts.join(' ') : 'system';
}

// Four significant digits: enough to compare with a limit, short enough to read.
function alarmValue(value, unit) {
  if (value === null || value === undefined) return 'n/a';
  const text = Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
  return `${text}${unit ? ' ' + unit : ''}`;
}

function isShelved(alarm) {
  return alarm.shelved_until_ns > 0 && alarm.shelved_until_ns / 1e6 > Date.now();
}

function isUnacknowledged(alarm) {
  return alarm.id !== 0 && (alarm.state === 'unacknowledged' || alarm.state === 'returned_unacknowledged');
}

// Where the alarms are: each cell, module and rack takes the rank of its
// worst active, unshelved alarm (as the viewer colours them).
function placeAlarms(message) {
  const g = brt.geometry;
  const racks = [];
  if (g) cellRank.fill(0);
  for (const alarm of message.alarms) {
    if (!alarm.active || isShelved(alarm) || alarm.rack === null) continue;
    const rank = RANK[alarm.severity] || 0;
    if (rank > (RANK[racks[alarm.rack]] || 0)) racks[alarm.rack] = alarm.severity;
    if (!g || alarm.module === null || alarm.rack >= g.racks || alarm.module >= g.modules_per_rack) continue;
    const first = (alarm.rack * g.modules_per_rack + alarm.module) * g.cells_per_module;
    const [from, to] = alarm.cell === null ? [first, first + g.cells_per_module] : [first + alarm.cell, first + alarm.cell + 1];
    for (let c = from; c < to && c < cellRank.length; c++) if (rank > cellRank[c]) cellRank[c] = rank;
  }
  brt.rackSeverity = racks;
}

// Header: active alarms by severity, framed and blinking while some are
// unacknowledged; the banner says how many wait for an operator.
function drawAlarmCounts(message) {
  const counts = $('alarm-counts');
  counts.replaceChildren();
  const shown = message.alarms.filter((a) => a.id !== 0 && !a.suppressed && !isShelved(a));
  for (const severity of ['critical', 'warning', 'info']) {
    const active = shown.filter((a) => a.severity === severity && a.active).length;
    const unacknowledged = shown.filter((a) => a.severity === severity && isUnacknowledged(a)).length;
    const chip = document.createElement('span');
    chip.className = `count ${severity}${active ? ' on' : ''}${unacknowledged ? ' unack' : ''}`;
    chip.textContent = `${active} ${severity}`;
    chip.title = `${active} active ${severity} alarms, ${unacknowledged} unacknowledged`;
    chip.dataset.active = active;
    chip.dataset.unacknowledged = unacknowledged;
    counts.append(chip);
  }
  const waiting = shown.filter(isUnacknowledged);
  const banner = $('alarm-banner');
  banner.hidden = waiting.length === 0;
  brt.unacknowledged = waiting.length;
  if (!waiting.length) return;
  const worst = waiting.reduce((a, b) => ((RANK[b.severity] || 0) > (RANK[a.severity] || 0) ? b : a));
  banner.className = `banner ${worst.severity}`;
  const count = waiting.length === 1 ? '1 unacknowledged alarm' : `${waiting.length} unacknowledged alarms`;
  $('banner-text').textContent = `${count} · worst: ${worst.severity} #${worst.id} ${worst.rule} at ${alarmPlace(worst)}` +
    `${worst.active ? '' : ' (returned to normal)'}`;
}

function alarmButton(text, title, action) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = text;
  button.title = title;
  button.onclick = (event) => {
    event.stopPropagation();
    action();
  };
  return button;
}

function onAlarms(message) {
  brt.alarms = message;
  placeAlarms(message);
  drawAlarmCounts(message);
  requestDraw();
  if (brt.summary) drawRackTable(brt.summary);
  if (brt.module) drawModule();
  const monitor = message.monitor;
  $('alarm-monitor').textContent = monitor.running
    ? `monitor running · frame ${message.frame}`
    : `alarm monitor not running: ${monitor.problem}`;
  const down = message.alarms.find((a) => a.id === 0);
  $('alarm-system').hidden = !down;
  $('alarm-system').textContent = down ? 'ALARM SYSTEM DOWN: alarm monitor not running' : '';
  $('alarm-system').title = monitor.problem;
  const suppressed = message.alarms.filter((a) => a.suppressed).length;
  $('show-suppressed').hidden = suppressed === 0;
  $('show-suppressed').textContent = showSuppressed ? `hide suppressed (${suppressed})` : `show suppressed (${suppressed})`;
  const list = $('alarm-list');
  list.replaceChildren();
  const shown = message.alarms.filter((a) => showSuppressed || !a.suppressed);
  if (!shown.length) {
    const none = document.createElement('li');
    none.className = 'none';
    none.textContent = 'none';
    list.append(none);
    return;
  }
  for (const alarm of shown) {
    const item = document.createElement('li');
    const shelved = isShelved(alarm);
    item.className = `alarm ${alarm.severity} ${alarm.state}${alarm.suppressed ? ' suppressed' : ''}` +
      `${shelved ? ' shelved' : ''}${alarm.id === 0 ? ' alarm_system' : ''}`;
    item.dataset.rule = alarm.rule;
    item.dataset.id = alarm.id;
    item.dataset.state = alarm.state;
    const severity = document.createElement('span');
    severity.className = 'sev';
    severity.textContent = alarm.severity;
    let text;
    if (alarm.id === 0) {
      text = `alarm monitor not running · ${monitor.problem}`;
    } else if (alarm.rule === 'rack_protection_trip') {
      // Its value is the trip reasons (rack flag bits 8..13 shifted down): named.
      const bits = (alarm.value || 0) | (alarm.worst || 0);
      const reasons = TRIP_REASONS.filter((_, bit) => (bits & (1 << bit)) !== 0);
      text = `#${alarm.id} ${STATE_WORDS[alarm.state] || alarm.state} · ${alarm.rule} · ${alarmPlace(alarm)}` +
        ` · contactor opened on ${reasons.join(', ') || 'a cell condition'} · since ${alarm.raised.slice(11, 19)}`;
    } else {
      text = `#${alarm.id} ${STATE_WORDS[alarm.state] || alarm.state} · ${alarm.rule} · ${alarmPlace(alarm)}` +
        ` · now ${alarmValue(alarm.value, alarm.unit)}, worst ${alarmValue(alarm.worst, alarm.unit)}` +
        ` (limit ${alarmValue(alarm.limit, alarm.unit)}) · since ${alarm.raised.slice(11, 19)}`;
    }
    const marks = [];
    if (alarm.latching) marks.push('latching');
    if (alarm.first_out) marks.push('first-out');
    if (alarm.suppressed) marks.push(`suppressed: follows #${alarm.first_out_id}`);
    if (shelved) marks.push(`shelved until ${new Date(alarm.shelved_until_ns / 1e6).toISOString().slice(11, 19)}`);
    if (alarm.acknowledged_by) marks.push(`ack by ${alarm.acknowledged_by}`);
    const extra = document.createElement('span');
    extra.className = 'marks';
    extra.textContent = marks.length ? ` [${marks.join(', ')}]` : '';
    item.append(severity, text, extra);
    if (alarm.id !== 0) {
      const base = `/api/v1/alarms/${alarm.id}`;
      const needs = ' (needs the token of the Control panel)';
      if (shelved) {
        item.append(alarmButton('unshelve', 'unshelve' + needs, () => alarmCommand(`${base}/unshelve`)));
      } else {
        item.append(alarmButton('shelve 1 h', 'hide it for an hour; it returns by itself' + needs,
          () => alarmCommand(`${base}/shelve`, { seconds: 3600 })));
      }
      if (alarm.state !== 'acknowledged') {
        item.append(alarmButton('ack', 'acknowledge' + needs, () => alarmCommand(`${base}/acknowledge`)));
      }
    }
    item.title = (message.rule_descriptions && message.rule_descriptions[alarm.rule]) || '';
    if (alarm.rack !== null && alarm.module !== null) item.onclick = () => focusAlarm(alarm);
    else if (alarm.rack !== null) item.onclick = () => setTrendRack(alarm.rack);
    list.append(item);
  }
}

// From an alarm to its place: its module in the chart, its cell outlined.
function focusAlarm(alarm) {
  brt.focus = { rack: alarm.rack, module: alarm.module, cell: alarm.cell };
  selectModule(alarm.rack, alarm.module);
  $('overview').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function alarmCommand(path, body) {
  return post(path, body, $('alarm-result'));
}

// ---- control ---------------------------------------------------------------------------
async function loadScenarios() {
  try {
    const response = await fetch('/api/v1/scenarios');
    const catalogue = await response.json();
    const select = $('scenario');
    for (const scenario of catalogue.scenarios) {
      const option = document.createElement('option');
      option.value = scenario.name;
      option.textContent = scenario.name;
      option.title = scenario.description;
      select.append(option);
    }
    for (const mode of catalogue.modes) {
      const option = document.createElement('option');
      option.value = mode;
      option.textContent = mode;
      $('mode').append(option);
    }
  } catch (error) {
    $('control-result').textContent = 'could not load the scenario list: ' + error;
  }
}

function targetValue(id) {
  const text = $(id).value.trim();
  return text === '' ? 'all' : Number(text);
}

// Every POST of the page: with the token of the Control panel, the answer
// (or why it was refused) in `result`.
async function post(path, body, result) {
  const token = $('token').value.trim();
  sessionStorage.setItem('brt-token', token);
  result.textContent = 'sending…';
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    if (body) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method: 'POST', headers, body: body ? JSON.stringify(body) : undefined });
    const answer = await response.json();
    result.textContent = response.ok
      ? `${answer.command}: ${answer.status}`
      : `refused (${response.status}): ${answer.error || answer.status}`;
  } catch (error) {
    result.textContent = 'failed: ' + error;
  }
}

function control(path, body) {
  return post(path, body, $('control-result'));
}

async function loadLimits() {
  try {
    const response = await fetch('/api/v1/limits');
    brt.limits = await response.json();
    legendKey = '';
    requestDraw();
  } catch (error) {
    $('connection').textContent = 'could not load the alarm limits: ' + error;
  }
}

// The quick start opens the page as /#token=...: the token goes into the
// Control panel (this tab only) and out of the address bar.
function takeTokenFromAddress() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('brt-token', decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
}

// ---- wiring -------------------------------------------------------------------------------
function init() {
  takeTokenFromAddress();
  $('token').value = sessionStorage.getItem('brt-token') || '';
  $('metric').onchange = () => {
    metric = $('metric').value;
    if (heatmap && !heatmap.fields[metric]) subscribeHeatmap();
    requestDraw();
    drawModule();
    requestHistory();
    drawTrend();
  };
  $('scale').onchange = () => { requestDraw(); drawModule(); };
  $('trend-window').onchange = () => { trendSeconds = Number($('trend-window').value); drawTrend(); };
  $('banner-show').onclick = () => $('alarm-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
  $('show-suppressed').onclick = () => {
    showSuppressed = !showSuppressed;
    if (brt.alarms) onAlarms(brt.alarms);
  };
  $('acknowledge-all').onclick = () => alarmCommand('/api/v1/alarms/acknowledge');
  $('trend-rack').onchange = () => {
    const rack = Number($('trend-rack').value);
    if (brt.geometry && rack >= 0 && rack < brt.geometry.racks) setTrendRack(rack);
  };
  const canvas = $('heatmap');
  canvas.addEventListener('mousemove', showTooltip);
  canvas.addEventListener('mouseleave', () => { $('tooltip').hidden = true; hoverCell = null; requestDraw(); });
  canvas.addEventListener('click', (event) => {
    const found = cellAt(event.clientX, event.clientY);
    if (found) selectModule(found.rack, found.module);
  });
  window.addEventListener('resize', requestDraw);
  $('apply').onclick = () => control('/api/v1/scenarios/apply', {
    scenario: $('scenario').value,
    rack: targetValue('target-rack'), module: targetValue('target-module'), cell: targetValue('target-cell'),
  });
  $('clear').onclick = () => control('/api/v1/scenarios/clear', {
    scenario: 'all',
    rack: targetValue('target-rack'), module: targetValue('target-module'), cell: targetValue('target-cell'),
  });
  $('set-mode').onclick = () => {
    const rack = targetValue('target-rack');
    if (rack === 'all') { $('control-result').textContent = 'give a rack number for the mode'; return; }
    control(`/api/v1/racks/${rack}/mode`, { mode: $('mode').value });
  };
  $('reset-protection').onclick = () => {
    const rack = targetValue('target-rack');
    if (rack === 'all') { $('control-result').textContent = 'give a rack number to reset'; return; }
    control(`/api/v1/racks/${rack}/reset`);
  };
  $('set-ambient').onclick = () => control('/api/v1/ambient', { temperature_c: Number($('ambient-c').value) });
  $('pause').onclick = () => control('/api/v1/simulation/pause');
  $('resume').onclick = () => control('/api/v1/simulation/resume');
  // The trend moves on with the clock even between summaries.
  setInterval(drawTrend, 2000);
  loadLimits();
  loadScenarios();
  connect();
}

init();
