// Starting points for the form. Each is a complete run config (the wire contract's shape).
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
};
const data2d = (kind, extra = {}) => ({ kind, samples: 200, noise: 0.05, seed: 1, test_fraction: 0.2, ...extra });

export const PRESETS = {
  article: {
    note: "A 2-3-1 sigmoid teacher with random weights makes the data; a 2-4-4-1 sigmoid student learns to mimic it. Full batch, mean squared error, α = 0.5.",
    config: {
      ...base,
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
    note: "XOR: not linearly separable, so it needs the hidden layer. tanh hidden units, cross-entropy.",
    config: {
      ...base,
      layers: [2, 4, 1],
      activation: ["tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.5,
      dataset: data2d("xor"),
    },
  },
  circle: {
    note: "A disc of one class inside a ring of the other: the network must learn a closed boundary.",
    config: {
      ...base,
      layers: [2, 6, 1],
      activation: ["tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.5,
      dataset: data2d("circle"),
    },
  },
  spiral: {
    note: "Two interleaved spirals: the hardest 2-D set here. Momentum 0.9 carries it through the flat stretches; about 1,000 steps reach ~95% test accuracy.",
    config: {
      ...base,
      layers: [2, 16, 16, 1],
      activation: ["tanh", "tanh", "sigmoid"],
      loss: "cross_entropy",
      learning_rate: 0.3,
      momentum: 0.9,
      seed: 2,
      dataset: data2d("spiral", { samples: 300, noise: 0.02 }),
    },
  },
  function: {
    note: "Fit y = sin(3x) on [−1, 1] with one input and one linear output.",
    config: {
      ...base,
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

// Inputs and outputs each data set kind fixes, so the layer editor can follow a change of kind.
export function shapeOfKind(kind, teacherLayers) {
  if (kind === "teacher")
    return teacherLayers && teacherLayers.length >= 2 ? [teacherLayers[0], teacherLayers.at(-1)] : null;
  if (kind === "function") return [1, 1];
  if (kind === "iris") return [4, 3];
  if (kind === "digits") return [64, 10];
  if (kind === "csv") return null; // the chosen columns decide (views/csv_upload.js)
  return [2, 1];
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
