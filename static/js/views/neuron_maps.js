// Per-neuron pictures (as in TensorFlow Playground): for 2-D data, each neuron's own activation over
// the input plane, drawn inside its circle by the network view and updated with every frame.
//
// How it stays fast: one small grid (CELLS × CELLS points of the plane) goes through the network
// once per new set of weights with forwardBatch, which computes a whole layer at a time (the grid's
// activations times the layer's weight matrix), so all the neurons of a layer cost one product, not
// one forward pass each: 256 × Σ fan-in × fan-out multiply-adds in all (about 0.3 M for 2-32-32-1).
// Each layer's values are then painted into one small canvas (its neurons' 16 × 16 pictures side
// by side, one putImageData a layer), from which the network view scales each neuron's square into
// its circle with drawImage. A redraw with unchanged weights (hover, resize) reuses the
// painted canvases; layers wider than the budget allows get a coarser grid, and networks whose
// circles are too small to show a picture skip the work altogether.
import { divergingRGB } from "../lib/colors.js";
import { forwardBatch } from "../lib/forward.js";
import { planeGrid } from "../lib/plane.js";

const CELLS = 16;
const MIN_CELLS = 6;
// Multiply-adds allowed for one pass of the grid through the network (~2 ms in Chromium).
const BUDGET = 2_000_000;
// Circles smaller than this radius (CSS pixels) get no picture: below it, a picture is a smudge.
const MIN_RADIUS = 4;

export class NeuronMaps {
  constructor(canvas) {
    this.canvas = canvas; // the network view's canvas, which carries the test hooks
    this.enabled = true;
    this.layers = null;
    this.activations = null;
    this.extent = 1;
    this.seen = null; // the weights the pictures were made from
    this.pictures = null; // [layer] -> a canvas of the layer's pictures side by side
  }

  // `inputs(grid, n)` turns the raw plane points into the network's inputs (the identity for
  // x1, x2; the named features otherwise).
  setModel(layers, activations, extent, inputs = (grid) => grid) {
    Object.assign(this, { layers, activations, extent, inputs, seen: null, pictures: null });
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.seen = null;
    this.pictures = null;
    this.canvas.dataset.neuronMaps = "0";
  }

  cells(weights) {
    const perPoint = weights.reduce((n, W) => n + W.data.length, 0);
    return Math.max(MIN_CELLS, Math.min(CELLS, Math.floor(Math.sqrt(BUDGET / Math.max(1, perPoint)))));
  }

  // Called by the network view before it draws: repaint the pictures if the weights changed.
  prepare(weights, biases, radius) {
    if (!this.enabled || !this.layers || radius < MIN_RADIUS) {
      this.seen = null;
      this.canvas.dataset.neuronMaps = "0";
      return;
    }
    if (weights === this.seen && this.pictures?.length) return;
    this.seen = weights;
    const cells = this.cells(weights);
    const n = cells * cells;
    const raw = planeGrid(cells, this.extent);
    const { acts } = forwardBatch(weights, biases, this.activations, this.inputs(raw, n), n);
    this.pictures = acts.map((a, l) => this.paintLayer(a, this.layers[l], l, cells));
    this.canvas.dataset.neuronMaps = String(this.layers.reduce((k, width) => k + width, 0));
    this.canvas.dataset.neuronMapCells = String(cells);
    this.canvas.dataset.neuronMapExtent = String(this.extent);
    // The first hidden neuron's value at the grid's top-left cell: a test recomputes it from the API.
    this.canvas.dataset.neuronMapCorner = acts.length > 1 ? String(acts[1][0]) : "";
  }

  // One canvas per layer (kept from frame to frame), its neurons' pictures side by side: one
  // putImageData a layer instead of one a neuron. a: the layer's activations, n × width, row-major.
  paintLayer(a, width, l, cells) {
    const scale = this.scaleOf(a, l);
    const atlas = this.pictures?.[l] || document.createElement("canvas");
    atlas.width = cells * width;
    atlas.height = cells;
    const ctx = atlas.getContext("2d");
    const image = ctx.createImageData(cells * width, cells);
    const row = cells * width;
    for (let k = 0; k < cells * cells; k++) {
      const r = Math.floor(k / cells);
      const c = k % cells;
      for (let j = 0; j < width; j++) {
        const [red, green, blue] = divergingRGB(scale(a[k * width + j]));
        const p = (r * row + j * cells + c) * 4;
        image.data[p] = red;
        image.data[p + 1] = green;
        image.data[p + 2] = blue;
        image.data[p + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    atlas.dataset.cells = String(cells);
    return atlas;
  }

  // Activation -> [−1, 1]: sigmoid and softmax from [0, 1], tanh as it is, the rest by the layer's
  // largest |value|, so white is 0.5 for the first two and 0 for the others.
  scaleOf(a, l) {
    const name = l === 0 ? "input" : this.activations[l - 1];
    if (name === "sigmoid" || name === "softmax") return (v) => 2 * v - 1;
    if (name === "tanh") return (v) => v;
    let m = 0;
    for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
    return (v) => v / (m || 1);
  }

  // Draw neuron (l, j)'s picture inside its circle, if there is one. Leaves the circle as the path.
  drawNeuron(ctx, l, j, x, y, r) {
    const atlas = this.seen && this.pictures?.[l];
    if (!atlas || j >= this.layers[l]) return;
    const cells = Number(atlas.dataset.cells);
    ctx.save();
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.clip();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(atlas, j * cells, 0, cells, cells, x - r, y - r, 2 * r, 2 * r);
    ctx.restore();
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
  }
}
