// Hover and keyboard inspection of the network view: finds the neuron or edge under the pointer
// (or the next one with ↑/↓) and writes its numbers into the tooltip. Reads the view's state,
// never changes it.
import { edgeText, neuronText } from "./network_tooltip.js";

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
    this.view.layout.columns.forEach((col, l) => col.ys.forEach((y, j) => items.push({ hit: { kind: "neuron", l, j }, x: col.x, y })));
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
    const box = this.canvas.getBoundingClientRect();
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    const left = x + 14 + tw > box.width ? Math.max(0, x - tw - 14) : x + 14;
    const top = Math.min(Math.max(0, y + 14), Math.max(0, box.height - th));
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
    const ov = this.view.overlay;
    const act = ov ? ov.act && ov.act[hit.l] : this.view.neurons && this.view.neurons.act[hit.l];
    const grads = ov ? ov.gradients : this.view.gradients;
    const deltas = ov ? ov.batchDeltas : this.view.deltas;
    return edgeText({
      l: hit.l, i: hit.i, j: hit.j, w: hit.value,
      gradient: grads ? grads[hit.l].get(hit.i, hit.j) : null,
      delta: deltas ? deltas[hit.l][hit.j] : null,
      activation: act ? act[hit.i] : null,
      lr: ov ? ov.learningRate : this.view.learningRate,
      sampleLabel: ov ? ov.label : this.view.sampleLabel(),
      historical: this.view.historical && !ov,
    });
  }

  neuronHtml(hit) {
    const ov = this.view.overlay;
    const n = this.view.neurons;
    const pick = (arr) => (arr && arr[hit.l] ? arr[hit.l][hit.j] : null);
    const data = ov
      ? { net: pick(ov.net), activation: pick(ov.act), dact: pick(ov.dact), delta: pick(ov.delta) }
      : {
          net: n && hit.l > 0 ? n.net[hit.l - 1][hit.j] : null,
          activation: n ? n.act[hit.l][hit.j] : null,
          dact: n && hit.l > 0 ? n.dact[hit.l - 1][hit.j] : null,
          delta: this.view.deltas && hit.l > 0 && !this.view.historical ? this.view.deltas[hit.l - 1][hit.j] : null,
        };
    return neuronText({
      l: hit.l, j: hit.j, isInput: hit.l === 0, ...data,
      fname: hit.l > 0 ? this.view.activations[hit.l - 1] : "",
      sampleLabel: ov ? ov.label : this.view.sampleLabel(),
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

