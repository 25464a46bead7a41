// The input neurons' names (x1, x2, x1*x2, sin(x1), …) written left of their circles, right-aligned
// so that long names grow away from the network; the canvas carries them for tests.
import { FONT, INK } from "../lib/canvas.js";

export function drawInputNames(ctx, layout, names, canvas) {
  const column = layout.columns[0];
  ctx.font = FONT;
  ctx.fillStyle = INK;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  names.forEach((name, i) => {
    if (i < column.ys.length) ctx.fillText(name, column.x - layout.radius - 4, column.ys[i]);
  });
  canvas.dataset.inputNames = names.join(",");
}
