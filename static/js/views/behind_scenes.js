// Behind the scenes: fetch the anatomy of the next update (GET explain?sample=i), then walk it
// phase by phase with next/previous. The network view lights up what each phase computes; the
// last phase applies the update on the server (POST step), so the weights that end up on the
// server are exactly the ones shown.
import { ApiError, get, post } from "../lib/api.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";
import { buildPhases, overlayFor } from "./phases.js";
import { phaseHtml } from "./phase_text.js";

export class BehindTheScenes {
  constructor(root, runId, { network, onRun, epoch, isRunning }) {
    this.runId = runId;
    this.network = network;
    this.onRun = onRun;
    this.epoch = epoch;
    this.isRunning = isRunning;
    this.q = (id) => root.querySelector(`#${id}`);
    this.body = this.q("phase-body");
    this.list = this.q("phase-list");
    this.prev = this.q("phase-prev");
    this.next = this.q("phase-next");
    this.closeButton = this.q("bts-close");
    this.sampleSelect = this.q("bts-sample");
    this.explain = null;
    this.index = 0;
    this.q("bts-start").addEventListener("click", () => this.start());
    this.prev.addEventListener("click", () => this.go(this.index - 1));
    this.next.addEventListener("click", () => (this.atEnd() ? this.apply() : this.go(this.index + 1)));
    this.closeButton.addEventListener("click", () => this.close());
  }

  setSampleCount(n) {
    const shown = Math.min(n, 200);
    this.sampleSelect.replaceChildren(...Array.from({ length: shown }, (_, k) => new Option(`sample ${k} of the batch`, String(k))));
  }

  async start() {
    try {
      if (this.isRunning()) {
        const epoch = this.epoch();
        this.onRun(await post(`/api/runs/${this.runId}/pause`), epoch);
      }
      const sample = Number(this.sampleSelect.value || 0);
      this.explain = await get(`/api/runs/${this.runId}/explain?sample=${sample}`);
    } catch (err) {
      this.body.textContent = `Could not explain the next update: ${err instanceof ApiError ? err.describe() : err}`;
      return;
    }
    const e = this.explain;
    this.m = {
      weights: matricesFrom(e.weights),
      newWeights: matricesFrom(e.new_weights),
      gradients: matricesFrom(e.gradients),
      biases: e.biases ? vectorsFrom(e.biases) : e.weights.map((W) => new Float64Array(W[0].length)),
      activation: vectorsFrom(e.activation),
      net: vectorsFrom(e.net),
      derivative: vectorsFrom(e.derivative),
      sampleDeltas: vectorsFrom(e.sample_deltas),
      deltas: vectorsFrom(e.deltas),
    };
    this.phases = buildPhases(e);
    this.list.replaceChildren(...this.phases.map((p) => {
      const li = document.createElement("li");
      li.textContent = p.title;
      li.dataset.kind = p.kind;
      return li;
    }));
    this.closeButton.hidden = false;
    this.go(0);
  }

  atEnd() {
    return this.phases && this.index === this.phases.length - 1;
  }

  go(index) {
    if (!this.phases) return;
    this.index = Math.max(0, Math.min(this.phases.length - 1, index));
    const phase = this.phases[this.index];
    this.body.innerHTML = `<p class="muted small">Step ${this.explain.step} → ${this.explain.step + 1} · phase ${this.index + 1} of ${this.phases.length}</p>` + phaseHtml(this.explain, phase, this.m);
    this.body.dataset.phase = `${phase.kind}:${phase.layer ?? ""}`;
    [...this.list.children].forEach((li, k) => {
      li.classList.toggle("done", k < this.index);
      if (k === this.index) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    this.network.setOverlay(overlayFor(this.explain, phase, this.m));
    this.prev.disabled = this.index === 0;
    this.next.disabled = false;
    this.next.textContent = this.atEnd() ? "Apply this update ✓" : "Next phase →";
  }

  async apply() {
    this.next.disabled = true;
    try {
      const epoch = this.epoch();
      const run = await post(`/api/runs/${this.runId}/step`, { count: 1 });
      this.onRun(run, epoch);
      this.finish(run);
    } catch (err) {
      this.next.disabled = false;
      this.body.insertAdjacentHTML("afterbegin", `<p class="field-error">${err instanceof ApiError ? err.describe() : err}</p>`);
    }
  }

  finish(run) {
    this.network.setOverlay(null);
    this.phases = null;
    this.list.replaceChildren();
    this.prev.disabled = true;
    this.next.disabled = true;
    this.next.textContent = "Next phase →";
    this.closeButton.hidden = true;
    const note = document.createElement("p");
    note.className = "notice-ok";
    note.dataset.testid = "bts-applied";
    note.textContent = `Applied: the run is at step ${run.step} and its weights are the "new w" below. Press "Explain the next update" to follow the next one.`;
    this.body.prepend(note);
  }

  close() {
    this.network.setOverlay(null);
    this.phases = null;
    this.explain = null;
    this.list.replaceChildren();
    this.body.replaceChildren();
    this.prev.disabled = true;
    this.next.disabled = true;
    this.closeButton.hidden = true;
  }
}
