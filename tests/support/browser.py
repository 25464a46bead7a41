"""Helpers the browser tests share: the article's config, the REST calls, waiting on conditions."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import expect

ARTICLE = {
    "layers": [2, 4, 4, 1],
    "activation": "sigmoid",
    "bias": True,
    "loss": "mse",
    "learning_rate": 0.5,
    "batch_size": None,
    "variant": "standard",
    "seed": 0,
    "dataset": {
        "kind": "teacher",
        "layers": [2, 3, 1],
        "activation": "sigmoid",
        "samples": 200,
        "noise": 0.0,
        "seed": 1,
        "test_fraction": 0.2,
    },
    "max_steps": None,
    "start": "paused",
}


def parse_number(text: str) -> float:
    """Numbers as the page writes them: typographic minus, maybe an exponent."""
    return float(text.strip().replace("−", "-"))


def create_run(base_url: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/api/runs", json=config or ARTICLE, timeout=10)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def api(base_url: str, path: str) -> Any:
    response = httpx.get(f"{base_url}{path}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(check: Any, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll from Python: the page's CSP forbids the eval that string predicates would need."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_connected(page: Any) -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open", timeout=10_000)


def open_run(page: Any, base_url: str, run_id: Any) -> None:
    page.goto(f"{base_url}/runs/{run_id}")
    wait_connected(page)
    canvas = page.get_by_test_id("network-view")
    wait_until(lambda: bool(canvas.get_attribute("data-edge-probes")), what="edges drawn")


def hover_first_edge(page: Any) -> dict[str, Any]:
    """Hover the first drawn edge of layer 0; returns the tooltip's edge and shown weight."""
    canvas = page.get_by_test_id("network-view")
    probe = canvas.get_attribute("data-edge-probes").split(";")[0]
    _, _, _, x, y = probe.split(",")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + float(x), box["y"] + float(y))
    tooltip = page.get_by_test_id("tooltip")
    tooltip.wait_for(state="visible")
    return {
        "l": int(tooltip.get_attribute("data-l")),
        "i": int(tooltip.get_attribute("data-i")),
        "j": int(tooltip.get_attribute("data-j")),
        "w": parse_number(tooltip.locator("[data-role=w]").inner_text()),
        "text": tooltip.inner_text(),
    }
