// Train and test loss against step, every step kept; drawn one pixel column at a time (min..max)
// so spikes stay visible. Each column's min and max come from the series' min/max pyramid, so a
// redraw costs O(pixels · log steps), not O(steps). Log scale by default.
// One run's page draws its train and test lines; the compare page overlays one line per run.
import { FONT, fitCanvas, GRID, INK, MUTED, niceTicks } from "../lib/canvas.js";
import { fmt } from "../lib/format.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";
import { Series } from "./series.js";

const TEST_COLOR = "#8b5cf6";
const DATA_LOSS_COLOR = "#0f766e"; // a regularized run's train loss without the penalty
const PAD = { left: 56, right: 12, top: 10, bottom: 32 }; // bottom: tick labels and "step"

export class LossChart {
  // overlay: start with no lines; the caller adds one per run with addLine().
  // empty: what the chart says before it has a point; marker: a step drawn as a vertical line.
  constructor(canvas, { log = true, overlay = false, empty = "The loss appears here once the run has a step." } = {}) {
    this.canvas = canvas;
    this.lines = [];
    this.log = log;
    this.empty = empty;
    this.marker = null;
    this.scheduler = new FrameScheduler(() => this.draw());
    if (!overlay) {
      this.train = this.addLine(INK, 1.6);
      this.test = this.addLine(TEST_COLOR, 1.4);
    }
    redrawOnResize(canvas, this.scheduler);
  }

  // A new line drawn in `color` (dash: a canvas dash pattern, so lines differ without colour too).
  addLine(color, width = 1.6, dash = []) {
    const series = new Series();
    this.lines.push({ series, color, width, dash });
    this.scheduler.request();
    return series;
  }

  reset(history, train = this.train, test = this.test) {
    train.clear();
    if (test) test.clear();
    if (history) {
      history.steps.forEach((s, k) => {
        train.push(s, history.loss[k]);
        if (test && history.test_loss && history.test_loss[k] !== null && history.test_loss[k] !== undefined)
          test.push(s, history.test_loss[k]);
      });
    }
    this.scheduler.request();
  }

  // frame.losses: [[step, loss], ...] since the previous frame; frame.test_loss: at frame.step.
  update(frame, train = this.train, test = this.test) {
    for (const [step, loss] of frame.losses || []) train.push(step, loss);
    if (frame.step !== undefined && frame.loss !== undefined && !frame.losses?.length)
      train.push(frame.step, frame.loss);
    if (test && frame.test_loss !== null && frame.test_loss !== undefined) test.push(frame.step, frame.test_loss);
    // Frames of a regularized run also say the data loss; its line is drawn from the first such
    // frame on (the stored history holds the total, what training minimises).
    if (frame.data_loss !== null && frame.data_loss !== undefined && train === this.train) {
      this.dataLoss ??= this.addLine(DATA_LOSS_COLOR, 1.2, [5, 3]);
      this.dataLoss.push(frame.step, frame.data_loss);
    }
    this.scheduler.request();
  }

  // Mark one step (the history slider's), or none with null.
  setMarker(step) {
    this.marker = step;
    if (step === null) delete this.canvas.dataset.marker;
    else this.canvas.dataset.marker = String(step);
    this.scheduler.request();
  }

  setLog(log) {
    this.log = log;
    this.scheduler.request();
  }

  get pointCount() {
    return this.lines.length ? this.lines[0].series.length : 0;
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    performance.mark("loss-draw-start");
    const drawn = this.lines.filter((line) => line.series.length);
    this.canvas.dataset.points = String(this.pointCount);
    this.canvas.dataset.series = String(drawn.length);
    const plotW = Math.max(10, Math.floor(width - PAD.left - PAD.right));
    const plotH = height - PAD.top - PAD.bottom;
    if (!drawn.length) {
      ctx.fillStyle = MUTED;
      ctx.font = FONT;
      ctx.fillText(this.empty, PAD.left, PAD.top + 20);
      return;
    }
    const x0 = Math.min(...drawn.map((line) => line.series.steps[0]));
    const x1 = Math.max(x0 + 1, ...drawn.map((line) => line.series.lastStep()));
    // In log10 units on a log scale (values <= 0 left out); O(pixels · log steps) a line.
    const columns = drawn.map((line) => line.series.columns(x0, x1, plotW, { log: this.log }));
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of columns) {
      for (let p = 0; p < plotW; p++) {
        if (c.mins[p] < lo) lo = c.mins[p];
        if (c.maxs[p] > hi) hi = c.maxs[p];
      }
    }
    if (!Number.isFinite(lo)) return;
    if (hi - lo < 1e-12) {
      lo -= this.log ? 0.5 : Math.abs(lo) * 0.1 + 1e-3;
      hi += this.log ? 0.5 : Math.abs(hi) * 0.1 + 1e-3;
    }
    if (!this.log) lo = Math.min(lo, 0);
    const yOf = (v) => PAD.top + plotH - ((v - lo) / (hi - lo)) * plotH;
    this.drawAxes(ctx, { x0, x1, lo, hi, plotW, plotH, yOf, width });
    for (const [k, line] of drawn.entries()) this.drawColumns(ctx, columns[k], plotW, yOf, line);
    this.drawMarker(ctx, x0, x1, plotW, plotH);
    performance.mark("loss-draw-end");
    performance.measure("loss-draw", "loss-draw-start", "loss-draw-end");
  }

  // The step the history slider shows: a dashed vertical line.
  drawMarker(ctx, x0, x1, plotW, plotH) {
    if (this.marker === null || this.marker < x0 || this.marker > x1) return;
    const x = Math.round(PAD.left + ((this.marker - x0) / (x1 - x0)) * (plotW - 1)) + 0.5;
    ctx.strokeStyle = "#b45309";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, PAD.top);
    ctx.lineTo(x, PAD.top + plotH);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  drawAxes(ctx, { x0, x1, lo, hi, plotW, plotH, yOf }) {
    ctx.font = FONT;
    ctx.lineWidth = 1;
    ctx.strokeStyle = GRID;
    ctx.fillStyle = MUTED;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const yTicks = this.log ? logTicks(lo, hi) : niceTicks(lo, hi, 4);
    for (const t of yTicks) {
      const y = Math.round(yOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(PAD.left + plotW, y);
      ctx.stroke();
      ctx.fillText(this.log ? fmt(10 ** t, 2) : fmt(t, 3), PAD.left - 6, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(x0, x1, 5)) {
      if (!Number.isInteger(t)) continue;
      const x = PAD.left + ((t - x0) / (x1 - x0)) * (plotW - 1);
      ctx.fillText(t.toLocaleString("en-US"), x, PAD.top + plotH + 6);
    }
    ctx.strokeStyle = "#94a3b8";
    ctx.beginPath();
    ctx.moveTo(PAD.left + 0.5, PAD.top);
    ctx.lineTo(PAD.left + 0.5, PAD.top + plotH + 0.5);
    ctx.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText("step", PAD.left + plotW, PAD.top + plotH + 6 + 12);
  }

  // One vertical span per pixel column plus a line through the column midpoints.
  drawColumns(ctx, { mins, maxs }, plotW, yOf, { color, width, dash }) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.lineJoin = "round";
    ctx.beginPath();
    let started = false;
    let count = 0;
    for (let p = 0; p < plotW; p++) {
      if (!Number.isFinite(mins[p])) continue;
      const x = PAD.left + p + 0.5;
      const a = yOf(maxs[p]);
      const b = yOf(mins[p]);
      if (!started) ctx.moveTo(x, a);
      else ctx.lineTo(x, a);
      if (b - a > 0.5) ctx.lineTo(x, b);
      started = true;
      count++;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (count === 1) {
      // A single point (step 0) would be invisible as a line.
      const p = mins.findIndex(Number.isFinite);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(PAD.left + p + 0.5, yOf(mins[p]), 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

// Log-axis ticks (in log10 units): 1, 2, 5 per decade when few decades show, else decades only.
function logTicks(lo, hi) {
  const ticks = [];
  const decades = hi - lo;
  const mantissas = decades > 3 ? [1] : decades > 1.2 ? [1, 3] : [1, 2, 5];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of mantissas) {
      const t = d + Math.log10(m);
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : niceTicks(lo, hi, 3);
}
