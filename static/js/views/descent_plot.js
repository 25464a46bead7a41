// The descent picture: the curve y = f(x), the trail of steps, the current point and its tangent
// with the slope written beside it.
import { FONT, fitCanvas, INK, tracePath } from "../lib/canvas.js";
import { NEG, POS } from "../lib/colors.js";
import { fmt } from "../lib/format.js";
import { plotFrame } from "../lib/plot.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";

export class DescentPlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.fn = null;
    this.trail = [];
    this.range = [-4, 4];
    this.scheduler = new FrameScheduler(() => this.draw());
    redrawOnResize(canvas, this.scheduler);
  }

  // A fixed x range for the session so the picture does not jump while stepping.
  reset(fn, trace) {
    this.fn = fn;
    const xs = trace.map((p) => p.x).filter(Number.isFinite);
    if (!xs.length) xs.push(0); // no trace (the inputs were refused): an empty picture
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const pad = Math.max(1.5, (hi - lo) * 0.35);
    this.range = [lo - pad, hi + pad];
    this.trail = [];
  }

  update(trail) {
    this.trail = trail;
    this.scheduler.request();
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    const [x0, x1] = this.range;
    const curve = [];
    if (this.fn) {
      for (let k = 0; k <= 300; k++) {
        const x = x0 + ((x1 - x0) * k) / 300;
        const y = this.fn(x);
        if (Number.isFinite(y)) curve.push([x, y]);
      }
    }
    const ys = curve
      .map((p) => p[1])
      .concat(this.trail.map((p) => p.y))
      .filter(Number.isFinite);
    if (!ys.length) return;
    const f = plotFrame(ctx, width, height, [x0, x1], [Math.min(...ys), Math.max(...ys)]);
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.left, f.top, f.w, f.h);
    ctx.clip();
    ctx.strokeStyle = INK;
    ctx.lineWidth = 2;
    tracePath(
      ctx,
      curve.map(([x, y]) => [f.px(x), f.py(y)]),
    );
    ctx.stroke();
    this.drawTrail(ctx, f);
    const cur = this.trail.at(-1);
    if (cur) this.drawTangent(ctx, f, cur);
    ctx.restore();
  }

  drawTrail(ctx, f) {
    const n = this.trail.length;
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = `rgba(${NEG.join(",")},.55)`;
    tracePath(
      ctx,
      this.trail.map((p) => [f.px(p.x), f.py(p.y)]),
    );
    ctx.stroke();
    this.trail.forEach((p, k) => {
      ctx.beginPath();
      ctx.arc(f.px(p.x), f.py(p.y), 3, 0, Math.PI * 2);
      ctx.fillStyle = `rgba(${NEG.join(",")},${0.25 + (0.6 * (k + 1)) / n})`;
      ctx.fill();
    });
  }

  drawTangent(ctx, f, p) {
    const span = (f.x1 - f.x0) * 0.18;
    ctx.strokeStyle = `rgb(${POS.join(",")})`;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(f.px(p.x - span), f.py(p.y - p.slope * span));
    ctx.lineTo(f.px(p.x + span), f.py(p.y + p.slope * span));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(f.px(p.x), f.py(p.y), 6, 0, Math.PI * 2);
    ctx.fillStyle = `rgb(${POS.join(",")})`;
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.font = `600 ${FONT}`;
    ctx.fillStyle = INK;
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    const right = f.px(p.x) < f.left + f.w * 0.7;
    ctx.textAlign = right ? "left" : "right";
    ctx.fillText(`slope ${fmt(p.slope, 4)}`, f.px(p.x) + (right ? 12 : -12), f.py(p.y) - 8);
  }
}
