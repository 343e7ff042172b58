// Ticket Dash wall board. Ticket text is hostile: everything from the server is
// put on the page with textContent and DOM calls, never parsed as HTML.
"use strict";

// The words and symbols of each state come with the board (ticketdash/states.py); only the
// page's own "offline" face, and the look before the first answer, are named here.
const STATES = {
  offline: { icon: "\u26a0", word: "Offline" },
  stale: { icon: "\u231b", word: "Stale" },
};
function learnStates(vocabulary) {
  for (const [state, v] of Object.entries(vocabulary || {})) STATES[state] = { icon: v.icon, word: v.short, long: v.word };
}
const BREACHED = new Set(["fr_overdue", "overdue"]);
const CALM = new Set(["ok", "paused"]);
// Row text at the wall: from 40 px down to the floor, 28 px at 1080p (the CSS --floor), read from 5 m.
const floorPx = () => Math.max(18, innerHeight * 0.026);
// The grid: each column's head and width in em of the row text; the subject takes the rest, at least 40 %.
const COLUMNS = {
  id: ["Ticket", 5], state: ["State", 8.1], due: ["Due", 9], subject: ["Subject", 0], prio: ["Prio", 5.6],
  agent: ["Agent", 7], requester: ["Requester", 7], status: ["Status", 6.6],
};
const MULTI_ID = 8; // the id column with a helpdesk's label
let shown = Object.keys(COLUMNS); // the columns on screen now
const DROP_ORDER = ["status", "requester", "prio"];
const SUBJECT_SHARE = 0.4;

const body = document.body;
const refreshMs = Math.max(500, Number(body.dataset.refresh || 2) * 1000);
const pageMs = Math.max(2000, Number(body.dataset.pageSeconds || 10) * 1000);
const rotation = (body.dataset.views || body.dataset.view).split(",").filter(Boolean);
const rotateMs = Number(body.dataset.rotate || 0) * 1000;
let view = body.dataset.view;
let etag = null;
let board = null;
let lastContact = Date.now();
let failing = false;
let breachedBefore = null;
let me = null; // the signed-in operator ({name, role, csrf}), or null: the wall only reads
const ACKABLE = new Set(["fr_overdue", "overdue", "critical", "warning", "attention"]);
window.__chimes = 0;

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function pad(n) { return String(n).padStart(2, "0"); }

// Time to a deadline in words a lead reads at a glance: "in 10 h 7 min", "41 min late", "in 3 days";
// seconds only in the last hour, where they matter.
function timeLeft(ms) {
  const late = ms < 0;
  const s = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60);
  let text;
  if (s >= 2 * 86400) text = `${Math.floor(s / 86400)} days`;
  else if (hours >= 1) text = minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  else if (minutes >= 1) text = late ? `${minutes} min` : `${minutes} min ${pad(s % 60)} s`;
  else text = `${s} s`;
  return late ? `${text} late` : `in ${text}`;
}

function age(iso) {
  if (!iso) return "never";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} days`;
}

// Names. One a person wrote in config/ is final. Others are shortened only when they do not fit
// their column, at a word, never inside brackets, titles or suffixes, never in right-to-left or CJK
// scripts (a letter of those is not an initial), and only to a form no other name on screen has.
const TITLES = /^(dr|mr|mrs|ms|mx|prof|sir|dame)\.?$/i;
const SUFFIXES = /^(jr|sr|ii|iii|iv|phd|md|esq)\.?$/i;
const PARTICLES = new Set(["van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "la", "le", "ten", "ter", "bin", "al", "dos", "das"]);
const WHOLE = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/;

// Every acceptable form of a name, in order of preference: "Bob Smith Jr." .. "Bob S. Jr.", "Bob Sm. Jr.", "Bob".
function nameForms(name) {
  const full = name.trim().replace(/\s+/g, " ");
  if (WHOLE.test(full) || /(^|\s)\d+$/.test(full)) return [full]; // "Requester 2900…" stays whole too
  const forms = [full];
  const add = (...words) => { const form = words.join(" "); if (!forms.includes(form)) forms.push(form); };
  const words = (full.match(/\([^)]*\)?|\[[^\]]*\]?|\S+/g) || []).filter((w) => !/^[([]/.test(w));
  const titles = [];
  while (words.length > 1 && TITLES.test(words[0])) titles.push(words.shift());
  const suffixes = [];
  while (words.length > 1 && SUFFIXES.test(words[words.length - 1].replace(/,$/, ""))) suffixes.unshift(words.pop());
  if (!words.length) return forms;
  const [given, ...rest] = words;
  add(...titles, ...words, ...suffixes); // without what the brackets say
  if (rest.length) {
    let i = rest.length - 2;
    while (i >= 0 && PARTICLES.has(rest[i].toLowerCase())) i--;
    const family = rest.slice(i + 1);
    const last = family[family.length - 1];
    // "Carol from Accounts" is a description, not a family name: no initials for it.
    if (rest.slice(0, i + 1).concat([last]).every((w) => /^\p{Lu}/u.test(w))) {
      add(...titles, given, ...family, ...suffixes); // middle names dropped
      const letters = Array.from(last.replace(/[.,]+$/, ""));
      for (let n = 1; n <= Math.min(3, letters.length - 1); n++) { // "Anna Sm." only where "Anna S." is taken
        add(...titles, given, ...family.slice(0, -1), letters.slice(0, n).join("") + ".", ...suffixes);
      }
    }
  }
  add(...titles, given);
  return forms;
}

// Each name's form on this screen: the first that fits and that no other name shown could have;
// else the shortest such, which the column ellipsizes.
function shortNames(names, final, fits) {
  const forms = new Map([...names].map((n) => [n, final.has(n) ? [n] : nameForms(n)]));
  const owners = new Map();
  for (const [n, list] of forms) for (const f of list) owners.set(f, (owners.get(f) || new Set()).add(n));
  const chosen = new Map();
  for (const [n, list] of forms) {
    const unique = list.filter((f) => owners.get(f).size === 1);
    const shortest = unique.reduce((a, b) => (b.length < a.length ? b : a), n);
    chosen.set(n, unique.find(fits) || shortest);
  }
  return chosen;
}

let measure = null;
// The agent and requester columns' names for the rows about to be shown, at the current text size.
function columnNames(rows, style) {
  const font = parseFloat(style.fontSize);
  measure = measure || document.createElement("canvas").getContext("2d");
  measure.font = `${font}px ${style.fontFamily}`;
  const room = (COLUMNS.agent[1] - 0.7) * font; // the column less its padding
  const fits = (text) => measure.measureText(text).width <= room;
  const names = {};
  for (const column of ["agent", "requester"]) {
    const shown = new Set(), final = new Set();
    for (const t of rows) {
      if (!t[column]) continue;
      shown.add(t[column]);
      if (t[`${column}_as_written`]) final.add(t[column]);
    }
    names[column] = shortNames(shown, final, fits);
  }
  return names;
}

function safeUrl(url) {
  return typeof url === "string" && (/^https?:\/\//i.test(url) || /^\/ticket\/\d+$/.test(url)) ? url : null;
}

function stateBadge(state) {
  const info = STATES[state] || { icon: "?", word: state };
  const span = el("span", "state-word");
  span.append(el("span", "state-icon", info.icon), " ", info.word);
  return span;
}

function row(t, names) {
  const tr = el("tr", `state-${t.state} prio-${t.priority}`);
  tr.dataset.id = t.id;
  if (t.helpdesk) tr.dataset.helpdesk = t.helpdesk;
  const idCell = el("td", "id");
  if (t.helpdesk) idCell.append(el("span", "helpdesk", t.helpdesk)); // ids repeat across helpdesks
  const href = safeUrl(t.url);
  if (href) {
    const a = el("a", null, `#${t.id}`);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    idCell.append(a);
  } else {
    idCell.append(document.createTextNode(`#${t.id}`));
  }
  const state = el("td", "state");
  state.append(stateBadge(t.state));
  if (t.ack) { // someone is on it: said on the row, the state itself unchanged
    tr.classList.add("acked");
    const on = el("span", "ack", `on it: ${t.ack.by} since ${new Date(t.ack.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`);
    on.title = `${t.ack.by} until ${new Date(t.ack.until).toLocaleString()}` + (t.ack.note ? `: ${t.ack.note}` : "");
    state.append(" ", on);
  }
  if (me && t.ack && (t.ack.by === me.name || me.role === "lead")) state.append(" ", ackButton("clear", "Clear", t));
  else if (me && !t.ack && ACKABLE.has(t.state)) state.append(" ", ackButton("ack", "On it", t));
  if (me && me.claims_on && me.agent_id && t.agent_id !== me.agent_id && ACKABLE.has(t.state) && !t.helpdesk) {
    state.append(" ", ackButton("claim", "Assign to me", t));
  }
  const due = el("td", "due");
  if (t.due_at) {
    due.dataset.due = t.due_at;
    due.title = (t.due_kind === "first_response" ? "First response due " : "Resolution due ") + new Date(t.due_at).toLocaleString();
  }
  const subject = el("td", "subject");
  subject.append(el("span", null, t.subject));
  subject.title = t.subject + (t.excerpt ? "\n\n" + t.excerpt : "");
  const prio = el("td", "prio");
  if (t.priority_name) {
    const badge = el("span", "prio-badge", t.priority_name);
    prio.append(badge);
  }
  const agent = el("td", "agent", t.agent ? names.agent.get(t.agent) || t.agent : "Unassigned");
  agent.title = t.agent || "Unassigned";
  const requester = el("td", "requester", t.requester ? names.requester.get(t.requester) || t.requester : "");
  requester.title = t.requester || "";
  const cells = { id: idCell, state, due, subject, prio, agent, requester, status: el("td", "status", t.status_name) };
  tr.append(...shown.map((column) => cells[column]));
  return tr;
}

function ackButton(action, text, t) {
  const button = el("button", `ack-button ack-${action}`, text);
  button.type = "button";
  button.dataset.act = action;
  button.dataset.ticket = t.id;
  if (t.helpdesk) button.dataset.helpdesk = t.helpdesk;
  return button;
}

// The writes: "on it" (POST) or its end (DELETE), and "assign to me", with the session's CSRF token.
async function acknowledge(button) {
  const payload = { ticket: Number(button.dataset.ticket) };
  if (button.dataset.helpdesk) payload.helpdesk = button.dataset.helpdesk;
  const act = button.dataset.act;
  button.disabled = true;
  try {
    const response = await fetch(act === "claim" ? "/api/claim" : "/api/ack", {
      method: act === "clear" ? "DELETE" : "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf }, body: JSON.stringify(payload),
    });
    const answer = await response.json().catch(() => ({}));
    const done = { clear: `Cleared #${payload.ticket}`, claim: `Assigning #${payload.ticket} to you…`,
      ack: `You are on #${payload.ticket} until ${new Date(answer.until).toLocaleTimeString()}` };
    $("operator-status").textContent = response.ok ? done[act] : `Not done: ${answer.error || "HTTP " + response.status}`;
    if (response.ok && act === "claim") followClaim(answer.claim, payload.ticket);
  } catch (error) {
    $("operator-status").textContent = "Not done: cannot reach the dashboard server";
  }
  etag = null; // show it at once
}

// A claim goes to the helpdesk through the watcher: say how it went, or the exact failure.
async function followClaim(id, ticket) {
  for (let tries = 0; tries < 60; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" }).catch(() => null);
    const answer = response && response.ok ? await response.json() : null;
    const claim = answer && answer.claims.find((c) => c.claim === id);
    if (claim && claim.status === "done") { $("operator-status").textContent = `#${ticket} is assigned to you`; return; }
    if (claim && claim.status === "failed") { $("operator-status").textContent = `Not assigned #${ticket}: ${claim.error}`; return; }
  }
  $("operator-status").textContent = `#${ticket}: no answer from the watcher yet`;
}

async function signedIn() {
  try {
    const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
    me = response.ok ? await response.json() : null;
  } catch (error) {
    me = null;
  }
  const place = $("operator");
  if (!me) {
    const link = el("a", null, "Sign in to acknowledge");
    link.href = "/signin";
    place.replaceChildren(link);
    return;
  }
  const form = el("form", "signout");
  form.method = "post";
  form.action = "/signout";
  const csrf = el("input");
  csrf.type = "hidden";
  csrf.name = "csrf";
  csrf.value = me.csrf;
  const out = el("button", null, "Sign out");
  out.type = "submit";
  form.append(csrf, out);
  const status = el("span", "operator-status", "");
  status.id = "operator-status";
  status.setAttribute("role", "status");
  place.replaceChildren(`Signed in as ${me.name} `, form, status);
  if (me.role === "lead") {
    const log = el("a", null, "Audit");
    log.href = "/ack-log";
    place.append(" ", log);
  }
}

function line(className, text) {
  const tr = el("tr", className);
  const td = el("td", null, text);
  td.colSpan = shown.length;
  tr.append(td);
  return tr;
}

function renderCounts(counts) {
  const items = [];
  for (const state of Object.keys(STATES)) {
    if (!(state in counts)) continue;
    const item = el("span", `count state-${state}`);
    item.dataset.n = counts[state];
    item.append(el("b", null, counts[state]), stateBadge(state));
    items.push(item);
  }
  $("counts").replaceChildren(...items);
}

// What each section shows, and how much had to give (level): 0 every row; 1 calm rows fold into
// one line; 2 what still does not fit pages through in place, the breached rows staying put;
// 3 even the breaches do not fit: breaches come first, always, only breached rows are shown,
// paging among themselves, and everything else folds into a line that names what it holds.
function plan(sections, capacity, pageIndex) {
  const all = sections.map((s) => ({ section: s, rows: s.tickets, fold: [], page: null }));
  const total = sections.reduce((n, s) => n + s.tickets.length, 0);
  if (total <= capacity) return { level: 0, all };
  for (const p of all) {
    p.fold = p.section.tickets.filter((t) => CALM.has(t.state));
    p.rows = p.section.tickets.filter((t) => !CALM.has(t.state));
  }
  const need = all.reduce((n, p) => n + p.rows.length + (p.fold.length ? 1 : 0), 0);
  if (need <= capacity) return { level: 1, all };
  const breached = all.map((p) => p.rows.filter((t) => BREACHED.has(t.state)));
  const lines = all.reduce((n, p) => n + (p.section.tickets.length ? 2 : 0), 0); // a fold and a pager each
  if (breached.reduce((n, r) => n + r.length, 0) + lines > capacity) {
    all.forEach((p) => { p.fold = p.section.tickets.filter((t) => !BREACHED.has(t.state)); });
    return { level: 3, all: paged(all, all.map(() => []), breached, capacity, pageIndex) };
  }
  return { level: 2, all: paged(all, breached, all.map((p) => p.rows.filter((t) => !BREACHED.has(t.state))), capacity, pageIndex) };
}

// Each section keeps its *pinned* rows and pages through its *rest* in the room that is left.
function paged(all, pinned, rest, capacity, pageIndex) {
  const fixed = all.reduce((n, p, i) => n + pinned[i].length + (p.fold.length ? 1 : 0) + (rest[i].length ? 1 : 0), 0);
  const spare = Math.max(0, capacity - fixed);
  const wanted = rest.reduce((n, r) => n + r.length, 0) || 1;
  const shares = rest.map((r) => Math.min(r.length, Math.max(r.length ? 1 : 0, Math.floor(spare * r.length / wanted))));
  let left = spare - shares.reduce((n, k) => n + k, 0);
  for (let i = 0; i < rest.length && left > 0; i++) { // what rounding left over goes to the first that can use it
    const more = Math.min(left, rest[i].length - shares[i]);
    shares[i] += more;
    left -= more;
  }
  all.forEach((p, i) => {
    const share = shares[i];
    const pages = share ? Math.ceil(rest[i].length / share) : 1;
    const index = pageIndex % pages;
    const start = Math.min(index * share, rest[i].length - share); // the last page is full too
    p.rows = pinned[i].concat(rest[i].slice(start, start + share));
    if (pages > 1) p.page = { index, pages, hidden: rest[i].length - share };
  });
  return all;
}

// "+ 7 paused, 2 on track": a folded line names what it holds, most severe first.
function foldText(tickets) {
  const counts = new Map();
  for (const t of tickets) counts.set(t.state, (counts.get(t.state) || 0) + 1);
  const order = Object.keys(STATES);
  const parts = [...counts].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
    .map(([state, n]) => `${n} ${(STATES[state]?.long || state).toLowerCase()}`);
  return `+ ${parts.join(", ")}`;
}

// One grid for every section: the column heads once, on the first table; an empty section is its heading.
function renderSections(planned) {
  const template = $("section-template");
  const style = getComputedStyle($("sections"));
  const font = parseFloat(style.fontSize);
  const multi = planned.some((p) => p.section.tickets.some((t) => t.helpdesk));
  const names = columnNames(planned.flatMap((p) => p.rows), style);
  let headed = false;
  const nodes = planned.map(({ section, rows, fold, page }) => {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.section = section.key;
    node.querySelector(".section-title").textContent = section.title;
    const parts = Object.entries(section.counts).map(([state, n]) => `${n} ${(STATES[state] || { word: state }).word.toLowerCase()}`);
    node.querySelector(".section-count").textContent = section.tickets.length
      ? `(${section.tickets.length}${parts.length ? ": " + parts.join(", ") : ""})` : "· none";
    node.querySelector(".section-page").textContent = page ? `page ${page.index + 1} of ${page.pages}` : "";
    if (section.tickets.length === 0) {
      node.classList.add("empty");
      node.querySelector("table").remove();
      return node;
    }
    node.querySelector("table").prepend(...grid(font, multi, !headed));
    headed = true;
    const fragment = document.createDocumentFragment();
    for (const t of rows) fragment.append(row(t, names));
    if (page) fragment.append(line("pager", `+ ${page.hidden} more, page ${page.index + 1} of ${page.pages}`));
    if (fold.length) fragment.append(line("fold", foldText(fold)));
    node.querySelector("tbody").append(fragment);
    return node;
  });
  $("sections").replaceChildren(...nodes);
}

// How much of the box its content takes (scrollHeight never says less than the box itself).
function used(box) {
  const last = box.lastElementChild;
  return last ? last.getBoundingClientRect().bottom - box.getBoundingClientRect().top : 0;
}

// A table's columns (fixed widths: every section's edges line up) and, on the first, their heads.
function grid(font, multi, heads) {
  const colgroup = el("colgroup");
  const tr = el("tr");
  for (const column of shown) {
    const col = el("col", column);
    const em = column === "id" && multi ? MULTI_ID : COLUMNS[column][1];
    if (em) col.style.width = `${em * font}px`;
    colgroup.append(col);
    tr.append(el("th", column, COLUMNS[column][0]));
  }
  if (!heads) return [colgroup];
  const thead = el("thead");
  thead.append(tr);
  return [colgroup, thead];
}

// The columns shown at this text size: Status, then Requester, then Prio make way while the subject
// would get less than its share; and the share it gets.
function columns(font, width, multi) {
  const em = (column) => (column === "id" && multi ? MULTI_ID : COLUMNS[column][1]);
  const keep = Object.keys(COLUMNS);
  let fixed = keep.reduce((n, column) => n + em(column), 0) * font;
  for (const column of DROP_ORDER) {
    if (width - fixed >= SUBJECT_SHARE * width) break;
    keep.splice(keep.indexOf(column), 1);
    fixed -= em(column) * font;
  }
  return { keep, share: (width - fixed) / width };
}

// Wall density: the largest row text, from 40 px down to the floor, that needs no more folding or
// paging than the floor does: a folded board uses the screen too. Few rows wrap their subjects.
function layout() {
  if (!board) return;
  const sections = board.sections;
  const wall = document.documentElement.dataset.density === "wall";
  const pageIndex = Math.floor(Date.now() / pageMs);
  const box = $("sections");
  const multi = sections.some((s) => s.tickets.some((t) => t.helpdesk));
  box.classList.remove("wrap");
  const everything = sections.map((s) => ({ section: s, rows: s.tickets, fold: [], page: null }));
  if (!wall) {
    document.documentElement.style.removeProperty("--row-font");
    shown = columns(parseFloat(getComputedStyle(box).fontSize), box.clientWidth, multi).keep;
    renderSections(everything);
    tick();
    return;
  }
  // Measure, do not guess: one row per section shows what a row and the heads cost at a size.
  const sample = sections.map((s) => ({ section: s, rows: s.tickets.slice(0, 1), fold: [], page: null }));
  const setSize = (size) => {
    document.documentElement.style.setProperty("--row-font", `${size}px`);
    shown = columns(size, box.clientWidth, multi).keep;
  };
  const trial = (size) => {
    setSize(size);
    renderSections(sample);
    const first = box.querySelector("tbody tr");
    const rowHeight = first ? first.getBoundingClientRect().height : size * 1.5;
    const heads = used(box) - box.querySelectorAll("tbody tr").length * rowHeight;
    const capacity = Math.max(sections.length, Math.floor((box.clientHeight - heads) / rowHeight));
    return { size, capacity, level: plan(sections, capacity, pageIndex).level };
  };
  const floor = floorPx();
  let chosen = trial(floor);
  if (chosen.level < 2) { // paging wants the most rows a frame: the floor
    for (let size = Math.round(floor * 40 / 28); size > floor; size -= 2) {
      if (columns(size, box.clientWidth, multi).share < SUBJECT_SHARE) continue;
      const tried = trial(size);
      if (tried.level <= chosen.level) { chosen = tried; break; }
    }
  }
  setSize(chosen.size);
  let capacity = chosen.capacity;
  let planned = plan(sections, capacity, pageIndex);
  renderSections(planned.all);
  for (let tries = 0; tries < 20 && used(box) > box.clientHeight + 1 && capacity > sections.length; tries++) {
    capacity -= 1; // rounding, wrapped headings: give back a row until it fits
    planned = plan(sections, capacity, pageIndex);
    renderSections(planned.all);
  }
  if (planned.level === 0) { // room to spare: whole subjects, on two lines
    box.classList.add("wrap");
    if (used(box) > box.clientHeight + 1) box.classList.remove("wrap");
  }
  tick();
}

function renderLight(state, label) {
  const light = $("light");
  const palette = (board && board.palette) || {};
  const look = palette[state];
  light.className = `light state-${state}`;
  light.dataset.state = state;
  light.dataset.strobe = look && look.strobe ? "true" : "false";
  if (look) light.style.setProperty("--bulb", look.rgb); else light.style.removeProperty("--bulb");
  $("light-label").textContent = label;
  light.setAttribute("aria-label", `board state: ${label}`);
}

function inQuietHours(text, when) {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text || "");
  if (!m) return false;
  const now = when.getHours() * 60 + when.getMinutes();
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  return start <= end ? now >= start && now < end : now >= start || now < end;
}

// A short two-tone chime, made by Web Audio: no file to fetch.
function chime() {
  if (body.dataset.chime !== "on" || inQuietHours(body.dataset.quiet, new Date())) return;
  window.__chimes += 1;
  try {
    const context = new (window.AudioContext || window.webkitAudioContext)();
    [880, 660].forEach((hz, i) => {
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.2, context.currentTime + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + i * 0.25 + 0.4);
      tone.connect(gain).connect(context.destination);
      tone.start(context.currentTime + i * 0.25);
      tone.stop(context.currentTime + i * 0.25 + 0.45);
    });
  } catch (error) { /* no audio device: the wall still shows it */ }
}

function render(data) {
  const before = breachedBefore;
  board = data;
  learnStates(data.states);
  breachedBefore = data.breached;
  if (before !== null && data.breached > before) chime();
  $("loading")?.remove();
  const viewName = data.view.title + (data.agent ? ` · ${data.agent.name || "agent " + data.agent.id}` : "");
  $("view-title").textContent = rotation.length > 1 ? `${viewName} (${rotation.indexOf(view) + 1}/${rotation.length})` : viewName;
  renderCounts(data.counts);
  const unreadable = $("unreadable-banner");
  unreadable.hidden = !data.unreadable.length;
  unreadable.textContent = data.unreadable.length
    ? `Cannot show ${data.unreadable.length} ticket(s): ` +
      data.unreadable.slice(0, 5).map((u) => `${u.helpdesk ? u.helpdesk + " " : ""}${u.id === null ? u.file : "#" + u.id} (${u.reason})`).join("; ") +
      (data.unreadable.length > 5 ? "; …" : "") + ". The board may be incomplete."
    : "";
  document.title = `${STATES[data.worst]?.word || data.worst} · ${document.title.split(" · ").slice(-2).join(" · ")}`;
  layout();
}

// Offline: the server has not answered for two refresh intervals (a busy page is not offline).
function offline() {
  return failing && Date.now() - lastContact > 2 * refreshMs;
}

function tick() {
  const now = Date.now();
  $("clock").textContent = new Date(now).toLocaleTimeString();
  if (!board) {
    if (offline()) renderLight("offline", "Offline");
    return;
  }
  for (const cell of document.querySelectorAll("td.due[data-due]")) {
    const left = Date.parse(cell.dataset.due) - now;
    cell.textContent = timeLeft(left);
  }
  const lost = offline();
  const info = STATES[board.worst] || { word: board.worst };
  let label = lost ? "Offline" : info.word;
  if (!lost && board.light && board.light.state && board.light.state !== board.worst) label += ` (desk light: ${board.light.state})`;
  renderLight(lost ? "offline" : board.worst, label);

  const breached = $("breached");
  const blind = !board.data_as_of; // no good data yet: no number at all, never a calm "0"
  breached.dataset.count = lost ? "offline" : blind ? "none" : String(board.breached);
  breached.dataset.worst = board.counts.fr_overdue ? "fr_overdue" : "overdue";
  $("breached-count").textContent = lost ? "?" : blind ? "\u2014" : String(board.breached);
  body.classList.toggle("doubt", lost || board.stale); // doubt looks like doubt from across the room
  $("breached-label").textContent = lost ? "Offline: cannot reach the server" : blind ? "No data yet"
    : "breached" + (board.handled ? ` · ${board.handled} being handled` : "");
  $("breached-oldest").textContent = !lost && board.oldest_breach ? `oldest ${age(board.oldest_breach.due_at)}` : "";
  const next = board.next_breach;
  $("next-breach-label").textContent = next ? "Next breach in" : "No deadline ahead";
  $("next-breach").textContent = next ? timeLeft(Math.max(0, Date.parse(next.due_at) - now)).replace(/^in /, "") : "";
  $("next-breach-ticket").textContent = next ? `${next.helpdesk ? next.helpdesk + " " : ""}#${next.id}` : "";

  $("demo-ribbon").hidden = !board.demo;
  const health = board.health;
  const stale = $("stale-banner");
  stale.hidden = !board.stale;
  stale.className = `banner ${health.status === "error" ? "banner-error" : "banner-stale"}`;
  if (board.stale) {
    const what = health.status === "error" ? "The data cannot be trusted" : "The data is out of date";
    const shown = board.data_as_of ? ` Showing the last good data, from ${age(board.data_as_of)} ago.` : " There is no good data to show yet.";
    stale.textContent = `${what}: ${health.last_error || health.reason}.${shown}`;
  }
  $("data-age").textContent = board.data_as_of
    ? `Data from ${new Date(board.data_as_of).toLocaleTimeString()} (${age(board.data_as_of)} ago) · ${board.total} tickets`
    : `No data yet · ${board.total} tickets`;
  renderAlerts(board.alerts, now);
  const banner = $("offline-banner");
  banner.hidden = !lost;
  if (lost) banner.textContent = `Cannot reach the dashboard server for ${age(new Date(lastContact).toISOString())}: showing what it last sent.`;
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
  const params = new URLSearchParams({ view });
  if (body.dataset.agent) params.set("agent", body.dataset.agent);
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(), Math.max(2 * refreshMs, 3000)); // a hung server is a lost one
  try {
    const headers = etag ? { "If-None-Match": etag } : {};
    const response = await fetch(`/api/board?${params}`,
      { headers, cache: "no-store", credentials: "same-origin", signal: abort.signal });
    if (response.status === 200) {
      etag = response.headers.get("ETag");
      const data = await response.json();
      lastContact = Date.now();
      failing = false;
      render(data);
    } else if (response.status === 304) {
      lastContact = Date.now();
      failing = false;
    } else {
      throw new Error(`HTTP ${response.status}`);
    }
  } catch (error) {
    failing = true;
  } finally {
    clearTimeout(timeout);
  }
  tick();
  setTimeout(poll, refreshMs);
}

function rotate() {
  showView(rotation[(rotation.indexOf(view) + 1) % rotation.length]);
}

let rotateTimer = null;
function startRotation() { // a pick gets its full turn on screen too
  if (rotation.length < 2 || !rotateMs) return;
  clearInterval(rotateTimer);
  rotateTimer = setInterval(rotate, rotateMs);
}

// Another view in place (a wall's rotation, or a pick on a wall page): the selector says which.
function showView(next) {
  view = next;
  $("view-select").value = view;
  etag = null;
  breachedBefore = null; // another view's count is not a new breach
}

// A setting from the URL (?theme=light, ?density=wall: a TV's autostart line), else what this browser chose.
function remembered(key, attribute, values, then) {
  const asked = new URLSearchParams(location.search).get(attribute);
  const saved = values.includes(asked) ? asked : localStorage.getItem(key);
  if (values.includes(saved)) document.documentElement.dataset[attribute] = saved;
  return () => {
    const current = document.documentElement.dataset[attribute];
    const next = values[(values.indexOf(current) + 1) % values.length];
    document.documentElement.dataset[attribute] = next;
    localStorage.setItem(key, next);
    if (then) then();
  };
}

document.addEventListener("DOMContentLoaded", () => {
  $("theme-toggle").addEventListener("click", remembered("ticketdash-theme", "theme", ["dark", "light"]));
  $("density-toggle").addEventListener("click", remembered("ticketdash-density", "density", ["wall", "desk"], layout));
  $("view-select").addEventListener("change", (event) => {
    if (rotation.length > 1) { // a wall page: show the pick now; the rotation goes on from there
      showView(event.target.value);
      startRotation();
      return;
    }
    const params = new URLSearchParams(location.search);
    params.set("view", event.target.value);
    location.search = params.toString();
  });
  // The rows' room changes with the header, banners and footer too: lay out again when it does.
  let room = null;
  new ResizeObserver(() => {
    const height = $("sections").clientHeight;
    if (height !== room) { room = height; layout(); }
  }).observe($("sections"));
  window.addEventListener("resize", layout);
  $("sections").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (button && me) acknowledge(button);
  });
  signedIn().then(() => { if (board) layout(); });
  setInterval(tick, 1000);
  setInterval(layout, pageMs);
  startRotation();
  poll();
});
