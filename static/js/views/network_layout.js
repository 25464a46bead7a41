// Where neurons sit and which edges get drawn. Past EDGE_BUDGET weights only the strongest are
// drawn: a picture of 100k hairlines is grey noise and costs ~100 ms; the strongest couple of
// thousand show the structure and keep a frame well under 16 ms.
export const EDGE_BUDGET = 2000;

export function layoutNeurons(layers, width, height) {
  const padX = Math.min(70, width * 0.09);
  const padTop = 18;
  const padBottom = 44; // room for the two-line layer captions
  const usable = height - padTop - padBottom;
  const colGap = layers.length > 1 ? (width - 2 * padX) / (layers.length - 1) : 0;
  const biggest = Math.max(...layers);
  const radius = Math.max(1.5, Math.min(21, (usable / biggest) * 0.34, colGap * 0.16 || 21));
  const columns = layers.map((count, l) => {
    const x = layers.length > 1 ? padX + l * colGap : width / 2;
    const gap = Math.min(usable / count, radius * 4.2);
    const top = padTop + (usable - gap * (count - 1)) / 2;
    const ys = new Float64Array(count);
    for (let i = 0; i < count; i++) ys[i] = count === 1 ? padTop + usable / 2 : top + i * gap;
    return { x, ys };
  });
  return { columns, radius, captionY: height - 10 };
}

// Largest |value| in a list of matrices (NaN ignored).
export function maxAbs(matrices) {
  let m = 0;
  for (const M of matrices) {
    const d = M.data;
    for (let k = 0; k < d.length; k++) {
      const a = Math.abs(d[k]);
      if (a > m) m = a;
    }
  }
  return m;
}

// Per layer, the |w| above which about that layer's share of `budget` edges remain. Each layer
// gets a share (a small layer keeps all its edges and hands its unused share on), so one huge
// layer cannot crowd the others out of the picture. One histogram pass a layer, no sort: O(n).
export function strengthThresholds(weights, budget, scale) {
  const sizes = weights.map((W) => W.data.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= budget || scale === 0) return { thresholds: sizes.map(() => 0), total, drawn: total };
  const shares = shareBudget(sizes, budget);
  let drawn = 0;
  const thresholds = weights.map((W, l) => {
    if (shares[l] >= sizes[l]) {
      drawn += sizes[l];
      return 0;
    }
    const { threshold, kept } = layerThreshold(W.data, shares[l], scale);
    drawn += kept;
    return threshold;
  });
  return { thresholds, total, drawn };
}

function shareBudget(sizes, budget) {
  const shares = sizes.map(() => 0);
  let left = budget;
  const open = sizes.map((_, l) => l);
  // Smallest layers first: whatever they do not need goes to the bigger ones.
  open.sort((a, b) => sizes[a] - sizes[b]);
  while (open.length) {
    const even = Math.floor(left / open.length);
    const l = open.shift();
    shares[l] = Math.min(sizes[l], even);
    left -= shares[l];
  }
  return shares;
}

function layerThreshold(data, share, scale) {
  const bins = new Uint32Array(1024);
  for (let k = 0; k < data.length; k++) {
    const b = Math.min(1023, Math.floor((Math.abs(data[k]) / scale) * 1024));
    if (b >= 0) bins[b]++;
  }
  let kept = 0;
  let bin = 1023;
  for (; bin > 0; bin--) {
    if (kept + bins[bin] > share) break;
    kept += bins[bin];
  }
  return { threshold: ((bin + 1) / 1024) * scale, kept };
}
