// The dts console: the task list (/) and the task page (/tasks/{id}), over the API of the same
// origin. Plain JavaScript, no build step.
"use strict";

const TOKEN_KEY = "dts-token";
const HOUR_MS = 3600 * 1000;

// Calls the API; with a token required, asks for it once per tab.
async function api(path, options = {}) {
  const opts = Object.assign({ headers: {} }, options);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) opts.headers["Authorization"] = "Bearer " + token;
  if (opts.json !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
    delete opts.json;
  }
  const res = await fetch(path, opts);
  if (res.status === 401) {
    const given = window.prompt("This dts server needs its API token:");
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, given.trim());
      return api(path, options);
    }
  }
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(body && body.error ? body.error : res.status + " " + res.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const fmtInt = (n) => Math.round(n || 0).toLocaleString("en-US");
function fmtRate(n) {
  return fmtInt(n) + "/s";
}
function fmtDuration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}
function fmtTime(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : "";
}

// ---------------------------------------------------------------- task list

async function refreshList() {
  const body = document.querySelector("#task-list tbody");
  try {
    const tasks = await api("/api/tasks");
    body.replaceChildren();
    if (tasks.length === 0) {
      body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "no task yet: create one below")));
    }
    for (const t of tasks) {
      body.append(
        el("tr", { "data-task": t.id },
          el("td", {}, el("a", { href: "/tasks/" + encodeURIComponent(t.id) }, t.name), el("div", { class: "muted" }, t.id)),
          el("td", {}, el("span", { class: "badge state-" + t.state }, t.state)),
          el("td", {}, t.stage || "—"),
          el("td", {}, t.full_percent.toFixed(1) + " %"),
          el("td", {}, fmtInt(t.latency_ms) + " ms"),
          el("td", {}, fmtRate(t.rows_per_s)),
          el("td", { class: "error-text" }, t.last_error || "")));
    }
  } catch (e) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "error-text" }, e.message)));
  }
}

function setupCreate() {
  document.getElementById("create-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = document.getElementById("create-file").value.trim();
    const toml = document.getElementById("create-toml").value;
    const out = document.getElementById("create-result");
    try {
      const t = await api("/api/tasks", { method: "POST", json: file ? { file } : { toml } });
      window.location.href = "/tasks/" + encodeURIComponent(t.id);
    } catch (e) {
      out.textContent = e.message;
      out.className = "error-text";
    }
  });
}

// ---------------------------------------------------------------- task page

const taskId = () => decodeURIComponent(window.location.pathname.split("/").filter(Boolean)[1] || "");
let samples = [];
let lastSampleMs = 0;

function renderTimeline(stages) {
  const ol = document.getElementById("timeline");
  ol.replaceChildren();
  for (const s of stages) {
    const times = [];
    if (s.started_ms) times.push("started " + fmtTime(s.started_ms));
    if (s.finished_ms) times.push("done " + fmtTime(s.finished_ms));
    else if (s.started_ms && (s.status === "running" || s.status === "paused"))
      times.push(fmtDuration((Date.now() - s.started_ms) / 1000));
    ol.append(
      el("li", { class: "stage status-" + s.status, "data-stage": s.stage, title: s.reason || "" },
        el("div", { class: "stage-label" }, s.label),
        el("div", { class: "stage-status" }, s.status.replace("_", " ")),
        el("div", { class: "stage-times muted" }, times.join(" · "))));
  }
}

function renderTables(d) {
  const body = document.querySelector("#tables tbody");
  body.replaceChildren();
  if (d.tables.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no table copied in this run")));
  }
  for (const t of d.tables) {
    const bar = el("div", { class: "bar" + (t.finished ? " done" : "") }, el("span", { style: "width:" + t.percent.toFixed(1) + "%" }));
    body.append(
      el("tr", { "data-table": t.table },
        el("td", {}, t.table),
        el("td", {}, bar, el("span", { class: "pct" }, t.percent.toFixed(1) + " %")),
        el("td", {}, fmtInt(t.rows_done) + " / " + fmtInt(t.rows_estimated)),
        el("td", {}, t.finished ? "done" : fmtRate(t.rows_per_s)),
        el("td", {}, t.finished ? "—" : fmtDuration(t.eta_s))));
  }
  const f = d.full;
  const done = d.tables.length && d.tables.every((t) => t.finished);
  document.getElementById("full-summary").textContent = !d.tables.length
    ? ""
    : done
      ? "done · " + fmtInt(d.tables.reduce((n, t) => n + t.rows_done, 0)) + " rows"
      : fmtRate(f.rows_per_s) + " · ETA " + fmtDuration(f.eta_s);
}

function renderIncremental(i) {
  const dl = document.getElementById("incremental");
  dl.replaceChildren();
  const facts = [
    ["latency", fmtInt(i.latency_ms) + " ms"],
    ["rows/s", fmtRate(i.rows_per_s)],
    ["rows applied", fmtInt(i.rows_applied)],
    ["transactions", fmtInt(i.transactions_applied)],
    ["position", i.position || "—"],
    ["caught up", i.caught_up ? "yes" : "not yet"],
  ];
  for (const [k, v] of facts) dl.append(el("dt", {}, k), el("dd", {}, v));
}

function renderPrecheck(p) {
  const body = document.querySelector("#precheck tbody");
  const summary = document.getElementById("precheck-summary");
  if (!p) return;
  summary.textContent = (p.passed ? "passed" : "not passed") + " · " + fmtTime(p.at_ms);
  body.replaceChildren();
  for (const c of p.checks) {
    let action = "";
    if (c.acknowledgeable && !c.acknowledged) {
      action = el("button", { class: "ack", "data-check": c.id, onclick: () => acknowledge(c.id) }, "Acknowledge");
    } else if (c.acknowledged) {
      action = el("span", { class: "muted" }, "acknowledged");
    }
    body.append(
      el("tr", { class: "check-" + c.level, "data-check": c.id },
        el("td", {}, c.id),
        el("td", {}, el("span", { class: "badge level-" + c.level }, c.level)),
        el("td", {}, c.message, c.fix ? el("div", { class: "muted" }, "fix: " + c.fix) : ""),
        el("td", {}, action)));
  }
}

// A throttle field the user has edited keeps the edit through the page's refreshes until the
// form is applied (force), even after the focus has moved on to another field.
function renderThrottle(t, force) {
  const set = (id, v) => {
    const input = document.getElementById(id);
    if (force) delete input.dataset.edited;
    if (force || (document.activeElement !== input && !input.dataset.edited)) {
      input.value = v === null || v === undefined ? "" : v;
    }
  };
  const f = t.full || {}, i = t.incremental || {};
  set("thr-full-qps", f.source_qps);
  set("thr-full-rps", f.rps);
  set("thr-full-mbps", f.mbps);
  set("thr-inc-rps", i.rps);
  set("thr-inc-mbps", i.mbps);
}

function renderButtons(state) {
  const enabled = {
    "btn-precheck": ["created", "stopped", "failed"],
    "btn-start": ["created", "stopped", "failed"],
    "btn-pause": ["running", "starting"],
    "btn-resume": ["paused"],
    "btn-stop": ["running", "paused", "starting"],
  };
  for (const [id, states] of Object.entries(enabled)) {
    document.getElementById(id).disabled = !states.includes(state);
  }
}

let throttleShown = false;

function renderTask(d) {
  document.title = "dts — " + d.name;
  document.getElementById("task-name").textContent = d.name;
  document.getElementById("task-id").textContent = d.id;
  document.getElementById("task-origin").textContent = d.origin;
  const state = document.getElementById("task-state");
  state.textContent = d.state;
  state.className = "badge state-" + d.state;
  document.getElementById("task-stage").textContent = d.stage || "";
  renderButtons(d.state);
  renderTimeline(d.stages);
  renderTables(d);
  renderIncremental(d.incremental);
  renderPrecheck(d.precheck);
  renderThrottle(d.throttle, !throttleShown);
  throttleShown = true;
  const err = document.getElementById("error-box");
  err.hidden = !d.last_error;
  err.textContent = d.last_error ? "last error: " + d.last_error : "";
  const retry = document.getElementById("retry-box");
  retry.hidden = !d.retry;
  if (d.retry) {
    const r = d.retry;
    retry.textContent = "retrying " + r.operation + " (" + r.class + " window, attempt " + r.attempts +
      ", " + fmtDuration(r.time_left_ms / 1000) + " left): " + r.error;
  }
  const v = d.verification;
  document.getElementById("verification-section").hidden = !v;
  if (v) {
    document.getElementById("verification-state").textContent = v.state;
    document.getElementById("verification-text").textContent = v.text || v.error || "waiting for its start rule";
    // The statements that make the destination match, to run there (also in the file named).
    document.getElementById("verification-repair").hidden = !v.repair_sql;
    document.getElementById("verification-repair-file").textContent = v.repair_sql_file || "";
    document.getElementById("verification-repair-sql").textContent = v.repair_sql || "";
  }
}

// The smallest of 1, 2, 2.5, 5 × 10^n (at least 4) that is >= v: round axis steps.
function niceCeil(v) {
  const steps = [1, 2, 2.5, 5, 10];
  const e = Math.pow(10, Math.floor(Math.log10(Math.max(v, 4))));
  return Math.max(4, steps.map((s) => s * e).find((s) => s >= v));
}

// A line chart of the last hour on a canvas; returns the number of points drawn.
function drawChart(canvas, points, color, unit) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 52, right = 8, top = 8, bottom = 22;
  const now = Date.now();
  const t0 = Math.max(now - HOUR_MS, points.length ? points[0][0] : now - 60000);
  const span = Math.max(now - t0, 1000);
  const max = niceCeil(Math.max(1, ...points.map((p) => p[1])) * 1.05);
  const x = (t) => left + ((t - t0) / span) * (w - left - right);
  const y = (v) => top + (1 - v / max) * (h - top - bottom);
  ctx.font = "11px system-ui, sans-serif";
  ctx.strokeStyle = "#dde3ea";
  ctx.fillStyle = "#6b7785";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(w - right, yy);
    ctx.stroke();
    ctx.fillText(fmtInt(v), 4, yy + 4);
  }
  ctx.fillText(fmtTime(t0), left, h - 6);
  const nowLabel = fmtTime(now);
  ctx.fillText(nowLabel, w - right - ctx.measureText(nowLabel).width, h - 6);
  ctx.fillText(unit, left + 4, top + 10);
  const visible = points.filter((p) => p[0] >= t0);
  if (visible.length) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    visible.forEach((p, i) => (i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1]))));
    ctx.stroke();
    ctx.globalAlpha = 0.12;
    ctx.fillStyle = color;
    ctx.lineTo(x(visible[visible.length - 1][0]), y(0));
    ctx.lineTo(x(visible[0][0]), y(0));
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  canvas.dataset.points = String(visible.length);
  return visible.length;
}

function renderCharts() {
  const latency = samples.map((s) => [s.t_ms, s.latency_ms]);
  const rps = samples.map((s) => [s.t_ms, s.rows_per_s + s.full_rows_per_s]);
  drawChart(document.getElementById("latency-chart"), latency, "#2f6fdf", "ms");
  drawChart(document.getElementById("rps-chart"), rps, "#1f9d6b", "rows/s");
  const last = samples[samples.length - 1];
  document.getElementById("latency-now").textContent = last ? fmtInt(last.latency_ms) + " ms" : "";
  document.getElementById("rps-now").textContent = last ? fmtRate(last.rows_per_s + last.full_rows_per_s) : "";
}

async function refreshTask() {
  const id = taskId();
  try {
    const d = await api("/api/tasks/" + encodeURIComponent(id));
    renderTask(d);
    const m = await api("/api/tasks/" + encodeURIComponent(id) + "/metrics?since_ms=" + lastSampleMs);
    samples = samples.concat(m.samples).filter((s) => s.t_ms >= Date.now() - HOUR_MS).slice(-m.capacity);
    if (samples.length) lastSampleMs = samples[samples.length - 1].t_ms;
    renderCharts();
  } catch (e) {
    const err = document.getElementById("error-box");
    err.hidden = false;
    err.textContent = e.message;
  }
}

async function action(name, path, options) {
  const out = document.getElementById("action-result");
  out.textContent = name + "…";
  out.className = "muted";
  try {
    await api(path, Object.assign({ method: "POST" }, options || {}));
    out.textContent = name + ": done";
  } catch (e) {
    out.textContent = name + ": " + e.message;
    out.className = "error-text";
  }
  refreshTask();
}

async function acknowledge(check) {
  await action("acknowledge " + check, "/api/tasks/" + encodeURIComponent(taskId()) + "/precheck/acknowledge", { json: { ids: [check] } });
}

async function loadConfig() {
  try {
    const c = await api("/api/tasks/" + encodeURIComponent(taskId()) + "/config");
    document.getElementById("config-text").textContent = c.toml;
  } catch (e) {
    document.getElementById("config-text").textContent = e.message;
  }
}

function setupTask() {
  const base = "/api/tasks/" + encodeURIComponent(taskId());
  document.getElementById("btn-precheck").addEventListener("click", () => action("precheck", base + "/precheck"));
  document.getElementById("btn-start").addEventListener("click", () => action("start", base + "/start"));
  document.getElementById("btn-pause").addEventListener("click", () => action("pause", base + "/pause"));
  document.getElementById("btn-resume").addEventListener("click", () => action("resume", base + "/resume"));
  document.getElementById("btn-stop").addEventListener("click", () => action("stop", base + "/stop"));
  document.getElementById("config-details").addEventListener("toggle", loadConfig);
  document.getElementById("throttle-form").addEventListener("input", (ev) => {
    if (ev.target.tagName === "INPUT") ev.target.dataset.edited = "1";
  });
  document.getElementById("throttle-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const num = (id) => {
      const v = document.getElementById(id).value.trim();
      return v === "" ? null : Number(v);
    };
    const body = {
      full: { source_qps: num("thr-full-qps"), rps: num("thr-full-rps"), mbps: num("thr-full-mbps") },
      incremental: { rps: num("thr-inc-rps"), mbps: num("thr-inc-mbps") },
    };
    const out = document.getElementById("throttle-result");
    try {
      const t = await api(base + "/throttle", { method: "PUT", json: body });
      renderThrottle(t, true);
      out.textContent = "applied";
      out.className = "muted";
    } catch (e) {
      out.textContent = e.message;
      out.className = "error-text";
    }
  });
  window.addEventListener("resize", renderCharts);
}

// ---------------------------------------------------------------- start

function every(ms, f) {
  f();
  setInterval(f, ms);
}

if (document.body.dataset.page === "index") {
  setupCreate();
  every(2000, refreshList);
} else if (document.body.dataset.page === "task") {
  setupTask();
  every(1000, refreshTask);
}
