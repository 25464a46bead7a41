// The descent picture: the curve y = f(x) as the server sampled it, the trail of steps, the current
// point and its tangent with the slope written beside it.
//
// The x range follows the points shown so far and only grows, when a point leaves it: so a
// descent that overshoots (α too large) is seen jumping from side to side and away, rather than
// shrunk into the middle of a range fitted ahead to the whole trace. The canvas carries the range
// drawn now as data-x-min and data-x-max, and the number of curve points drawn as data-curve-points.
import { FONT, fitCanvas, INK, tracePath } from "../lib/canvas.js";
import { NEG, POS } from "../lib/colors.js";
import { fmt } from "../lib/format.js";
import { plotFrame } from "../lib/plot.js";
import { FrameScheduler, redrawOnResize } from "../lib/scheduler.js";

// Room around the points: at least this many units, or this share of their spread.
const MIN_PAD = 3;
const PAD_SHARE = 0.35;

// The range that holds xs with room around them.
function fitRange(xs) {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = Math.max(MIN_PAD, (hi - lo) * PAD_SHARE);
  return [lo - pad, hi + pad];
}

export class DescentPlot {
  // onRange([xMin, xMax]) is called whenever the range changes: the page fetches the curve there.
  constructor(canvas, onRange) {
    this.canvas = canvas;
    this.onRange = onRange;
    this.curve = []; // [[x, y], ...] with y null where f is not finite
    this.trail = [];
    this.range = null;
    this.scheduler = new FrameScheduler(() => this.draw());
    redrawOnResize(canvas, this.scheduler);
  }

  // A new trace: no range, no curve until its first point is shown.
  reset() {
    this.curve = [];
    this.trail = [];
    this.range = null;
    this.scheduler.request();
  }

  // The points shown so far; the range grows to hold them when one falls outside it.
  update(trail) {
    this.trail = trail;
    const xs = trail.map((p) => p.x);
    if (xs.length && (!this.range || xs.some((x) => x < this.range[0] || x > this.range[1]))) {
      const [lo, hi] = fitRange(xs);
      this.range = this.range ? [Math.min(lo, this.range[0]), Math.max(hi, this.range[1])] : [lo, hi];
      this.onRange(this.range);
    }
    this.scheduler.request();
  }

  // The server's samples of f, {x, y}, for the range it was asked about.
  setCurve({ x, y }) {
    this.curve = x.map((xk, k) => [xk, y[k]]);
    this.scheduler.request();
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    if (!this.range) {
      for (const name of ["xMin", "xMax", "curvePoints"]) delete this.canvas.dataset[name];
      return;
    }
    const [x0, x1] = this.range;
    const shown = this.curve.filter(([x, y]) => y !== null && x >= x0 && x <= x1);
    const ys = shown.map(([, y]) => y).concat(this.trail.map((p) => p.y));
    const f = plotFrame(ctx, width, height, [x0, x1], [Math.min(...ys), Math.max(...ys)]);
    Object.assign(this.canvas.dataset, { xMin: x0, xMax: x1, curvePoints: shown.length });
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.left, f.top, f.w, f.h);
    ctx.clip();
    this.drawCurve(ctx, f);
    this.drawTrail(ctx, f);
    const cur = this.trail.at(-1);
    if (cur) this.drawTangent(ctx, f, cur);
    ctx.restore();
  }

  // The curve in pieces: where f is not finite (y null) the line breaks.
  drawCurve(ctx, f) {
    ctx.strokeStyle = INK;
    ctx.lineWidth = 2;
    let piece = [];
    for (const [x, y] of [...this.curve, [0, null]]) {
      if (y !== null) piece.push([f.px(x), f.py(y)]);
      else if (piece.length) {
        tracePath(ctx, piece);
        ctx.stroke();
        piece = [];
      }
    }
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
    ctx.textBaseline = "bottom";
    const right = f.px(p.x) < f.left + f.w * 0.7;
    ctx.textAlign = right ? "left" : "right";
    ctx.fillText(`slope ${fmt(p.slope, 4)}`, f.px(p.x) + (right ? 12 : -12), f.py(p.y) - 8);
  }
}
