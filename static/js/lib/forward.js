// The browser's own forward pass, only to colour neurons and draw the prediction between frames;
// every number the page states as "the API's" comes from the server, never from here.
const ACTIVATIONS = {
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), df: (x, a) => a * (1 - a) },
  tanh: { f: Math.tanh, df: (x, a) => 1 - a * a },
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
  linear: { f: (x) => x, df: () => 1 },
};

export function activationOf(name) {
  return ACTIVATIONS[name] || ACTIVATIONS.linear;
}

// What each non-input layer applies. With cross-entropy the output layer is sigmoid (one output)
// or softmax (several), whatever the config lists for it.
export function layerActivations(config) {
  const layers = config.layers;
  const names = Array.isArray(config.activation) ? config.activation.slice() : layers.slice(1).map(() => config.activation);
  if (config.loss === "cross_entropy") names[names.length - 1] = layers[layers.length - 1] === 1 ? "sigmoid" : "softmax";
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
    if (biases && biases[l]) z.set(biases[l]);
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

// Mean of net, activation and f'(net) over many samples (the "batch mean" neuron colouring).
export function forwardMean(weights, biases, activations, xs) {
  let sum = null;
  for (const x of xs) {
    const r = forwardSample(weights, biases, activations, x);
    if (!sum) {
      sum = r;
      continue;
    }
    for (const key of ["net", "act", "dact"]) {
      r[key].forEach((layer, l) => layer.forEach((v, j) => (sum[key][l][j] += v)));
    }
  }
  if (!sum) return null;
  const n = xs.length;
  for (const key of ["net", "act", "dact"]) sum[key].forEach((layer) => layer.forEach((v, j, arr) => (arr[j] = v / n)));
  return sum;
}

// Only the output, for many points (the heatmap and the 1-D curve).
export function predict(weights, biases, activations, x) {
  const r = forwardSample(weights, biases, activations, x);
  return r.act[r.act.length - 1];
}
