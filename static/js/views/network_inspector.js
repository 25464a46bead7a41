// Hover and keyboard inspection of the network view: finds the neuron or edge under the pointer
// (or the next one with ↑/↓) and writes its numbers into the tooltip. Reads the view's state,
// never changes it.
import { fmtInt } from "../lib/format.js";
import { afterUpdate, edgeText, edgeTextExplained, neuronText, weightsAt } from "./network_tooltip.js";

export class NetworkInspector {
  constructor(view, canvas, tooltip) {
    this.view = view;
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.hover = null;
    this.keyIndex = -1;
    canvas.addEventListener("mousemove", (e) => this.onPointer(e));
    canvas.addEventListener("mouseleave", () => this.hideTooltip());
    canvas.addEventListener("keydown", (e) => this.onKey(e));
    canvas.addEventListener("blur", () => this.hideTooltip());
  }

  // After a redraw the numbers under a resting pointer may have changed.
  refresh() {
    if (this.hover) this.showTooltip(this.hover);
  }

  // Keyboard users inspect with ↑/↓ (neurons, then drawn edges) and Esc; ← → stay "step".
  onKey(event) {
    if (event.key === "Escape") return this.hideTooltip();
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const items = this.inspectables();
    if (!items.length) return;
    this.keyIndex = (this.keyIndex + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
    const item = items[this.keyIndex];
    this.hover = null;
    this.renderTooltip(item.hit, item.x, item.y);
  }

  inspectables() {
    if (!this.view.layout) return [];
    const items = [];
    for (const [l, col] of this.view.layout.columns.entries()) {
      for (const [j, y] of col.ys.entries()) items.push({ hit: { kind: "neuron", l, j }, x: col.x, y });
    }
    const weights = this.view.shownWeights();
    for (const e of this.view.drawnEdges) {
      const hit = { kind: "edge", ...e, value: weights[e.l].get(e.i, e.j) };
      items.push({ hit, x: e.x1 * 0.7 + e.x2 * 0.3, y: e.y1 * 0.7 + e.y2 * 0.3 });
    }
    return items;
  }

  onPointer(event) {
    const rect = this.canvas.getBoundingClientRect();
    this.hover = { x: event.clientX - rect.left, y: event.clientY - rect.top };
    this.showTooltip(this.hover);
  }

  showTooltip({ x, y }) {
    const hit = this.hitNeuron(x, y) || this.hitEdge(x, y);
    if (!hit) return this.hideTooltip(false);
    this.renderTooltip(hit, x, y);
  }

  renderTooltip(hit, x, y) {
    this.tooltip.innerHTML = hit.kind === "edge" ? this.edgeHtml(hit) : this.neuronHtml(hit);
    Object.assign(this.tooltip.dataset, { kind: hit.kind, l: hit.l, i: hit.i ?? "", j: hit.j, value: hit.value ?? "" });
    this.tooltip.hidden = false;
    this.place(this.itemArea(hit, x, y));
  }

  // The circle the tooltip must leave uncovered: a neuron with its δ ring, or the hovered
  // stretch of an edge.
  itemArea(hit, x, y) {
    const layout = this.view.layout;
    if (hit.kind === "neuron" && layout) {
      const col = layout.columns[hit.l];
      return { cx: col.x, cy: col.ys[hit.j], r: layout.radius + 12 };
    }
    return { cx: x, cy: y, r: 10 };
  }

  // Beside the item (right, left), else below or above it: the first place that fits the
  // canvas's width without covering the item. On a phone the tooltip is as wide as the canvas,
  // so it goes below or above.
  place({ cx, cy, r }) {
    const box = this.canvas.getBoundingClientRect();
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    const gap = 6;
    const clampX = (left) => Math.min(Math.max(0, left), Math.max(0, box.width - tw));
    const clampY = (top) => Math.min(Math.max(0, top), Math.max(0, box.height - th));
    const spots = [
      ["right", cx + r + gap, clampY(cy - th / 2), cx + r + gap + tw <= box.width],
      ["left", cx - r - gap - tw, clampY(cy - th / 2), cx - r - gap - tw >= 0],
      ["below", clampX(cx - tw / 2), cy + r + gap, cy + r + gap + th <= box.height],
      ["above", clampX(cx - tw / 2), cy - r - gap - th, cy - r - gap - th >= 0],
    ];
    // Nothing fits inside the canvas: below the item, spilling under the canvas's lower edge.
    const [where, left, top] = spots.find((s) => s[3]) || ["below", clampX(cx - tw / 2), cy + r + gap];
    this.tooltip.dataset.placement = where;
    this.tooltip.style.setProperty("left", `${left}px`);
    this.tooltip.style.setProperty("top", `${top}px`);
  }

  hideTooltip(forget = true) {
    if (forget) this.hover = null;
    this.tooltip.hidden = true;
  }

  hitNeuron(x, y) {
    if (!this.view.layout) return null;
    const r = Math.max(this.view.layout.radius + 3, 6);
    for (let l = 0; l < this.view.layout.columns.length; l++) {
      const col = this.view.layout.columns[l];
      if (Math.abs(x - col.x) > r) continue;
      for (let j = 0; j < col.ys.length; j++) {
        if (Math.hypot(x - col.x, y - col.ys[j]) <= r) return { kind: "neuron", l, j };
      }
    }
    return null;
  }

  hitEdge(x, y) {
    let best = null;
    let bestDist = 6;
    for (const e of this.view.drawnEdges) {
      const d = segmentDistance(x, y, e.x1, e.y1, e.x2, e.y2);
      if (d < bestDist) {
        bestDist = d;
        best = e;
      }
    }
    if (!best) return null;
    return { kind: "edge", ...best, value: this.view.shownWeights()[best.l].get(best.i, best.j) };
  }

  edgeHtml(hit) {
    const view = this.view;
    const ov = view.overlay;
    if (ov) return this.explainedEdgeHtml(hit, ov);
    const prev = view.previousWeights;
    return edgeText({
      l: hit.l,
      i: hit.i,
      j: hit.j,
      w: hit.value,
      step: view.step,
      historical: view.historical,
      gradient: view.gradients ? view.gradients[hit.l].get(hit.i, hit.j) : null,
      rate: view.updateRate,
      nextRate: view.learningRate,
      momentum: view.momentum,
      wBefore: prev ? prev[hit.l].get(hit.i, hit.j) : null,
      batch: view.batchWords(),
      perSample: view.perSampleHint,
      variant: view.variant,
    });
  }

  // An explained update: every factor is this sample's, at the weights before the update.
  explainedEdgeHtml(hit, ov) {
    const sampleDelta = ov.delta?.[hit.l + 1] ? ov.delta[hit.l + 1][hit.j] : null;
    const known = sampleDelta !== null && ov.gradients;
    return edgeTextExplained({
      l: hit.l,
      i: hit.i,
      j: hit.j,
      w: hit.value,
      phase: ov.phase,
      wOld: ov.oldWeights[hit.l].get(hit.i, hit.j),
      wNew: ov.newWeights[hit.l].get(hit.i, hit.j),
      step: ov.step,
      sample: ov.sample,
      batchSize: ov.batchSize,
      a: ov.act?.[hit.l] ? ov.act[hit.l][hit.i] : null,
      delta: sampleDelta,
      gradient: known ? ov.gradients[hit.l].get(hit.i, hit.j) : null,
      rate: ov.learningRate,
      momentum: ov.momentum,
      variant: ov.variant,
    });
  }

  neuronHtml(hit) {
    const view = this.view;
    const ov = view.overlay;
    const base = {
      l: hit.l,
      j: hit.j,
      isInput: hit.l === 0,
      fname: hit.l > 0 ? view.activations[hit.l - 1] : "",
      noBias: view.bias === false,
      variant: view.variant,
    };
    const pick = (arr, l = hit.l) => (arr?.[l] ? arr[l][hit.j] : null);
    if (ov) {
      const sampleDelta = pick(ov.delta);
      return neuronText({
        ...base,
        values: { net: pick(ov.net), activation: pick(ov.act), dact: pick(ov.dact) },
        mean: 0,
        sample: ov.sample,
        sampleName: `sample ${ov.sample} of the batch`,
        where: `in this update's forward pass (at ${weightsAt(ov.step)})`,
        sampleDelta,
        deltaSum: sampleDelta !== null && ov.batchDeltas ? pick(ov.batchDeltas, hit.l - 1) : null,
        sumNote: `   (over the ${ov.batchSize} samples of the batch)`,
        deltaNote: hit.l > 0 && sampleDelta === null ? "δ: once the backward pass reaches this layer" : "",
      });
    }
    const n = view.neurons;
    const withDelta = hit.l > 0 && view.deltas && !view.historical;
    let deltaNote = "";
    if (hit.l > 0 && !withDelta)
      deltaNote = view.historical
        ? "δ: not kept for past steps"
        : "δ: shown once an update is made here (step or play)";
    const mean = view.sample === "mean" ? view.meanCount() : 0;
    const hint = view.perSampleHint ? `; one sample's δ is in ${view.perSampleHint}` : "";
    return neuronText({
      ...base,
      values: n
        ? {
            net: hit.l > 0 ? n.net[hit.l - 1][hit.j] : null,
            activation: n.act[hit.l][hit.j],
            dact: hit.l > 0 ? n.dact[hit.l - 1][hit.j] : null,
          }
        : null,
      mean,
      sample: view.sample,
      sampleName: `training row ${view.sample}`, // the followed sample is a row of the training set
      where: `under the weights shown (${afterUpdate(view.step)})`,
      deltaHead: `<b>update ${fmtInt(view.step)}</b>, made at ${weightsAt(view.step - 1)}, on ${view.batchWords()}:`,
      deltaSum: withDelta ? view.deltas[hit.l - 1][hit.j] : null,
      sumNote: mean
        ? "   (a sum over that batch)"
        : `   (a sum over that batch, not training row ${view.sample}'s δ${hint})`,
      deltaNote,
    });
  }
}

function segmentDistance(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len2 = dx * dx + dy * dy || 1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}
