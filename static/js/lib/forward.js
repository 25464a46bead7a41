// The browser's own forward pass, only to colour neurons and draw the prediction between frames;
// every number the page states as "the API's" comes from the server, never from here.
const ACTIVATIONS = {
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), df: (_x, a) => a * (1 - a) },
  tanh: { f: Math.tanh, df: (_x, a) => 1 - a * a },
  relu: { f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0) },
  linear: { f: (x) => x, df: () => 1 },
};

export function activationOf(name) {
  return ACTIVATIONS[name] || ACTIVATIONS.linear;
}

// What each non-input layer applies. With cross-entropy the output layer is sigmoid (one output)
// or softmax (several), whatever the config lists for it.
export function layerActivations(config) {
  const layers = config.layers;
  const names = Array.isArray(config.activation)
    ? config.activation.slice()
    : layers.slice(1).map(() => config.activation);
  if (config.loss === "cross_entropy")
    names[names.length - 1] = layers[layers.length - 1] === 1 ? "sigmoid" : "softmax";
  return names;
}

function softmaxInPlace(values) {
  let max = -Infinity;
  for (const v of values) max = Math.max(max, v);
  let sum = 0;
  for (let j = 0; j < values.length; j++) sum += values[j] = Math.exp(values[j] - max);
  for (let j = 0; j < values.length; j++) values[j] /= sum;
}

// One sample through the network: returns {net: [per layer 1..L], act: [per layer 0..L], dact}.
export function forwardSample(weights, biases, activations, x) {
  const net = [];
  const act = [Float64Array.from(x)];
  const dact = [];
  for (let l = 0; l < weights.length; l++) {
    const W = weights[l];
    const a = act[l];
    const z = new Float64Array(W.cols);
    if (biases?.[l]) z.set(biases[l]);
    for (let i = 0; i < W.rows; i++) {
      const ai = a[i];
      if (ai === 0) continue;
      const off = i * W.cols;
      for (let j = 0; j < W.cols; j++) z[j] += ai * W.data[off + j];
    }
    const name = activations[l];
    const out = Float64Array.from(z);
    const d = new Float64Array(W.cols);
    if (name === "softmax") {
      softmaxInPlace(out);
      for (let j = 0; j < out.length; j++) d[j] = out[j] * (1 - out[j]);
    } else {
      const fn = activationOf(name);
      for (let j = 0; j < out.length; j++) {
        out[j] = fn.f(z[j]);
        d[j] = fn.df(z[j], out[j]);
      }
    }
    net.push(z);
    act.push(out);
    dact.push(d);
  }
  return { net, act, dact };
}

// Only the output, for many points (the heatmap and the 1-D curve).
export function predict(weights, biases, activations, x) {
  const r = forwardSample(weights, biases, activations, x);
  return r.act[r.act.length - 1];
}

// Many samples at once, as flat row-major typed arrays (n × width per layer): one allocation per
// layer instead of per sample, which is what keeps the heatmap and the mean colouring cheap.
export function forwardBatch(weights, biases, activations, x, n) {
  const acts = [x];
  const nets = [];
  for (let l = 0; l < weights.length; l++) {
    const W = weights[l];
    const a = acts[l];
    const { rows, cols, data: w } = W; // locals: the inner loop runs n × rows × cols times
    const z = new Float64Array(n * cols);
    const b = biases?.[l];
    for (let s = 0; s < n; s++) {
      const zo = s * cols;
      if (b) for (let j = 0; j < cols; j++) z[zo + j] = b[j];
      const ao = s * rows;
      for (let i = 0; i < rows; i++) {
        const ai = a[ao + i];
        if (ai === 0) continue;
        const wo = i * cols;
        for (let j = 0; j < cols; j++) z[zo + j] += ai * w[wo + j];
      }
    }
    nets.push(z);
    acts.push(applyActivation(activations[l], z, n, cols));
  }
  return { nets, acts };
}

function applyActivation(name, z, n, width) {
  const out = new Float64Array(z.length);
  if (name === "softmax") {
    for (let s = 0; s < n; s++) {
      const row = Float64Array.from(z.subarray(s * width, (s + 1) * width));
      softmaxInPlace(row);
      out.set(row, s * width);
    }
    return out;
  }
  const f = activationOf(name).f;
  for (let k = 0; k < z.length; k++) out[k] = f(z[k]);
  return out;
}

// Column means of every layer's net, activation and f'(net) over a batch (neuron colouring).
export function meanOverBatch(weights, biases, activations, xs) {
  const n = xs.length;
  const d = xs[0].length;
  const x = new Float64Array(n * d);
  for (const [s, row] of xs.entries()) x.set(row, s * d);
  const { nets, acts } = forwardBatch(weights, biases, activations, x, n);
  const mean = (flat, width) => {
    const m = new Float64Array(width);
    for (let k = 0; k < flat.length; k++) m[k % width] += flat[k];
    return m.map((v) => v / n);
  };
  const widths = [d, ...weights.map((W) => W.cols)];
  const dact = nets.map((z, l) => {
    const name = activations[l];
    const a = acts[l + 1];
    const dz = new Float64Array(z.length);
    const df = name === "softmax" ? (_, v) => v * (1 - v) : activationOf(name).df;
    for (let k = 0; k < z.length; k++) dz[k] = df(z[k], a[k]);
    return mean(dz, widths[l + 1]);
  });
  return { net: nets.map((z, l) => mean(z, widths[l + 1])), act: acts.map((a, l) => mean(a, widths[l])), dact };
}

// Largest |f′(net)| each activation reaches: saturation is measured against it.
const DERIVATIVE_PEAK = { sigmoid: 0.25, tanh: 1, softmax: 0.25 };
const SATURATED_BELOW = 0.01; // |f′| under 1 % of its peak passes almost no δ back
const SATURATED_SHARE = 0.9; // ... for at least this share of the samples

// Neurons that pass (almost) no δ back, over the samples xs: saturated ones (|f′(net)| under 1 %
// of its peak for at least 90 % of the samples) and dead ReLUs (net ≤ 0 for every sample, so f′
// is 0 everywhere and their incoming weights never change again). Returns
// {saturated: [[l, j], ...], dead: [[l, j], ...]} with l the neuron's layer (1 … L).
export function neuronHealth(weights, biases, activations, xs) {
  const saturated = [];
  const dead = [];
  const n = xs.length;
  if (!n) return { saturated, dead };
  const d = xs[0].length;
  const x = new Float64Array(n * d);
  for (const [s, row] of xs.entries()) x.set(row, s * d);
  const { nets, acts } = forwardBatch(weights, biases, activations, x, n);
  nets.forEach((z, l) => {
    const name = activations[l];
    const width = weights[l].cols;
    const peak = DERIVATIVE_PEAK[name];
    if (name !== "relu" && !peak) return;
    const a = acts[l + 1];
    const df = name === "softmax" ? (_, v) => v * (1 - v) : activationOf(name).df;
    for (let j = 0; j < width; j++) {
      let flat = 0;
      let active = 0;
      for (let s = 0; s < n; s++) {
        const k = s * width + j;
        if (z[k] > 0) active++;
        if (peak && Math.abs(df(z[k], a[k])) < SATURATED_BELOW * peak) flat++;
      }
      if (name === "relu" && active === 0) dead.push([l + 1, j]);
      else if (peak && flat >= SATURATED_SHARE * n) saturated.push([l + 1, j]);
    }
  });
  return { saturated, dead };
}
