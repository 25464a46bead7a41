// Starting points for the form. Each is a complete run config (the wire contract's shape) with a
// name, a pace a person can follow (`speed`, updates a second) and a stopping point (`max_steps`)
// at which its note is true (tests/web/test_home_page.py plays the spiral to its stop and measures).
const base = {
  bias: true,
  loss: "mse",
  learning_rate: 0.5,
  momentum: 0,
  batch_size: null,
  variant: "standard",
  seed: 0,
  max_steps: null,
  start: "paused",
  speed: 30,
};
const data2d = (kind, extra = {}) => ({ kind, samples: 200, noise: 0.05, seed: 1, test_fraction: 0.2, ...extra });

// The form's pace when no preset sets one: one update per drawn frame (the stream sends at most
// 30 a second), so the loss curve and the network change visibly from frame to frame.
export const DEFAULT_SPEED = 30;

export const PRESETS = {
  article: {
    note: "A 2-3-1 sigmoid teacher with random weights makes the data; a 2-4-4-1 sigmoid student learns to mimic it. Full batch, mean squared error, α = 0.5. At 100 updates a second the loss sits on a plateau for about 10 s, then drops about a hundredfold by step 2,000; it stops at step 3,000.",
    config: {
      ...base,
      name: "The article's example",
      speed: 100,
      max_steps: 3000,
      layers: [2, 4, 4, 1],
      activation: ["sigmoid", "sigmoid", "sigmoid"],
      dataset: {
        kind: "teacher",
        layers: [2, 3, 1],
        activation: "sigmoid",
        samples: 200,
        noise: 0,
        seed: 1,
        test_fraction: 0.2,
      },
    },
  },
  xor: {
    note: "XOR: not linearly separable, so it needs the hidden layer. tanh hidden units, cross-entropy. It stops at step 500, with about 97 % of the test points right.",
    config: {
      ...base,
      name: "XOR",
      max_steps: 500,
      layers: [2, 4, 1],
      activation: ["tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.5,
      dataset: data2d("xor"),
    },
  },
  circle: {
    note: "A disc of one class inside a ring of the other: the network must learn a closed boundary. It stops at step 500, with every test point right.",
    config: {
      ...base,
      name: "Circle",
      max_steps: 500,
      layers: [2, 6, 1],
      activation: ["tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.5,
      dataset: data2d("circle"),
    },
  },
  spiral: {
    note: "Two interleaved spirals: the hardest 2-D set here. Momentum 0.9 carries it through the flat stretches. At 100 updates a second it stops after 10 s, at step 1,000, with about 97 % of the test points right.",
    config: {
      ...base,
      name: "Spiral",
      speed: 100,
      max_steps: 1000,
      layers: [2, 16, 16, 1],
      activation: ["tanh", "tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.3,
      momentum: 0.9,
      seed: 2,
      dataset: data2d("spiral", { samples: 300, noise: 0.02 }),
    },
  },
  threeSpirals: {
    note: "Three interleaved spirals, one class each: three softmax outputs, and sin(x1), sin(x2) fed in beside x1, x2. At 100 updates a second it stops after 10 s, at step 1,000, with about 92 % of the test points right.",
    config: {
      ...base,
      name: "Three spirals",
      speed: 100,
      max_steps: 1000,
      layers: [4, 16, 16, 3],
      activation: ["tanh", "tanh", "linear"],
      loss: "cross_entropy",
      learning_rate: 0.3,
      momentum: 0.9,
      dataset: data2d("spiral", {
        samples: 300,
        noise: 0.02,
        classes: 3,
        features: ["x1", "x2", "sin(x1)", "sin(x2)"],
      }),
    },
  },
  function: {
    note: "Fit y = sin(3x) on [−1, 1] with one input and one linear output. It stops at step 3,000, the test loss about 0.003.",
    config: {
      ...base,
      name: "1-D function fit",
      speed: 100,
      max_steps: 3000,
      layers: [1, 12, 12, 1],
      activation: ["tanh", "tanh", "linear"],
      learning_rate: 0.1,
      dataset: {
        kind: "function",
        expr: "sin(3*x)",
        x_min: -1,
        x_max: 1,
        samples: 100,
        noise: 0.02,
        seed: 1,
        test_fraction: 0.2,
      },
    },
  },
};

// The features a point of each dimension offers (as the server's app/nn/datasets.py names them).
export const FEATURES = {
  1: ["x", "x^2", "x^3", "sin(x)", "cos(x)"],
  2: ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"],
};

// Inputs and outputs a data set fixes, so the layer editor can follow a change of kind, features
// or classes: one input per feature (or raw coordinate), one output, or K for K > 2 classes.
export function shapeOfKind(kind, teacherLayers, features = null, classes = 2) {
  if (kind === "teacher")
    return teacherLayers && teacherLayers.length >= 2 ? [teacherLayers[0], teacherLayers.at(-1)] : null;
  if (kind === "iris") return [4, 3];
  if (kind === "digits") return [64, 10];
  if (kind === "csv") return null; // the chosen columns decide (views/csv_upload.js)
  const dims = kind === "function" ? 1 : 2;
  return [features ? features.length : dims, classes > 2 ? classes : 1];
}

// The classic side-by-side comparisons: the article's example twice, differing in one thing.
export const PAIRS = {
  variant: [{ variant: "standard" }, { variant: "no_activation_derivative" }],
  learning_rate: [{ learning_rate: 0.5 }, { learning_rate: 2.0 }],
  activation: [{ activation: ["sigmoid", "sigmoid", "sigmoid"] }, { activation: ["tanh", "tanh", "sigmoid"] }],
  momentum: [{ momentum: 0 }, { momentum: 0.9 }],
};

export function pairConfigs(name) {
  return PAIRS[name].map((change) => ({ ...PRESETS.article.config, ...change }));
}
