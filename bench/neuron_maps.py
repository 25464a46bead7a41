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

# bench/neuron_maps.js, run in bench/page_draw.html (opened with no sizes: just its canvases).
NEURON_MAPS_BENCH = """
async ([sizes, repeat]) => (await import("/bench/neuron_maps.js")).benchNeuronMaps(sizes, repeat)
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
