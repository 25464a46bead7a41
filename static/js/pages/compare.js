// The compare page (/compare?runs=a,b[,c,d]): one loss chart with a line per run, each run's
// network side by side, the config fields that differ, and controls that drive every run at once.
import { ApiError, get, patch, post } from "../lib/api.js";
import { RUN_COLORS, RUN_DASHES } from "../lib/colors.js";
import { differingFields, runNames, showValue } from "../lib/config_diff.js";
import { SHORTCUT_SENTENCE, updateTerms } from "../lib/terms.js";
import { CompareRun } from "../views/compare_run.js";
import { LossChart } from "../views/loss_chart.js";

const MAX_RUNS = 4;
const OPEN = new Set(["paused", "running"]);

export function idsFromQuery(search) {
  const raw = new URLSearchParams(search).get("runs") || "";
  return [
    ...new Set(
      raw
        .split(",")
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
}

class ComparePage {
  constructor(root) {
    this.root = root;
    this.$ = (id) => root.querySelector(`#${id}`);
    this.runs = [];
    this.busy = false;
    this.chart = new LossChart(this.$("compare-loss-canvas"), { overlay: true });
    this.$("compare-log").addEventListener("change", (e) => this.chart.setLog(e.target.checked));
    this.$("compare-play").addEventListener("click", () => this.all("resume", (r) => r.status === "paused"));
    this.$("compare-pause").addEventListener("click", () => this.all("pause", (r) => r.status === "running"));
    this.$("compare-step").addEventListener("click", () => this.stepAll(1));
    this.$("compare-step10").addEventListener("click", () => this.stepAll(10));
    this.$("compare-lineup").addEventListener("click", () => this.lineUp());
    this.$("compare-speed").addEventListener("change", (e) => this.setSpeed(e.target.value));
    document.addEventListener("keydown", (e) => this.onKey(e));
    this.render();
  }

  async start() {
    const ids = idsFromQuery(location.search);
    if (ids.length < 2 || ids.length > MAX_RUNS) {
      this.notice(
        `Pick two to four runs to compare (this link names ${ids.length}). Tick them in the runs list on the home page, then press “Compare selected”.`,
      );
      this.$("compare-summary").textContent = "";
      return;
    }
    const answers = await Promise.all(ids.map((id) => get(`/api/runs/${encodeURIComponent(id)}`).catch((err) => err)));
    const missing = ids.filter((_id, k) => answers[k] instanceof Error);
    const found = answers.filter((a) => !(a instanceof Error));
    if (missing.length) {
      const why = answers.find((a) => a instanceof Error && !(a instanceof ApiError && a.status === 404));
      const list = missing.join(", ");
      this.notice(
        why
          ? `Could not load run ${list}: ${why.message}`
          : `There is no run ${list}. It may have been deleted; the other runs are shown below.`,
      );
    }
    if (!found.length) {
      this.$("compare-summary").textContent = "";
      return;
    }
    this.build(found);
  }

  build(runs) {
    const diffs = differingFields(runs.map((r) => r.config));
    const names = runNames(runs, diffs);
    const cards = this.$("compare-runs");
    cards.dataset.count = String(runs.length);
    const legend = this.$("compare-legend");
    runs.forEach((run, k) => {
      const line = this.chart.addLine(RUN_COLORS[k], 2, RUN_DASHES[k]);
      const card = this.card(run, k, names[k]);
      cards.append(card);
      legend.append(legendItem(k, names[k]));
      const view = new CompareRun(card, run, { chart: this.chart, line, onChange: () => this.render() });
      this.runs.push(view);
      view.start();
    });
    this.diffTable(names, diffs);
    this.showSpeed(runs.map((run) => run.speed));
    this.shortcutNote(runs, names);
    this.$("compare-summary").textContent = commonSummary(runs[0].config, diffs);
    this.render();
  }

  // Next to the loss curve: why a run that takes the shortcut can see its loss rise.
  shortcutNote(runs, names) {
    const which = runs.flatMap((run, k) => (updateTerms(run.config.variant).shortcut ? [names[k]] : []));
    const note = this.$("shortcut-note");
    note.hidden = !which.length;
    note.textContent = which.length ? `${which.join(", ")}: ${SHORTCUT_SENTENCE}` : "";
  }

  card(run, k, name) {
    const card = this.$("compare-run-template").content.firstElementChild.cloneNode(true);
    card.dataset.testid = `compare-run-${k}`;
    card.dataset.runId = run.id;
    const part = (role) => card.querySelector(`[data-role=${role}]`);
    part("swatch").classList.add(`swatch-run-${k}`);
    part("name").textContent = name;
    part("name").id = `compare-run-name-${k}`;
    card.setAttribute("aria-labelledby", part("name").id);
    const link = part("link");
    link.href = `/runs/${encodeURIComponent(run.id)}`;
    link.textContent = `run ${run.id}`;
    link.setAttribute("aria-label", `Open run ${run.id} on its own page`);
    part("network").setAttribute(
      "aria-label",
      `Network of ${name}: edges coloured by the sign of the weight. Focus and press the up and down arrows for each neuron's and edge's values`,
    );
    return card;
  }

  diffTable(names, diffs) {
    const table = this.$("compare-diff");
    const head = document.createElement("tr");
    head.append(cell("th", "Field", "col"));
    names.forEach((name, k) => {
      const th = cell("th", "", "col");
      th.append(swatch(k), document.createTextNode(name));
      head.append(th);
    });
    table.tHead.replaceChildren(head);
    const rows = diffs.map(({ path, values }) => {
      const tr = document.createElement("tr");
      tr.dataset.field = path;
      tr.append(cell("th", path, "row"));
      values.forEach((v) => {
        const td = cell("td", showValue(path, v));
        td.className = "diff-value";
        tr.append(td);
      });
      return tr;
    });
    table.tBodies[0].replaceChildren(...rows);
    this.$("compare-same").hidden = diffs.length > 0;
    this.$("compare-rest").hidden = diffs.length === 0;
  }

  // Every run the action applies to, at once; each answer goes to its own view. `body` is one
  // body for all, or a function of the view giving each its own.
  async all(action, applies, body) {
    const targets = this.runs.filter(applies);
    if (!targets.length || this.busy) return;
    this.busy = true;
    this.render();
    this.$("compare-error").textContent = "";
    const failures = await Promise.all(
      targets.map(async (view) => {
        const epoch = view.statusEpoch;
        try {
          const own = typeof body === "function" ? body(view) : body;
          view.applyAnswer(await post(`/api/runs/${encodeURIComponent(view.run.id)}/${action}`, own), epoch);
          return null;
        } catch (err) {
          return `run ${view.run.id}: ${err instanceof ApiError ? err.describe() : String(err)}`;
        }
      }),
    );
    this.$("compare-error").textContent = failures.filter(Boolean).join("; ");
    this.busy = false;
    this.render();
  }

  // The runs' common speed; "mixed" (a placeholder, not a choice) while they differ.
  showSpeed(speeds) {
    const select = this.$("compare-speed");
    const values = new Set(speeds.map((speed) => (speed === null || speed === undefined ? "max" : String(speed))));
    const value = values.size === 1 ? [...values][0] : "mixed";
    if (![...select.options].some((o) => o.value === value)) {
      const label = value === "mixed" ? "Mixed: pick one for all" : `${value} updates/s`;
      select.add(new Option(label, value));
      if (value === "mixed") select.options[select.options.length - 1].disabled = true;
    }
    select.value = value;
  }

  // One pace for every run that can still train, so Play all keeps them side by side.
  async setSpeed(value) {
    const speed = value === "max" ? null : Number(value);
    const open = this.runs.filter((r) => OPEN.has(r.status) || r.status === "interrupted");
    const failures = await Promise.all(
      open.map((view) =>
        patch(`/api/runs/${encodeURIComponent(view.run.id)}`, { speed })
          .then(() => null)
          .catch((err) => `run ${view.run.id}: ${err instanceof ApiError ? err.describe() : String(err)}`),
      ),
    );
    this.$("compare-error").textContent = failures.filter(Boolean).join("; ");
  }

  stepAll(count) {
    if (!this.canStep()) return;
    return this.all("step", (r) => r.status === "paused", { count });
  }

  // After free play the runs stand at different steps: step each one behind up to the leader,
  // so that they are compared after the same number of updates again.
  lineUp() {
    if (!this.canStep()) return;
    const leader = Math.max(...this.runs.map((r) => r.step));
    return this.all(
      "step",
      (r) => r.status === "paused" && r.step < leader,
      (r) => ({ count: leader - r.step }),
    );
  }

  // Stepping keeps runs in lockstep only while none of them trains freely.
  canStep() {
    return !this.busy && this.runs.some((r) => r.status === "paused") && !this.runs.some((r) => r.status === "running");
  }

  render() {
    const any = (status) => this.runs.some((r) => r.status === status);
    this.$("compare-play").disabled = this.busy || !any("paused");
    this.$("compare-pause").disabled = this.busy || !any("running");
    this.$("compare-step").disabled = !this.canStep();
    this.$("compare-step10").disabled = !this.canStep();
    const leader = this.runs.length ? Math.max(...this.runs.map((r) => r.step)) : 0;
    const behind = this.runs.some((r) => r.status === "paused" && r.step < leader);
    this.$("compare-lineup").disabled = !this.canStep() || !behind;
    this.$("compare-lineup").textContent = behind ? `Line up at step ${leader.toLocaleString("en-US")}` : "Line up";
    const open = this.runs.filter((r) => OPEN.has(r.status)).length;
    const steps = new Set(this.runs.map((r) => r.step));
    this.$("compare-sync").textContent = !this.runs.length
      ? ""
      : steps.size === 1
        ? `all at step ${[...steps][0].toLocaleString("en-US")}`
        : "runs at different steps";
    this.$("compare-sync").dataset.open = String(open);
  }

  onKey(event) {
    const t = event.target;
    if (
      t instanceof HTMLInputElement ||
      t instanceof HTMLSelectElement ||
      t instanceof HTMLButtonElement ||
      t instanceof HTMLCanvasElement
    )
      return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " ") {
      event.preventDefault();
      if (this.runs.some((r) => r.status === "running")) this.$("compare-pause").click();
      else this.$("compare-play").click();
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      this.stepAll(1);
    }
  }

  notice(text) {
    const el = this.$("compare-notice");
    el.textContent = text;
    el.hidden = !text;
  }
}

function cell(tag, text, scope) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (scope) el.scope = scope;
  return el;
}

function swatch(k) {
  const el = document.createElement("i");
  el.className = `swatch swatch-line swatch-run-${k}`;
  el.setAttribute("aria-hidden", "true");
  return el;
}

function legendItem(k, name) {
  const item = document.createElement("span");
  item.dataset.run = String(k);
  item.append(swatch(k), document.createTextNode(name));
  return item;
}

// What every run shares, in the run page's summary style.
function commonSummary(config, diffs) {
  const differs = new Set(diffs.map((d) => d.path));
  const parts = [];
  if (!differs.has("layers")) parts.push(showValue("layers", config.layers));
  if (!differs.has("activation")) parts.push(showValue("activation", config.activation));
  if (!differs.has("loss")) parts.push(config.loss);
  // The config's rate: each run's may have been changed since (PATCH); the hovers say the rate in use.
  if (!differs.has("learning_rate")) parts.push(`starting α = ${showValue("learning_rate", config.learning_rate)}`);
  if (!differs.has("dataset.kind") && config.dataset) parts.push(`${config.dataset.kind} data`);
  return parts.length ? `Shared by every run: ${parts.join(" · ")}.` : "";
}

const root = document.getElementById("compare-root");
if (root) new ComparePage(root).start();
