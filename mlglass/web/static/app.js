// mlglass page: plain JavaScript, no libraries, nothing loaded from outside.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};
const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const fmt = (v, d = 0) => (num(v) === null ? "–" : v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
const has = (row, k) => Object.prototype.hasOwnProperty.call(row, k) && row[k] !== null && row[k] !== "";

// ------------------------------------------------------------------ messages
function showMessage(text, kind = "error") {
  const m = $("#message");
  m.textContent = text;
  m.className = "message" + (kind === "info" ? " info" : "");
}
function clearMessage() { $("#message").className = "message hidden"; }

async function readAnswer(resp) {
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    let detail = body && body.detail !== undefined ? body.detail : resp.statusText;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    throw new Error(`${detail} (HTTP ${resp.status})`);
  }
  return body;
}

// ------------------------------------------------------------------ predict
function setMode(mode) {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.mode === mode));
  $(".mode-formula").classList.toggle("hidden", mode !== "formula");
  $(".mode-row").classList.toggle("hidden", mode !== "row");
  $("#predict-form").dataset.mode = mode;
}

async function predictSubmit(ev) {
  ev.preventDefault();
  clearMessage();
  const form = $("#predict-form");
  const mode = form.dataset.mode || "formula";
  let body;
  if (mode === "formula") {
    const f = $("#formula").value.trim();
    if (!f) { showMessage("Enter a formula, e.g. Zn(Im)1.75(bIm)0.25"); return; }
    body = { formulas: [f], explain: true, nearest: 3 };
  } else {
    const row = {};
    for (const input of form.querySelectorAll(".mode-row input")) {
      const v = input.value.trim();
      if (v) row[input.name] = v;
    }
    if (!row.metal) { showMessage("Enter at least the metal and the ligands, e.g. Zn and Im:1.75;bIm:0.25"); return; }
    if (!row.id) row.id = [row.metal, row.ligands].filter(Boolean).join(" ");
    body = { rows: [row], explain: true, nearest: 3 };
  }
  const button = $("#predict-button");
  button.disabled = true;
  try {
    const resp = await fetch("/api/predict", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    renderAnswer(await readAnswer(resp), "formula");
  } catch (e) {
    showMessage(e.message);
  } finally {
    button.disabled = false;
  }
}

async function uploadCifs(files) {
  clearMessage();
  if (!files || !files.length) return;
  const data = new FormData();
  for (const f of files) data.append("file", f, f.name);
  data.append("explain", "true");
  data.append("nearest", "3");
  showMessage(`Reading ${files.length} structure(s)…`, "info");
  try {
    const resp = await fetch("/api/predict-cif", { method: "POST", body: data });
    const answer = await readAnswer(resp);
    clearMessage();
    renderAnswer(answer, "cif");
  } catch (e) {
    showMessage(e.message);
  }
}

// ------------------------------------------------------------------ one result
function renderAnswer(answer, source) {
  const box = $("#results");
  box.innerHTML = "";
  for (const row of answer.rows) {  // a temperature given as text (e.g. an input td_c) is a number here
    for (const [k, v] of Object.entries(row)) {
      if ((k.endsWith("_c") || k === "p_melt") && typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) row[k] = Number(v);
    }
  }
  answer.rows.forEach((row, i) => box.append(resultCard(row, (answer.nearest || [])[i] || [], source, answer.coverage)));
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

const RECORD_FIELDS = [["metal", "metal"], ["oxidation_state", "oxidation state"], ["ligands", "ligands"],
  ["counter_ions", "counter ions"], ["dimensionality", "dimensionality"], ["geometry", "geometry"]];

function resultCard(row, nearest, source, coverage) {
  const failed = has(row, "error") && num(row.tm_c) === null;
  const card = el("article", { class: "result" + (failed ? " failed" : ""), "data-testid": "result" });
  const title = row.id || row.formula || "compound";
  const head = el("div", { class: "result-head" }, el("span", { class: "name", text: title }));
  if (has(row, "formula") && row.formula !== title) head.append(el("span", { class: "record", text: row.formula }));
  card.append(head);

  const rec = RECORD_FIELDS.filter(([k]) => has(row, k)).map(([k, label]) => `${label}: ${row[k]}`);
  if (source === "cif" && rec.length) {
    card.append(el("div", { class: "record", "data-testid": "derived-record", text: "From the structure — " + rec.join(" · ") }));
  }
  if (has(row, "warnings")) card.append(el("div", { class: "record", text: "warnings: " + row.warnings }));
  if (has(row, "error")) card.append(el("div", { class: "row-error", "data-testid": "row-error", text: row.error }));
  if (failed) { card.append(allColumns(row)); return card; }

  const pct = Math.round(100 * (coverage || 0.8));
  const figs = el("div", { class: "figures" });
  figs.append(figure("tm", "Tm, melting", row.tm_c, row.tm_lo_c, row.tm_hi_c));
  figs.append(figure("tg", "Tg, glass transition", row.tg_c, row.tg_lo_c, row.tg_hi_c));
  if (num(row.td_c) !== null) figs.append(figure("td", "Td, decomposition", row.td_c, row.td_lo_c, row.td_hi_c));
  const win = liquidWindow(row);
  if (win !== null) {
    figs.append(el("div", { class: "fig window", "data-testid": "window" },
      el("div", { class: "k", text: "liquid window (Td − Tm)" }), el("div", { class: "v", text: `${fmt(win)} °C` })));
  }
  const p = num(row.p_melt);
  const pfig = el("div", { class: "fig", "data-testid": "p-melt" }, el("div", { class: "k", text: "p_melt: melts before it decomposes" }));
  const meter = el("div", { class: "pmelt" }, el("span", { class: "v", text: p === null ? "–" : `${Math.round(100 * p)} %` }));
  if (p !== null) { const tr = el("span", { class: "track" }, el("span", { class: "fill" })); tr.firstChild.style.width = `${100 * p}%`; tr.firstChild.style.display = "block"; meter.append(tr); }
  pfig.append(meter);
  figs.append(pfig);
  const dom = domainVerdict(row);
  if (dom) figs.append(dom);
  card.append(figs);
  card.append(axis(row, pct));

  const cols = el("div", { class: "cols2" });
  cols.append(contributions(row));
  cols.append(nearestTable(nearest));
  card.append(cols);
  card.append(allColumns(row));
  return card;
}

function figure(kind, label, v, lo, hi) {
  return el("div", { class: "fig " + kind },
    el("div", { class: "k", text: label }),
    el("div", { class: "v", "data-testid": kind, "data-value": num(v) === null ? "" : String(v), text: `${fmt(v)} °C` }),
    el("div", { class: "iv", text: num(lo) !== null ? `${fmt(lo)} to ${fmt(hi)} °C` : "" }));
}

function liquidWindow(row) {
  if (num(row.window_c) !== null) return row.window_c;
  if (num(row.td_c) !== null && num(row.tm_c) !== null) return row.td_c - row.tm_c;
  return null;
}

function domainVerdict(row) {
  const keys = ["domain", "tm_domain", "tg_domain"].filter((k) => has(row, k));
  if (!keys.length) return null;
  const box = el("div", { class: "fig", "data-testid": "domain" }, el("div", { class: "k", text: "applicability domain" }));
  for (const k of keys) {
    const v = row[k];
    const s = String(v).toLowerCase();
    const cls = v === true || /^(in|inside|in[-_ ]domain|ok|yes|true)$/.test(s) ? "in"
      : /^near/.test(s) ? "near"
      : v === false || /^(out|outside|out[-_ ]of[-_ ]domain|extrapolat|no|false)/.test(s) ? "out" : "neutral";
    const words = { in: "like the training compounds", near: "near the edge of the training data",
      out: "outside the training data: extrapolation" };
    const label = k === "domain" ? "" : k.replace("_domain", "").replace("tm", "Tm").replace("tg", "Tg") + ": ";
    box.append(el(k === "domain" ? "div" : "span", { class: k === "domain" ? "" : "badge-gap" }, el("span", { class: "badge " + cls, title: words[cls] || "", text: label + (typeof v === "boolean" ? (v ? "in" : "out") : v) }),
      k === "domain" && words[cls] ? el("span", { class: "iv", text: " " + words[cls] }) : null));
  }
  return box;
}

// a temperature axis with the Tg, Tm (and Td) bands and the liquid window
function axis(row, pct) {
  const lanes = [["Tg", "tg", "var(--tg)"], ["Tm", "tm", "var(--tm)"]];
  if (num(row.td_c) !== null) lanes.push(["Td", "td", "var(--td)"]);
  const vals = [];
  for (const [, k] of lanes) for (const s of ["_c", "_lo_c", "_hi_c"]) if (num(row[k + s]) !== null) vals.push(row[k + s]);
  let lo = Math.min(...vals), hi = Math.max(...vals);
  const pad = Math.max(20, 0.08 * (hi - lo));
  const step = hi - lo > 600 ? 100 : 50;
  lo = Math.floor((lo - pad) / step) * step; hi = Math.ceil((hi + pad) / step) * step;
  const W = 820, left = 44, right = 16, laneH = 22, top = 22;
  const H = top + lanes.length * (laneH + 8) + 40;
  const x = (t) => left + ((t - lo) / (hi - lo)) * (W - left - right);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "axis", role: "img", "data-testid": "axis",
    "aria-label": `temperature axis: ${pct}% intervals of Tg and Tm` });
  const win = liquidWindow(row);
  if (win !== null && num(row.td_c) !== null && num(row.tm_c) !== null && row.td_c > row.tm_c) {
    s.append(svg("rect", { x: x(row.tm_c), y: top - 16, width: x(row.td_c) - x(row.tm_c), height: lanes.length * (laneH + 8) + 14, fill: "var(--window)", "fill-opacity": 0.25 }));
    const t = svg("text", { x: (x(row.tm_c) + x(row.td_c)) / 2, y: top - 5, "text-anchor": "middle", "font-size": 11, fill: "#7a5a00" });
    t.textContent = `liquid window ${fmt(win)} °C`;
    s.append(t);
  }
  lanes.forEach(([label, k, color], i) => {
    const y = top + i * (laneH + 8);
    const name = svg("text", { x: 4, y: y + laneH / 2 + 4, "font-size": 12, "font-weight": 600, fill: color });
    name.textContent = label;
    s.append(name);
    if (num(row[k + "_lo_c"]) !== null && num(row[k + "_hi_c"]) !== null) {
      s.append(svg("rect", { x: x(row[k + "_lo_c"]), y, width: Math.max(1, x(row[k + "_hi_c"]) - x(row[k + "_lo_c"])), height: laneH, rx: 4, fill: color, "fill-opacity": 0.25, stroke: color, "stroke-opacity": 0.6 }));
    }
    if (num(row[k + "_c"]) !== null) {
      s.append(svg("line", { x1: x(row[k + "_c"]), x2: x(row[k + "_c"]), y1: y - 2, y2: y + laneH + 2, stroke: color, "stroke-width": 3 }));
      const v = svg("text", { x: x(row[k + "_c"]) + 5, y: y + laneH / 2 + 4, "font-size": 11, fill: "#1d2430" });
      v.textContent = `${fmt(row[k + "_c"])}`;
      s.append(v);
    }
  });
  const yb = top + lanes.length * (laneH + 8) + 2;
  s.append(svg("line", { x1: left, x2: W - right, y1: yb, y2: yb, stroke: "#8a94a6" }));
  for (let t = lo; t <= hi + 1e-9; t += step) {
    s.append(svg("line", { x1: x(t), x2: x(t), y1: yb, y2: yb + 5, stroke: "#8a94a6" }));
    const tx = svg("text", { x: x(t), y: yb + 18, "text-anchor": "middle", "font-size": 11, fill: "#5d6878" });
    tx.textContent = `${t}`;
    s.append(tx);
  }
  const unit = svg("text", { x: W - right, y: yb + 34, "text-anchor": "end", "font-size": 11, fill: "#5d6878" });
  unit.textContent = `°C · bands: ${pct} % intervals`;
  s.append(unit);
  return s;
}

function parseContrib(text) {
  return String(text || "").split(";").map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = s.match(/^(.*)\s([+-][0-9.eE+-]+)\s(\S+)$/);
    return m ? { label: m[1], value: parseFloat(m[2]), unit: m[3] === "degC" ? "°C" : m[3] } : { label: s, value: NaN, unit: "" };
  });
}

function contributions(row) {
  const box = el("div", { "data-testid": "contributions" }, el("h3", { text: "Why: largest descriptor contributions" }));
  const groups = [["tm_top_features", "to predicted Tm"], ["p_melt_top_features", "to the decomposition-aware Tm behind p_melt"]];
  let any = false;
  for (const [k, label] of groups) {
    const items = parseContrib(row[k]);
    if (!items.length) continue;
    any = true;
    box.append(el("div", { class: "ref", text: label }));
    const g = el("div", { class: "contrib" });
    const max = Math.max(...items.map((it) => Math.abs(it.value) || 0), 1e-9);
    for (const it of items) {
      const bar = el("div", { class: "bar " + (it.value >= 0 ? "pos" : "neg") });
      bar.style.width = `${Math.round(80 * Math.abs(it.value) / max)}px`;
      g.append(el("span", { text: it.label.replace(/_/g, " ") }), bar,
        el("span", { class: "num", text: Number.isFinite(it.value) ? `${it.value > 0 ? "+" : ""}${it.value} ${it.unit}` : "" }));
    }
    box.append(g);
  }
  if (!any) box.append(el("div", { class: "ref", text: "no explanation for this row" }));
  return box;
}

function nearestTable(items) {
  const box = el("div", { "data-testid": "nearest" }, el("h3", { text: "Nearest measured compounds" }));
  if (!items.length) { box.append(el("div", { class: "ref", text: "none" })); return box; }
  const t = el("table");
  t.append(el("tr", {}, el("th", { text: "compound" }), el("th", { class: "num", text: "Tm °C" }), el("th", { class: "num", text: "Tg °C" }),
    el("th", { class: "num", text: "Td °C" }), el("th", { text: "reference" })));
  for (const n of items) {
    const name = el("td", {}, el("div", { text: n.name || n.id }));
    if (n.formula && n.formula !== n.name) name.append(el("div", { class: "ref", text: n.formula }));
    t.append(el("tr", {}, name, el("td", { class: "num", text: fmt(n.tm_c) }), el("td", { class: "num", text: fmt(n.tg_c) }),
      el("td", { class: "num", text: fmt(n.td_c) }), el("td", { class: "ref", text: n.reference })));
  }
  box.append(t);
  box.append(el("div", { class: "ref", text: "closest in the model's descriptor space (measured values)." }));
  return box;
}

function allColumns(row) {
  const d = el("details", {}, el("summary", { text: "all columns" }));
  const t = el("table");
  for (const [k, v] of Object.entries(row)) {
    t.append(el("tr", {}, el("th", { text: k }), el("td", { text: v === null ? "" : typeof v === "number" ? String(Math.round(v * 1000) / 1000) : String(v) })));
  }
  d.append(t);
  return d;
}

// ------------------------------------------------------------------ screening
async function screenSubmit(ev) {
  ev.preventDefault();
  clearMessage();
  const file = $("#screen-file").files[0];
  if (!file) { showMessage("Choose a candidate table (CSV or Parquet) first."); return; }
  const data = new FormData($("#screen-form"));
  const box = $("#screen-results");
  box.innerHTML = "";
  const button = $("#screen-button");
  button.disabled = true;
  try {
    const job = await readAnswer(await fetch("/api/screen", { method: "POST", body: data }));
    const card = el("article", { class: "result", "data-testid": "screen" }, el("h2", { text: `Screening ${job.filename}` }));
    const bar = el("div", { class: "progress" }, el("div"));
    const status = el("div", { class: "ref", "data-testid": "screen-status", text: "queued" });
    card.append(bar, status);
    box.append(card);
    card.scrollIntoView({ behavior: "smooth", block: "start" });
    await poll(job.id, bar.firstChild, status, card);
  } catch (e) {
    showMessage(e.message);
  } finally {
    button.disabled = false;
  }
}

function poll(id, fill, status, card) {
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let s;
      try { s = await readAnswer(await fetch(`/api/jobs/${id}`)); } catch (e) { reject(e); return; }
      fill.style.width = `${Math.round(100 * s.fraction)}%`;
      const rows = s.rows_total ? `${s.rows_done.toLocaleString()} / ${s.rows_total.toLocaleString()} rows` : "";
      status.textContent = `${s.state} ${rows}`;
      if (s.state === "done") { renderScreen(s, card); resolve(s); }
      else if (s.state === "failed") { reject(new Error(s.error)); }
      else setTimeout(tick, 400);
    };
    tick();
  });
}

// [key, header, decimals (numbers) or undefined (text)]; a column is shown when some row has it
const SCREEN_COLS = [["rank", "rank", 0], ["id", "compound"], ["tm_c", "Tm °C", 0], ["tm_lo_c", "Tm low", 0],
  ["tm_hi_c", "Tm high", 0], ["tg_c", "Tg °C", 0], ["td_c", "Td °C", 0], ["window_c", "window °C", 0],
  ["p_melt", "p_melt", 2], ["domain", "domain"], ["score", "score", 3], ["error", "error"]];

function compoundCell(r) {
  const td = el("td", {}, el("div", { text: r.id === null ? "" : String(r.id) }));
  const sub = has(r, "formula") && r.formula !== r.id ? r.formula : [r.metal, r.ligands].filter(Boolean).join(" · ");
  if (sub) td.append(el("div", { class: "ref", text: sub }));
  return td;
}

function renderScreen(s, card) {
  card.querySelector(".progress").remove();
  const status = card.querySelector("[data-testid=screen-status]");
  status.textContent = `${s.n_rows.toLocaleString()} rows screened in ${s.seconds} s · ${s.n_errors.toLocaleString()} with an error · ${s.n_passing.toLocaleString()} pass the constraints`;
  card.append(el("a", { class: "download", href: s.result_csv, download: "mlglass-screen.csv", "data-testid": "download", text: "Download the ranked table (CSV, every row)" }));
  const grid = el("div", { class: "screen-grid" });
  const rows = s.top || [];
  const cols = SCREEN_COLS.filter(([k]) => rows.some((r) => has(r, k)));
  const t = el("table", { class: "sortable", "data-testid": "ranked" });
  const head = el("tr");
  cols.forEach(([k, label, d]) => head.append(el("th", { class: d !== undefined ? "num" : "", "data-key": k, text: label })));
  t.append(el("thead", {}, head));
  const body = el("tbody");
  const draw = (list) => {
    body.innerHTML = "";
    for (const r of list) {
      const tr = el("tr");
      cols.forEach(([k, , d]) => tr.append(k === "id" ? compoundCell(r)
        : el("td", { class: d !== undefined ? "num" : (k === "error" ? "ref" : ""), text: d !== undefined ? fmt(r[k], d) : (r[k] === null ? "" : String(r[k])) })));
      body.append(tr);
    }
  };
  draw(rows);
  t.append(body);
  head.addEventListener("click", (ev) => {
    const th = ev.target.closest("th");
    if (!th) return;
    const k = th.dataset.key;
    const desc = !th.classList.contains("sorted-desc");
    head.querySelectorAll("th").forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
    th.classList.add(desc ? "sorted-desc" : "sorted-asc");
    const sorted = [...rows].sort((a, b) => {
      const x = a[k], y = b[k];
      if (x === null || x === "") return 1;
      if (y === null || y === "") return -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return desc ? -c : c;
    });
    draw(sorted);
  });
  const left = el("div", {}, el("h3", { text: `Top ${rows.length} (click a column to sort)` }), el("div", { class: "table-scroll" }, t));
  grid.append(left);
  if (s.plot_png) grid.append(el("div", {}, el("h3", { text: "Map of the screened space" }), el("img", { src: s.plot_png, alt: "Tm vs Tg of the screened candidates, coloured by p_melt", "data-testid": "map" })));
  card.append(grid);
}

// ------------------------------------------------------------------ wiring
document.addEventListener("DOMContentLoaded", () => {
  setMode("formula");
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => setMode(t.dataset.mode)));
  document.querySelectorAll("a.example").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault(); $("#formula").value = a.textContent; $("#predict-form").requestSubmit();
  }));
  $("#predict-form").addEventListener("submit", predictSubmit);
  $("#screen-form").addEventListener("submit", screenSubmit);
  const drop = $("#cif-drop");
  $("#cif-input").addEventListener("change", (ev) => { uploadCifs(ev.target.files); ev.target.value = ""; });
  ["dragenter", "dragover"].forEach((n) => drop.addEventListener(n, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((n) => drop.addEventListener(n, (ev) => { ev.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (ev) => uploadCifs(ev.dataTransfer.files));
});
