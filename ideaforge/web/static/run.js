// Run page: live transcript over Server-Sent Events; pool, shortlist and facts re-rendered from JSON.
"use strict";

const root = document.getElementById("run");
const runId = root.dataset.runId;
const base = "/runs/" + encodeURIComponent(runId);
let refreshTimer = null;

function clock(ts) { return new Date(ts * 1000).toLocaleTimeString(); }

// a cost in USD, or "unknown" (null: some model request had no known price), never $0
function usd(value) { return value == null ? "unknown" : "$" + value.toFixed(4); }

function turnNode(e) {
  if (e.kind === "steer") {  // a person's note or idea: who said it, then what
    return el("div", { class: "turn steer", "data-event-id": e.id },
      el("span", { class: "ts" }, clock(e.ts)), " ", el("span", { class: "phase" }, e.phase), " ",
      el("span", { class: "role role-human" }, e.author || e.role), " ", el("span", { class: "sum" }, e.content));
  }
  if (e.role === "system") {
    return el("div", { class: "turn system kind-" + e.kind, "data-event-id": e.id },
      el("span", { class: "ts" }, clock(e.ts)), " ", el("span", { class: "phase" }, e.phase), " ",
      el("span", { class: "sum" }, e.content));
  }
  const summary = el("summary", {},
    el("span", { class: "ts" }, clock(e.ts)), " ",
    el("span", { class: "round" }, "r" + e.round), " ",
    el("span", { class: "phase" }, e.phase), " ",
    el("span", { class: "role role-" + e.role }, e.role), " ",
    e.idea_id ? el("span", { class: "idea-id" }, e.idea_id) : null, " ",
    el("span", { class: "lat" }, e.latency_ms === null ? "" : (e.latency_ms / 1000).toFixed(1) + "s"), " ",
    el("span", { class: "tok" }, e.prompt_tokens + "→" + e.completion_tokens + " tok"), " ",
    el("span", { class: "sum" }, e.summary));
  const prompt = (e.prompt || []).map((m) => el("pre", { class: "msg msg-" + m.role }, "[" + m.role + "] " + m.content));
  return el("details", { class: "turn kind-" + e.kind, "data-event-id": e.id }, summary,
    el("div", { class: "body" },
      el("h4", {}, "Prompt" + (e.model ? " (" + e.model + ", temperature " + e.temperature + ")" : "")),
      prompt,
      el("h4", {}, "Answer"), el("pre", { class: "answer" }, e.content)));
}

function ideaNode(i) {
  let lineage = i.parents && i.parents.length ? " of " + i.parents.join(" + ") : "";
  if (i.author && i.author !== "generator") lineage += " · by " + i.author;
  const cluster = i.cluster ? " · cluster " + i.cluster : "";
  const parts = [
    el("header", {}, el("b", {}, i.id), " ", el("span", { class: "title" }, i.title), " ",
      el("span", { class: "muted" }, "round " + i.round + " · " + (i.operator || i.origin) + lineage + cluster)),
    el("p", { class: "summary" }, i.summary),
  ];
  if (i.angle) parts.push(el("p", { class: "angle" }, "angle: " + i.angle));
  if (i.score) {
    let text = "novelty " + i.score.novelty + " · feasibility " + i.score.feasibility + " · Elo " +
      Math.round(i.elo) + " (" + i.matches + " matches)";
    if (i.novelty_distance !== null) text += " · novelty distance " + i.novelty_distance.toFixed(2);
    parts.push(el("p", { class: "score" }, text + " — " + i.score.rationale));
  }
  if (i.critique) {
    parts.push(el("div", { class: "critique" }, i.critique.fatal ? el("b", {}, "FATAL ") : null,
      i.critique.strongest_objection, el("ul", {}, i.critique.flaws.map((f) => el("li", {}, f)))));
  }
  if (i.dropped) {
    parts.push(el("p", { class: "why-dropped" },
      "dropped: " + i.dropped + (i.duplicate_of ? " (duplicate of " + i.duplicate_of + ")" : "")));
  }
  if (i.failure) parts.push(el("p", { class: "error" }, i.failure));
  if (i.verdict) {
    parts.push(el("p", { class: "verdict verdict-" + i.verdict.decision },
      i.verdict.decision + (i.verdict.note ? ": " + i.verdict.note : "")));
  }
  return el("article", { class: "idea" + (i.dropped ? " dropped" : ""), "data-idea": i.id }, parts);
}

function shortlistNode(e) {
  return el("li", { "data-idea": e.idea_id },
    el("div", { class: "title" }, e.title),
    el("div", { class: "summary" }, e.summary),
    el("div", { class: "scores" }, "novelty " + e.novelty + " · feasibility " + e.feasibility +
      " · combined " + e.combined + " · Elo " + Math.round(e.elo)),
    el("div", { class: "rationale" }, "Judge: " + e.rationale),
    el("div", { class: "objection" }, "Skeptic: " + (e.objection || "—")),
    el("div", { class: "verdict-row" },
      el("span", { class: "verdict verdict-" + (e.verdict || "none") }, e.verdict || "no verdict"), " ",
      el("input", { class: "note", placeholder: "note (optional)", maxLength: 2000 }), " ",
      el("button", { class: "accept", "data-decision": "accepted" }, "Accept"), " ",
      el("button", { class: "reject", "data-decision": "rejected" }, "Reject")));
}

function setField(name, text) {
  const node = root.querySelector('[data-field="' + name + '"]');
  if (node) node.textContent = text;
}

function renderRun(run) {
  const status = root.querySelector('[data-field="status"]');
  status.textContent = run.status;
  status.className = "status status-" + run.status;
  setField("progress", "round " + run.round + "/" + run.rounds + " · " + run.phase);
  setField("ideas", run.ideas_alive + " alive · " + run.ideas_dropped + " dropped");
  setField("tokens", String(run.tokens));
  setField("cost", usd(run.cost_usd));
  setField("stop", run.stop_reason ? run.stop_reason + " (" + run.stop_detail + ")" : "—");
  document.getElementById("cancel").hidden = run.terminal || run.cancel_requested;
  document.getElementById("steer").hidden = run.terminal;
  document.getElementById("cancel-note").textContent =
    run.cancel_requested && !run.terminal ? "cancel requested: the turn in flight finishes" : "";
  replaceChildren(document.getElementById("usage-body"), Object.entries(run.usage_by_role).map(([role, u]) =>
    el("tr", {}, el("td", {}, role), el("td", { class: "num" }, u.calls), el("td", { class: "num" }, u.failures),
      el("td", { class: "num" }, u.prompt_tokens), el("td", { class: "num" }, u.completion_tokens),
      el("td", { class: "num" }, usd(u.cost_usd)))));
  const pool = run.ideas.map(ideaNode);
  replaceChildren(document.getElementById("pool"), pool.length ? pool : [el("p", { class: "empty muted" }, "No ideas yet.")]);
}

function renderShortlist(sl) {
  document.getElementById("shortlist-kind").textContent =
    sl.final ? "(final, ranked by " + sl.ranked_by + ")" : "(provisional)";
  const list = document.getElementById("shortlist");
  // a refresh must not wipe a note that a person is typing
  const typed = {};
  list.querySelectorAll("li[data-idea]").forEach((li) => {
    const input = li.querySelector("input.note");
    if (input && input.value) typed[li.dataset.idea] = input.value;
  });
  const items = sl.ideas.map(shortlistNode);
  items.forEach((li) => {
    if (typed[li.dataset.idea]) li.querySelector("input.note").value = typed[li.dataset.idea];
  });
  replaceChildren(list, items.length ? items : [el("li", { class: "empty" }, "No idea has been scored yet.")]);
}

async function refresh() {
  try {
    const [run, sl] = await Promise.all([api("GET", base), api("GET", base + "/shortlist")]);
    renderRun(run);
    renderShortlist(sl);
  } catch (e) { /* transient; the next event retries */ }
}

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 400);
}

function follow() {
  const transcript = document.getElementById("transcript");
  const live = document.getElementById("live");
  const source = new EventSource(base + "/events?follow=1");
  live.textContent = "(live)";
  source.onmessage = (msg) => {
    const event = JSON.parse(msg.data);
    if (transcript.querySelector('[data-event-id="' + CSS.escape(event.id) + '"]')) return;
    transcript.append(turnNode(event));
    scheduleRefresh();
  };
  source.addEventListener("end", () => {
    source.close();
    live.textContent = "(run stopped)";
    refresh();
  });
  source.onerror = () => { live.textContent = "(reconnecting…)"; };
  source.onopen = () => { live.textContent = "(live)"; };
}

document.getElementById("shortlist").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-decision]");
  if (!button) return;
  const item = button.closest("li[data-idea]");
  const note = item.querySelector("input.note").value;
  button.disabled = true;
  try {
    const result = await api("POST", base + "/ideas/" + encodeURIComponent(item.dataset.idea) + "/verdict",
      { decision: button.dataset.decision, note });
    item.querySelector("input.note").value = "";  // saved: nothing left to keep across the re-render
    renderShortlist(result.shortlist);
    refresh();
  } catch (e) {
    alert("Could not save the verdict: " + e.message);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("cancel").addEventListener("click", async () => {
  if (!confirm("Cancel this run? The turn in flight finishes and a shortlist is written.")) return;
  try {
    await api("POST", base + "/cancel");
    document.getElementById("cancel").hidden = true;
    document.getElementById("cancel-note").textContent = "cancel requested: the turn in flight finishes";
  } catch (e) {
    alert("Could not cancel: " + e.message);
  }
  refresh();
});

document.getElementById("steer").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const value = (name) => form.elements[name].value.trim();
  const body = { author: value("author") || null };
  if (value("note")) body.note = value("note");
  if (value("title") || value("summary")) body.idea = { title: value("title"), summary: value("summary") };
  const status = document.getElementById("steer-note");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const result = await api("POST", base + "/steer", body);
    status.textContent = "saved " + result.steers.map((s) => s.id + " (" + s.kind + ")").join(", ") +
      ": the next Generator turn uses it";
    ["note", "title", "summary"].forEach((name) => { form.elements[name].value = ""; });
  } catch (e) {
    status.textContent = "not saved: " + e.message;
  } finally {
    button.disabled = false;
  }
});

follow();
