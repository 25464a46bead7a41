// The data and what the network makes of it. One input: targets as dots, the network's curve as a
// line. Two inputs: the output as a heatmap under the points (as in TensorFlow Playground).
// Otherwise: prediction against target for every sample (a perfect fit lies on the diagonal).
// Without weights (the form's preview, before a run exists) it draws the data alone. Points sit
// where their raw coordinates put them (features only change what the network is fed); K-class
// data is coloured by class, the background by the class the network picks.
import { fitCanvas, GRID, tracePath } from "../lib/canvas.js";
import { CLASS_COLORS, classRGB, diverging, divergingRGB } from "../lib/colors.js";
import { featureExpander } from "../lib/features.js";
import { fmt } from "../lib/format.js";
import { forwardBatch, predict } from "../lib/forward.js";
import { paintCells, planeGrid } from "../lib/plane.js";
import { plotFrame } from "../lib/plot.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";

// Multiply-adds allowed for one heatmap or curve; the grid gets coarser for big nets.
const PREDICT_BUDGET = 600_000;

export class DatasetView {
  constructor(canvas, note) {
    this.canvas = canvas;
    this.note = note;
    this.data = null;
    this.weights = null;
    this.lastDraw = -Infinity;
    this.lastCost = 0;
    this.trailing = null;
    this.showTest = true; // draw the test samples (rings) too
    this.discrete = false; // colour the background by the side of the midpoint, not the value
    this.scheduler = new FrameScheduler(() => this.drawThrottled());
    redrawOnResize(canvas, this.scheduler);
  }

  // A heavy picture (big net: ~30 ms) must not eat every frame: keep it to about a tenth of the
  // time by skipping redraws, with one trailing redraw so the newest weights always show.
  drawThrottled() {
    const wait = this.lastCost * 10 - (performance.now() - this.lastDraw);
    if (this.lastCost > 4 && wait > 0) {
      if (!this.trailing) {
        this.trailing = setTimeout(() => {
          this.trailing = null;
          this.scheduler.request();
        }, wait);
      }
      return;
    }
    const start = performance.now();
    this.draw();
    this.lastDraw = performance.now();
    this.lastCost = this.lastDraw - start;
  }

  // inputNames: the network's inputs as features of the raw points (lib/features.js), or null.
  setModel(layers, activations, inputNames = null) {
    this.layers = layers;
    this.activations = activations;
    this.inputNames = inputNames;
  }

  setData(data) {
    this.data = data;
    // Where each sample is drawn: its raw point (the inputs themselves when there are no features).
    this.raw = { train: data.x_train_raw || data.x_train, test: data.x_test_raw || data.x_test };
    this.dims = (this.raw.train[0] || this.raw.test[0] || []).length;
    this.expand = featureExpander(this.inputNames, this.dims);
    const all = data.y_train.concat(data.y_test);
    const ys = all.map((y) => y[0]);
    this.yMin = Math.min(...ys);
    this.yMax = Math.max(...ys);
    // K one-hot targets: K classes (a single 0/1 output stays on the two-colour scale).
    const width = all.length ? all[0].length : 0;
    const oneHot =
      width > 1 && all.every((y) => y.reduce((a, b) => a + b, 0) === 1 && y.every((v) => v === 0 || v === 1));
    this.classes = oneHot ? width : 0;
    // 2-D inputs lie in [-1, 1]², but noise can push a few points out: widen the square to fit.
    const reach = this.raw.train
      .concat(this.raw.test)
      .reduce((m, x) => Math.max(m, Math.abs(x[0]), Math.abs(x[1] ?? 0)), 1);
    this.extent = Math.ceil(reach * 10) / 10;
    this.scheduler.request();
  }

  // The data view's toggles: {showTest, discrete}; absent keys stay as they are.
  setOptions(options) {
    Object.assign(this, options);
    this.scheduler.request();
  }

  update(frame) {
    if (frame.weights) this.weights = frame.weights;
    if (frame.biases) this.biases = frame.biases;
    this.scheduler.request();
  }

  // The network's outputs, and its first output, for one row of its inputs.
  outputs(x) {
    return predict(this.weights, this.biases, this.activations, x);
  }

  out(x) {
    return this.outputs(x)[0];
  }

  cost() {
    return this.weights.reduce((n, W) => n + W.data.length, 0);
  }

  trained() {
    return Boolean(this.weights && this.layers);
  }

  // The test samples drawn: [raw points, targets], none when hidden.
  testRows() {
    return this.showTest ? [this.raw.test, this.data.y_test] : [[], []];
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    if (!this.data) return;
    const inputs = this.dims;
    if (!this.trained() && inputs > 2) {
      this.setNote(`${inputs} inputs: no picture of the data before training.`);
      return;
    }
    performance.mark("data-draw-start");
    this.canvas.dataset.trainPoints = String(this.data.x_train.length);
    this.canvas.dataset.testPoints = String(this.testRows()[0].length);
    this.canvas.dataset.discrete = String(this.discrete);
    if (inputs === 1) this.drawCurve(ctx, width, height);
    else if (inputs === 2) this.drawHeatmap(ctx, width, height);
    else this.drawParity(ctx, width, height);
    performance.mark("data-draw-end");
    performance.measure("data-draw", "data-draw-start", "data-draw-end");
  }

  // Targets in [yMin, yMax] -> [-1, 1] on the diverging scale (0/1 labels: orange/blue).
  tone(y) {
    const mid = (this.yMin + this.yMax) / 2;
    const half = (this.yMax - this.yMin) / 2 || 1;
    return (y - mid) / half;
  }

  drawHeatmap(ctx, width, height) {
    const side = Math.min(width, height) - 8;
    const left = (width - side) / 2;
    const top = 4;
    const e = this.extent;
    const cells = this.trained() ? this.drawBackground(ctx, left, top, side) : 0;
    const toPx = (p) => [left + ((p[0] / e + 1) / 2) * side, top + ((1 - p[1] / e) / 2) * side];
    const [testXs, testYs] = this.testRows();
    this.drawPoints(ctx, this.raw.train, this.data.y_train, toPx, false);
    this.drawPoints(ctx, testXs, testYs, toPx, true);
    ctx.strokeStyle = "#cbd5e1";
    ctx.strokeRect(left + 0.5, top + 0.5, side - 1, side - 1);
    const range = e === 1 ? "1" : fmt(e, 2);
    const points = `Dots: training samples (${this.data.x_train.length})${this.showTest ? `; rings: test samples (${testXs.length})` : ""}.`;
    const colours = this.classes
      ? `coloured by class (${this.classes} classes)`
      : `coloured by target (orange ${fmt(this.yMin, 3)}, blue ${fmt(this.yMax, 3)})`;
    if (!cells) {
      this.setNote(`The data over [−${range}, ${range}]², ${colours}. ${points}`);
      return;
    }
    if (this.classes) {
      const shade = this.discrete ? "the colour of the class the network picks" : "paler where it is less sure";
      this.setNote(
        `Background: the class the network picks over [−${range}, ${range}]² (${cells}×${cells} grid; ${shade}). ${points}${this.accuracyNote()}`,
      );
      return;
    }
    const outputs = this.layers[this.layers.length - 1];
    const which = outputs > 1 ? `first output (of ${outputs}; dots coloured by their first target)` : "output";
    const scale = this.discrete
      ? `orange below ${fmt((this.yMin + this.yMax) / 2, 3)}, blue above`
      : `orange ${fmt(this.yMin, 3)}, white halfway, blue ${fmt(this.yMax, 3)}`;
    this.setNote(
      `Background: the network's ${which} over [−${range}, ${range}]² (${cells}×${cells} grid; ${scale}). ${points}${this.accuracyNote()}`,
    );
  }

  // The network's output over the plane, painted under the points; returns the grid's size.
  drawBackground(ctx, left, top, side) {
    const cells = Math.max(8, Math.min(40, Math.floor(Math.sqrt(PREDICT_BUDGET / this.cost()))));
    const grid = planeGrid(cells, this.extent);
    const n = cells * cells;
    const { acts } = forwardBatch(this.weights, this.biases, this.activations, this.expand(grid, n), n);
    const out = acts[acts.length - 1];
    const outputs = this.layers[this.layers.length - 1];
    const shade = (v) => {
      const t = this.tone(v);
      return divergingRGB((this.discrete ? Math.sign(t) : t) * 0.85);
    };
    // K classes: the winning output's class colour, its depth the output's lead over a guess.
    const pick = (k) => {
      const row = out.subarray(k * outputs, (k + 1) * outputs);
      const best = argmax(row);
      const sure = (row[best] - 1 / outputs) / (1 - 1 / outputs);
      return classRGB(best, this.discrete ? 0.75 : 0.15 + 0.6 * Math.max(0, sure));
    };
    if (!this.offscreen) this.offscreen = document.createElement("canvas");
    paintCells(this.offscreen, cells, (k) => (this.classes ? pick(k) : shade(out[k * outputs])));
    this.canvas.dataset.classes = String(this.classes);
    if (this.classes) this.canvas.dataset.classWins = String(classWins(out, outputs, n));
    ctx.imageSmoothingEnabled = !this.discrete;
    ctx.drawImage(this.offscreen, left, top, side, side);
    return cells;
  }

  // For 0/1 labels on one output (the classification sets): the share of test samples (training
  // samples if there are none) on the right side of ½, as the spiral preset promises ~95 %.
  // K classes: the share whose largest output is their class.
  accuracyNote() {
    const labelled = this.data.y_train
      .concat(this.data.y_test)
      .every((y) => y.length === 1 && (y[0] === 0 || y[0] === 1));
    if (!labelled && !this.classes) return "";
    const onTest = this.data.x_test.length > 0;
    const xs = onTest ? this.data.x_test : this.data.x_train;
    const ys = onTest ? this.data.y_test : this.data.y_train;
    const right = this.classes
      ? xs.filter((x, n) => argmax(this.outputs(x)) === argmax(ys[n])).length
      : xs.filter((x, n) => this.out(x) > 0.5 === ys[n][0] > 0.5).length;
    const rule = this.classes ? "the largest output names the class" : "output above ½ counts as 1";
    const accuracy = (100 * right) / xs.length;
    // The exact share, and the set it is of, for tests (the note rounds it).
    this.canvas.dataset.accuracy = String(accuracy);
    this.canvas.dataset.accuracyOf = onTest ? "test" : "train";
    return ` ${onTest ? "Test" : "Training"} accuracy: ${fmt(accuracy, 3)}% (${rule}).`;
  }

  // Points grouped into a few colour buckets: one path per bucket instead of one per point.
  drawPoints(ctx, xs, ys, toPx, hollow) {
    const buckets = new Map();
    for (let n = 0; n < xs.length; n++) {
      const key = this.classes ? `c${argmax(ys[n])}` : Math.round(Math.max(-1, Math.min(1, this.tone(ys[n][0]))) * 4);
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(toPx(xs[n]));
    }
    for (const [key, points] of buckets) {
      ctx.beginPath();
      for (const [px, py] of points) {
        ctx.moveTo(px + 3.2, py);
        ctx.arc(px, py, 3.2, 0, Math.PI * 2);
      }
      const color = this.classes
        ? CLASS_COLORS[Number(String(key).slice(1)) % CLASS_COLORS.length]
        : diverging(key / 4);
      if (hollow) {
        ctx.lineWidth = 1.6;
        ctx.strokeStyle = color;
        ctx.stroke();
      } else {
        ctx.fillStyle = color;
        ctx.fill();
        ctx.lineWidth = 0.8;
        ctx.strokeStyle = "rgba(15,23,42,.45)";
        ctx.stroke();
      }
    }
  }

  drawCurve(ctx, width, height) {
    const all = this.raw.train.concat(this.raw.test).map((x) => x[0]);
    const xMin = Math.min(...all);
    const xMax = Math.max(...all);
    const points = this.trained() ? Math.max(20, Math.min(300, Math.floor(PREDICT_BUDGET / this.cost()))) : 0;
    const curve = [];
    for (let k = 0; k < points; k++) {
      const x = xMin + ((xMax - xMin) * k) / (points - 1);
      curve.push([x, this.out(this.expand(Float64Array.of(x), 1))]);
    }
    const ys = curve
      .map((p) => p[1])
      .filter(Number.isFinite)
      .concat([this.yMin, this.yMax]);
    const frame = plotFrame(ctx, width, height, [xMin, xMax], [Math.min(...ys), Math.max(...ys)]);
    ctx.fillStyle = "rgba(100,116,139,.55)";
    const [testXs, testYs] = this.testRows();
    for (const [set, hollow] of [
      [this.raw.train, false],
      [testXs, true],
    ]) {
      const targets = hollow ? testYs : this.data.y_train;
      set.forEach((x, n) => {
        ctx.beginPath();
        ctx.arc(frame.px(x[0]), frame.py(targets[n][0]), 2.6, 0, Math.PI * 2);
        if (hollow) {
          ctx.strokeStyle = "#8b5cf6";
          ctx.lineWidth = 1.2;
          ctx.stroke();
        } else ctx.fill();
      });
    }
    const rings = this.showTest ? "; purple rings: test targets" : "";
    if (!curve.length) {
      this.setNote(`Grey dots: training targets${rings}.`);
      return;
    }
    ctx.strokeStyle = "#1d6fd6";
    ctx.lineWidth = 2.2;
    tracePath(
      ctx,
      curve.map(([x, y]) => [frame.px(x), frame.py(y)]),
    );
    ctx.stroke();
    this.setNote(`Grey dots: training targets${rings}; blue line: the network's output.`);
  }

  drawParity(ctx, width, height) {
    const pairs = this.data.x_train.map((x, n) => [this.data.y_train[n][0], this.out(x)]);
    const vals = pairs.flat().filter(Number.isFinite);
    const range = [Math.min(...vals), Math.max(...vals)];
    const frame = plotFrame(ctx, width, height, range, range);
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(frame.px(range[0]), frame.py(range[0]));
    ctx.lineTo(frame.px(range[1]), frame.py(range[1]));
    ctx.stroke();
    ctx.fillStyle = "rgba(29,111,214,.6)";
    for (const [t, p] of pairs) {
      ctx.beginPath();
      ctx.arc(frame.px(t), frame.py(p), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
    this.setNote(
      `${this.layers[0]} inputs: each dot is a training sample, target (x) against the network's first output (y).`,
    );
  }

  setNote(text) {
    if (this.note && this.note.textContent !== text) this.note.textContent = text;
  }
}

function argmax(values) {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}

// How many grid cells each class wins, "k0,k1,…" (for tests: which regions the picture shows).
function classWins(out, outputs, n) {
  const wins = new Array(outputs).fill(0);
  for (let k = 0; k < n; k++) wins[argmax(out.subarray(k * outputs, (k + 1) * outputs))]++;
  return wins.join(",");
}
