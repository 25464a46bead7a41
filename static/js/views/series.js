// A growable (step, value) series in typed arrays: every step is kept (a long run is millions of
// points), appends are amortised O(1), and points arrive in step order.
//
// Drawing thins it to one (min, max) per pixel column. Scanning every point for that made a
// redraw O(steps) (~50 ms at a million steps); instead a min/max pyramid is kept as points
// arrive: level 0 summarises aligned blocks of BLOCK points, level j blocks of BLOCK·2^j. A
// column's points are a contiguous index range (steps increase), found by binary search, and
// its min and max come from O(log steps) pyramid blocks plus at most 2·BLOCK raw points at its
// edges. A redraw is O(pixels · log steps); the thinned values are exact, never approximated.
const BLOCK = 32;

// Summary of a range: min and max of its finite values, and the least positive one (log scale).
function levelArrays(size) {
  return { min: new Float64Array(size), max: new Float64Array(size), pos: new Float64Array(size), count: 0 };
}

export class Series {
  constructor() {
    this.steps = new Float64Array(1024);
    this.values = new Float64Array(1024);
    this.length = 0;
    this.levels = []; // levels[j]: sealed blocks of BLOCK·2^j points (full ones only)
    this.q = new Float64Array(3); // scratch for range queries: min, max, least positive
  }

  clear() {
    this.length = 0;
    for (const level of this.levels) level.count = 0;
  }

  push(step, value) {
    const v = value === null || value === undefined ? NaN : value;
    // A re-sent step (manual steps can overlap a thinned frame) replaces, never duplicates.
    if (this.length && step <= this.steps[this.length - 1]) {
      if (step === this.steps[this.length - 1]) {
        this.values[this.length - 1] = v;
        // The last point closes a block when length is a multiple of BLOCK: summarise it again.
        if (this.length % BLOCK === 0) this.seal(this.length / BLOCK - 1);
      }
      return;
    }
    if (this.length === this.steps.length) this.grow();
    this.steps[this.length] = step;
    this.values[this.length] = v;
    this.length++;
    if (this.length % BLOCK === 0) this.seal(this.length / BLOCK - 1);
  }

  grow() {
    const steps = new Float64Array(this.steps.length * 2);
    const values = new Float64Array(this.values.length * 2);
    steps.set(this.steps);
    values.set(this.values);
    this.steps = steps;
    this.values = values;
  }

  // The value pushed for `step` (null if none was, or it was not finite): a binary search.
  valueAt(step) {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.steps[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.length || this.steps[lo] !== step) return null;
    return Number.isFinite(this.values[lo]) ? this.values[lo] : null;
  }

  lastStep() {
    return this.length ? this.steps[this.length - 1] : 0;
  }

  // Summarise level-0 block b (the newest full one) and, while it completes a pair, its parents.
  // BLOCK points, plus one entry per level every other block: amortised O(1) per point.
  seal(b) {
    this.scan(b * BLOCK, (b + 1) * BLOCK);
    let [mn, mx, mp] = this.q;
    for (let j = 0; ; j++) {
      const level = this.level(j, b);
      level.min[b] = mn;
      level.max[b] = mx;
      level.pos[b] = mp;
      level.count = b + 1;
      if ((b & 1) === 0) return;
      mn = Math.min(mn, level.min[b - 1]);
      mx = Math.max(mx, level.max[b - 1]);
      mp = Math.min(mp, level.pos[b - 1]);
      b >>= 1;
    }
  }

  // Level j with room for block b.
  level(j, b) {
    if (j === this.levels.length) this.levels.push(levelArrays(64));
    let level = this.levels[j];
    if (b >= level.min.length) {
      const bigger = levelArrays(level.min.length * 2);
      bigger.min.set(level.min);
      bigger.max.set(level.max);
      bigger.pos.set(level.pos);
      this.levels[j] = level = bigger;
    }
    return level;
  }

  // this.q := the summary of points a..b-1, read one by one.
  scan(a, b) {
    let mn = Infinity;
    let mx = -Infinity;
    let mp = Infinity;
    const values = this.values;
    for (let k = a; k < b; k++) {
      const v = values[k];
      if (!Number.isFinite(v)) continue;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      if (v > 0 && v < mp) mp = v;
    }
    this.q[0] = mn;
    this.q[1] = mx;
    this.q[2] = mp;
  }

  // this.q := the summary of points a..b-1: raw points up to the first and from the last block
  // boundary, whole blocks in between from the pyramid (as few as the alignment allows).
  range(a, b) {
    let lo = Math.ceil(a / BLOCK);
    let hi = Math.floor(b / BLOCK);
    if (lo >= hi) {
      this.scan(a, b);
      return;
    }
    this.scan(hi * BLOCK, b);
    let [mn, mx, mp] = this.q;
    this.scan(a, lo * BLOCK);
    mn = Math.min(mn, this.q[0]);
    mx = Math.max(mx, this.q[1]);
    mp = Math.min(mp, this.q[2]);
    for (let j = 0; lo < hi; j++) {
      const level = this.levels[j];
      if (lo & 1) {
        mn = Math.min(mn, level.min[lo]);
        mx = Math.max(mx, level.max[lo]);
        mp = Math.min(mp, level.pos[lo]);
        lo++;
      }
      if (hi & 1) {
        hi--;
        mn = Math.min(mn, level.min[hi]);
        mx = Math.max(mx, level.max[hi]);
        mp = Math.min(mp, level.pos[hi]);
      }
      lo >>= 1;
      hi >>= 1;
    }
    this.q[0] = mn;
    this.q[1] = mx;
    this.q[2] = mp;
  }

  // Per pixel column: min and max of the points falling in it, so thinning never hides a spike.
  // Point k falls in column floor((step − x0) / (x1 − x0) · (pixels − 1)), clamped to the plot.
  // log: the values as log10, leaving out those ≤ 0; either way non-finite values are left out
  // and a column without a value has min Infinity, max −Infinity.
  columns(x0, x1, pixels, { log = false } = {}) {
    const mins = new Float64Array(pixels).fill(Infinity);
    const maxs = new Float64Array(pixels).fill(-Infinity);
    const span = x1 - x0 || 1;
    const steps = this.steps;
    const n = this.length;
    const column = (k) => Math.min(pixels - 1, Math.max(0, Math.floor(((steps[k] - x0) / span) * (pixels - 1))));
    let a = 0;
    for (let p = 0; p < pixels && a < n; p++) {
      // The column's points are a..b-1: b is the first point past column p (columns only grow).
      let lo = a;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (column(mid) <= p) lo = mid + 1;
        else hi = mid;
      }
      const b = lo;
      if (b === a) continue;
      this.range(a, b);
      a = b;
      const [mn, mx, mp] = this.q;
      if (log) {
        if (mp === Infinity) continue; // no positive value
        mins[p] = Math.log10(mp);
        maxs[p] = Math.log10(mx);
      } else if (mn !== Infinity) {
        mins[p] = mn;
        maxs[p] = mx;
      }
    }
    return { mins, maxs };
  }
}
