// Ticket Dash wall board. Ticket text is hostile: everything from the server is
// put on the page with textContent and DOM calls, never parsed as HTML.
"use strict";

const STATES = {
  fr_overdue: { icon: "\u203c", word: "FR overdue" },
  overdue: { icon: "!", word: "Overdue" },
  critical: { icon: "\u25b2", word: "Critical" },
  warning: { icon: "\u25c6", word: "Warning" },
  attention: { icon: "\u25cf", word: "Attention" },
  ok: { icon: "\u2713", word: "OK" },
  paused: { icon: "\u275a\u275a", word: "Paused" },
  error: { icon: "\u2716", word: "Error" },
  stale: { icon: "\u231b", word: "Stale" },
  clear: { icon: "\u2713", word: "All clear" },
};
const STROBE = new Set(["fr_overdue", "overdue"]);

const body = document.body;
const refreshMs = Math.max(500, Number(body.dataset.refresh || 2) * 1000);
let etag = null;
let board = null;
let failingSince = null;
let timer = null;

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function pad(n) { return String(n).padStart(2, "0"); }

function duration(ms) {
  const sign = ms < 0 ? "-" : "";
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s %= 86400;
  const text = `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return sign + (d ? `${d}d ` : "") + text;
}

function age(iso) {
  if (!iso) return "never";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

function stateBadge(state) {
  const info = STATES[state] || { icon: "?", word: state };
  const span = el("span", "state-word");
  span.append(el("span", "state-icon", info.icon), " ", info.word);
  return span;
}

function row(t) {
  const tr = el("tr", `state-${t.state} prio-${t.priority}`);
  tr.dataset.id = t.id;
  const idCell = el("td", "id");
  const href = safeUrl(t.url);
  if (href) {
    const a = el("a", null, `#${t.id}`);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    idCell.append(a);
  } else {
    idCell.textContent = `#${t.id}`;
  }
  const state = el("td", "state");
  state.append(stateBadge(t.state));
  const due = el("td", "due");
  if (t.due_at) {
    due.dataset.due = t.due_at;
    due.title = (t.due_kind === "first_response" ? "First response due " : "Resolution due ") + new Date(t.due_at).toLocaleString();
  }
  const subject = el("td", "subject", t.subject);
  subject.title = t.subject + (t.excerpt ? "\n\n" + t.excerpt : "");
  tr.append(idCell, state, due, subject,
    el("td", "prio", t.priority_name), el("td", "agent", t.agent || "Unassigned"),
    el("td", "requester", t.requester || ""), el("td", "status", t.status_name));
  return tr;
}

function renderCounts(counts) {
  const box = $("counts");
  const items = [];
  for (const state of Object.keys(STATES)) {
    if (!(state in counts)) continue;
    const item = el("span", `count state-${state}`);
    item.append(el("b", null, counts[state]), stateBadge(state));
    items.push(item);
  }
  box.replaceChildren(...items);
}

function renderSections(sections) {
  const template = $("section-template");
  const nodes = sections.map((section) => {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.section = section.key;
    node.querySelector(".section-title").textContent = section.title;
    const parts = Object.entries(section.counts).map(([state, n]) => `${n} ${(STATES[state] || { word: state }).word.toLowerCase()}`);
    node.querySelector(".section-count").textContent = `(${section.tickets.length}${parts.length ? ": " + parts.join(", ") : ""})`;
    const tbody = node.querySelector("tbody");
    if (section.tickets.length === 0) {
      const tr = el("tr");
      const td = el("td", "empty", "Nothing here");
      td.colSpan = 8;
      tr.append(td);
      tbody.append(tr);
    } else {
      const fragment = document.createDocumentFragment();
      for (const t of section.tickets) fragment.append(row(t));
      tbody.append(fragment);
    }
    return node;
  });
  $("sections").replaceChildren(...nodes);
}

function renderLight(data) {
  const light = $("light");
  const state = data.worst;
  light.className = `light state-${state}`;
  light.dataset.state = state;
  light.dataset.strobe = STROBE.has(state) ? "true" : "false";
  const info = STATES[state] || { word: state };
  let label = info.word;
  if (data.light && data.light.state && data.light.state !== state) label += ` (desk light: ${data.light.state})`;
  $("light-label").textContent = label;
  light.setAttribute("aria-label", `board state: ${info.word}`);
}

function render(data) {
  board = data;
  $("loading")?.remove();
  $("view-title").textContent = data.agent ? `· ${data.view.title} · ${data.agent.name || "agent " + data.agent.id}` : `· ${data.view.title}`;
  renderLight(data);
  renderCounts(data.counts);
  renderSections(data.sections);
  const unreadable = $("unreadable-banner");
  unreadable.hidden = !data.unreadable.length;
  unreadable.textContent = data.unreadable.length
    ? `Cannot show ${data.unreadable.length} ticket(s): ` +
      data.unreadable.slice(0, 5).map((u) => `${u.id === null ? u.file : "#" + u.id} (${u.reason})`).join("; ") +
      (data.unreadable.length > 5 ? "; …" : "") + ". The board may be incomplete."
    : "";
  document.title = `${STATES[data.worst]?.word || data.worst} · ${document.title.split(" · ").slice(-2).join(" · ")}`;
  tick();
}

function tick() {
  const now = Date.now();
  $("clock").textContent = new Date(now).toLocaleTimeString();
  if (!board) return;
  for (const cell of document.querySelectorAll("td.due[data-due]")) {
    const left = Date.parse(cell.dataset.due) - now;
    cell.textContent = left >= 0 ? duration(left) : `+${duration(-left)}`;
  }
  const next = board.next_breach;
  $("next-breach").textContent = next ? duration(Math.max(0, Date.parse(next.due_at) - now)) : "none due";
  $("next-breach-ticket").textContent = next ? `#${next.id}` : "";
  const health = board.health;
  const stale = $("stale-banner");
  stale.hidden = !board.stale;
  if (board.stale) {
    const what = health.status === "error" ? "The last sync failed" : "The data is out of date";
    stale.textContent = `${what}: data is ${age(board.data_as_of)} old` +
      (health.last_error ? ` (${health.last_error})` : health.reason ? ` (${health.reason})` : "") +
      ". Showing the last good data.";
  }
  $("data-age").textContent = `Data as of ${board.data_as_of ? new Date(board.data_as_of).toLocaleTimeString() : "never"} (${age(board.data_as_of)} ago) · ${board.total} tickets`;
  renderAlerts(board.alerts, now);
  const offline = $("offline-banner");
  offline.hidden = failingSince === null;
  if (failingSince !== null) {
    offline.textContent = `Cannot reach the dashboard server for ${age(new Date(failingSince).toISOString())}: showing what it last sent.`;
  }
}

function renderAlerts(alerts, now) {
  $("alerts-line").textContent = alerts
    ? ` · Last alert sent ${alerts.last_sent_at ? age(alerts.last_sent_at) + " ago" : "never"}` : "";
  const failing = alerts ? alerts.failing.filter((f) => f.since && now - Date.parse(f.since) > 60000) : [];
  const banner = $("alerts-banner");
  banner.hidden = !failing.length;
  banner.textContent = failing.length
    ? "Alerts are not getting through: " +
      failing.map((f) => `${f.route} (failing for ${age(f.since)}, ${f.waiting} waiting)`).join("; ")
    : "";
}

async function poll() {
  const params = new URLSearchParams({ view: body.dataset.view });
  if (body.dataset.agent) params.set("agent", body.dataset.agent);
  try {
    const headers = etag ? { "If-None-Match": etag } : {};
    const response = await fetch(`/api/board?${params}`, { headers, cache: "no-store", credentials: "same-origin" });
    if (response.status === 200) {
      etag = response.headers.get("ETag");
      render(await response.json());
    } else if (response.status !== 304) {
      throw new Error(`HTTP ${response.status}`);
    }
    failingSince = null;
  } catch (error) {
    if (failingSince === null) failingSince = Date.now();
  }
  tick();
  timer = setTimeout(poll, refreshMs);
}

function remembered(key, attribute, values) {
  const saved = localStorage.getItem(key);
  if (values.includes(saved)) document.documentElement.dataset[attribute] = saved;
  return () => {
    const current = document.documentElement.dataset[attribute];
    const next = values[(values.indexOf(current) + 1) % values.length];
    document.documentElement.dataset[attribute] = next;
    localStorage.setItem(key, next);
  };
}

document.addEventListener("DOMContentLoaded", () => {
  $("theme-toggle").addEventListener("click", remembered("ticketdash-theme", "theme", ["dark", "light"]));
  $("density-toggle").addEventListener("click", remembered("ticketdash-density", "density", ["wall", "desk"]));
  $("view-select").addEventListener("change", (event) => {
    const params = new URLSearchParams(location.search);
    params.set("view", event.target.value);
    location.search = params.toString();
  });
  setInterval(tick, 1000);
  poll();
});
