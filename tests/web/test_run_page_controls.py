"""The run page's classroom controls in Chromium: pace, Reset, names, pictures, data toggles."""

from __future__ import annotations

import math
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTICLE, api, create_run, open_run, wait_connected, wait_until
from tests.web.conftest import PageWithConsole

pytestmark = pytest.mark.browser

XOR = {
    "name": "XOR",
    "layers": [2, 4, 1],
    "activation": ["tanh", "sigmoid"],
    "loss": "cross_entropy",
    "dataset": {"kind": "xor", "samples": 200, "noise": 0.05, "seed": 1},
    "speed": 30,
}


def test_a_new_run_opens_paused_with_its_speed(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url, {**ARTICLE, "speed": 5})
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    expect(p.get_by_test_id("speed")).to_have_value("5")
    expect(p.get_by_test_id("play-button")).to_be_enabled()
    options = p.get_by_test_id("speed").locator("option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["1", "5", "30", "100", "1000", "max"]
    assert page.errors == []


def test_reset_starts_the_same_config_again_as_a_new_run(
    page: PageWithConsole, base_url: str
) -> None:
    old = create_run(base_url, {**ARTICLE, "name": "Reset me"})
    httpx.post(f"{base_url}/api/runs/{old['id']}/step", json={"count": 5}, timeout=10)
    p = page.page
    open_run(p, base_url, old["id"])
    expect(p.get_by_test_id("step-count")).to_have_text("5")
    p.get_by_test_id("reset-button").click()
    p.wait_for_url(lambda url: old["id"] not in url)
    wait_connected(p)
    new_id = p.url.rstrip("/").split("/")[-1]
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    expect(p.get_by_test_id("run-name")).to_have_text("Reset me")
    new = api(base_url, f"/api/runs/{new_id}")
    assert new["config"] == api(base_url, f"/api/runs/{old['id']}")["config"]
    first_losses = [
        api(base_url, f"/api/runs/{rid}/history")["loss"][0] for rid in (old["id"], new_id)
    ]
    assert first_losses[0] == first_losses[1] == new["loss"]
    assert float(p.get_by_test_id("loss-value").get_attribute("data-value") or "nan") == new["loss"]
    # The old run stays, with its history.
    kept = api(base_url, f"/api/runs/{old['id']}")
    assert kept["step"] == 5
    assert api(base_url, f"/api/runs/{old['id']}/history")["steps"] == [0, 1, 2, 3, 4, 5]
    assert page.errors == []


def test_a_finished_run_can_be_reset(page: PageWithConsole, base_url: str) -> None:
    done = create_run(base_url, {**ARTICLE, "max_steps": 3})
    httpx.post(f"{base_url}/api/runs/{done['id']}/step", json={"count": 3}, timeout=10)
    p = page.page
    open_run(p, base_url, done["id"])
    expect(p.get_by_test_id("run-status")).to_have_text("finished")
    expect(p.get_by_test_id("play-button")).to_be_disabled()
    p.get_by_test_id("reset-button").click()
    p.wait_for_url(lambda url: done["id"] not in url)
    wait_connected(p)
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    expect(p.get_by_test_id("play-button")).to_be_enabled()
    assert page.errors == []


def test_an_unnamed_run_is_titled_by_its_id(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("run-name")).to_have_text(f"Run {run['id']}")
    expect(p).to_have_title(f"Run {run['id']} · backprop-live")


def test_a_run_deleted_under_the_page_turns_its_controls_off(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    p = page.page
    p.route(
        f"**/api/runs/{run['id']}", lambda route: route.fulfill(status=404, json={"detail": "gone"})
    )
    p.goto(f"{base_url}/runs/{run['id']}")
    expect(p.get_by_test_id("run-status")).to_have_text("missing")
    expect(p.locator("#conn-status")).to_have_text("not connected")
    for button in ("play-button", "step-button", "reset-button", "stop-button"):
        expect(p.get_by_test_id(button)).to_be_disabled()
    expect(p.get_by_test_id("learning-rate")).to_be_disabled()
    expect(p.get_by_test_id("speed")).to_be_disabled()
    assert all("404" in error for error in page.errors), page.errors


def plane_pixels(view: Any) -> list[list[int]]:
    """The data view's colour at five spots of its square (device pixels, red-green-blue)."""
    pixels: list[list[int]] = view.evaluate(
        """(canvas) => {
            const ctx = canvas.getContext("2d");
            const w = canvas.width, side = Math.min(w, canvas.height);
            const spots = [[0.3, 0.3], [0.5, 0.5], [0.7, 0.6], [0.4, 0.75], [0.6, 0.35]];
            return spots.map(([fx, fy]) => {
              const x = Math.round((w - side) / 2 + fx * side), y = Math.round(fy * side);
              return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
            });
        }"""
    )
    return pixels


def on_cells(pixels: list[list[int]], colours: list[list[int]]) -> list[list[int]]:
    """The pixels that are one of `colours` (±1): background cells, not a point drawn on them.

    A spot may land on a sample's dot or ring; most of the square is cells.
    """
    return [
        px
        for px in pixels
        if any(max(abs(a - b) for a, b in zip(px, c, strict=True)) <= 1 for c in colours)
    ]


def hidden_corner(weights: dict[str, Any], extent: float, cells: int) -> float:
    """Hidden neuron 0's tanh activation at the grid's top-left cell, from the API's weights."""
    x1 = extent * (-1 + 1 / cells)
    x2 = extent * (1 - 1 / cells)
    w = np.array(weights["weights"][0])
    b = np.array(weights["biases"][0])
    return float(np.tanh(x1 * w[0, 0] + x2 * w[1, 0] + b[0]))


def test_each_neuron_shows_its_picture_of_the_plane(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url, XOR)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 20}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("step-count")).to_have_text("20")
    network = p.get_by_test_id("network-view")
    wait_until(lambda: network.get_attribute("data-neuron-maps") == "7", what="2 + 4 + 1 pictures")
    extent = float(network.get_attribute("data-neuron-map-extent") or "nan")
    cells = int(network.get_attribute("data-neuron-map-cells") or 0)
    assert cells == 16
    expected = hidden_corner(api(base_url, f"/api/runs/{run['id']}/weights"), extent, cells)
    shown = float(network.get_attribute("data-neuron-map-corner") or "nan")
    assert math.isclose(shown, expected, rel_tol=1e-9, abs_tol=1e-12)
    # Live: one more step, and the pictures follow the new weights.
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("21")
    after = hidden_corner(api(base_url, f"/api/runs/{run['id']}/weights"), extent, cells)
    assert after != expected
    wait_until(
        lambda: math.isclose(
            float(network.get_attribute("data-neuron-map-corner") or "nan"), after
        ),
        what="the pictures of step 21",
    )
    p.get_by_test_id("neuron-maps-toggle").uncheck()
    wait_until(lambda: network.get_attribute("data-neuron-maps") == "0", what="pictures off")
    assert page.errors == []


def test_a_run_without_2d_inputs_offers_no_pictures(page: PageWithConsole, base_url: str) -> None:
    config = {**ARTICLE, "layers": [1, 4, 1], "dataset": {"kind": "function", "samples": 20}}
    run = create_run(base_url, config)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("neuron-maps-toggle")).to_be_hidden()
    assert p.get_by_test_id("network-view").get_attribute("data-neuron-maps") in (None, "0")


def test_the_data_view_hides_test_data_and_discretises(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, XOR)
    p = page.page
    open_run(p, base_url, run["id"])
    view = p.get_by_test_id("data-view")
    wait_until(lambda: view.get_attribute("data-test-points") == "40", what="test rings drawn")
    p.get_by_test_id("show-test").uncheck()
    wait_until(lambda: view.get_attribute("data-test-points") == "0", what="test rings hidden")
    p.get_by_test_id("discretise").check()
    wait_until(
        lambda: view.get_attribute("data-discrete") == "true", what="a two-colour background"
    )
    # Every cell is then one of two colours: the diverging scale's ends at 85 % (blue, orange).
    two = [[round(255 + (c - 255) * 0.85) for c in end] for end in ([29, 111, 214], [232, 115, 12])]
    assert len(on_cells(plane_pixels(view), two)) >= 3
    assert page.errors == []


OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"]
THREE_CLASS_SPIRAL = {
    "name": "3-class spiral",
    "layers": [4, 16, 16, 3],
    "activation": ["tanh", "tanh", "linear"],
    "loss": "cross_entropy",
    "learning_rate": 0.3,
    "momentum": 0.9,
    "dataset": {
        "kind": "spiral",
        "classes": 3,
        "samples": 300,
        "noise": 0.02,
        "features": ["x1", "x2", "sin(x1)", "sin(x2)"],
    },
}


def test_features_label_the_inputs_and_three_classes_colour_the_plane(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, THREE_CLASS_SPIRAL)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 300}, timeout=60)
    p = page.page
    open_run(p, base_url, run["id"])
    network = p.get_by_test_id("network-view")
    wait_until(lambda: network.get_attribute("data-input-names") is not None, what="input names")
    assert network.get_attribute("data-input-names") == "x1,x2,sin(x1),sin(x2)"
    wait_until(
        lambda: network.get_attribute("data-neuron-maps") == "39", what="4 + 16 + 16 + 3 pictures"
    )
    view = p.get_by_test_id("data-view")
    p.get_by_test_id("discretise").check()  # unsmoothed cells: each pixel one class's colour
    wait_until(lambda: view.get_attribute("data-discrete") == "true", what="discrete cells")
    assert view.get_attribute("data-classes") == "3"
    wins = [int(k) for k in (view.get_attribute("data-class-wins") or "").split(",")]
    assert len(wins) == 3 and all(k > 0 for k in wins), wins  # three regions on the plane
    # Cells are class colours at 75 % on white.
    shades = [
        [round(255 + (int(c[i : i + 2], 16) - 255) * 0.75) for i in (1, 3, 5)] for c in OKABE_ITO
    ]
    assert len(on_cells(plane_pixels(view), shades)) >= 3
    assert view.get_attribute("data-accuracy-of") == "test"
    assert page.errors == []
