// A tiny loss curve for the runs list: log scale, thinned to the canvas width.
import { fitCanvas } from "../lib/canvas.js";

export function drawSparkline(canvas, values) {
  const { ctx, width, height } = fitCanvas(canvas);
  const logs = values.filter((v) => v !== null && v > 0).map(Math.log10);
  if (logs.length < 2) return;
  const stride = Math.max(1, Math.floor(logs.length / width));
  const pts = logs.filter((_, k) => k % stride === 0 || k === logs.length - 1);
  const lo = Math.min(...pts);
  const hi = Math.max(...pts);
  const span = hi - lo || 1;
  ctx.strokeStyle = "#1d6fd6";
  ctx.lineWidth = 1.4;
  ctx.beginPath();
  pts.forEach((v, k) => {
    const x = (k / (pts.length - 1)) * (width - 2) + 1;
    const y = height - 2 - ((v - lo) / span) * (height - 4);
    if (k) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
  });
  ctx.stroke();
}
