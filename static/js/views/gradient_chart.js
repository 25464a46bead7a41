// The size of each weight layer's gradient against step, on a log scale: one line per weight
// layer, ‖∂L/∂W⁽ˡ⁾‖ (the Frobenius norm) from every update frame's `gradients`. Vanishing
// gradients in a deep sigmoid network show as the early layers' lines sinking decades below the
// last one. Under the shortcut variant the numbers are the update direction's size, and the
// legend says so.
import { RUN_COLORS } from "../lib/colors.js";
import { updateTerms } from "../lib/terms.js";
import { LossChart } from "./loss_chart.js";

export class GradientChart {
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    this.chart = new LossChart(canvas, {
      overlay: true,
      empty: "Each layer's gradient size appears here from the next update on.",
    });
    this.lines = [];
  }

  // weightLayers: how many weight matrices the network has (layers − 1).
  setModel(weightLayers, variant) {
    const terms = updateTerms(variant);
    const symbol = terms.shortcut ? "g" : "∂L/∂W";
    this.lines = Array.from({ length: weightLayers }, (_, l) => {
      const k = l % RUN_COLORS.length;
      // Solid lines: a dash pattern over one segment per pixel column costs ~4 ms a redraw.
      return this.chart.addLine(RUN_COLORS[k], 1.6);
    });
    this.canvas.dataset.layers = String(weightLayers);
    this.legend.replaceChildren(
      ...this.lines.map((_, l) => {
        const span = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.className = `swatch swatch-line swatch-run-${l % RUN_COLORS.length}`;
        swatch.style.borderTopStyle = "solid";
        span.append(swatch, `‖${symbol}⁽${l}⁾‖ (layer ${l} → ${l + 1})`);
        return span;
      }),
    );
    this.legend.title = terms.norm;
  }

  // frame: {step, gradients: Matrix[]}; frames without gradients (state, a past step) add nothing.
  update(frame) {
    if (!frame.gradients || !this.lines.length) return;
    for (const [l, G] of frame.gradients.entries()) this.lines[l]?.push(frame.step, norm(G.data));
    this.chart.scheduler.request();
  }

  setMarker(step) {
    this.chart.setMarker(step);
  }
}

function norm(data) {
  let sum = 0;
  for (let k = 0; k < data.length; k++) sum += data[k] * data[k];
  return Math.sqrt(sum);
}
