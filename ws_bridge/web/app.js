// The brt-ws-bridge dashboard. Plain JavaScript, no libraries, nothing
// fetched from elsewhere: one WebSocket to the bridge carries the summary
// (JSON), the alarms (JSON), the selected module (JSON) and the heatmap of
// every cell (binary: docs/ws-bridge.md, "Binary heatmap message").
'use strict';

const FIELDS = ['voltage_v', 'current_a', 'temperature_c', 'soc', 'resistance_ohm', 'soh', 'status'];
const UNITS = { voltage_v: 'V', current_a: 'A', temperature_c: '°C', soc: '', resistance_ohm: 'Ω', soh: '' };
const HEATMAP_MAGIC = 0x48545242;
// Above this many cells the heatmap carries only the chosen metric and the
// status word (4 instead of 28 bytes a cell); hover then asks for the module.
const ALL_FIELDS_MAX_CELLS = 20000;
const TREND_SECONDS = 300;
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
  connected: false,
};
window.brt = brt;

let socket = null;
let metric = 'voltage_v';
let heatmap = null;       // {frame, firstCell, cells, fields: {name: typed array}, liveness}
let layout = null;
let trend = [];           // [{t, racks: Float32Array(racks * 6 * 3)}]
let trendRack = 0;
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
const NO_READING = (255 << 24) | (90 << 16) | (90 << 8) | 90;
const BACKGROUND = (255 << 24) | (18 << 16) | (14 << 8) | 12;

function drawLegend(min, max) {
  const canvas = $('legend-bar');
  const context = canvas.getContext('2d');
  const image = context.createImageData(canvas.width, 1);
  const pixels = new Uint32Array(image.data.buffer);
  for (let x = 0; x < canvas.width; x++) pixels[x] = LUT[Math.round((x / (canvas.width - 1)) * 255)];
  for (let y = 0; y < canvas.height; y++) context.putImageData(image, 0, y);
  $('legend-min').textContent = formatValue(min, metric);
  $('legend-max').textContent = formatValue(max, metric);
}

function formatValue(value, field) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  const unit = UNITS[field] || '';
  let text;
  if (field === 'soc' || field === 'soh') return (value * 100).toFixed(1) + ' %';
  if (field === 'resistance_ohm') text = (value * 1000).toFixed(3) + ' m';
  else if (field === 'voltage_v') text = value.toFixed(3) + ' ';
  else text = value.toFixed(1) + ' ';
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
  $('trend-rack').max = geometry.racks - 1;
  subscribeHeatmap();
}

// ---- summary: header and trend ------------------------------------------------------
function setWriterPill(state, detail) {
  const pill = $('writer');
  pill.className = 'pill state-' + state.replace(/ /g, '-');
  pill.textContent = 'writer ' + state;
  pill.title = detail || '';
}

function onSummary(summary) {
  brt.summary = summary;
  setWriterPill(summary.writer.liveness, summary.writer.detail);
  if (summary.geometry) setGeometry(summary.geometry);
  const rate = summary.writer.frame_rate_hz ? summary.writer.frame_rate_hz.toFixed(1) : '0';
  $('frame-info').textContent = summary.frame === null
    ? 'no frame yet'
    : `frame ${summary.frame} · ${rate} frames/s · ${summary.geometry ? summary.geometry.cells : 0} cells · missed ${summary.frames_missed}`;
  const counts = summary.alarms;
  $('alarm-counts').textContent = `alarms: ${counts.critical} critical, ${counts.warning} warning, ${counts.info} info`;
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
    const now = performance.now() / 1000;
    trend.push({ t: now, racks: values });
    while (trend.length && now - trend[0].t > TREND_SECONDS) trend.shift();
    drawTrend();
  }
}

function drawTrend() {
  const canvas = $('trend-chart');
  const context = canvas.getContext('2d');
  const width = canvas.width;
  const height = canvas.height;
  context.clearRect(0, 0, width, height);
  $('trend-title').textContent = `Rack ${trendRack} trend: ${$('metric').selectedOptions[0].textContent}`;
  if (!brt.geometry || trendRack >= brt.geometry.racks || trend.length < 2) return;
  const f = FIELDS.indexOf(metric);
  let lo = Infinity;
  let hi = -Infinity;
  for (const point of trend) {
    for (let k = 0; k < 3; k++) {
      const v = point.racks[(trendRack * 6 + f) * 3 + k];
      if (!Number.isNaN(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  if (!Number.isFinite(lo)) return;
  if (hi - lo < 1e-6) { hi += 0.5 * Math.max(Math.abs(hi) * 0.01, 1e-3); lo -= 0.5 * Math.max(Math.abs(lo) * 0.01, 1e-3); }
  const left = 60;
  const now = trend[trend.length - 1].t;
  const x = (t) => left + ((t - (now - TREND_SECONDS)) / TREND_SECONDS) * (width - left - 8);
  const y = (v) => 8 + (1 - (v - lo) / (hi - lo)) * (height - 28);
  context.strokeStyle = '#2c333d';
  context.fillStyle = '#8a94a3';
  context.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    context.beginPath(); context.moveTo(left, y(v)); context.lineTo(width - 8, y(v)); context.stroke();
    context.fillText(formatValue(v, metric), 2, y(v) + 4);
  }
  context.fillText('-5 min', left, height - 4);
  context.fillText('now', width - 30, height - 4);
  const colours = ['#4aa3ff', '#ffffff', '#ff9f40'];
  for (let k = 0; k < 3; k++) {
    context.strokeStyle = colours[k];
    context.lineWidth = k === 1 ? 1.5 : 1;
    context.beginPath();
    let started = false;
    for (const point of trend) {
      const v = point.racks[(trendRack * 6 + f) * 3 + k];
      if (Number.isNaN(v)) { started = false; continue; }
      if (!started) { context.moveTo(x(point.t), y(v)); started = true; } else context.lineTo(x(point.t), y(v));
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
  const labelRows = 2;
  const blockW = g.cells_per_module + gap;
  const blockH = g.modules_per_rack + gap + labelRows;
  let best = null;
  for (let columns = 1; columns <= g.racks; columns++) {
    const rows = Math.ceil(g.racks / columns);
    const scale = Math.min(canvas.width / (columns * blockW), canvas.height / (rows * blockH));
    if (!best || scale > best.scale) best = { columns, rows, scale };
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

function colourRange(values) {
  if ($('scale').value === 'limits' && brt.module && brt.module.limits) {
    const limits = brt.module.limits[metric];
    if (limits && limits.max && limits.min && limits.max.msl !== null && limits.min.msl !== null) {
      return [limits.min.msl, limits.max.msl];
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;       // NaN compares false: skipped
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function drawHeatmap() {
  const started = performance.now();
  const canvas = $('heatmap');
  resizeCanvas(canvas);
  if (!heatmap || !brt.geometry) return;
  const values = heatmap.fields[metric];
  if (!values) return;
  if (!layout) layout = computeLayout(canvas);
  const [lo, hi] = colourRange(values);
  const span = hi > lo ? hi - lo : 1;
  const pixels = layout.pixels;
  pixels.fill(BACKGROUND);
  const pixelOf = layout.pixelOf;
  let valid = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) { pixels[pixelOf[heatmap.firstCell + i]] = NO_READING; continue; }
    let k = Math.round(((v - lo) / span) * 255);
    k = k < 0 ? 0 : k > 255 ? 255 : k;
    pixels[pixelOf[heatmap.firstCell + i]] = LUT[k];
    valid++;
  }
  layout.context.putImageData(layout.image, 0, 0);
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = false;
  context.fillStyle = '#0c0e12';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(layout.offscreen, 0, 0, layout.drawW, layout.drawH);
  drawRackLabels(context);
  drawHeatmapMarks(context);
  drawLegend(lo, hi);
  brt.heatmapFramesDrawn++;
  brt.lastHeatmapFrame = heatmap.frame;
  brt.lastDrawn = { metric, min: lo, max: hi, valid, cells: values.length };
  brt.drawMs.push(performance.now() - started);
  if (brt.drawMs.length > 100) brt.drawMs.shift();
}

function drawRackLabels(context) {
  const g = brt.geometry;
  const s = layout.scale;
  if (s * layout.labelRows < 9) return;  // too small to read
  context.fillStyle = '#8a94a3';
  context.font = `${Math.min(14, Math.floor(s * layout.labelRows * 0.8))}px sans-serif`;
  const activeRacks = new Set((brt.alarms ? brt.alarms.alarms : [])
    .filter((a) => a.active && !a.suppressed).map((a) => a.rack).filter((r) => r !== null));
  for (let rack = 0; rack < g.racks; rack++) {
    const x = (rack % layout.columns) * layout.blockW * s;
    const y = Math.floor(rack / layout.columns) * layout.blockH * s;
    context.fillText(`rack ${rack}`, x + 1, y + s * layout.labelRows * 0.85);
    if (activeRacks.has(rack)) {
      context.strokeStyle = '#ffffff';
      context.strokeRect(x, y + layout.labelRows * s - 1, g.cells_per_module * s + 1, g.modules_per_rack * s + 2);
    }
  }
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
  const lines = [`rack ${found.rack} module ${found.module} cell ${found.cell}`];
  for (const field of FIELDS.slice(0, 6)) {
    const column = heatmap.fields[field];
    if (column) lines.push(`${field.padEnd(15)} ${formatValue(column[i], field)}`);
  }
  if (heatmap.fields.status) lines.push(`status          ${statusText(heatmap.fields.status[i])}`);
  if (!heatmap.fields.voltage_v || !heatmap.fields.temperature_c) {
    // A large system: the other values come from the module's own message.
    const cached = brt.hoverModule;
    if (cached && cached.rack === found.rack && cached.module === found.module) {
      const c = cached.cell_list[found.cell];
      for (const field of FIELDS.slice(0, 6)) if (!heatmap.fields[field]) lines.push(`${field.padEnd(15)} ${formatValue(c[field], field)} (module view)`);
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
  trendRack = rack;
  $('trend-rack').value = rack;
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
  const [cLo, cHi] = [Math.min(...valid), Math.max(...valid)];
  values.forEach((v, i) => {
    const x = left + i * barW;
    if (Number.isNaN(v)) {
      context.fillStyle = '#5a5a5a';
      context.fillRect(x + 1, bottom - 4, Math.max(1, barW - 2), 4);
      return;
    }
    const k = cHi > cLo ? Math.round(((v - cLo) / (cHi - cLo)) * 255) : 128;
    const colour = LUT[k];
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

function alarmValue(value, unit) {
  return value === null ? 'n/a' : `${value}${unit ? ' ' + unit : ''}`;
}

function onAlarms(message) {
  brt.alarms = message;
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
    item.className = `alarm ${alarm.severity} ${alarm.state}${alarm.suppressed ? ' suppressed' : ''}${alarm.id === 0 ? ' alarm_system' : ''}`;
    item.dataset.rule = alarm.rule;
    item.dataset.id = alarm.id;
    item.dataset.state = alarm.state;
    const severity = document.createElement('span');
    severity.className = 'sev';
    severity.textContent = alarm.severity;
    let text;
    if (alarm.id === 0) {
      text = `alarm monitor not running · ${monitor.problem}`;
    } else {
      text = `#${alarm.id} ${STATE_WORDS[alarm.state] || alarm.state} · ${alarm.rule} · ${alarmPlace(alarm)}` +
        ` · now ${alarmValue(alarm.value, alarm.unit)}, worst ${alarmValue(alarm.worst, alarm.unit)}` +
        ` (limit ${alarmValue(alarm.limit, alarm.unit)}) · since ${alarm.raised.slice(11, 19)}`;
    }
    const marks = [];
    if (alarm.latching) marks.push('latching');
    if (alarm.first_out) marks.push('first-out');
    if (alarm.suppressed) marks.push(`suppressed: follows #${alarm.first_out_id}`);
    if (alarm.shelved_until_ns) marks.push(`shelved until ${new Date(alarm.shelved_until_ns / 1e6).toISOString().slice(11, 19)}`);
    if (alarm.acknowledged_by) marks.push(`ack by ${alarm.acknowledged_by}`);
    const extra = document.createElement('span');
    extra.className = 'marks';
    extra.textContent = marks.length ? ` [${marks.join(', ')}]` : '';
    item.append(severity, text, extra);
    if (alarm.id !== 0 && alarm.state !== 'acknowledged') {
      const ack = document.createElement('button');
      ack.type = 'button';
      ack.textContent = 'ack';
      ack.title = 'acknowledge (needs the token of the Control panel)';
      ack.onclick = (event) => {
        event.stopPropagation();
        alarmCommand(`/api/v1/alarms/${alarm.id}/acknowledge`);
      };
      item.append(ack);
    }
    item.title = (message.rule_descriptions && message.rule_descriptions[alarm.rule]) || '';
    if (alarm.rack !== null && alarm.module !== null) item.onclick = () => selectModule(alarm.rack, alarm.module);
    else if (alarm.rack !== null) item.onclick = () => setTrendRack(alarm.rack);
    list.append(item);
  }
}

async function alarmCommand(path) {
  const token = $('token').value.trim();
  const result = $('alarm-result');
  result.textContent = 'sending…';
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    const answer = await response.json();
    result.textContent = response.ok
      ? `${answer.command}: ${answer.status}`
      : `refused (${response.status}): ${answer.error || answer.status}`;
  } catch (error) {
    result.textContent = 'failed: ' + error;
  }
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
  } catch (error) {
    $('control-result').textContent = 'could not load the scenario list: ' + error;
  }
}

function targetValue(id) {
  const text = $(id).value.trim();
  return text === '' ? 'all' : Number(text);
}

async function control(path, body) {
  const token = $('token').value.trim();
  sessionStorage.setItem('brt-token', token);
  const result = $('control-result');
  result.textContent = 'sending…';
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    result.textContent = response.ok
      ? `${answer.command}: ${answer.status}`
      : `refused (${response.status}): ${answer.error || answer.status}`;
  } catch (error) {
    result.textContent = 'failed: ' + error;
  }
}

// ---- wiring -------------------------------------------------------------------------------
function init() {
  $('token').value = sessionStorage.getItem('brt-token') || '';
  $('metric').onchange = () => {
    metric = $('metric').value;
    if (heatmap && !heatmap.fields[metric]) subscribeHeatmap();
    requestDraw();
    drawModule();
    drawTrend();
  };
  $('scale').onchange = requestDraw;
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
  loadScenarios();
  connect();
}

init();
