// Which config fields differ between runs, and a short name for each run built from them
// ("lr 0.5" vs "lr 2"), so a legend says what the comparison is about.
import { fmt } from "./format.js";

// Fields that do not change what is learned: shown in the table if they differ, never in names.
const NOT_IN_NAMES = new Set(["start", "max_steps", "speed", "name"]);
const SHORT = {
  learning_rate: "lr",
  momentum: "momentum",
  batch_size: "batch",
  seed: "seed",
  layers: "",
  activation: "",
  variant: "",
  loss: "",
};

// {"dataset.seed": 1, "layers": [2, 4, 1], ...}: nested objects flattened to dotted paths.
export function flatten(config, prefix = "", out = {}) {
  for (const [key, value] of Object.entries(config || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, path, out);
    else out[path] = value;
  }
  return out;
}

// [{path, values: [one per run]}] for every path whose values are not all equal.
export function differingFields(configs) {
  const flat = configs.map((c) => flatten(c));
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return paths
    .map((path) => ({ path, values: flat.map((f) => f[path]) }))
    .filter(({ values }) => new Set(values.map((v) => JSON.stringify(v ?? null))).size > 1);
}

// A value as the table and the legend show it.
export function showValue(path, value) {
  if (value === null || value === undefined) return path === "batch_size" ? "full batch" : "–";
  if (path === "variant") return value === "no_activation_derivative" ? "no f′(net) in δ" : value;
  if (Array.isArray(value))
    return new Set(value).size === 1 && path.endsWith("activation")
      ? value[0]
      : value.join(path.endsWith("layers") ? "-" : ", ");
  if (typeof value === "number") return fmt(value, 6);
  return String(value);
}

// One name per run from its differing fields (at most two); "run <id>" when nothing differs.
export function runNames(runs, diffs) {
  const named = diffs.filter((d) => !NOT_IN_NAMES.has(d.path)).slice(0, 2);
  return runs.map((run, k) => {
    if (!named.length) return `run ${run.id}`;
    return named
      .map(({ path, values }) => {
        const short = path in SHORT ? SHORT[path] : path;
        const value = showValue(path, values[k]);
        return short ? `${short} ${value}` : value;
      })
      .join(" · ");
  });
}
