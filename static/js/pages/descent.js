// Gradient descent on one variable. The server computes the trace (POST /api/descent); the page
// walks it one step at a time, fetching more when it runs out, and asks the server for the curve
// (GET /api/descent/curve) over whatever x range the picture shows.
import { ApiError, descentCurve, descentTrace } from "../lib/api.js";
import { fmt, fmtFactor } from "../lib/format.js";
import { DescentPlot } from "../views/descent_plot.js";
import { StepChart } from "../views/step_chart.js";

const CHUNK = 50;
const PLAY_MS = 300;
const CURVE_POINTS = 400;
// The curve route's bound on x (x_max − x_min must stay a finite number).
const X_LIMIT = 1e300;

class DescentPage {
  constructor() {
    this.form = document.getElementById("descent-form");
    this.$ = (id) => document.getElementById(id);
    this.plot = new DescentPlot(this.$("d-curve"), (range) => this.fetchCurve(range));
    this.chart = new StepChart(this.$("d-chart"));
    this.trace = [];
    this.used = null; // the inputs the trace was computed from
    this.stopped = null; // the server's reason the trace ends short, if it does
    this.ended = false;
    this.index = 0;
    this.timer = null;
    this.request = 0; // counts input changes: an answer for older inputs is dropped
    this.fetching = false;
    this.curveAsked = 0; // counts curve requests: only the newest answer is drawn
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.reset();
    });
    this.$("d-step").addEventListener("click", () => this.step());
    this.$("d-play").addEventListener("click", () => this.play());
    this.$("d-pause").addEventListener("click", () => this.pause());
    for (const id of ["d-expr", "d-x0", "d-lr"]) this.$(id).addEventListener("change", () => this.reset());
    document.addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLButtonElement) return;
      if (e.key === "ArrowRight") this.step();
      else if (e.key === " ") {
        e.preventDefault();
        if (this.timer) this.pause();
        else this.play();
      }
    });
  }

  params() {
    return {
      expr: this.$("d-expr").value,
      x0: Number(this.$("d-x0").value),
      learning_rate: Number(this.$("d-lr").value),
    };
  }

  // The next `steps` moves from x0: {trace, stopped}, the server's reason if it stops short.
  async fetchTrace(p, x0, steps) {
    return descentTrace({ ...p, x0, steps });
  }

  // The curve over the range the picture now shows; an answer for an older range or trace is dropped.
  async fetchCurve([xMin, xMax]) {
    const ticket = this.request;
    const asked = ++this.curveAsked;
    const range = [Math.max(xMin, -X_LIMIT), Math.min(xMax, X_LIMIT)];
    let curve;
    try {
      curve = await descentCurve(this.used.expr, range, CURVE_POINTS);
    } catch (err) {
      if (ticket === this.request && asked === this.curveAsked) this.showError(err);
      return;
    }
    if (ticket === this.request && asked === this.curveAsked) this.plot.setCurve(curve);
  }

  async reset() {
    this.pause();
    this.clearErrors();
    const p = this.params();
    const ticket = ++this.request;
    let trace;
    let stopped;
    try {
      ({ trace, stopped } = await this.fetchTrace(p, p.x0, CHUNK));
    } catch (err) {
      if (ticket !== this.request) return;
      // Nothing of the old inputs may stay on screen, or be stepped on, next to the error.
      this.clear();
      this.showError(err);
      return;
    }
    if (ticket !== this.request) return; // newer inputs are on their way
    this.trace = trace;
    this.used = p;
    this.stopped = stopped;
    this.ended = trace.length < CHUNK + 1;
    this.setSteppable(true);
    this.plot.reset();
    this.index = 0;
    this.render();
  }

  async step() {
    if (!this.trace.length || !this.used) return;
    if (this.index + 1 >= this.trace.length) {
      // The server stops a trace before x, f(x) or f'(x) stops being finite: a short chunk means
      // descent diverged, so there is nothing more to fetch.
      if (this.ended) {
        const why = this.stopped ? ` (the server: ${this.stopped})` : "";
        this.$("d-error").textContent =
          `The next step would leave the finite numbers${why}. If descent diverges, try a smaller α; f may also end where its domain does.`;
        return this.pause();
      }
      if (this.fetching) return; // play's next tick while the chunk is on its way
      const last = this.trace.at(-1);
      const ticket = this.request;
      const trace = this.trace;
      this.fetching = true;
      let more;
      try {
        more = await this.fetchTrace(this.used, last.x, CHUNK);
      } catch (err) {
        if (ticket === this.request && trace === this.trace) {
          this.showError(err);
          this.pause();
        }
        return;
      } finally {
        this.fetching = false;
      }
      // New inputs came in meanwhile: this chunk continues a trace that is gone.
      if (ticket !== this.request || trace !== this.trace) return;
      this.ended = more.trace.length < CHUNK + 1;
      this.stopped = more.stopped;
      this.trace.push(...more.trace.slice(1).map((p) => ({ ...p, step: p.step + last.step })));
      if (this.index + 1 >= this.trace.length) return this.step();
    }
    this.index++;
    this.render();
  }

  play() {
    if (this.timer || !this.used) return;
    this.timer = setInterval(() => this.step(), PLAY_MS);
    this.$("d-play").disabled = true;
    this.$("d-pause").disabled = false;
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    this.$("d-play").disabled = !this.used;
    this.$("d-pause").disabled = true;
  }

  render() {
    const cur = this.trace[this.index];
    const trail = this.trace.slice(0, this.index + 1);
    this.$("d-step-count").textContent = String(cur.step);
    this.$("d-x").textContent = fmt(cur.x, 6);
    this.$("d-y").textContent = fmt(cur.y, 6);
    this.$("d-slope").textContent = fmt(cur.slope, 6);
    const lr = this.used.learning_rate;
    const move = `${fmtFactor(cur.x, 5)} − ${fmtFactor(lr, 4)} × ${fmtFactor(cur.slope, 5)}`;
    this.$("d-explain").textContent = `Next step: x ← x − α·f′(x) = ${move} = ${fmt(cur.x - lr * cur.slope, 5)}`;
    this.plot.update(trail);
    this.chart.update(trail);
  }

  // No trace: blank readouts and pictures, Step and Play off until valid inputs give one.
  clear() {
    this.trace = [];
    this.used = null;
    this.stopped = null;
    this.index = 0;
    this.plot.reset();
    this.chart.update([]);
    for (const id of ["d-x", "d-y", "d-slope"]) this.$(id).textContent = "–";
    this.$("d-step-count").textContent = "0";
    this.$("d-explain").textContent = "";
    this.setSteppable(false);
  }

  setSteppable(on) {
    this.$("d-step").disabled = !on;
    this.$("d-play").disabled = !on || Boolean(this.timer);
  }

  clearErrors() {
    for (const el of this.form.querySelectorAll("[data-error-for]")) el.textContent = "";
    this.$("d-error").textContent = "";
  }

  showError(err) {
    if (err instanceof ApiError && err.fieldErrors().length) {
      for (const { path, msg } of err.fieldErrors()) {
        const slot = this.form.querySelector(`[data-error-for="${CSS.escape(path.split(".")[0])}"]`);
        if (slot) slot.textContent = msg;
        else this.$("d-error").textContent = `${path}: ${msg}`;
      }
    } else this.$("d-error").textContent = err instanceof ApiError ? err.describe() : String(err);
  }
}

new DescentPage().reset();
