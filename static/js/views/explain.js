// Explain: fetch the next update number by number (GET explain?sample=k) and walk it on the
// network view, phase by phase: forward layer by layer, the loss, backward layer by layer, the
// update. The diagram shows what each phase computes; the text panel beside it holds the tables.
// The last phase applies the update on the server (POST step), so the weights that end up on the
// server are exactly the ones shown.
//
// Another tab (or a script) may step the run or change α while this is open. The page notices it
// from the stream (noteRun) and says so; Apply checks the run is still at the explained step and
// rate before it steps (else it fetches the next update again and says why), and afterwards
// compares the server's weights with the "new w" shown before claiming they are equal.
import { ApiError, get, post } from "../lib/api.js";
import { fmt, fmtInt } from "../lib/format.js";
import { escapeHtml } from "../lib/html.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";
import { buildPhases, overlayFor } from "./explain_phases.js";
import { phaseHtml } from "./explain_text.js";

// Statuses from which a run never trains again: its next update can be shown, not made.
const ENDED = new Set(["stopped", "finished", "diverged"]);
const APPLY = "Apply this update ✓";
const AGAIN = "Explain the next update →";

export class Explain {
  // sample(): the followed sample (a number); onOpen(open): the panel opened or closed.
  constructor(root, runId, { network, onRun, epoch, isRunning, status, sample, onOpen }) {
    this.runId = runId;
    this.network = network;
    this.onRun = onRun;
    this.epoch = epoch;
    this.isRunning = isRunning;
    this.status = status || (() => null);
    this.sample = sample;
    this.onOpen = onOpen || (() => {});
    this.q = (id) => root.querySelector(`#${id}`);
    this.body = this.q("phase-body");
    this.list = this.q("phase-list");
    this.prev = this.q("phase-prev");
    this.next = this.q("phase-next");
    this.explain = null;
    this.phases = null;
    this.index = 0;
    this.applied = false; // the update shown was applied: "next" explains the following one
    this.stale = ""; // why the explained update is no longer the run's next one ("" if it is)
    this.applying = false;
    this.q("explain-button").addEventListener("click", () => this.start());
    this.prev.addEventListener("click", () => this.go(this.index - 1));
    this.next.addEventListener("click", () => this.onNext());
    this.q("explain-close").addEventListener("click", () => this.close());
  }

  onNext() {
    if (this.applied) return this.start();
    return this.atEnd() ? this.apply() : this.go(this.index + 1);
  }

  async start() {
    this.onOpen(true);
    try {
      if (this.isRunning()) {
        const epoch = this.epoch();
        this.onRun(await post(`/api/runs/${this.runId}/pause`), epoch);
      }
      await this.load(this.sample());
    } catch (err) {
      this.body.textContent = `Could not explain the next update: ${err instanceof ApiError ? err.describe() : err}`;
      return;
    }
    this.go(0);
  }

  // The followed sample changed: the same update, the same phase, through the new sample.
  async follow(sample) {
    if (!this.phases || this.applying || this.stale) return;
    const index = this.index;
    try {
      await this.load(sample);
    } catch (err) {
      this.body.textContent = `Could not explain the next update: ${err instanceof ApiError ? err.describe() : err}`;
      return;
    }
    this.go(index);
  }

  // Fetch the next update through one sample (sample 0 if that one is not in this batch).
  async load(sample) {
    let e;
    try {
      e = await get(`/api/runs/${this.runId}/explain?sample=${sample}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 422 && sample > 0)) throw err;
      e = await get(`/api/runs/${this.runId}/explain?sample=0`);
    }
    this.explain = e;
    this.stale = "";
    this.applied = false;
    const zeros = e.weights.map((W) => new Float64Array(W[0].length));
    this.m = {
      weights: matricesFrom(e.weights),
      newWeights: matricesFrom(e.new_weights),
      gradients: matricesFrom(e.gradients),
      biases: e.biases ? vectorsFrom(e.biases) : zeros,
      newBiases: e.new_biases ? vectorsFrom(e.new_biases) : zeros,
      activation: vectorsFrom(e.activation),
      net: vectorsFrom(e.net),
      derivative: vectorsFrom(e.derivative),
      sampleDeltas: vectorsFrom(e.sample_deltas),
      deltas: vectorsFrom(e.deltas),
    };
    this.phases = buildPhases(e);
    this.list.replaceChildren(
      ...this.phases.map((p, k) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = p.title;
        button.dataset.kind = p.kind;
        button.addEventListener("click", () => this.go(k));
        li.append(button);
        return li;
      }),
    );
  }

  atEnd() {
    return this.phases && this.index === this.phases.length - 1;
  }

  go(index) {
    if (!this.phases) return;
    this.index = Math.max(0, Math.min(this.phases.length - 1, index));
    const phase = this.phases[this.index];
    const stale = this.stale ? `<p class="notice" data-testid="explain-stale">${escapeHtml(this.stale)}</p>` : "";
    const where = `<p class="muted small" data-pending>Step ${fmtInt(this.explain.step)} → ${fmtInt(this.explain.step + 1)} · phase ${this.index + 1} of ${this.phases.length}</p>`;
    this.body.innerHTML = stale + where + phaseHtml(this.explain, phase, this.m);
    this.body.dataset.phase = phase.id;
    this.q("phase-now").textContent = `${this.index + 1}/${this.phases.length} ${phase.title}`;
    [...this.list.children].forEach((li, k) => {
      const button = li.firstElementChild;
      button.classList.toggle("done", k < this.index);
      if (k === this.index) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
    // Once the run has moved past the update explained, the network shows the run as it is.
    this.network.setOverlay(this.stale ? null : overlayFor(this.explain, phase, this.m));
    this.prev.disabled = this.index === 0;
    this.next.disabled = false;
    this.next.textContent = this.atEnd() ? (this.stale ? "Fetch the next update again" : APPLY) : "Next phase →";
    // A stopped, finished or diverged run makes no more updates: say so rather than fail.
    const ended = ENDED.has(this.status());
    this.shownEnded = ended;
    if (this.atEnd() && !this.stale && ended) {
      this.next.textContent = `Not applicable: the run is ${this.status()}`;
      this.next.disabled = true;
    }
  }

  // The stream says where the run is now: {step, learning_rate, status}.
  noteRun(run) {
    if (!this.phases || !this.explain || this.applying || this.applied) return;
    const why = changes(this.explain, run);
    const button = this.atEnd() ? "“Fetch the next update again”" : "The last phase's button";
    const stale = why
      ? `The run changed since this update was explained (${why}), so it is no longer the run's next update, and the diagram shows the run as it is now. ${button} fetches the next update again.`
      : "";
    // A stop, finish or divergence changes what the last phase's button can do.
    const ended = ENDED.has(this.status());
    if (stale !== this.stale || ended !== this.shownEnded) {
      this.stale = stale;
      this.go(this.index);
    }
  }

  async apply() {
    this.next.disabled = true;
    this.applying = true; // its own step is not "another tab's"
    const e = this.explain;
    try {
      // The run must still be where this update was explained, with the same α.
      const asked = this.epoch();
      const now = await get(`/api/runs/${this.runId}`);
      const why = changes(e, now);
      if (now.status === "running") {
        this.onRun(now, asked);
        return this.refuse(
          "The run is training now (started in another tab or by a script), so this update cannot be applied step by step. Pause it and press “Step and explain”.",
        );
      }
      if (why) return await this.reload(e, why);
      const epoch = this.epoch();
      const run = await post(`/api/runs/${this.runId}/step`, { count: 1 });
      this.onRun(run, epoch);
      this.finish(run, await this.differences(e, run));
    } catch (err) {
      this.next.disabled = false;
      this.body.insertAdjacentHTML(
        "afterbegin",
        `<p class="field-error">${escapeHtml(err instanceof ApiError ? err.describe() : err)}</p>`,
      );
    } finally {
      this.applying = false;
    }
  }

  // The run moved on: show its next update instead, at the same phase, and say why.
  async reload(old, why) {
    await this.load(old.sample);
    this.go(this.phases.length - 1);
    const e = this.explain;
    const note = `Not applied: the run changed since that update was explained (${why}). Here is the run's next update now, from step ${fmtInt(e.step)} with α = ${fmt(e.learning_rate, 6)}; “${APPLY}” makes this one.`;
    this.body.insertAdjacentHTML(
      "afterbegin",
      `<p class="notice" data-testid="explain-reexplained">${escapeHtml(note)}</p>`,
    );
  }

  refuse(text) {
    this.next.disabled = false;
    this.body.insertAdjacentHTML(
      "afterbegin",
      `<p class="notice" data-testid="explain-refused">${escapeHtml(text)}</p>`,
    );
  }

  // "" if the server's weights after the step are the "new w" shown, else what differs.
  async differences(e, run) {
    if (run.step !== e.step + 1)
      return `the run went from step ${fmtInt(e.step)} to ${fmtInt(run.step)}: another update was made at the same time`;
    const after = await get(`/api/runs/${this.runId}/weights?step=${e.step + 1}`);
    if (sameNumbers(after.weights, e.new_weights) && (!e.new_biases || sameNumbers(after.biases, e.new_biases)))
      return "";
    if (run.learning_rate !== e.learning_rate)
      return `α was changed to ${fmt(run.learning_rate, 6)} (it was ${fmt(e.learning_rate, 6)} when explained)`;
    return "another change came in between";
  }

  // Applied: the diagram goes back to the run (now at the new weights); the tables stay, and
  // the next-phase button offers the following update.
  finish(run, mismatch) {
    this.network.setOverlay(null);
    this.applied = true;
    this.stale = "";
    this.prev.disabled = true;
    this.next.disabled = false;
    this.next.textContent = AGAIN;
    // What spoke of the update as still to come ("phase 8 of 8", "not taken yet") is done with.
    for (const el of this.body.querySelectorAll("[data-pending]")) el.remove();
    const note = document.createElement("p");
    if (mismatch) {
      note.className = "notice";
      note.dataset.testid = "explain-mismatch";
      note.textContent = `Applied one update, but the server's weights after it are not the "new w" below: ${mismatch}. The diagram shows the server's weights (step ${fmtInt(run.step)}).`;
    } else {
      note.className = "notice-ok";
      note.dataset.testid = "explain-applied";
      note.textContent = `Applied: the run is at step ${fmtInt(run.step)} and its weights are the "new w" below (checked against the server's).`;
    }
    this.body.prepend(note);
  }

  close() {
    this.network.setOverlay(null);
    this.phases = null;
    this.explain = null;
    this.stale = "";
    this.applied = false;
    this.list.replaceChildren();
    this.body.replaceChildren();
    delete this.body.dataset.phase;
    this.onOpen(false);
  }
}

// How `run` ({step, learning_rate}) differs from where update `e` was explained; "" if it does not.
function changes(e, run) {
  const why = [];
  if (run.step !== undefined && run.step !== e.step)
    why.push(`it is at step ${fmtInt(run.step)}, not ${fmtInt(e.step)}`);
  if (run.learning_rate !== undefined && run.learning_rate !== e.learning_rate)
    why.push(`α is ${fmt(run.learning_rate, 6)}, not ${fmt(e.learning_rate, 6)}`);
  return why.join("; ");
}

// The same numbers up to rounding far below what is shown (nested lists; null = non-finite).
function sameNumbers(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, k) => sameNumbers(x, b[k]));
  }
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}
