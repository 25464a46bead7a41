// Scrub back through the run: the slider (or ±1) picks a step, the page shows that step's loss
// and marks it on the charts at once, and the network and data views show the weights the server
// stored for it (GET weights?step=k). Live frames keep coming for the charts; "Back to live" (or
// dragging to the end) returns. Past LOG_ABOVE steps the slider is logarithmic, so the early
// steps, where most happens, get most of its travel; ±1 reaches every step wherever it is.
import { get } from "../lib/api.js";
import { fmtInt } from "../lib/format.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";

const RECOMPUTED =
  "Made by another engine: this step was trained under another engine version, numpy, BLAS or " +
  "CPU than this server's and was not stored, so these weights were recomputed here and may " +
  "differ from the original (usually in the last bits).";
const LOG_ABOVE = 2000; // steps; up to here one slider position is one step
const POSITIONS = 1000; // slider positions on the logarithmic scale

export class HistoryScrubber {
  // onView(step): a step is being viewed (readouts, chart marks); onSnapshot(snap): its weights
  // arrived; onLive(): back to live.
  constructor(root, runId, { onView, onSnapshot, onLive }) {
    this.runId = runId;
    const $ = (id) => root.querySelector(`#${id}`);
    this.slider = $("history-slider");
    this.label = $("history-label");
    this.liveButton = $("history-live");
    this.viewingEl = $("viewing-step");
    this.note = $("history-note");
    this.onView = onView;
    this.onSnapshot = onSnapshot;
    this.onLive = onLive;
    this.live = true;
    this.last = 0; // the run's newest step
    this.viewing = null; // the step viewed while not live
    this.request = 0;
    this.timer = null;
    this.slider.addEventListener("input", () => this.onInput());
    this.liveButton.addEventListener("click", () => this.goLive());
    $("history-back").addEventListener("click", () => this.nudge(-1));
    $("history-forward").addEventListener("click", () => this.nudge(1));
  }

  get logarithmic() {
    return this.last > LOG_ABOVE;
  }

  // Slider position ⇄ step: the identity up to LOG_ABOVE steps, then log(1 + step).
  stepAt(position) {
    if (!this.logarithmic) return Math.round(position);
    return Math.min(this.last, Math.round(Math.expm1((position / POSITIONS) * Math.log1p(this.last))));
  }

  positionOf(step) {
    if (!this.logarithmic) return step;
    return Math.round((Math.log1p(step) / Math.log1p(this.last)) * POSITIONS);
  }

  // Called with every new step so the slider's end follows the run.
  update(step) {
    this.last = step;
    this.slider.max = String(this.logarithmic ? POSITIONS : step);
    this.slider.dataset.scale = this.logarithmic ? "log" : "linear";
    this.slider.value = String(this.live ? this.slider.max : this.positionOf(this.viewing));
    this.slider.setAttribute("aria-valuetext", this.live ? `live, step ${step}` : `step ${this.viewing}`);
    if (!this.live) this.showViewing();
  }

  onInput() {
    const position = Number(this.slider.value);
    if (position >= Number(this.slider.max)) return this.goLive();
    this.view(this.stepAt(position), false);
  }

  // ±1 from the step viewed (from live: the step before the newest).
  nudge(by) {
    const from = this.live ? this.last : this.viewing;
    const step = Math.max(0, Math.min(this.last, from + by));
    if (step >= this.last) return this.goLive();
    this.view(step, true);
  }

  view(step, moveSlider) {
    this.live = false;
    this.viewing = step;
    if (moveSlider) this.slider.value = String(this.positionOf(step));
    this.showLabel(`step ${fmtInt(step)}`);
    this.slider.setAttribute("aria-valuetext", `step ${step}`);
    this.showLiveButton(true);
    this.showViewing();
    this.onView(step);
    // Dragging fires many inputs; fetch only once the thumb rests ~80 ms.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(step), 80);
  }

  showViewing() {
    this.viewingEl.hidden = false;
    this.viewingEl.dataset.step = String(this.viewing);
    this.viewingEl.textContent = `viewing step ${fmtInt(this.viewing)}, live is at step ${fmtInt(this.last)}`;
  }

  async fetch(step) {
    const ticket = ++this.request;
    try {
      // The weights of that step, and its exact losses (the chart may hold only a bucket's
      // min and max for an old step of a long run).
      const [snap, at] = await Promise.all([
        get(`/api/runs/${this.runId}/weights?step=${step}`),
        get(`/api/runs/${this.runId}/history?start=${step}&end=${step}&points=1`),
      ]);
      if (ticket !== this.request || this.live) return;
      this.label.textContent =
        snap.step === step ? `step ${fmtInt(step)}` : `step ${fmtInt(snap.step)} (nearest stored)`;
      // A step of an older run recomputed by this server's engine, numpy or BLAS: say so.
      this.note.textContent = snap.exact === false ? RECOMPUTED : "";
      this.note.hidden = snap.exact !== false;
      this.label.dataset.step = String(snap.step); // the step whose weights are shown
      this.onSnapshot({
        step: snap.step,
        weights: matricesFrom(snap.weights),
        biases: vectorsFrom(snap.biases),
        historical: true,
        losses: { step, loss: at.loss_min[0] ?? null, testLoss: at.test_loss_min[0] ?? null },
      });
    } catch (err) {
      this.showLabel(`step ${fmtInt(step)}: ${err.message}`);
    }
  }

  // The label without a fetched step behind it (dragging, an error, live): no step, no note.
  showLabel(text) {
    this.label.textContent = text;
    this.note.hidden = true;
    delete this.label.dataset.step;
  }

  // The button keeps its room when away, so the slider does not change width under the thumb.
  showLiveButton(shown) {
    this.liveButton.classList.toggle("is-away", !shown);
    this.liveButton.setAttribute("aria-hidden", String(!shown));
    this.liveButton.tabIndex = shown ? 0 : -1;
  }

  goLive() {
    this.live = true;
    this.viewing = null;
    this.request++;
    clearTimeout(this.timer);
    this.slider.value = this.slider.max;
    this.showLabel("live");
    this.slider.setAttribute("aria-valuetext", `live, step ${this.last}`);
    this.showLiveButton(false);
    this.viewingEl.hidden = true;
    delete this.viewingEl.dataset.step;
    this.onLive();
  }
}
