// Scrub back through the run: the slider picks a step, the network and data views show the weights
// the server stored for it (GET weights?step=k). Live frames keep coming for the loss chart; the
// network returns to live with "Back to live" or by dragging to the end.
import { get } from "../lib/api.js";
import { fmtInt } from "../lib/format.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";

const RECOMPUTED =
  "Made by another engine: this step was trained under another engine version, numpy, BLAS or " +
  "CPU than this server's and was not stored, so these weights were recomputed here and may " +
  "differ from the original (usually in the last bits).";

export class HistoryScrubber {
  constructor(root, runId, { onSnapshot, onLive }) {
    this.runId = runId;
    this.slider = root.querySelector("#history-slider");
    this.label = root.querySelector("#history-label");
    this.liveButton = root.querySelector("#history-live");
    this.note = root.querySelector("#history-note");
    this.onSnapshot = onSnapshot;
    this.onLive = onLive;
    this.live = true;
    this.request = 0;
    this.timer = null;
    this.slider.addEventListener("input", () => this.onInput());
    this.liveButton.addEventListener("click", () => this.goLive());
  }

  // Called with every new step so the slider's end follows the run.
  update(step) {
    const wasAtEnd = Number(this.slider.value) >= Number(this.slider.max);
    this.slider.max = String(step);
    if (this.live || wasAtEnd) this.slider.value = String(step);
    this.slider.setAttribute("aria-valuetext", this.live ? `live, step ${step}` : `step ${this.slider.value}`);
  }

  onInput() {
    const step = Number(this.slider.value);
    if (step >= Number(this.slider.max)) return this.goLive();
    this.live = false;
    this.showLabel(`step ${fmtInt(step)}`);
    this.slider.setAttribute("aria-valuetext", `step ${step}`);
    this.showLiveButton(true);
    // Dragging fires many inputs; fetch only once the thumb rests ~80 ms.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(step), 80);
  }

  async fetch(step) {
    const ticket = ++this.request;
    try {
      const snap = await get(`/api/runs/${this.runId}/weights?step=${step}`);
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
    this.request++;
    this.slider.value = this.slider.max;
    this.showLabel("live");
    this.slider.setAttribute("aria-valuetext", `live, step ${this.slider.max}`);
    this.showLiveButton(false);
    this.onLive();
  }
}
