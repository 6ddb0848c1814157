// pi2mqtt web page: one WebSocket, a snapshot then pushed updates (no polling).
// Every device is a card: its entities (value, unit, age, a plot of the last hour,
// controls for outputs), the radio panel, status and alarms. A command's reply is shown
// next to the control that sent it (matched by the command's id).
"use strict";

const HOUR = 3600;
const PLOT_EVERY = 1000;     // ms: a plot of an hour needs no faster redraw
const visible = new Set();   // device ids whose card is on screen (only their plots are drawn)
const seen = new IntersectionObserver(entries => {
  for (const e of entries) {
    if (e.isIntersecting) visible.add(e.target.dataset.device); else visible.delete(e.target.dataset.device);
  }
  drawPlots();
}, {rootMargin: "200px"});
const devices = new Map();   // id -> {el, rows: Map, radio, doc}
const pending = new Map();   // command id -> element showing its reply
let sent = 0;
let ws = null;
let skew = 0;                // server time - our time (seconds)

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const kid of kids) el.append(kid);
  return el;
}

function fmt(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === "string") return v.slice(0, 64);
  return JSON.stringify(v).slice(0, 64);
}

function age(seconds) {
  const s = Math.max(0, seconds);
  if (s < 10) return s.toFixed(1) + "s";
  if (s < 60) return Math.round(s) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

function now() { return Date.now() / 1000 + skew; }

// ---- commands ---------------------------------------------------------------------------
function send(device, entity, payload, replyEl) {
  const id = `web-${Math.random().toString(36).slice(2, 8)}-${++sent}`;
  payload = Object.assign({}, payload, {id});
  pending.set(id, replyEl);
  replyEl.className = "reply";
  replyEl.textContent = "sent…";
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    showReply({ok: false, code: "NOT_CONNECTED", message: "the page lost its server", id});
    return;
  }
  ws.send(JSON.stringify({op: "cmd", device, entity, payload}));
}

function showReply(reply) {
  const el = pending.get(reply.id);
  if (!el) return;
  pending.delete(reply.id);
  if (reply.ok) {
    el.className = "reply ok";
    el.textContent = "✓ " + (reply.value !== undefined ? fmt(reply.value) : "done");
  } else {
    el.className = "reply bad";
    el.textContent = `✗ ${reply.code || "ERROR"}: ${reply.message || ""}`;
  }
}

// ---- plots ------------------------------------------------------------------------------
function makePlot(el, data, width = 150, height = 36) {
  const opts = {
    width, height, legend: {show: false}, cursor: {show: false},
    axes: [{show: false}, {show: false}], scales: {x: {time: true}},
    series: [{}, {stroke: "#5aa9ff", width: 1.5, fill: "rgba(90,169,255,0.12)", points: {show: false}}],
  };
  return new uPlot(opts, data, el);
}

function mergeSeries(row, s) {
  if (s.all) row.data = [s.all[0].slice(), s.all[1].slice()];
  else if (s.add) for (const [t, v] of s.add) { row.data[0].push(t); row.data[1].push(v); }
  const cut = row.data[0].length ? row.data[0][row.data[0].length - 1] - HOUR : 0;
  let i = 0;
  while (i < row.data[0].length && row.data[0][i] < cut) i++;
  if (i) { row.data[0].splice(0, i); row.data[1].splice(0, i); }
  row.plotDirty = true;
}

function drawPlot(row) {
  if (!row.plotDirty || !row.plotEl) return;
  const t = performance.now();
  if (row.drawnAt && t - row.drawnAt < PLOT_EVERY) return;  // drawPlots() comes back for it
  row.drawnAt = t;
  row.plotDirty = false;
  if (row.data[0].length < 2) return;
  if (!row.plot) row.plot = makePlot(row.plotEl, row.data, row.plotW, row.plotH);
  else row.plot.setData(row.data);
  row.plotEl.dataset.points = row.data[0].length;
}

// ---- device cards -----------------------------------------------------------------------
function deviceCard(id) {
  let dev = devices.get(id);
  if (dev) return dev;
  const el = h("section", {class: "device", "data-device": id},
    h("h2", {}, h("span", {class: "id"}, id), h("span", {class: "badge status"}, "?")),
    h("ul", {class: "alarms"}),
    h("table", {}, h("tbody")));
  dev = {el, rows: new Map(), radio: null, series: new Map(), doc: null};
  devices.set(id, dev);
  seen.observe(el);
  const main = document.getElementById("devices");
  const after = [...main.querySelectorAll("section.device")].find(s => s.dataset.device > id);
  main.insertBefore(el, after || null);
  document.getElementById("empty")?.remove();
  return dev;
}

function entityRow(dev, id, ent) {
  let row = dev.rows.get(ent.name);
  if (row) return row;
  const tr = h("tr", {"data-entity": ent.name},
    h("td", {class: "name", title: ent.name}), h("td", {class: "value"}), h("td", {class: "age"}),
    h("td", {class: "plot"}), h("td", {class: "control"}));
  row = {tr, data: [[], []], plot: null, plotEl: tr.querySelector("td.plot"), plotW: 150, plotH: 36,
         control: null, ent, nameTd: tr.querySelector("td.name"), valueTd: tr.querySelector("td.value"),
         ageTd: tr.querySelector("td.age")};
  dev.rows.set(ent.name, row);
  const body = dev.el.querySelector("tbody");
  const after = [...body.children].find(r => r.dataset.entity > ent.name);
  body.insertBefore(tr, after || null);
  return row;
}

function control(dev, id, row, ent) {
  const td = row.tr.querySelector("td.control");
  if (row.control === ent.control) return;
  row.control = ent.control;
  td.replaceChildren();
  if (!ent.control) return;
  const reply = h("div", {class: "reply"});
  if (ent.control === "switch") {
    td.append(h("button", {class: "toggle", onclick: () =>
      send(id, ent.name, {value: !(row.ent.value === true)}, reply)}, "toggle"), reply);
  } else {
    const range = h("input", {type: "range", min: "0", max: "1", step: "0.01", class: "level",
      onchange: e => send(id, ent.name, {value: Number(e.target.value)}, reply)});
    td.append(h("button", {class: "toggle", onclick: () =>
      send(id, ent.name, {value: row.ent.value > 0 ? "off" : "on"}, reply)}, "toggle"), range, reply);
  }
}

function updateEntity(dev, id, ent) {
  const row = entityRow(dev, id, ent);
  row.ent = ent;
  row.nameTd.textContent = ent.label || ent.name;
  const v = row.valueTd;
  v.textContent = ent.error ? "error" : fmt(ent.value) + (ent.unit ? " " + ent.unit : "");
  v.title = ent.error || ent.ts || "";
  row.tr.classList.toggle("error", !!ent.error);
  row.tr.dataset.updated = ent.updated;
  row.tr.dataset.count = ent.count;
  control(dev, id, row, ent);
  if (row.control) {
    const btn = row.tr.querySelector("button.toggle");
    if (btn) btn.classList.toggle("on", ent.value === true || ent.value > 0);
    const lvl = row.tr.querySelector("input.level");
    if (lvl && typeof ent.value === "number" && document.activeElement !== lvl) lvl.value = ent.value;
  }
  row.ageTd.textContent = ent.updated ? age(now() - ent.updated) : "";
}

// ---- the radio ----------------------------------------------------------------------------
function radioPanel(dev, id, name) {
  if (dev.radio) return dev.radio;
  const reply = h("div", {class: "reply"});
  const cmd = payload => send(id, name, payload, reply);
  const mhz = h("input", {type: "number", class: "tune-mhz", step: "0.05", "aria-label": "MHz"});
  const vol = h("input", {type: "range", class: "volume", min: "0", max: "15", step: "1",
    onchange: e => cmd({cmd: "volume", value: Number(e.target.value)})});
  const el = h("div", {class: "radio", "data-radio": name},
    h("div", {}, h("span", {class: "freq"}, "—"), h("span", {class: "unit"}, " MHz"),
      h("span", {class: "ps"}, "")),
    h("div", {class: "rt"}), h("div", {class: "rtplus meta"}),
    h("div", {class: "meta signal"}),
    h("div", {class: "row"},
      h("button", {class: "seek-down", title: "seek down", onclick: () => cmd({cmd: "seek", dir: "down"})}, "«"),
      h("button", {class: "step-down", title: "step down", onclick: () => cmd({cmd: "step", dir: "down"})}, "◀"),
      mhz,
      h("button", {class: "tune", onclick: () => cmd({cmd: "tune", mhz: Number(mhz.value)})}, "Tune"),
      h("button", {class: "step-up", title: "step up", onclick: () => cmd({cmd: "step", dir: "up"})}, "▶"),
      h("button", {class: "seek-up", title: "seek up", onclick: () => cmd({cmd: "seek", dir: "up"})}, "»")),
    h("div", {class: "row"},
      h("span", {class: "meta"}, "volume"), vol,
      h("button", {class: "mute", onclick: () => cmd({cmd: "mute", on: "toggle"})}, "mute"),
      h("button", {class: "power", onclick: () =>
        cmd({cmd: "power", on: !(dev.radio.state.power === true)})}, "power")),
    h("div", {class: "row presets"}),
    h("div", {class: "plot rssi"}),
    reply);
  dev.el.append(el);
  dev.radio = {el, name, mhz, vol, cmd, state: {}, row: {data: [[], []], plot: null,
               plotEl: el.querySelector(".plot.rssi"), plotW: 400, plotH: 50}};
  return dev.radio;
}

function updateRadio(dev, id, r) {
  const p = radioPanel(dev, id, r.name);
  const s = r.state || {}, rds = r.rds || {};
  p.state = s;
  const q = sel => p.el.querySelector(sel);
  q(".freq").textContent = s.value == null ? (s.power === false ? "off" : "—") : s.value.toFixed(2);
  q(".ps").textContent = rds.ps || "";
  q(".rt").textContent = rds.radiotext || "";
  // RadioText+ (docs/radio.md): the song's artist and title, when the station tags them.
  q(".rtplus").textContent = rds.artist || rds.title ? `♪ ${rds.artist || "?"} – ${rds.title || "?"}` : "";
  const bits = [];
  if (s.rssi != null) bits.push(`RSSI ${s.rssi} dBµV`);
  if (s.stereo != null) bits.push(s.stereo ? "stereo" : "mono");
  if (rds.pty_name && rds.pty) bits.push(rds.pty_name);  // PTY 0: no programme type
  if (s.band) bits.push(`${s.band} ${s.min_mhz}–${s.max_mhz} MHz`);
  if (s.busy) bits.push(`${s.busy}…`);
  if (s.link === "down") bits.push("link down");
  q(".signal").textContent = bits.join(" · ");
  if (s.min_mhz != null) { p.mhz.min = s.min_mhz; p.mhz.max = s.max_mhz; }
  if (s.step_khz) p.mhz.step = s.step_khz / 1000;
  if (document.activeElement !== p.mhz && s.value != null) p.mhz.value = s.value;
  if (document.activeElement !== p.vol && s.volume != null) p.vol.value = s.volume;
  q("button.mute").classList.toggle("on", s.mute === true);
  q("button.power").classList.toggle("on", s.power === true);
  const presets = q(".presets");
  const key = JSON.stringify(r.presets || []) + s.preset;
  if (presets.dataset.key !== key) {
    presets.dataset.key = key;
    presets.replaceChildren(h("span", {class: "meta"}, "presets"),
      ...(r.presets || []).map(pr => h("button", {class: "preset" + (pr.name === s.preset ? " on" : ""),
        title: `${pr.mhz} MHz`, onclick: () => p.cmd({cmd: "preset_recall", slot: pr.slot})},
        `${pr.slot} ${pr.name || pr.mhz}`)),
      h("button", {class: "store", title: "store the station in the next free slot",
        onclick: () => p.cmd({cmd: "preset_set"})}, "+ store"));
  }
}

// ---- applying what the server pushes ------------------------------------------------------
function applyDevice(d) {
  const dev = deviceCard(d.id);
  dev.doc = d;
  const badge = dev.el.querySelector(".status");
  badge.textContent = d.status || "?";
  badge.className = "badge status " + (d.status || "");
  dev.el.querySelector(".alarms").replaceChildren(...d.alarms.map(a => h("li", {}, a)));
  dev.el.dataset.alarms = d.alarms.length;
  for (const ent of d.entities) updateEntity(dev, d.id, ent);
  if (d.radio) updateRadio(dev, d.id, d.radio);
  for (const [name, s] of Object.entries(d.series || {})) {
    const row = name.endsWith(".rssi") ? dev.radio && dev.radio.row : dev.rows.get(name);
    if (row) mergeSeries(row, s);
  }
}

function drawPlots() {
  for (const id of visible) {
    const dev = devices.get(id);
    if (!dev) continue;
    for (const row of dev.rows.values()) drawPlot(row);
    if (dev.radio) drawPlot(dev.radio.row);
  }
}

function redraw() {
  drawPlots();
  if (document.getElementById("filter").value) applyFilter();
  const n = devices.size;
  const online = [...devices.values()].filter(d => d.doc && d.doc.status === "online").length;
  document.getElementById("summary").textContent = `${n} device${n === 1 ? "" : "s"}, ${online} online`;
}

function tickAges() {
  const t = now();
  for (const dev of devices.values())
    for (const row of dev.rows.values())
      row.ageTd.textContent = row.ent.updated ? age(t - row.ent.updated) : "";
}

function applyFilter() {
  const f = document.getElementById("filter").value.trim().toLowerCase();
  for (const [id, dev] of devices) {
    const hit = !f || id.toLowerCase().includes(f) ||
      [...dev.rows.keys()].some(n => n.toLowerCase().includes(f));
    dev.el.classList.toggle("hidden", !hit);
  }
}

let drawQueued = false;
function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; redraw(); });
}

function onMessage(ev) {
  const msg = JSON.parse(ev.data);
  if (msg.now) skew = msg.now - Date.now() / 1000;
  if (msg.type === "snapshot") {
    for (const dev of devices.values()) dev.el.remove();
    devices.clear();
    for (const d of msg.devices) applyDevice(d);
  } else if (msg.type === "update") {
    for (const d of msg.devices) applyDevice(d);
    for (const r of msg.replies || []) if (r.reply && r.reply.id != null) showReply(r.reply);
  } else if (msg.type === "broker") {
    const b = document.getElementById("broker");
    b.textContent = (msg.connected ? "broker " : "broker lost: ") + msg.url;
    b.className = "badge " + (msg.connected ? "online" : "offline");
  }
  queueDraw();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${scheme}//${location.host}/ws`);
  ws.onmessage = onMessage;
  ws.onopen = () => { document.body.dataset.connected = "1"; };
  ws.onclose = () => {
    document.body.dataset.connected = "0";
    const b = document.getElementById("broker");
    b.textContent = "page disconnected, reconnecting…";
    b.className = "badge offline";
    setTimeout(connect, 2000);
  };
}

document.getElementById("filter").addEventListener("input", applyFilter);
setInterval(() => { tickAges(); drawPlots(); }, PLOT_EVERY);
connect();
