"""Time one run-page frame draw in headless Chromium, for nets of ~50, 1,000 and 100,000 weights,
with an explained update open and the gradient chart drawn.

    python -m bench.page_draw [--repeat 30] [--part frames|steps|all]

Serves the repository over a throwaway local HTTP server (no app server needed: the benchmark
feeds synthetic frames to the page's own view modules), opens bench/page_draw.html in Debian's
chromium and prints a table of medians and 95th percentiles in milliseconds.

The second table (`--part steps`) times one loss-chart redraw (a frame's new step appended,
then the chart drawn) with 10,000, 100,000 and 1,000,000 steps already in it, as a run left
training for hours has; each row's ratio is against the 10,000-step row of the same run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench.report import Options, Row

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = [[2, 6, 5, 1], [2, 30, 30, 1], [2, 300, 300, 30, 1]]
COLUMNS = ["json", "binary", "network", "explain", "loss", "gradient", "data", "total", "text"]
STEP_COUNTS = [10_000, 100_000, 1_000_000]
NAME = "page draw"

# Runs in the benchmark page (its loss canvas is sized by the run page's stylesheet). The losses
# decay with noise and a spike every ~5,000 steps; a test loss every 10 steps, as a run has.
LOSS_CHART_BENCH = """
async ([counts, repeat]) => {
  const { LossChart } = await import("/static/js/views/loss_chart.js");
  const sorted = (xs) => xs.slice().sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const lossAt = (k) => (1 / (k + 10)) * (1 + 0.2 * rand()) * (rand() < 2e-4 ? 50 : 1);
  const rows = [];
  for (const count of counts) {
    const chart = new LossChart(document.getElementById("loss-canvas"));
    const t0 = performance.now();
    for (let k = 0; k < count; k++) {
      chart.train.push(k, lossAt(k));
      if (k % 10 === 0) chart.test.push(k, lossAt(k) * 1.1);
    }
    const fill = performance.now() - t0;
    const times = [];
    for (let r = 0; r < repeat + 3; r++) {
      const step = count + r;
      const frame = { step, loss: lossAt(step), losses: [[step, lossAt(step)]], test_loss: null };
      const a = performance.now();
      chart.update(frame);
      chart.draw();
      const b = performance.now();
      if (r >= 3) times.push(b - a); // warm-up: JIT and canvas allocation
    }
    const fill_ns = (fill / count) * 1e6;
    rows.push({ steps: count, median: median(times), p95: p95(times), fill_ns });
  }
  return rows;
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(REPO))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(repeat: int, sizes: list[list[int]], step_counts: list[int]) -> tuple[Any, Any]:
    """(one row per net size, one row per step count) as the page measured them."""
    server = serve()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench/page_draw.html"
    query = f"?repeat={repeat}&sizes={json.dumps(sizes, separators=(',', ':'))}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url + query)
            page.wait_for_selector("body[data-done='1']", timeout=300_000)
            frames = page.evaluate("window.benchResults")
            steps = page.evaluate(LOSS_CHART_BENCH, [step_counts, repeat]) if step_counts else []
            browser.close()
    finally:
        server.shutdown()
    return frames, steps


def table(results: list[dict[str, Any]]) -> str:
    head = "| net | weights | " + " | ".join(f"{c} ms" for c in COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (len(COLUMNS) + 2)]
    for r in results:
        cells = [f"{r[c]['median']:.2f} (p95 {r[c]['p95']:.2f})" for c in COLUMNS]
        lines.append(f"| {r['layers']} | {r['weights']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def steps_table(rows: list[dict[str, Any]]) -> str:
    base = rows[0]["median"] or 0.1  # the timer is coarsened to 0.1 ms
    lines = [
        f"| steps | redraw ms | ratio to {rows[0]['steps']:,} | append ns/step |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        redraw = f"{r['median']:.2f} (p95 {r['p95']:.2f})"
        ratio = f"{r['median'] / base:.1f}x"
        lines.append(f"| {r['steps']:,} | {redraw} | {ratio} | {r['fill_ns']:.0f} |")
    return "\n".join(lines)


def measure(options: Options) -> list[Row]:
    """For `python -m bench`: each net's whole frame (`total`: the decode the page uses and
    every view's draw), and the loss chart's redraw at each step count against the smallest."""
    repeat = 3 if options.quick else 30
    frames, steps = run(repeat, SIZES, STEP_COUNTS)
    rows = [
        Row(
            NAME,
            f"run page frame, {r['layers']} ({r['weights']:,} weights): decode + draws",
            f"median {r['total']['median']:.2f} ms, p95 {r['total']['p95']:.2f} ms"
            + (f" ({r['note'].split(':', 1)[-1].split('(')[0].strip()})" if r["note"] else ""),
        )
        for r in frames
    ]
    base = steps[0]["median"] or 0.1  # the timer is coarsened to 0.1 ms
    rows += [
        Row(
            NAME,
            f"loss chart redraw with {r['steps']:,} steps",
            f"median {r['median']:.2f} ms, p95 {r['p95']:.2f} ms "
            f"= {r['median'] / base:.1f}× the {steps[0]['steps']:,}-step redraw",
        )
        for r in steps
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--part", choices=["frames", "steps", "all"], default="all")
    args = parser.parse_args()
    sizes = SIZES if args.part != "steps" else []
    frames, steps = run(args.repeat, sizes, STEP_COUNTS if args.part != "frames" else [])
    if frames:
        print(table(frames))
        for r in frames:
            if r["note"]:
                print(f"{r['layers']}: {r['note']}")
        print("json/binary: decoding the stream frame; network/loss/gradient/data: update +")
        print("draw of each view; explain: the network drawn with an explained update open at a")
        print("backward phase, its pulse moving; total: the decode the page uses (json, binary")
        print("past 20,000 weights) + explain + loss + gradient + data, a frame with the")
        print("explanation open and the gradient chart drawn; text: writing the update phase's")
        print("tables and laying the page out (once a phase).")
    if steps:
        if frames:
            print()
        print(steps_table(steps))
        print("redraw: one step appended to the loss chart, then the chart drawn (train + test")
        print("lines, log scale); append: filling the chart, per step.")


if __name__ == "__main__":
    main()
