// The cv-worker dashboard: polls the admin API every 2 s. The token is kept in
// sessionStorage (this tab only). Every value from the API is written with textContent.
"use strict";
const KEY = "cv-worker-admin-token";
let selected = null;

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};

async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(KEY);
  if (token) headers.Authorization = "Bearer " + token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch("/api" + path, { ...options, headers });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((body && body.error) || res.statusText);
  return body;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  if (seconds < 120) return seconds + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  return Math.round(seconds / 3600) + " h";
}

function status(b) {
  if (b.cancelledAt) return "cancelled";
  if (b.finishedAt) return "finished";
  return "pending";
}

function bar(b) {
  const outer = el("div", null, "bar " + (b.failedJobs > 0 ? "failed" : status(b) === "finished" ? "finished" : ""));
  outer.setAttribute("role", "progressbar");
  outer.setAttribute("aria-valuenow", String(b.progress));
  outer.dataset.batch = b.id;
  const inner = el("div");
  inner.style.width = b.progress + "%";
  outer.appendChild(inner);
  return outer;
}

async function refreshQueues() {
  const { data } = await api("/queues");
  const body = $("queues").tBodies[0];
  body.replaceChildren(...data.map((q) => {
    const tr = el("tr");
    [q.name, q.pending, q.delayed, q.reserved, age(q.oldest_pending_age_seconds)].forEach((v) => tr.appendChild(el("td", v)));
    return tr;
  }));
}

async function refreshBatches() {
  const { data } = await api("/batches?limit=50");
  const body = $("batches").tBodies[0];
  body.replaceChildren(...data.map((b) => {
    const tr = el("tr", null, "batch");
    tr.dataset.id = b.id;
    tr.appendChild(el("td", b.name || b.id));
    const p = el("td");
    p.appendChild(bar(b));
    p.appendChild(el("span", " " + b.progress + "%"));
    tr.appendChild(p);
    tr.appendChild(el("td", b.processedJobs + " / " + b.totalJobs));
    tr.appendChild(el("td", b.failedJobs));
    tr.appendChild(el("td", status(b)));
    tr.appendChild(el("td", b.createdAt));
    tr.addEventListener("click", () => { selected = b.id; refreshBatch(); });
    return tr;
  }));
}

// The selected batch's summary line, refreshed on every tick (its failed-job list only when
// the batch is clicked, so that Retry buttons stay put).
async function refreshSummary() {
  if (!selected) return null;
  const b = await api("/batches/" + encodeURIComponent(selected));
  $("batch").hidden = false;
  $("batch-name").textContent = b.name || b.id;
  $("batch-summary").textContent =
    `${b.processedJobs} of ${b.totalJobs} processed (${b.progress}%), ${b.failedJobs} failed, ${status(b)}`;
  return b;
}

async function refreshBatch() {
  const b = await refreshSummary();
  if (!b) return;
  const items = [];
  for (const uuid of b.failedJobIds) {
    const li = el("li");
    li.appendChild(el("code", uuid));
    try {
      const job = await api("/failed-jobs/" + encodeURIComponent(uuid));
      li.appendChild(el("span", " " + job.class + " on " + job.queue + ", failed " + job.failed_at + " "));
      const retry = el("button", "Retry");
      retry.className = "retry";
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          await api("/failed-jobs/" + encodeURIComponent(uuid) + "/retry", { method: "POST", body: "{}" });
          retry.textContent = "Queued";
        } catch (e) {
          retry.textContent = "Retry failed: " + e.message;
        }
      });
      li.appendChild(retry);
      li.appendChild(el("pre", job.exception));
    } catch (e) {
      li.appendChild(el("span", " retried or deleted (" + e.message + ")"));
    }
    items.push(li);
  }
  $("batch-failed").replaceChildren(...items);
}

async function tick() {
  try {
    // A selected batch that was pruned meanwhile must not hide the rest.
    await Promise.all([refreshQueues(), refreshBatches(), refreshSummary().catch(() => null)]);
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("status").textContent = e.message;
  }
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("token").value);
  $("token").value = "";
  tick();
});
$("forget").addEventListener("click", () => { sessionStorage.removeItem(KEY); tick(); });
tick();
setInterval(tick, 2000);
