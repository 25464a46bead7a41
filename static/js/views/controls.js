// Play, pause, step, step ×10, stop, speed and live learning rate, plus the keyboard shortcuts
// (space = play/pause, → = step). Buttons reflect the run's status from the stream, and the α field
// and the speed follow its settings frames (sent on every PATCH), so every tab shows the same state
// whichever tab pressed the button or changed the setting. Reset creates a new run of the same
// config from step 0 (this one stays, with its history) and goes to it.
import { ApiError, patch, post } from "../lib/api.js";
import { fieldMessage, learningRateError } from "../lib/field_errors.js";

// Statuses a run can train from (an interrupted one resumes from its last snapshot).
const ACTIVE = new Set(["paused", "running", "interrupted"]);
const STEPPABLE = new Set(["paused", "interrupted"]);
// Where the keyboard goes when the button it pressed is disabled by what it started.
const PARTNER = { "play-button": "pause-button", "pause-button": "play-button" };
const BUTTONS = ["play-button", "pause-button", "step-button", "step10-button", "stop-button", "reset-button"];

export class Controls {
  constructor(root, runId, { onRun, epoch }) {
    this.runId = runId;
    this.onRun = onRun;
    this.epoch = epoch;
    this.status = "paused";
    this.busy = false;
    this.parked = null; // a button that lost the focus by being disabled (see keepFocus)
    this.rate = null; // the run's learning rate as last heard (REST answer or settings frame)
    this.rateOnFocus = null;
    this.config = null; // the run's config, for Reset
    this.el = (id) => root.querySelector(`#${id}`);
    this.error = this.el("controls-error");
    this.rateError = this.el("lr-error");
    this.el("play-button").addEventListener("click", () => this.act("resume"));
    this.el("pause-button").addEventListener("click", () => this.act("pause"));
    this.el("step-button").addEventListener("click", () => this.step(1));
    this.el("step10-button").addEventListener("click", () => this.step(10));
    this.el("stop-button").addEventListener("click", () => {
      // Stop is for good, and sits beside the buttons pressed most: ask first.
      if (window.confirm("Stop this run for good? A stopped run cannot train again; Pause keeps it resumable."))
        this.act("stop");
    });
    this.el("reset-button").addEventListener("click", () => this.reset());
    this.el("speed").addEventListener("change", (e) => this.setSpeed(e.target.value));
    this.el("lr").addEventListener("change", (e) => this.setLearningRate(e.target.value));
    // A rate that came in while the field had the focus is shown once it is left unedited.
    this.el("lr").addEventListener("focus", (e) => (this.rateOnFocus = e.target.value));
    this.el("lr").addEventListener("blur", (e) => {
      if (e.target.value === this.rateOnFocus && this.rate !== null) e.target.value = String(this.rate);
    });
    document.addEventListener("keydown", (e) => this.onKey(e));
    document.addEventListener("pointerdown", () => (this.parked = null)); // the user moved on
  }

  setConfig(config) {
    this.config = config;
    this.render();
  }

  // From the run object (REST), a status frame or a settings frame.
  update({ status, learning_rate: lr, speed }) {
    if (status) this.status = status;
    if (lr !== undefined) this.rate = lr;
    if (lr !== undefined && document.activeElement !== this.el("lr")) this.el("lr").value = String(lr);
    if (speed !== undefined) {
      const select = this.el("speed");
      const value = speed === null ? "max" : String(speed);
      if (![...select.options].some((o) => o.value === value)) select.add(new Option(`${value} updates/s`, value));
      select.value = value;
    }
    this.render();
  }

  render() {
    const focused = document.activeElement;
    // Only a keyboard press gets its focus back: after a click, Space must still mean play.
    const byKeyboard = Boolean(focused?.matches?.(":focus-visible"));
    const open = ACTIVE.has(this.status);
    const running = this.status === "running";
    this.el("play-button").disabled = !open || running;
    this.el("pause-button").disabled = !running;
    this.el("step-button").disabled = !open || running || this.busy;
    this.el("step10-button").disabled = !open || running || this.busy;
    this.el("stop-button").disabled = !open;
    // Any run that exists can be started again, whatever became of it.
    this.el("reset-button").disabled = !this.config || this.status === "missing";
    // A run that can never train again has no next update for a rate or a speed to apply to.
    this.el("lr").disabled = !open;
    this.el("speed").disabled = !open;
    this.keepFocus(focused, byKeyboard);
  }

  // A focused button that gets disabled drops the focus to the page: a keyboard user pressing
  // Step or Play would have to tab back to it. Park it, and hand the focus back to the button
  // once it is enabled again (Step), or to its partner (Play ⇄ Pause); unless the user moved on
  // (focused something else, or clicked).
  keepFocus(focused, byKeyboard) {
    if (byKeyboard && focused && BUTTONS.includes(focused.id) && focused.disabled) this.parked = focused;
    const parked = this.parked;
    if (!parked) return;
    const active = document.activeElement;
    if (active && active !== document.body && active !== parked) {
      this.parked = null;
      return;
    }
    const partner = PARTNER[parked.id] ? this.el(PARTNER[parked.id]) : null;
    const target = !parked.disabled ? parked : partner && !partner.disabled ? partner : null;
    if (target) {
      target.focus();
      this.parked = null;
    }
  }

  async call(fn) {
    this.showError("");
    const epoch = this.epoch();
    try {
      const run = await fn();
      if (run) this.onRun(run, epoch);
      return run;
    } catch (err) {
      this.showError(err);
      return null;
    }
  }

  // A refused learning rate goes beside its field, worded as on the form; the rest below the buttons.
  showError(err) {
    const rate = err instanceof ApiError ? err.fieldErrors().find((e) => e.path === "learning_rate") : null;
    this.error.textContent = !err || rate ? "" : err instanceof ApiError ? err.describe() : String(err);
    this.rateError.textContent = rate ? fieldMessage(rate) : "";
    if (rate) this.el("lr").setAttribute("aria-invalid", "true");
    else this.el("lr").removeAttribute("aria-invalid");
  }

  // A new run from the same config, paused at step 0 with the same first loss; then open it.
  async reset() {
    if (!this.config) return;
    this.showError("");
    try {
      const run = await post("/api/runs", { ...this.config, start: "paused" });
      location.assign(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      this.showError(err);
    }
  }

  act(action) {
    return this.call(() => post(`/api/runs/${this.runId}/${action}`));
  }

  async step(count) {
    if (this.busy || !STEPPABLE.has(this.status)) return;
    this.busy = true;
    this.render();
    await this.call(() => post(`/api/runs/${this.runId}/step`, { count }));
    this.busy = false;
    this.render();
  }

  setSpeed(value) {
    return this.call(() => patch(`/api/runs/${this.runId}`, { speed: value === "max" ? null : Number(value) }));
  }

  setLearningRate(value) {
    const refused = learningRateError(value);
    if (refused) {
      this.showError("");
      this.rateError.textContent = refused;
      this.el("lr").setAttribute("aria-invalid", "true");
      return null;
    }
    return this.call(() => patch(`/api/runs/${this.runId}`, { learning_rate: Number(value) }));
  }

  onKey(event) {
    const target = event.target;
    const typing =
      target instanceof HTMLInputElement ||
      target instanceof HTMLSelectElement ||
      target instanceof HTMLTextAreaElement;
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " && !(target instanceof HTMLButtonElement)) {
      event.preventDefault();
      this.act(this.status === "running" ? "pause" : "resume");
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      this.step(1);
    }
  }
}
