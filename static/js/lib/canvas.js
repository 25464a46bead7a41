// Canvases are sized in device pixels so lines stay sharp on high-DPI screens; drawing code works
// in CSS pixels because the context is pre-scaled.
export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, rect.width);
  const height = Math.max(1, rect.height);
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height, dpr };
}

// Begins a path through points given in CSS pixels, [[x, y], ...]; the caller styles and strokes it.
export function tracePath(ctx, points) {
  ctx.beginPath();
  for (const [k, [x, y]] of points.entries()) {
    if (k === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
}

// "Nice" axis ticks (1, 2, 5 × 10^k) covering [lo, hi].
export function niceTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

export const FONT = '11px "Inter", "Segoe UI", system-ui, sans-serif';
export const INK = "#0f172a";
export const MUTED = "#64748b";
export const GRID = "#e8edf3";
