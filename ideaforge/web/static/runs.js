// Runs list: live refresh from GET /runs, and the new-run form (POST /runs).
"use strict";

function runRow(r) {
  const cancelling = r.cancel_requested && (r.status === "queued" || r.status === "running");
  return el("tr", { "data-run": r.id },
    el("td", {}, el("a", { href: "/ui/runs/" + encodeURIComponent(r.id) }, r.id)),
    el("td", { class: "topic" }, r.topic),
    el("td", {}, el("span", { class: "status status-" + r.status }, r.status + (cancelling ? " (cancelling)" : ""))),
    el("td", {}, r.round + "/" + r.rounds + " " + r.phase),
    el("td", { class: "num" }, r.ideas_alive),
    el("td", { class: "num" }, r.tokens),
    el("td", { class: "num" }, r.cost_usd == null ? "unknown" : r.cost_usd.toFixed(4)),
    el("td", {}, age(r.created_at)));
}

async function refreshRuns() {
  try {
    const data = await api("GET", "/runs?limit=100");
    const rows = data.runs.map(runRow);
    if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colSpan: 8 }, "No runs yet.")));
    replaceChildren(document.getElementById("runs-body"), rows);
  } catch (e) { /* keep the last good table */ }
}

document.addEventListener("DOMContentLoaded", () => {
  setInterval(refreshRuns, 3000);
  const form = document.getElementById("new-run");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const brief = {
      topic: f.get("topic"), strategy: f.get("strategy"),
      rounds: Number(f.get("rounds")), ideas_per_round: Number(f.get("ideas_per_round")),
    };
    const out = document.getElementById("new-run-error");
    out.textContent = "";
    try {
      const made = await api("POST", "/runs", brief);
      location.href = "/ui/runs/" + encodeURIComponent(made.id);
    } catch (e) { out.textContent = e.message; }
  });
});
