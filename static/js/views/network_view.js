// The network, drawn on one canvas: edges by sign (blue +, orange −) and |w|, neurons filled by
// activation (one sample or the mean over the data) with a ring for δ. Fed by update(frame);
// draws at most once per animation frame.
//
// Scales stay put while the run trains, so a shrinking gradient looks smaller: edge width is
// |w| against a scale fixed from the first weights this view is given (a round number, shown in
// the legend), and a δ ring's size is log10 |δ| between DELTA_FLOOR and DELTA_CEILING, the same
// for every run. What was drawn is written on the canvas element (data-phase, data-rings, …) so
// tests read the view's model instead of pixels.
import { FONT, fitCanvas, INK, MUTED } from "../lib/canvas.js";
import { diverging, signColor } from "../lib/colors.js";
import { fmt, fmtInt } from "../lib/format.js";
import { forwardSample, meanOverBatch, neuronHealth } from "../lib/forward.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";
import { drawInputNames } from "./input_names.js";
import { NetworkInspector } from "./network_inspector.js";
import { EDGE_BUDGET, layoutNeurons, maxAbs, strengthThresholds } from "./network_layout.js";

const WIDTH_BUCKETS = 8;
// The mean colouring runs a forward pass per sample; cap the multiply-adds so big nets stay fast.
const MEAN_BUDGET = 400_000;
// δ rings: |δ| at or above the ceiling draws the widest ring, at or below the floor none.
export const DELTA_CEILING = 1;
export const DELTA_FLOOR = 1e-6;
const RING_GROWTH = 7; // px the ring's radius grows from the floor to the ceiling
const RINGS_LISTED = 256; // neurons whose ring radius is written into data-rings
const PULSE_MS = 1400; // one pass of the backward pulse along the edges
const PULSE_DOTS = 400;

export class NetworkView {
  // legend: optional element the view writes its scales into.
  constructor(canvas, tooltip, note, legend = null) {
    this.canvas = canvas;
    this.note = note;
    this.legend = legend;
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
    this.variant = "standard";
    this.samples = [];
    this.sample = "mean";
    this.neurons = null; // {net, act, dact} for the chosen sample, recomputed when weights change
    this.health = null; // {saturated, dead}: [[l, j], ...], recomputed with the neurons
    this.edgeScale = null; // |w| drawn at full width; fixed by the first weights
    this.overlay = null;
    this.pulseStart = 0;
    this.historical = false;
    this.drawnEdges = [];
    this.rings = []; // [[l, j, radius]] of the δ rings last drawn (radius 0: no ring)
    this.maps = null; // per-neuron pictures (views/neuron_maps.js), drawn inside the circles
    this.inspector = new NetworkInspector(this, canvas, tooltip);
    this.scheduler = new FrameScheduler(() => this.draw());
    this.canvas.dataset.phase = "none";
    redrawOnResize(canvas, this.scheduler);
  }

  // The weights on screen: the overlay's while an update is explained, else the live (or past) ones.
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

  // How the run updates, for the hover's words: {momentum, batchSize (null: full batch),
  // perSampleHint, bias, variant}.
  setTraining({ momentum = 0, batchSize = null, perSampleHint = null, bias = true, variant = "standard" }) {
    Object.assign(this, { momentum, batchSize, perSampleHint, bias, variant });
  }

  // frame: {step, weights: Matrix[], biases: Float64Array[], deltas?, gradients?, updateRate?
  // (the α that made them), previousWeights? (the weights after step − 1), historical?}
  update(frame) {
    if (frame.weights) this.weights = frame.weights;
    if (frame.biases) this.biases = frame.biases;
    if (frame.step !== undefined) this.step = frame.step;
    if (this.edgeScale === null && this.weights) this.edgeScale = roundUp(maxAbs(this.weights));
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

  // An explained update takes over the colouring and the hover: see explain_phases.js overlayFor.
  setOverlay(overlay) {
    const pulse = overlay?.pulse && overlay.id !== this.overlay?.id;
    this.overlay = overlay;
    this.canvas.dataset.phase = overlay ? overlay.id : "none";
    if (pulse) this.pulseStart = performance.now();
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
    this.health = null;
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

  computeHealth() {
    if (!this.weights || !this.samples.length) return { saturated: [], dead: [] };
    return neuronHealth(this.weights, this.biases, this.activations, this.samples.slice(0, this.meanCount()));
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    if (!this.layers || !this.weights) return;
    performance.mark("network-draw-start");
    const ov = this.overlay;
    const weights = ov?.weights ? ov.weights : this.weights;
    if (!ov && !this.neurons) this.neurons = this.computeNeurons();
    if (!this.health) this.health = this.computeHealth();
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
    if (ov?.pulse) this.drawPulse(ctx, layout, weights, ov);
    this.drawNeurons(ctx, layout, values, ov);
    this.drawHealth(ctx, layout);
    this.drawCaptions(ctx, layout);
    if (this.inputNames) drawInputNames(ctx, layout, this.inputNames, this.canvas);
    this.expose();
    performance.mark("network-draw-end");
    performance.measure("network-draw", "network-draw-start", "network-draw-end");
    this.inspector.refresh();
  }

  drawEdges(ctx, layout, weights, ov) {
    const scale = this.edgeScale || 1;
    const { thresholds, total, drawn } = strengthThresholds(weights, EDGE_BUDGET, maxAbs(weights) || 1);
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

  // The backward pass made visible: dots carry δ from layer to + 1 back along the edges into
  // layer `to` (from the loss into the output layer first). Coloured by the sign of the δ they
  // carry; one pass, then they rest at the receiving end.
  drawPulse(ctx, layout, weights, ov) {
    const elapsed = performance.now() - this.pulseStart;
    const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
    const t = reduced ? 1 : Math.min(1, elapsed / PULSE_MS);
    const eased = 1 - (1 - t) ** 2;
    const { to } = ov.pulse;
    const target = layout.columns[to];
    const carried = ov.delta?.[to + 1];
    ctx.save();
    if (to === this.layers.length - 1) {
      const x0 = Math.min(target.x + 70, this.canvas.getBoundingClientRect().width - 4);
      const sampleDeltas = ov.delta?.[to];
      for (const [j, y] of target.ys.entries())
        this.pulseDot(ctx, x0 + (target.x - x0) * eased, y, sampleDeltas?.[j] ?? 0);
    } else {
      const source = layout.columns[to + 1];
      const W = weights[to];
      // A few hundred dots, spread over the whole layer, say it; thousands would be noise.
      const stride = Math.max(1, Math.ceil((W.rows * W.cols) / PULSE_DOTS));
      for (let k = 0; k < W.rows * W.cols; k += stride) {
        const i = Math.floor(k / W.cols);
        const j = k % W.cols;
        const x = source.x + (target.x - source.x) * eased;
        const y = source.ys[j] + (target.ys[i] - source.ys[j]) * eased;
        this.pulseDot(ctx, x, y, carried ? carried[j] : 0);
      }
    }
    ctx.restore();
    this.canvas.dataset.pulse = t < 1 ? "moving" : "arrived";
    if (t < 1) this.scheduler.request();
  }

  pulseDot(ctx, x, y, value) {
    ctx.beginPath();
    ctx.arc(x, y, 3.5, 0, Math.PI * 2);
    ctx.fillStyle = signColor(value, 0.95);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#ffffff";
    ctx.stroke();
  }

  drawNeurons(ctx, layout, values, ov) {
    const r = layout.radius;
    const showValues = ov && r >= 9;
    this.rings = [];
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
        if (delta && Number.isFinite(delta[j])) {
          const k = ringStrength(delta[j]);
          const radius = k > 0 ? r + 2 + k * RING_GROWTH : 0;
          if (this.rings.length < RINGS_LISTED) this.rings.push([l, j, radius]);
          if (k > 0 && r >= 4) {
            ctx.beginPath();
            ctx.arc(col.x, y, radius, 0, Math.PI * 2);
            ctx.lineWidth = 0.8 + k * 3.5;
            ctx.strokeStyle = signColor(delta[j], 0.35 + 0.65 * k);
            ctx.stroke();
          }
        }
        if (showValues && (act || delta)) this.drawValues(ctx, col.x, y, r, ov, l, j, values);
      }
    });
  }

  // Under each neuron, what the phase has computed for it: net and a where the forward pass is,
  // a elsewhere, δ once the backward pass has reached it.
  drawValues(ctx, x, y, r, ov, l, j, values) {
    const lines = [];
    const delta = values.delta?.[l];
    const ys = this.layout.columns[l].ys;
    const room = ys.length > 1 ? ys[1] - ys[0] - 2 * r - 9 : Infinity; // px below the neuron
    if (ov.show === "delta" && delta) lines.push(`δ ${fmt(delta[j], 3)}`);
    else if (ov.activeLayer === l && ov.show === "act" && l > 0 && values.net?.[l]) {
      const net = fmt(values.net[l][j], 3);
      const a = fmt(values.act[l][j], 3);
      if (room >= 26) lines.push(`net ${net}`, `a ${a}`);
      else lines.push(`${net} → ${a}`); // net → a, when two lines would run into the next neuron
    } else if (values.act?.[l]) lines.push(fmt(values.act[l][j], 3));
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillStyle = ov.activeLayer === l ? INK : MUTED;
    for (const [k, text] of lines.entries()) ctx.fillText(text, x, y + r + 9 + k * 13);
  }

  // Saturated neurons get a small "s" badge, dead ReLUs a cross: both pass no δ back.
  drawHealth(ctx, layout) {
    const r = layout.radius;
    if (r < 4) return;
    ctx.save();
    ctx.font = `bold ${FONT}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const [l, j] of this.health.saturated) {
      const x = layout.columns[l].x + r * 0.8;
      const y = layout.columns[l].ys[j] - r * 0.8;
      ctx.beginPath();
      ctx.arc(x, y, 6, 0, Math.PI * 2);
      ctx.fillStyle = "#475569";
      ctx.fill();
      ctx.fillStyle = "#ffffff";
      ctx.fillText("s", x, y);
    }
    ctx.strokeStyle = "#475569";
    ctx.lineWidth = 2;
    for (const [l, j] of this.health.dead) {
      const x = layout.columns[l].x;
      const y = layout.columns[l].ys[j];
      const d = r * 0.6;
      ctx.beginPath();
      ctx.moveTo(x - d, y - d);
      ctx.lineTo(x + d, y + d);
      ctx.moveTo(x + d, y - d);
      ctx.lineTo(x - d, y + d);
      ctx.stroke();
    }
    ctx.restore();
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

  // The view's model on the element, for the legend's readers and for tests.
  expose() {
    const data = this.canvas.dataset;
    data.edgeScale = String(this.edgeScale);
    data.deltaScale = `${DELTA_FLOOR},${DELTA_CEILING}`;
    data.rings = this.rings.map(([l, j, radius]) => `${l},${j},${radius.toFixed(3)}`).join(";");
    data.saturated = this.health.saturated.map((p) => p.join(",")).join(";");
    data.dead = this.health.dead.map((p) => p.join(",")).join(";");
    if (!this.overlay?.pulse) delete data.pulse;
    // The first neuron of each layer: "l,j,x,y,r" in CSS pixels, for pointing at one.
    data.neuronProbes = this.layout.columns
      .map((col, l) => `${l},0,${col.x.toFixed(1)},${col.ys[0].toFixed(1)},${this.layout.radius.toFixed(1)}`)
      .join(";");
    if (!this.legend) return;
    const text = `width |w|, widest at ≥ ${fmt(this.edgeScale, 3)} · ring log |δ|, ${fmt(DELTA_FLOOR, 1)} to ${fmt(DELTA_CEILING, 1)}`;
    if (this.legend.textContent !== text) this.legend.textContent = text;
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

// Where |δ| sits between the floor and the ceiling on a log scale: 0 (no ring) … 1 (widest).
export function ringStrength(delta) {
  const a = Math.abs(delta);
  if (!(a > DELTA_FLOOR)) return 0;
  const span = Math.log10(DELTA_CEILING) - Math.log10(DELTA_FLOOR);
  return Math.min(1, (Math.log10(a) - Math.log10(DELTA_FLOOR)) / span);
}

// The round number (1, 2 or 5 × 10^k) at or above m: the edge scale the legend can state.
function roundUp(m) {
  if (!(m > 0) || !Number.isFinite(m)) return 1;
  const mag = 10 ** Math.floor(Math.log10(m));
  return [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= m * (1 - 1e-12));
}

function maxAbsVec(v) {
  let m = 0;
  for (let k = 0; k < v.length; k++) if (Math.abs(v[k]) > m) m = Math.abs(v[k]);
  return m;
}
