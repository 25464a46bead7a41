// f(x) against step on the descent page: a plain line chart of the trail so far.
import { fitCanvas, tracePath } from "../lib/canvas.js";
import { NEG } from "../lib/colors.js";
import { plotFrame } from "../lib/plot.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";

export class StepChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.points = [];
    this.scheduler = new FrameScheduler(() => this.draw());
    redrawOnResize(canvas, this.scheduler);
  }

  update(points) {
    this.points = points;
    this.scheduler.request();
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    const pts = this.points.filter((p) => Number.isFinite(p.y));
    if (!pts.length) return;
    const ys = pts.map((p) => p.y);
    const f = plotFrame(ctx, width, height, [0, Math.max(10, pts.at(-1).step)], [Math.min(0, ...ys), Math.max(...ys)]);
    ctx.strokeStyle = `rgb(${NEG.join(",")})`;
    ctx.lineWidth = 2;
    tracePath(
      ctx,
      pts.map((p) => [f.px(p.step), f.py(p.y)]),
    );
    ctx.stroke();
    ctx.fillStyle = `rgb(${NEG.join(",")})`;
    for (const p of pts) {
      ctx.beginPath();
      ctx.arc(f.px(p.step), f.py(p.y), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}
