// The network's inputs as named functions of the raw points (`dataset.features`, as the server's
// app/nn/datasets.py FEATURES names them). The server sends every sample's inputs; the page needs
// these only for points it makes itself: the heatmap's and the neuron pictures' grid of the plane.
const FEATURES = {
  x1: (p) => p[0],
  x2: (p) => p[1],
  "x1^2": (p) => p[0] * p[0],
  "x2^2": (p) => p[1] * p[1],
  "x1*x2": (p) => p[0] * p[1],
  "sin(x1)": (p) => Math.sin(p[0]),
  "sin(x2)": (p) => Math.sin(p[1]),
  x: (p) => p[0],
  "x^2": (p) => p[0] * p[0],
  "x^3": (p) => p[0] * p[0] * p[0],
  "sin(x)": (p) => Math.sin(p[0]),
  "cos(x)": (p) => Math.cos(p[0]),
};

// The names of a config's inputs: its features, else the raw coordinates (null for a teacher).
export function inputNames(config) {
  const data = config.dataset || {};
  if (data.features) return data.features;
  if (data.kind === "teacher") return null;
  return data.kind === "function" ? ["x"] : ["x1", "x2"];
}

// (points, n) -> the network's inputs for n raw points (flat, n × dims), as one flat n × names array.
// With no names, or the raw coordinates themselves, the points are the inputs.
export function featureExpander(names, dims) {
  const raw = dims === 1 ? ["x"] : ["x1", "x2"];
  if (!names || (names.length === dims && names.every((name, k) => name === raw[k]))) return (points) => points;
  const fns = names.map((name) => FEATURES[name]);
  return (points, n) => {
    const out = new Float64Array(n * fns.length);
    const p = new Float64Array(dims);
    for (let s = 0; s < n; s++) {
      for (let d = 0; d < dims; d++) p[d] = points[s * dims + d];
      for (let k = 0; k < fns.length; k++) out[s * fns.length + k] = fns[k](p);
    }
    return out;
  };
}
