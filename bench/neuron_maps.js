// The per-neuron pictures' cost in the browser (driven by bench/neuron_maps.py): for each net, a
// frame of new weights drawn by the network view with the pictures off, then on, then the pictures
// alone (grid through the network, every picture painted).
import { matricesFrom, vectorsFrom } from "/static/js/lib/matrix.js";
import { NetworkView } from "/static/js/views/network_view.js";
import { NeuronMaps } from "/static/js/views/neuron_maps.js";

export function benchNeuronMaps(sizes, repeat) {
  const sorted = (xs) => xs.slice().sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
  let seed = 11;
  const rand = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return (seed / 2 ** 32) * 2 - 1;
  };
  const matrix = (rows, cols) => Array.from({ length: rows }, () => Array.from({ length: cols }, rand));
  const $ = (id) => document.getElementById(id);
  const rows = [];
  for (const layers of sizes) {
    const activations = layers.slice(1).map((_, l) => (l === layers.length - 2 ? "sigmoid" : "tanh"));
    const view = new NetworkView($("network-canvas"), $("tooltip"), $("net-note"));
    view.setModel(layers, activations);
    view.setSamples(Array.from({ length: 200 }, () => [rand(), rand()]));
    const maps = new NeuronMaps($("network-canvas"));
    maps.setModel(layers, activations, 1);
    const frame = (step) => ({
      step,
      weights: matricesFrom(layers.slice(1).map((n, l) => matrix(layers[l], n))),
      biases: vectorsFrom(layers.slice(1).map((n) => Array.from({ length: n }, rand))),
      deltas: vectorsFrom(layers.slice(1).map((n) => Array.from({ length: n }, () => rand() * 1e-2))),
    });
    const times = { off: [], on: [], prepare: [] };
    for (let r = 0; r < repeat + 3; r++) {
      for (const on of [false, true]) {
        view.setNeuronMaps(on ? maps : null);
        const f = frame(r);
        const a = performance.now();
        view.update(f);
        view.draw();
        const b = performance.now();
        if (r >= 3) times[on ? "on" : "off"].push(b - a); // warm-up: JIT, canvases
      }
      const f = frame(r);
      const a = performance.now();
      maps.prepare(f.weights, f.biases, 20);
      if (r >= 3) times.prepare.push(performance.now() - a);
    }
    const row = { layers: layers.join("-"), maps: Number($("network-canvas").dataset.neuronMaps) };
    for (const [k, v] of Object.entries(times)) row[k] = { median: median(v), p95: p95(v) };
    rows.push(row);
  }
  return rows;
}
