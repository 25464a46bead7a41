// Batches redraws: any number of update() calls between two animation frames cost one draw.
export class FrameScheduler {
  constructor(draw) {
    this.draw = draw;
    this.pending = false;
  }

  // Mark dirty; the draw happens once, on the next animation frame.
  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }
}

// Redraw a view whenever its canvas changes size (layout, rotation, zoom changes devicePixelRatio).
export function redrawOnResize(element, scheduler) {
  if (typeof ResizeObserver === "undefined") return;
  new ResizeObserver(() => scheduler.request()).observe(element);
}
