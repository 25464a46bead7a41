"""Every page passes axe-core's WCAG 2 A and AA rules, at desktop and phone widths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.axe import axe_violations
from tests.support.browser import ARTICLE, create_run, wait_until
from tests.support.server import LiveServer
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def base_url_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module's ten page checks (BACKPROP_LIVE_URL: an already running one)."""
    external = os.environ.get("BACKPROP_LIVE_URL")
    if external:
        yield external
        return
    with LiveServer(tmp_path_factory.mktemp("axe") / "runs.db") as server:
        yield server.url


@pytest.fixture(scope="module")
def runs(base_url_module: str) -> list[str]:
    spiral = {
        **ARTICLE,
        "name": "Spiral",
        "layers": [2, 8, 8, 1],
        "activation": ["tanh", "tanh", "sigmoid"],
        "loss": "cross_entropy",
        "dataset": {"kind": "spiral", "samples": 100},
    }
    ids = [create_run(base_url_module, spiral)["id"], create_run(base_url_module)["id"]]
    for run_id in ids:
        httpx.post(f"{base_url_module}/api/runs/{run_id}/step", json={"count": 10}, timeout=10)
    return ids


def settled(page: Any, path: str) -> None:
    """Wait for what each page draws from the server, so axe sees the page as a person does."""
    if path.startswith("/runs/") and path != "/runs/doesnotexist":
        canvas = page.get_by_test_id("network-view")
        wait_until(lambda: bool(canvas.get_attribute("data-edge-probes")), what="the network")
        data = page.get_by_test_id("data-view")
        wait_until(lambda: data.get_attribute("data-train-points") is not None, what="the data")
    elif path.startswith("/compare"):
        nets = page.get_by_test_id("compare-network")
        wait_until(lambda: bool(nets.last.get_attribute("data-edge-probes")), what="the networks")
    elif path == "/":
        preview = page.get_by_test_id("data-preview")
        wait_until(
            lambda: preview.get_attribute("data-train-points") is not None, what="the preview"
        )
        body = page.locator("#runs-body")
        wait_until(lambda: body.get_attribute("data-refreshes") is not None, what="the runs list")
    elif path == "/descent":
        page.get_by_test_id("descent-curve").wait_for()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", ["home", "run", "compare", "descent", "not-found"])
def test_every_page_passes_wcag_aa(
    browser: Any, base_url_module: str, runs: list[str], name: str, size: str
) -> None:
    path = {
        "home": "/",
        "run": f"/runs/{runs[0]}",
        "compare": f"/compare?runs={runs[0]},{runs[1]}",
        "descent": "/descent",
        "not-found": "/runs/doesnotexist",
    }[name]
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(f"{base_url_module}{path}")
        settled(page, path)
        screenshot(page, f"axe-{name}-{size}")
        assert axe_violations(page) == []
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    finally:
        context.close()
