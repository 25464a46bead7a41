// The runs table on the home page, refreshed by polling (the home page shows many runs at a
// glance; a stream per run would be wasteful). Sparklines refetch only when a run's step moved,
// and then only the thinned history (`?points=N`: per bucket of steps its min and max), a few
// hundred bytes however long the run: the whole of it is tens of MB at a million steps.
import { ApiError, del, get, post } from "../lib/api.js";
import { fmt, fmtInt } from "../lib/format.js";
import { escapeHtml } from "../lib/html.js";
import { drawSparkline } from "./sparkline.js";

// Statuses a run can still train from, and so be stopped from.
const ACTIVE = new Set(["paused", "running", "interrupted"]);
const MAX_SPARKLINES = 30;
const MAX_SPARKLINE_POINTS = 256; // the server's max_history_points is at least this

export class RunsList {
  constructor(body, empty, status, { onSelect = () => {} } = {}) {
    this.body = body;
    this.empty = empty;
    this.status = status;
    this.onSelect = onSelect;
    this.selected = []; // ids ticked for comparison, in the order they were ticked
    this.histories = new Map(); // id -> {step, loss[]}
  }

  async refresh() {
    let runs;
    try {
      runs = await get("/api/runs");
    } catch (err) {
      this.status.textContent = `Server unreachable (${err.message}); retrying…`;
      return;
    }
    this.status.textContent = "";
    runs.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    this.empty.hidden = runs.length > 0;
    const ids = new Set(runs.map((run) => String(run.id)));
    const kept = this.selected.filter((id) => ids.has(id));
    if (kept.length !== this.selected.length) this.select(kept);
    // The rows are rebuilt on every poll: put the keyboard focus back where it was.
    const focused =
      document.activeElement && this.body.contains(document.activeElement)
        ? document.activeElement.dataset.focusKey
        : null;
    this.body.replaceChildren(...runs.map((run) => this.row(run)));
    this.body.dataset.refreshes = String(Number(this.body.dataset.refreshes || 0) + 1);
    if (focused) this.body.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
    for (const run of runs.slice(0, MAX_SPARKLINES)) this.sparkline(run);
  }

  row(run) {
    const tr = document.createElement("tr");
    tr.dataset.runId = run.id;
    const layers = run.config?.layers ? run.config.layers.join("-") : "";
    const kind = run.config?.dataset ? run.config.dataset.kind : "";
    const name = run.config?.name || "";
    tr.innerHTML = `<td><div class="run-cell"><label class="run-pick"><input type="checkbox" data-testid="select-run"><span class="sr-only">Compare run ${escapeHtml(run.id)}</span></label><div><a class="run-link${name ? " run-named" : ""}" href="/runs/${encodeURIComponent(run.id)}" aria-label="${escapeHtml(name || `Run ${run.id}`)}" data-testid="run-name">${escapeHtml(name || run.id)}</a><span class="run-shape">${name ? `${escapeHtml(run.id)} · ` : ""}${layers} · ${escapeHtml(kind)}</span></div></div></td>
      <td><span class="badge" data-status="${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></td>
      <td class="num">${fmtInt(run.step)}</td><td class="num">${fmt(run.loss, 4)}</td>
      <td><canvas aria-label="Loss curve of run ${escapeHtml(run.id)}"></canvas></td>
      <td><div class="run-actions"></div></td>`;
    const pick = tr.querySelector("input[type=checkbox]");
    pick.checked = this.selected.includes(String(run.id));
    pick.dataset.focusKey = `pick:${run.id}`;
    pick.addEventListener("change", () =>
      this.select(
        pick.checked ? [...this.selected, String(run.id)] : this.selected.filter((id) => id !== String(run.id)),
      ),
    );
    const actions = tr.querySelector(".run-actions");
    const open = document.createElement("a");
    open.className = "btn btn-ghost btn-small";
    open.href = `/runs/${encodeURIComponent(run.id)}`;
    open.textContent = "Open";
    open.setAttribute("aria-label", `Open run ${run.id}`);
    open.dataset.focusKey = `open:${run.id}`;
    actions.append(open);
    const stop = () => post(`/api/runs/${run.id}/stop`);
    const remove = () => del(`/api/runs/${run.id}`);
    const stopQuestion = `Stop run ${run.id} for good? A stopped run cannot train again (Pause, on its page, keeps it resumable).`;
    const deleteQuestion = `Delete run ${run.id} with its whole history? This cannot be undone.`;
    if (ACTIVE.has(run.status)) actions.append(this.button("Stop", `Stop run ${run.id}`, stop, "", stopQuestion));
    actions.append(this.button("Delete", `Delete run ${run.id}`, remove, "btn-danger", deleteQuestion));
    return tr;
  }

  select(ids) {
    this.selected = ids;
    this.onSelect(ids);
  }

  // `question`: asked first (the action cannot be undone); nothing happens unless confirmed.
  button(text, label, action, extra = "", question = "") {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `btn btn-ghost btn-small ${extra}`;
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.dataset.focusKey = label;
    b.addEventListener("click", async () => {
      if (question && !window.confirm(question)) return;
      b.disabled = true;
      try {
        await action();
      } catch (err) {
        this.status.textContent = err instanceof ApiError ? err.describe() : String(err);
      }
      this.refresh();
    });
    return b;
  }

  async sparkline(run) {
    const canvas = this.body.querySelector(`tr[data-run-id="${CSS.escape(String(run.id))}"] canvas`);
    if (!canvas) return;
    let cached = this.histories.get(run.id);
    if (!cached || cached.step !== run.step) {
      // One bucket per two pixels: each is drawn as a stroke from its min to its max.
      const points = Math.max(2, Math.min(MAX_SPARKLINE_POINTS, Math.floor(canvas.clientWidth / 2)));
      try {
        const history = await get(`/api/runs/${run.id}/history?points=${points}`);
        cached = { step: run.step, loss: spans(history.loss_min, history.loss_max) };
        this.histories.set(run.id, cached);
      } catch {
        return;
      }
    }
    if (canvas.isConnected) drawSparkline(canvas, cached.loss);
  }
}

// The buckets' (min, max) pairs as one line of values, each pair entered at the end nearer the
// previous pair (the first left at the end nearer the next), so the line runs through every
// bucket's span and a spike shows. A lone bucket (a run at step 0) is one value, which draws
// nothing, as before.
function spans(mins, maxs) {
  const pairs = mins.map((lo, k) => [lo, maxs[k]]).filter(([lo, hi]) => lo !== null && hi !== null);
  if (pairs.length === 1) return [pairs[0][0]];
  const values = [];
  pairs.forEach(([lo, hi], k) => {
    const nearer = (near) => (Math.abs(near - hi) < Math.abs(near - lo) ? [hi, lo] : [lo, hi]);
    if (k) values.push(...nearer(values[values.length - 1]));
    else values.push(...nearer((pairs[1][0] + pairs[1][1]) / 2).reverse());
  });
  return values;
}
