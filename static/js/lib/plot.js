// Simple x/y axes for the small charts (data view, descent page).
import { FONT, GRID, INK, MUTED, niceTicks } from "./canvas.js";
import { fmt } from "./format.js";

const PAD = { left: 44, right: 12, top: 10, bottom: 24 };

// Axes with nice ticks; returns the data -> pixel maps.
export function plotFrame(ctx, width, height, [x0, x1], [y0, y1], pad = PAD) {
  if (x1 - x0 < 1e-12) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1];
  const padY = (y1 - y0) * 0.06;
  y0 -= padY;
  y1 += padY;
  ctx.font = FONT;
  // Wide tick labels (2.50e+5) widen the left margin rather than run off the canvas.
  const yTicks = niceTicks(y0, y1, 4).map((t) => [t, fmt(t, 3)]);
  const widest = Math.max(0, ...yTicks.map(([, label]) => ctx.measureText(label).width));
  pad = { ...pad, left: Math.max(pad.left, Math.ceil(widest) + 10) };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const px = (x) => pad.left + ((x - x0) / (x1 - x0)) * w;
  const py = (y) => pad.top + h - ((y - y0) / (y1 - y0)) * h;
  ctx.lineWidth = 1;
  ctx.fillStyle = MUTED;
  ctx.strokeStyle = GRID;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const [t, label] of yTicks) {
    const y = Math.round(py(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + w, y);
    ctx.stroke();
    ctx.fillText(label, pad.left - 5, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(x0, x1, 5)) ctx.fillText(fmt(t, 3), px(t), pad.top + h + 5);
  ctx.strokeStyle = "#94a3b8";
  ctx.beginPath();
  ctx.moveTo(pad.left + 0.5, pad.top);
  ctx.lineTo(pad.left + 0.5, pad.top + h + 0.5);
  ctx.lineTo(pad.left + w, pad.top + h + 0.5);
  ctx.stroke();
  ctx.fillStyle = INK;
  return { px, py, x0, x1, y0, y1, left: pad.left, top: pad.top, w, h };
}
