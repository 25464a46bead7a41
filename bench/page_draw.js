// Times one run-page frame in the browser: decode the stream frame, feed the three views, draw
// them (the work one requestAnimationFrame does), with performance marks around each part.

import { decodeBinaryFrame } from "/static/js/lib/binary_frame.js";
import { forwardSample } from "/static/js/lib/forward.js";
import { matricesFrom, vectorsFrom } from "/static/js/lib/matrix.js";
import { DatasetView } from "/static/js/views/data_view.js";
import { buildPhases, overlayFor } from "/static/js/views/explain_phases.js";
import { phaseHtml } from "/static/js/views/explain_text.js";
import { GradientChart } from "/static/js/views/gradient_chart.js";
import { LossChart } from "/static/js/views/loss_chart.js";
import { NetworkView } from "/static/js/views/network_view.js";

const params = new URLSearchParams(location.search);
const SIZES = JSON.parse(params.get("sizes") || "[[2,6,5,1],[2,30,30,1],[2,300,300,30,1]]");
const REPEAT = Number(params.get("repeat") || 30);
const HISTORY = 20_000; // steps already in the loss chart

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function nested(rows, cols, rand, scale) {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rand() * scale));
}

function jsonFrame(layers, rand, step) {
  const shape = (f) => layers.slice(1).map((n, l) => f(layers[l], n));
  return JSON.stringify({
    type: "update",
    step,
    loss: 0.01 + rand() * 1e-3,
    test_loss: 0.012,
    weights: shape((i, o) => nested(i, o, rand, 1)),
    biases: layers.slice(1).map((n) => Array.from({ length: n }, () => rand() * 0.1)),
    deltas: layers.slice(1).map((n) => Array.from({ length: n }, () => rand() * 1e-2)),
    gradients: shape((i, o) => nested(i, o, rand, 1e-2)),
    losses: [[step, 0.01]],
  });
}

// The same frame in the wire's binary layout (header JSON, padding, float32 payload).
function binaryFrame(text) {
  const frame = JSON.parse(text);
  const arrays = [];
  const chunks = [];
  for (const field of ["weights", "biases", "deltas", "gradients"]) {
    frame[field].forEach((a, l) => {
      const flat = a.flat();
      arrays.push([field, l, Array.isArray(a[0]) ? [a.length, a[0].length] : [a.length]]);
      chunks.push(Float32Array.from(flat));
    });
    delete frame[field];
  }
  frame.arrays = arrays;
  const header = new TextEncoder().encode(JSON.stringify(frame));
  const start = Math.ceil((4 + header.length) / 4) * 4;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const buffer = new ArrayBuffer(start + total * 4);
  new DataView(buffer).setUint32(0, header.length, true);
  new Uint8Array(buffer, 4, header.length).set(header);
  let offset = start;
  for (const c of chunks) {
    new Float32Array(buffer, offset, c.length).set(c);
    offset += c.length * 4;
  }
  return buffer;
}

function measure(name, fn) {
  performance.mark(`${name}-a`);
  const out = fn();
  performance.mark(`${name}-b`);
  return [out, performance.measure(name, `${name}-a`, `${name}-b`).duration];
}

// An explained update of `frame` through sample x, in the shape explain.js builds from the API's
// answer: what the network view and the text panel are given while the explanation is open.
function explained(layers, activations, frame, x) {
  const f = forwardSample(frame.weights, frame.biases, activations, x);
  const nested = (M) =>
    Array.from({ length: M.rows }, (_, i) => Array.from(M.data.subarray(i * M.cols, (i + 1) * M.cols)));
  const explain = {
    step: frame.step,
    learning_rate: 0.5,
    momentum: 0,
    loss_name: "mse",
    activations,
    output_activation: activations.at(-1),
    variant: "standard",
    bias: true,
    batch_size: 160,
    sample: 0,
    row: 0,
    x,
    y: Array.from(f.act.at(-1), () => 1),
    loss: 0.01,
    weights: frame.weights.map(nested),
  };
  const m = {
    weights: frame.weights,
    newWeights: frame.weights,
    gradients: frame.gradients,
    biases: frame.biases,
    newBiases: frame.biases,
    activation: f.act,
    net: f.net,
    derivative: f.dact,
    sampleDeltas: frame.deltas,
    deltas: frame.deltas,
  };
  const phases = buildPhases(explain);
  return {
    explain,
    m,
    phases,
    backward: phases.find((p) => p.id === `backward-${layers.length - 2}`) || phases.at(-2),
  };
}

const weightCount = (layers) => layers.slice(1).reduce((n, c, l) => n + c * layers[l], 0);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

function benchSize(layers) {
  const rand = rng(7);
  const activations = layers.slice(1).map((_, l) => (l === layers.length - 2 ? "sigmoid" : "tanh"));
  const $ = (id) => document.getElementById(id);
  const network = new NetworkView($("network-canvas"), $("tooltip"), $("net-note"));
  const loss = new LossChart($("loss-canvas"));
  const gradients = new GradientChart($("gradient-canvas"), $("gradient-legend"));
  gradients.setModel(layers.length - 1, "standard");
  for (let k = 0; k < HISTORY; k++) for (const line of gradients.lines) line.push(k, 1 / (k + 1));
  const data = new DatasetView($("data-canvas"), $("data-note"));
  const xs = Array.from({ length: 200 }, () => Array.from({ length: layers[0] }, () => rand()));
  const ys = xs.map((x) => [x[0] * x[1] > 0 ? 1 : 0]);
  network.setModel(layers, activations);
  network.setSamples(xs);
  data.setModel(layers, activations);
  data.setData({ x_train: xs.slice(0, 160), y_train: ys.slice(0, 160), x_test: xs.slice(160), y_test: ys.slice(160) });
  loss.reset({
    steps: Array.from({ length: HISTORY }, (_, k) => k),
    loss: Array.from({ length: HISTORY }, (_, k) => 1 / (k + 1)),
    test_loss: [],
  });
  const frames = Array.from({ length: 4 }, (_, k) => jsonFrame(layers, rand, HISTORY + k));
  const binaries = frames.map(binaryFrame);
  const t = { json: [], binary: [], network: [], explain: [], loss: [], gradient: [], data: [], total: [], text: [] };
  for (let r = 0; r < REPEAT + 3; r++) {
    const [frame, json] = measure("decode-json", () => {
      const f = JSON.parse(frames[r % frames.length]);
      return {
        ...f,
        weights: matricesFrom(f.weights),
        biases: vectorsFrom(f.biases),
        deltas: vectorsFrom(f.deltas),
        gradients: matricesFrom(f.gradients),
      };
    });
    const [, binary] = measure("decode-binary", () => decodeBinaryFrame(binaries[r % binaries.length]));
    frame.step = HISTORY + r;
    const [, tn] = measure("network", () => {
      network.update(frame);
      network.draw();
    });
    // Explain open at a backward phase, its pulse on its way: the network as an animation frame draws it.
    const shown = explained(layers, activations, frame, xs[0]);
    const [, te] = measure("explain", () => {
      network.setOverlay(overlayFor(shown.explain, shown.backward, shown.m));
      network.pulseStart = performance.now();
      network.draw();
    });
    network.setOverlay(null);
    // The text panel is written once per phase, not per frame: the update phase's tables.
    const [, tt] = measure("text", () => {
      $("phase-body").innerHTML = phaseHtml(shown.explain, shown.phases.at(-1), shown.m);
      return $("phase-body").offsetHeight; // its layout, which the next canvas sizing would pay
    });
    const [, tg] = measure("gradient", () => {
      gradients.update(frame);
      gradients.chart.draw();
    });
    const [, tl] = measure("loss", () => {
      loss.update(frame);
      loss.draw();
    });
    const [, td] = measure("data", () => {
      data.update(frame);
      data.draw();
    });
    if (r < 3) continue; // warm-up: JIT and canvas allocation
    // The page asks for binary frames past 20,000 weights (see BINARY_ABOVE in pages/run.js).
    const decode = weightCount(layers) > 20_000 ? binary : json;
    const total = decode + te + tl + tg + td;
    const times = { json, binary, network: tn, explain: te, loss: tl, gradient: tg, data: td, total, text: tt };
    for (const [k, v] of Object.entries(times)) t[k].push(v);
  }
  const row = { layers: layers.join("-"), weights: weightCount(layers), note: $("net-note").textContent };
  for (const [k, v] of Object.entries(t)) row[k] = { median: median(v), p95: p95(v) };
  return row;
}

const results = SIZES.map(benchSize);
document.getElementById("out").textContent = JSON.stringify(results, null, 1);
window.benchResults = results;
document.body.dataset.done = "1";
