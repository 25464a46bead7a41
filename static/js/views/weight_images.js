// For 8×8 digits: each first-layer neuron's 64 incoming weights drawn as an 8×8 image (blue
// positive, orange negative, each image scaled to its own largest |w|), redrawn as it learns.
// Pixel i of the image is input i, the digit's pixels in reading order.
import { divergingRGB } from "../lib/colors.js";

const SIDE = 8;
const MAX_SHOWN = 32; // neurons drawn; a wider first layer shows its first 32

export class WeightImages {
  constructor(container) {
    this.container = container;
    this.canvases = [];
  }

  // state.weights[0]: a Matrix of 64 rows (inputs) × one column per first-layer neuron.
  update(state) {
    const w = state.weights?.[0];
    if (!w || w.rows !== SIDE * SIDE) return;
    this.ensure(Math.min(w.cols, MAX_SHOWN));
    this.canvases.forEach((canvas, j) => {
      let scale = 0;
      for (let i = 0; i < w.rows; i++) scale = Math.max(scale, Math.abs(w.get(i, j)) || 0);
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(SIDE, SIDE);
      for (let i = 0; i < w.rows; i++) {
        const [r, g, b] = divergingRGB(scale ? w.get(i, j) / scale : 0);
        image.data.set([r, g, b, 255], 4 * i);
      }
      ctx.putImageData(image, 0, 0);
    });
  }

  ensure(count) {
    if (this.canvases.length === count) return;
    this.container.hidden = false;
    this.canvases = Array.from({ length: count }, (_, j) => {
      const canvas = document.createElement("canvas");
      canvas.width = SIDE;
      canvas.height = SIDE;
      canvas.title = `hidden neuron ${j}: its 64 incoming weights`;
      canvas.dataset.neuron = String(j);
      return canvas;
    });
    this.container.querySelector("[data-images]").replaceChildren(...this.canvases);
  }
}
