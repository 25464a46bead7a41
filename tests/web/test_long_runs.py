"""What keeps the pages fast on long runs, checked in real headless Chromium.

The loss chart's Series answers each pixel column's min and max from a min/max pyramid rather
than a scan of every point: its columns must equal a brute-force scan (the code it replaced)
for random data with spikes, gaps, nulls and non-positive values, before and after appends.
The home page's sparklines must ask for the thinned history, never the whole of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.support.browser import create_run, wait_until
from tests.web.conftest import PageWithConsole

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "http://series.test"

# Runs in the page. `brute` is the column scan the pyramid replaced, verbatim but for the
# transform, which is the loss chart's own: log10 of positive values, else the value itself.
COMPARE_COLUMNS = """
async ({ seed, batches, pixelCounts }) => {
  const { Series } = await import("/static/js/views/series.js");
  let state = seed >>> 0;
  const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const series = new Series();
  const steps = [];
  const values = [];
  const push = (step, value) => {
    series.push(step, value);
    const last = steps.length ? steps[steps.length - 1] : -Infinity;
    const v = value === null || value === undefined ? NaN : value;
    if (step > last) {
      steps.push(step);
      values.push(v);
    } else if (step === last) {
      values[values.length - 1] = v;
    }
  };
  const brute = (x0, x1, pixels, log) => {
    const transform = log ? (v) => (v > 0 ? Math.log10(v) : NaN) : (v) => v;
    const mins = new Float64Array(pixels).fill(Infinity);
    const maxs = new Float64Array(pixels).fill(-Infinity);
    const span = x1 - x0 || 1;
    for (let k = 0; k < steps.length; k++) {
      const v = transform(values[k]);
      if (!Number.isFinite(v)) continue;
      const px = Math.min(pixels - 1,
        Math.max(0, Math.floor(((steps[k] - x0) / span) * (pixels - 1))));
      if (v < mins[px]) mins[px] = v;
      if (v > maxs[px]) maxs[px] = v;
    }
    return { mins, maxs };
  };
  const randomValue = (step) => {
    const r = rand();
    if (r < 0.002) return null;
    if (r < 0.003) return NaN;
    if (r < 0.004) return Infinity;
    if (r < 0.006) return 0;
    if (r < 0.008) return -rand();
    const spike = rand() < 0.003 ? 1e6 * (1 + rand()) : 1;
    return (1 / (step + 10)) * (1 + 0.3 * rand()) * spike;
  };
  const report = { checked: 0, nonEmpty: 0, spikes: 0, length: [], mismatches: [] };
  let step = 0;
  for (const count of batches) {
    for (let k = 0; k < count; k++) {
      const r = rand();
      if (r < 0.01 && steps.length) push(steps[steps.length - 1], randomValue(step)); // re-sent
      else if (r < 0.015 && steps.length) push(steps[steps.length - 1] - 1, 5); // older: ignored
      else push((step += 1 + (rand() < 0.05 ? Math.floor(rand() * 40) : 0)), randomValue(step));
    }
    report.length.push(series.length);
    if (series.length !== steps.length) {
      report.mismatches.push(`length ${series.length} != ${steps.length}`);
    }
    const first = steps[0];
    const last = steps[steps.length - 1];
    const windows = [[first, last], [first - 100, last + 50], [first, first]];
    for (const [x0, x1] of windows) {
      for (const pixels of pixelCounts) {
        for (const log of [true, false]) {
          const got = series.columns(x0, x1, pixels, { log });
          const want = brute(x0, x1, pixels, log);
          report.checked++;
          for (let p = 0; p < pixels; p++) {
            if (Number.isFinite(want.maxs[p])) report.nonEmpty++;
            if (!log && want.maxs[p] > 1) report.spikes++;
            if (!Object.is(got.mins[p], want.mins[p]) || !Object.is(got.maxs[p], want.maxs[p])) {
              if (report.mismatches.length < 5) {
                report.mismatches.push(
                  `n=${steps.length} x=[${x0},${x1}] pixels=${pixels} log=${log} column ${p}: ` +
                  `${got.mins[p]}..${got.maxs[p]} != ${want.mins[p]}..${want.maxs[p]}`);
              }
            }
          }
        }
      }
    }
  }
  return report;
}
"""


@pytest.fixture
def blank(page: PageWithConsole) -> Iterator[Any]:
    """An empty page whose origin serves the repository's static/ (Playwright answers for it:
    no server needed), from which the view modules are imported."""

    def serve(route: Any) -> None:
        path = urlparse(route.request.url).path
        if path == "/":
            route.fulfill(body="<!doctype html><title>series</title>", content_type="text/html")
            return
        file = (REPO / path.lstrip("/")).resolve()
        if not file.is_relative_to(REPO / "static") or not file.is_file():
            route.fulfill(status=404)
            return
        route.fulfill(path=str(file), content_type="text/javascript")

    page.page.route(f"{ORIGIN}/**", serve)
    page.page.goto(f"{ORIGIN}/")
    yield page.page
    assert page.errors == []


def test_columns_equal_a_full_scan_with_spikes_and_appends(blank: Any) -> None:
    # 1, 3 and 5 points, then a few thousand, then enough for the pyramid's upper levels (~700
    # points a column at 300 pixels); odd pixel counts so columns straddle block boundaries.
    report = blank.evaluate(
        COMPARE_COLUMNS,
        {"seed": 12345, "batches": [1, 2, 2, 3000, 200_000, 777], "pixelCounts": [1, 7, 300, 1203]},
    )
    assert report["mismatches"] == []
    assert report["length"][:3] == [1, 3, 5] and report["length"][-1] > 200_000
    assert report["checked"] == 6 * 3 * 4 * 2
    assert report["nonEmpty"] > 10_000 and report["spikes"] > 100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_equal_a_full_scan_for_other_seeds(blank: Any, seed: int) -> None:
    report = blank.evaluate(
        COMPARE_COLUMNS, {"seed": seed, "batches": [31, 1, 1000, 40_000], "pixelCounts": [2, 640]}
    )
    assert report["mismatches"] == []


def test_a_resent_step_that_closes_a_block_updates_the_summary(blank: Any) -> None:
    """The 64th point closes two blocks; sent again as a spike, the columns must show it."""
    result = blank.evaluate(
        """async () => {
          const { Series } = await import("/static/js/views/series.js");
          const s = new Series();
          for (let k = 0; k < 64; k++) s.push(k, 1);
          const before = s.columns(0, 63, 1).maxs[0];
          s.push(63, 1e6);
          const after = s.columns(0, 63, 1);
          s.push(63, null);
          const gone = s.columns(0, 63, 1, { log: true });
          s.clear();
          for (let k = 0; k < 100; k++) s.push(k, 2);
          const cleared = s.columns(0, 99, 1);
          return [before, after.maxs[0], after.mins[0], gone.maxs[0],
                  cleared.mins[0], cleared.maxs[0]];
        }"""
    )
    assert result == [1, 1e6, 1, 0, 2, 2]  # log10(1) = 0 once the spike is gone


def test_loss_chart_draws_a_long_run_in_log_and_linear(blank: Any) -> None:
    result = blank.evaluate(
        """async () => {
          const { LossChart } = await import("/static/js/views/loss_chart.js");
          const canvas = document.createElement("canvas");
          canvas.style.width = "600px";
          canvas.style.height = "200px";
          document.documentElement.append(canvas);
          const chart = new LossChart(canvas);
          for (let k = 0; k < 300000; k++) {
            chart.train.push(k, 1 / (k + 1) + (k === 123456 ? 5 : 0));
          }
          const inked = () => {
            const ctx = canvas.getContext("2d");
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
            return n;
          };
          const out = {};
          for (const log of [true, false, true]) {
            chart.setLog(log);
            chart.draw();
            out[String(log)] = inked();
          }
          out.points = canvas.dataset.points;
          return out;
        }"""
    )
    assert result["points"] == "300000"
    assert result["true"] > 1000 and result["false"] > 1000
    # How fast it draws is measured by bench/page_draw.py, never asserted in a test.


def test_home_page_sparklines_ask_for_thinned_history(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    stepped = httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 500}, timeout=30)
    assert stepped.status_code == 200, stepped.text
    asked: list[str] = []
    p = page.page
    p.on("request", lambda request: asked.append(request.url))
    thinned = re.compile(rf"/api/runs/{run['id']}/history\?points=(\d+)$")
    with p.expect_response(lambda response: bool(thinned.search(response.url))) as answer:
        p.goto(base_url)
    assert answer.value.status == 200
    wait_until(
        lambda: p.evaluate(
            """(id) => {
              const canvas = document.querySelector(`tr[data-run-id="${id}"] canvas`);
              if (!canvas || !canvas.width) return false;
              const ctx = canvas.getContext("2d");
              const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
              return data.some((v, i) => i % 4 === 3 && v > 0);
            }""",
            run["id"],
        ),
        what="the sparkline drawn",
    )
    histories = [url for url in asked if "/history" in url]
    assert histories and all(thinned.search(url) for url in histories), histories
    points = int(thinned.search(histories[0]).group(1))  # type: ignore[union-attr]
    assert 2 <= points <= 256
    time.sleep(0.1)
    assert page.errors == []
