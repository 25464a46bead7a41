"""Time one run-page frame draw in headless Chromium, for nets of ~50, 1,000 and 100,000 weights.

    python bench/page_draw.py [--repeat 30]

Serves the repository over a throwaway local HTTP server (no app server needed: the benchmark
feeds synthetic frames to the page's own view modules), opens bench/page_draw.html in Debian's
chromium and prints a table of medians and 95th percentiles in milliseconds.
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
COLUMNS = ["json", "binary", "network", "loss", "data", "total"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(REPO))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(repeat: int) -> list[dict[str, Any]]:
    server = serve()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench/page_draw.html"
    query = f"?repeat={repeat}&sizes={json.dumps(SIZES, separators=(',', ':'))}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url + query)
            page.wait_for_selector("body[data-done='1']", timeout=300_000)
            results: list[dict[str, Any]] = page.evaluate("window.benchResults")
            browser.close()
    finally:
        server.shutdown()
    return results


def table(results: list[dict[str, Any]]) -> str:
    head = "| net | weights | " + " | ".join(f"{c} ms" for c in COLUMNS) + " |"
    lines = [head, "|" + " --- |" * (len(COLUMNS) + 2)]
    for r in results:
        cells = [f"{r[c]['median']:.2f} (p95 {r[c]['p95']:.2f})" for c in COLUMNS]
        lines.append(f"| {r['layers']} | {r['weights']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    results = run(args.repeat)
    print(table(results))
    for r in results:
        if r["note"]:
            print(f"{r['layers']}: {r['note']}")
    print("json/binary: decoding the stream frame; network/loss/data: update + draw of each view;")
    print("total: the decode the page uses (json, binary past 20,000 weights) + the three draws.")


if __name__ == "__main__":
    main()
