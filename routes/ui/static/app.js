// The dashboard's island: live updates from the page stream (/ui/events).
// The server renders every piece of HTML and formats every figure; this
// file only swaps server-rendered fragments in and sets text. It never
// builds markup from data, so nothing a kernel or user wrote can become
// markup here. No timers poll the server: updates come when events do.

const body = document.body;
const page = body.dataset.page;

/** Fetches a server-rendered fragment; null when it cannot be had. */
async function fetchFragment(url) {
  const res = await fetch(url, {
    headers: { accept: "text/html" },
    credentials: "same-origin",
  });
  if (res.status === 401) {
    // Signed out meanwhile (expired, or signed out in another tab).
    location.assign("/ui/signin");
    return null;
  }
  if (!res.ok) return null;
  const t = document.createElement("template");
  t.innerHTML = await res.text();
  return t.content;
}

const FOCUSABLE = "a[href], button, input, select, textarea";
const labelOf = (el) =>
  (el.getAttribute("aria-label") || el.textContent || "").trim();

/** Keeps keyboard focus on the same control when its container is replaced. */
function replaceKeepingFocus(oldEl, newEl) {
  const active = document.activeElement;
  const key = active && oldEl.contains(active) ? labelOf(active) : null;
  oldEl.replaceWith(newEl);
  if (key === null) return;
  for (const el of newEl.querySelectorAll(FOCUSABLE)) {
    if (labelOf(el) === key) {
      el.focus();
      return;
    }
  }
}

function setEmptyNote(id, empty) {
  const note = document.getElementById(id);
  if (note) note.hidden = !empty;
}

async function refreshRow(sessionId) {
  const frag = await fetchFragment(
    `/ui/jobs/${encodeURIComponent(sessionId)}/row`,
  );
  const row = frag && frag.querySelector("tr");
  if (!row) return;
  const live = document.getElementById("jobs-live");
  const recent = document.getElementById("jobs-recent");
  if (!live || !recent) return;
  const old = document.getElementById(row.id);
  const target = row.dataset.ended ? recent : live;
  if (old && old.parentElement === target) replaceKeepingFocus(old, row);
  else {
    old?.remove();
    target.prepend(row);
  }
  setEmptyNote("jobs-live-empty", live.rows.length === 0);
  setEmptyNote("jobs-recent-empty", recent.rows.length === 0);
}

async function refreshPanel(url, id) {
  const frag = await fetchFragment(url);
  const fresh = frag && frag.getElementById(id);
  const old = document.getElementById(id);
  if (fresh && old) replaceKeepingFocus(old, fresh);
}

const FOCUS_KEY = "bai:focus";

/**
 * Reloads the page; the control with the keyboard focus gets it back
 * after (by its label, else by its place: a Pause button that became
 * Resume), so a keyboard user does not start over from the top.
 */
function reloadKeepingFocus() {
  const all = [...document.querySelectorAll(FOCUSABLE)];
  const index = all.indexOf(document.activeElement);
  try {
    if (index >= 0) {
      sessionStorage.setItem(
        FOCUS_KEY,
        JSON.stringify({
          path: location.pathname,
          label: labelOf(document.activeElement),
          index,
        }),
      );
    }
  } catch { /* no storage: the reload starts at the top */ }
  location.reload();
}

function restoreFocus() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
    sessionStorage.removeItem(FOCUS_KEY);
  } catch { /* no storage, or not ours */ }
  if (!saved || saved.path !== location.pathname) return;
  const all = [...document.querySelectorAll(FOCUSABLE)];
  (all.find((el) => labelOf(el) === saved.label) ?? all[saved.index])?.focus();
}

/** The session page: swap its facts; a change to or from RUNNING changes the controls, so reload. */
async function refreshJob(sessionId) {
  const frag = await fetchFragment(
    `/ui/jobs/${encodeURIComponent(sessionId)}/facts`,
  );
  const fresh = frag && frag.getElementById("job-facts");
  const old = document.getElementById("job-facts");
  if (!fresh || !old) return;
  const was = old.dataset.status;
  const now = fresh.dataset.status;
  const ended = fresh.dataset.ended === "1";
  if (was !== now && (was === "RUNNING" || now === "RUNNING" || ended)) {
    reloadKeepingFocus();
  } else replaceKeepingFocus(old, fresh);
}

function onSession(ev) {
  if (page === "jobs") return refreshRow(ev.sessionId);
  if (page === "summary") {
    return refreshPanel("/ui/summary/panel", "summary-panel");
  }
  const job = document.getElementById("job");
  if (page === "job" && job && job.dataset.sessionId === ev.sessionId) {
    return refreshJob(ev.sessionId);
  }
}

/** After (re)connecting, catch up on what changed while not listening. */
function catchUp() {
  if (page === "jobs") {
    for (const row of document.querySelectorAll("#jobs-live tr")) {
      refreshRow(row.dataset.sessionId);
    }
  } else if (page === "summary") {
    refreshPanel("/ui/summary/panel", "summary-panel");
  } else if (page === "job") {
    const job = document.getElementById("job");
    if (job) refreshJob(job.dataset.sessionId);
  }
}

function setText(selector, text) {
  for (const el of document.querySelectorAll(selector)) el.textContent = text;
}

function onUsage(samples) {
  for (const s of samples) {
    const id = CSS.escape(s.sessionId);
    setText(`[data-age-of="${id}"]`, s.age);
    if (s.cpu !== undefined) setText(`[data-cpu-of="${id}"]`, s.cpu);
    if (s.mem !== undefined) setText(`[data-mem-of="${id}"]`, s.mem);
  }
  document.dispatchEvent(new CustomEvent("bai:usage", { detail: samples }));
}

/** Cost figures (formatted by the server): each live session's cost so far, today's total. */
function onCost(c) {
  for (const s of c.sessions || []) {
    setText(`[data-cost-of="${CSS.escape(s.sessionId)}"]`, s.cost);
  }
  if (c.today) {
    setText('[data-cost-today="spent"]', c.today.spent);
    setText('[data-cost-today="limit"]', c.today.limit);
    setText('[data-cost-today="projected"]', c.today.projected);
    const meter = document.getElementById("cost-meter");
    if (meter && c.today.max > 0) {
      meter.max = c.today.max;
      meter.value = c.today.value;
    }
  }
}

function connect() {
  if (!body.dataset.live || typeof EventSource === "undefined") return;
  const es = new EventSource("/ui/events");
  // The stream listens from its first byte on; what changed between the
  // page's render and then (or during a reconnect) is fetched once.
  es.addEventListener("open", catchUp);
  es.addEventListener("session", (e) => onSession(JSON.parse(e.data)));
  es.addEventListener("usage", (e) => onUsage(JSON.parse(e.data)));
  es.addEventListener("cost", (e) => onCost(JSON.parse(e.data)));
}

restoreFocus();
connect();
