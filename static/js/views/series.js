// A growable (step, value) series in typed arrays: every step is kept (a long run is millions of
// points), appends are amortised O(1), and points arrive in step order.
export class Series {
  constructor() {
    this.steps = new Float64Array(1024);
    this.values = new Float64Array(1024);
    this.length = 0;
  }

  clear() {
    this.length = 0;
  }

  push(step, value) {
    const v = value === null || value === undefined ? NaN : value;
    // A re-sent step (manual steps can overlap a thinned frame) replaces, never duplicates.
    if (this.length && step <= this.steps[this.length - 1]) {
      if (step === this.steps[this.length - 1]) this.values[this.length - 1] = v;
      return;
    }
    if (this.length === this.steps.length) this.grow();
    this.steps[this.length] = step;
    this.values[this.length] = v;
    this.length++;
  }

  grow() {
    const steps = new Float64Array(this.steps.length * 2);
    const values = new Float64Array(this.values.length * 2);
    steps.set(this.steps);
    values.set(this.values);
    this.steps = steps;
    this.values = values;
  }

  lastStep() {
    return this.length ? this.steps[this.length - 1] : 0;
  }

  // Per pixel column: min and max of the points falling in it, so thinning never hides a spike.
  columns(x0, x1, pixels, transform) {
    const mins = new Float64Array(pixels).fill(Infinity);
    const maxs = new Float64Array(pixels).fill(-Infinity);
    const span = x1 - x0 || 1;
    for (let k = 0; k < this.length; k++) {
      const v = transform(this.values[k]);
      if (!Number.isFinite(v)) continue;
      const px = Math.min(pixels - 1, Math.max(0, Math.floor(((this.steps[k] - x0) / span) * (pixels - 1))));
      if (v < mins[px]) mins[px] = v;
      if (v > maxs[px]) maxs[px] = v;
    }
    return { mins, maxs };
  }
}
