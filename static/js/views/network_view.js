// The network, drawn on one canvas: edges by sign (blue +, orange −) and |w|, neurons filled by
// activation (one sample or the mean over the data) with a ring for δ. Fed by update(frame);
// draws at most once per animation frame.
import { FONT, fitCanvas, INK, MUTED } from "../lib/canvas.js";
import { diverging, signColor } from "../lib/colors.js";
import { fmt, fmtInt } from "../lib/format.js";
import { forwardSample, meanOverBatch } from "../lib/forward.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";
import { drawInputNames } from "./input_names.js";
import { NetworkInspector } from "./network_inspector.js";
import { EDGE_BUDGET, layoutNeurons, maxAbs, strengthThresholds } from "./network_layout.js";

const WIDTH_BUCKETS = 8;
// The mean colouring runs a forward pass per sample; cap the multiply-adds so big nets stay fast.
const MEAN_BUDGET = 400_000;

export class NetworkView {
  constructor(canvas, tooltip, note) {
    this.canvas = canvas;
    this.note = note;
    this.layers = null;
    this.weights = null;
    this.biases = null;
    this.deltas = null;
    this.gradients = null;
    this.step = 0; // the update that made the weights shown (0: the initial weights)
    this.updateRate = null; // the α of that update (deltas and gradients are its own)
    this.previousWeights = null; // the weights before it, when that frame came too
    this.learningRate = null; // the α of the next update
    this.momentum = 0;
    this.batchSize = null; // null: the whole training set
    this.perSampleHint = null; // where the page shows one sample's δ and a·δ (run page)
    this.samples = [];
    this.sample = "mean";
    this.neurons = null; // {net, act, dact} for the chosen sample, recomputed when weights change
    this.overlay = null;
    this.historical = false;
    this.drawnEdges = [];
    this.maps = null; // per-neuron pictures (views/neuron_maps.js), drawn inside the circles
    this.inspector = new NetworkInspector(this, canvas, tooltip);
    this.scheduler = new FrameScheduler(() => this.draw());
    redrawOnResize(canvas, this.scheduler);
  }

  // The weights on screen: the overlay's during behind the scenes, else the live (or past) ones.
  shownWeights() {
    return this.overlay?.weights ? this.overlay.weights : this.weights;
  }

  setModel(layers, activations) {
    this.layers = layers;
    this.activations = activations;
    this.scheduler.request();
  }

  setSamples(xs) {
    this.samples = xs;
    this.invalidate();
  }

  setSample(choice) {
    this.sample = choice;
    this.invalidate();
  }

  // How the run updates, for the hover's words: {momentum, batchSize (null: full batch), perSampleHint}.
  setTraining({ momentum = 0, batchSize = null, perSampleHint = null, bias = true }) {
    Object.assign(this, { momentum, batchSize, perSampleHint, bias });
  }

  // frame: {step, weights: Matrix[], biases: Float64Array[], deltas?, gradients?, updateRate?
  // (the α that made them), previousWeights? (the weights after step − 1), historical?}
  update(frame) {
    if (frame.weights) this.weights = frame.weights;
    if (frame.biases) this.biases = frame.biases;
    if (frame.step !== undefined) this.step = frame.step;
    this.deltas = frame.deltas || null;
    this.gradients = frame.gradients || null;
    this.updateRate = frame.updateRate ?? null;
    this.previousWeights = frame.previousWeights || null;
    this.historical = Boolean(frame.historical);
    this.invalidate();
  }

  // The α of the next update (from the run, a PATCH, or another tab's PATCH).
  setLearningRate(rate) {
    this.learningRate = rate;
    this.inspector.refresh();
  }

  // The batch of update `step`, as the trainer picks it: epochs of ⌈n / size⌉ batches, the last
  // one smaller when size does not divide n.
  batchWords(step = this.step) {
    const n = this.samples.length;
    const size = this.batchSize;
    if (!n) return size ? `its mini-batch (of at most ${size} samples)` : "the whole training set";
    if (!size || size >= n) return `the whole training set (${n} samples)`;
    const position = (step - 1) % Math.ceil(n / size);
    return `its mini-batch of ${Math.min(size, n - position * size)} samples`;
  }

  // Behind the scenes takes over the colouring and the hover: see phases.js overlayFor.
  setOverlay(overlay) {
    this.overlay = overlay;
    this.scheduler.request();
  }

  // Names of the input neurons (x1, x1*x2, …), written beside them; null for none.
  setInputNames(names) {
    this.inputNames = names;
    this.scheduler.request();
  }

  setNeuronMaps(maps) {
    this.maps = maps;
    this.scheduler.request();
  }

  invalidate() {
    this.neurons = null;
    this.scheduler.request();
  }

  meanCount() {
    const perSample = this.weights ? this.weights.reduce((n, W) => n + W.data.length, 0) : 1;
    return Math.max(1, Math.min(this.samples.length, Math.floor(MEAN_BUDGET / Math.max(1, perSample))));
  }

  computeNeurons() {
    if (!this.weights || !this.samples.length) return null;
    const acts = this.activations;
    if (this.sample === "mean")
      return meanOverBatch(this.weights, this.biases, acts, this.samples.slice(0, this.meanCount()));
    return forwardSample(this.weights, this.biases, acts, this.samples[this.sample] || this.samples[0]);
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    if (!this.layers || !this.weights) return;
    performance.mark("network-draw-start");
    const ov = this.overlay;
    const weights = ov?.weights ? ov.weights : this.weights;
    if (!ov && !this.neurons) this.neurons = this.computeNeurons();
    const values =
      ov ||
      (this.neurons && {
        act: this.neurons.act,
        net: [null, ...this.neurons.net],
        dact: [null, ...this.neurons.dact],
        delta: this.deltas ? [null, ...this.deltas] : null,
      });
    const layout = layoutNeurons(this.layers, width, height);
    this.layout = layout;
    if (this.maps) this.maps.prepare(weights, this.biases, layout.radius);
    this.drawEdges(ctx, layout, weights, ov);
    this.drawNeurons(ctx, layout, values, ov);
    this.drawCaptions(ctx, layout);
    if (this.inputNames) drawInputNames(ctx, layout, this.inputNames, this.canvas);
    performance.mark("network-draw-end");
    performance.measure("network-draw", "network-draw-start", "network-draw-end");
    this.inspector.refresh();
  }

  drawEdges(ctx, layout, weights, ov) {
    const scale = maxAbs(weights) || 1;
    const { thresholds, total, drawn } = strengthThresholds(weights, EDGE_BUDGET, scale);
    this.setNote(total, drawn);
    // Group edges into (sign × width bucket) paths: a few stroke() calls instead of one per edge.
    const paths = [
      new Array(WIDTH_BUCKETS).fill(null).map(() => []),
      new Array(WIDTH_BUCKETS).fill(null).map(() => []),
    ];
    const hits = [];
    weights.forEach((W, l) => {
      const from = layout.columns[l];
      const to = layout.columns[l + 1];
      const threshold = thresholds[l];
      const dim = Boolean(ov && ov.edgeLayer !== undefined && ov.edgeLayer !== null && ov.edgeLayer !== l);
      for (let i = 0; i < W.rows; i++) {
        for (let j = 0; j < W.cols; j++) {
          const w = W.data[i * W.cols + j];
          const a = Math.abs(w);
          if (!(a >= threshold)) continue;
          const bucket = Math.min(WIDTH_BUCKETS - 1, Math.floor((a / scale) * WIDTH_BUCKETS));
          const seg = [from.x, from.ys[i], to.x, to.ys[j], dim];
          paths[w >= 0 ? 0 : 1][bucket].push(seg);
          hits.push({ l, i, j, x1: seg[0], y1: seg[1], x2: seg[2], y2: seg[3] });
        }
      }
    });
    const thin = drawn > 400;
    // Weakest first for both signs, so the strongest edges end on top whatever their sign.
    for (let b = 0; b < WIDTH_BUCKETS; b++) {
      for (let sign = 0; sign < 2; sign++) {
        const segs = paths[sign][b];
        if (!segs.length) continue;
        const strength = (b + 0.5) / WIDTH_BUCKETS;
        for (const dimmed of [false, true]) {
          ctx.beginPath();
          let any = false;
          for (const s of segs) {
            if (s[4] !== dimmed) continue;
            ctx.moveTo(s[0], s[1]);
            ctx.lineTo(s[2], s[3]);
            any = true;
          }
          if (!any) continue;
          ctx.lineWidth = thin ? 0.4 + strength * 1.6 : 0.6 + strength * 5;
          ctx.strokeStyle = signColor(sign === 0 ? 1 : -1, (dimmed ? 0.12 : 0.25 + 0.65 * strength) * (thin ? 0.7 : 1));
          ctx.stroke();
        }
      }
    }
    this.drawnEdges = hits;
    this.exposeEdgeProbes(hits);
  }

  drawNeurons(ctx, layout, values, ov) {
    const r = layout.radius;
    const deltaScale = values?.delta ? Math.max(1e-12, ...values.delta.filter(Boolean).map((d) => maxAbsVec(d))) : 1;
    const showValues = ov && r >= 9;
    this.layers.forEach((count, l) => {
      const col = layout.columns[l];
      const act = values?.act ? values.act[l] : null;
      const delta = values?.delta ? values.delta[l] : null;
      const actScale = act ? Math.max(1, maxAbsVec(act)) : 1;
      const active = ov && ov.activeLayer === l;
      for (let j = 0; j < count; j++) {
        const y = col.ys[j];
        ctx.beginPath();
        ctx.arc(col.x, y, r, 0, Math.PI * 2);
        ctx.fillStyle = act ? diverging(act[j] / actScale) : "#eef2f7";
        ctx.fill();
        if (this.maps) this.maps.drawNeuron(ctx, l, j, col.x, y, r);
        if (r >= 3) {
          ctx.lineWidth = active ? 2.5 : 1;
          ctx.strokeStyle = active ? INK : "#94a3b8";
          ctx.stroke();
        }
        if (delta && r >= 4 && Number.isFinite(delta[j])) {
          const k = Math.abs(delta[j]) / deltaScale;
          ctx.beginPath();
          ctx.arc(col.x, y, r + 2 + k * 3, 0, Math.PI * 2);
          ctx.lineWidth = 1 + k * 4;
          ctx.strokeStyle = signColor(delta[j], 0.35 + 0.65 * k);
          ctx.stroke();
        }
        if (showValues && (act || delta)) this.drawValue(ctx, col.x, y, r, ov, l, j, act, delta);
      }
    });
  }

  drawValue(ctx, x, y, r, ov, l, j, act, delta) {
    const text = ov.show === "delta" && delta ? `δ ${fmt(delta[j], 3)}` : act ? fmt(act[j], 3) : "";
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillStyle = ov.activeLayer === l ? INK : MUTED;
    ctx.fillText(text, x, y + r + 6);
  }

  // Two short lines per layer ("hidden 4" over "sigmoid") so captions never collide on a phone.
  drawCaptions(ctx, layout) {
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = MUTED;
    const last = this.layers.length - 1;
    const width = this.canvas.getBoundingClientRect().width;
    this.layers.forEach((count, l) => {
      const kind = l === 0 ? "input" : l === last ? "output" : "hidden";
      const x = Math.min(Math.max(layout.columns[l].x, 28), width - 28);
      ctx.fillText(`${kind} ${count}`, x, layout.captionY - 13);
      if (l > 0) ctx.fillText(this.activations[l - 1], x, layout.captionY);
    });
  }

  setNote(total, drawn) {
    const text =
      drawn < total
        ? `Large network: drawing the ${fmtInt(drawn)} strongest of ${fmtInt(total)} weights (the strongest of each layer, so every layer shows); hover works on the drawn edges.`
        : "";
    if (this.note && this.note.textContent !== text) this.note.textContent = text;
  }

  // A few edge positions for tests and keyboard-less probing: "l,i,j,x,y" in CSS pixels.
  exposeEdgeProbes(hits) {
    const probes = [];
    const seen = new Set();
    for (const h of hits) {
      if (seen.has(h.l)) continue;
      seen.add(h.l);
      probes.push(
        [h.l, h.i, h.j, (h.x1 * 0.7 + h.x2 * 0.3).toFixed(1), (h.y1 * 0.7 + h.y2 * 0.3).toFixed(1)].join(","),
      );
    }
    this.canvas.dataset.edgeProbes = probes.join(";");
  }
}

function maxAbsVec(v) {
  let m = 0;
  for (let k = 0; k < v.length; k++) if (Math.abs(v[k]) > m) m = Math.abs(v[k]);
  return m;
}
