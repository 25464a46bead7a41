// The input neurons' names (x1, x2, x1*x2, sin(x1), …): left of their circles, right-aligned so
// that long names grow away from the network; where the margin is too narrow for the longest (a
// phone), each sits just above its circle instead. The canvas carries them for tests.
import { FONT, INK } from "../lib/canvas.js";

export function drawInputNames(ctx, layout, names, canvas) {
  const column = layout.columns[0];
  const r = layout.radius;
  ctx.font = FONT;
  ctx.fillStyle = INK;
  const widest = Math.max(...names.map((name) => ctx.measureText(name).width));
  const beside = widest <= column.x - r - 6;
  ctx.textAlign = beside ? "right" : "left";
  ctx.textBaseline = beside ? "middle" : "bottom";
  names.forEach((name, i) => {
    if (i >= column.ys.length) return;
    if (beside) ctx.fillText(name, column.x - r - 4, column.ys[i]);
    else ctx.fillText(name, Math.max(2, column.x - ctx.measureText(name).width / 2), column.ys[i] - r - 1);
  });
  canvas.dataset.inputNames = names.join(",");
}
