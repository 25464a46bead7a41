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
    expect(p.locator("#data-note")).not_to_contain_text("rings")
    p.get_by_test_id("discretise").check()
    wait_until(
        lambda: view.get_attribute("data-discrete") == "true", what="a two-colour background"
    )
    expect(p.locator("#data-note")).to_contain_text("orange below 0.5, blue above")
    assert page.errors == []
