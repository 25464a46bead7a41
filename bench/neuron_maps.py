"""Time the run page's network frame with and without the per-neuron pictures, in Chromium.

    python -m bench.neuron_maps [--repeat 40]

For 2-8-8-1 and 2-32-32-1 nets (2-D data, as the pictures need), each repeat feeds the network
view a frame of new weights and draws it: once with the pictures off, once with them on (the
grid through the network, every neuron's picture painted, the circles clipped and filled). Prints
medians and 95th percentiles in milliseconds; the target is a whole frame under 16 ms.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from playwright.sync_api import sync_playwright

from bench.page_draw import CHROMIUM_ARGS, serve

SIZES = [[2, 8, 8, 1], [2, 32, 32, 1]]

# Runs in bench/page_draw.html (started with no sizes, so only its canvases are used).
NEURON_MAPS_BENCH = """
async ([sizes, repeat]) => {
  const { NetworkView } = await import("/static/js/views/network_view.js");
  const { NeuronMaps } = await import("/static/js/views/neuron_maps.js");
  const { matricesFrom, vectorsFrom } = await import("/static/js/lib/matrix.js");
  const sorted = (xs) => xs.slice().sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
  let seed = 11;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
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
"""


def run(repeat: int) -> list[dict[str, Any]]:
    server = serve()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench/page_draw.html?sizes=[]&repeat=0"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            page.wait_for_selector("body[data-done='1']", timeout=60_000)
            rows: list[dict[str, Any]] = page.evaluate(NEURON_MAPS_BENCH, [SIZES, repeat])
            browser.close()
    finally:
        server.shutdown()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    columns = [
        ("off", "frame, pictures off"),
        ("on", "frame, pictures on"),
        ("prepare", "pictures only"),
    ]
    lines = [
        "| net | pictures | " + " | ".join(f"{title} ms" for _, title in columns) + " |",
        "|" + " --- |" * (len(columns) + 2),
    ]
    for r in rows:
        cells = [f"{r[key]['median']:.2f} (p95 {r[key]['p95']:.2f})" for key, _ in columns]
        lines.append(f"| {r['layers']} | {r['maps']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print the raw rows as JSON too")
    args = parser.parse_args()
    rows = run(args.repeat)
    print(table(rows))
    if args.json:
        print(json.dumps(rows, indent=1))
    print("frame: update + draw of the network view (edges, neurons, δ rings, captions); pictures")
    print("only: the grid through the network and every neuron's picture painted.")


if __name__ == "__main__":
    main()
