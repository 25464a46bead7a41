"""The run page in real headless Chromium against a real server: the network explained on the
diagram, its scales, the gradient chart, the shortcut variant's labels, history and layout.

Assertions read data-testids and the data attributes the views write (the network view's
data-phase, data-rings, …), never pixels; waits are on conditions, never fixed sleeps.
"""

from __future__ import annotations

import math
import signal
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from tests.support.browser import (
    ARTICLE,
    api,
    create_run,
    hover_first_edge,
    open_run,
    parse_number,
    wait_until,
)
from tests.support.server import LiveServer
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-teach")
PHASES = [
    "forward-1",
    "forward-2",
    "forward-3",
    "loss",
    "backward-3",
    "backward-2",
    "backward-1",
    "update",
]
SHORTCUT = {**ARTICLE, "variant": "no_activation_derivative"}


def shot(page: Any, name: str) -> None:
    """A screenshot in the artifacts and in /tmp/shots-teach, to be looked at."""
    screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def start_explain(page: Any) -> tuple[Any, Any]:
    """Press Step and explain; (text panel, next-phase button) once phase one is drawn."""
    page.get_by_test_id("explain-button").click()
    expect(page.get_by_test_id("network-view")).to_have_attribute("data-phase", "forward-1")
    return page.get_by_test_id("phase-body"), page.get_by_test_id("phase-next")


def next_phase(page: Any, phase: str) -> None:
    page.get_by_test_id("phase-next").click()
    expect(page.get_by_test_id("network-view")).to_have_attribute("data-phase", phase)


def walk_to(page: Any, phase: str) -> None:
    view = page.get_by_test_id("network-view")
    while view.get_attribute("data-phase") != phase:
        page.get_by_test_id("phase-next").click()
        expect(view).not_to_have_attribute("data-phase", "none")


def walk_to_apply(page: Any) -> None:
    walk_to(page, "update")


def tip_value(tooltip: Any, role: str) -> float:
    """The exact value behind a number of the tooltip (its data-value)."""
    return float(tooltip.locator(f"[data-role={role}]").get_attribute("data-value"))


def hover_until(page: Any, text: str) -> dict[str, Any]:
    """Hover the first edge until its tooltip says `text` (the frame it needs has been drawn)."""
    found: dict[str, Any] = {}

    def says_it() -> bool:
        page.mouse.move(0, 0)
        found.update(hover_first_edge(page))
        return text in found["text"]

    wait_until(says_it, what=f"the tooltip to say {text!r}")
    return found


def cells(body: Any, role: str) -> dict[tuple[int, ...], float]:
    """(l, i, j) or (l, j) -> the exact value of every cell of `role` in the text panel."""
    out = {}
    for el in body.locator(f"[data-role={role}]").all():
        key = tuple(
            int(el.get_attribute(f"data-{n}")) for n in "lij" if el.get_attribute(f"data-{n}")
        )
        out[key] = float(el.get_attribute("data-value") or "nan")
    return out


def weights_after_update(body: Any) -> dict[tuple[int, ...], float]:
    """The update phase's table: (layer, i, j) -> the weight shown after the update."""
    return cells(body, "w-after")


def assert_api_weights_equal(
    base_url: str, run_id: str, step: int, shown: dict[tuple[int, ...], float]
) -> None:
    """Every weight the page showed equals the API's at `step`."""
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    assert weights["step"] == step
    for (layer, i, j), value in shown.items():
        assert value == pytest.approx(weights["weights"][layer][i][j], rel=1e-12, abs=1e-15)


def rings(page: Any) -> dict[tuple[int, int], float]:
    """The network view's drawn δ ring radius per neuron (0: no ring)."""
    raw = page.get_by_test_id("network-view").get_attribute("data-rings") or ""
    out = {}
    for item in filter(None, raw.split(";")):
        layer, j, radius = item.split(",")
        out[(int(layer), int(j))] = float(radius)
    return out


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_newcomer_steps_and_explains_one_update_on_the_diagram(
    page: PageWithConsole, base_url: str
) -> None:
    """The article's run: Step and explain is the first button; every phase is drawn on the
    network; δ and a·δ are the API's; the weights after Apply are the ones shown."""
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    first = p.locator("#controls button").first
    expect(first).to_have_attribute("data-testid", "explain-button")
    explain = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")
    body, _ = start_explain(p)
    net_box = p.get_by_test_id("network-view").bounding_box()
    panel = p.get_by_test_id("explain-panel").bounding_box()
    assert panel["x"] >= net_box["x"] + net_box["width"]  # beside the network, not below it
    assert panel["y"] < net_box["y"] + net_box["height"]
    seen = [p.get_by_test_id("network-view").get_attribute("data-phase")]
    for phase in PHASES[1:]:
        next_phase(p, phase)
        seen.append(phase)
        expect(body).to_have_attribute("data-phase", phase)
        if phase.startswith("backward"):
            layer = int(phase.split("-")[1])
            deltas = cells(body, "delta")
            assert deltas == {
                (layer, j): d for j, d in enumerate(explain["sample_deltas"][layer - 1])
            }
            products = cells(body, "product")
            a, d = explain["activation"][layer - 1], explain["sample_deltas"][layer - 1]
            assert products == {
                (layer - 1, i, j): a[i] * d[j] for i in range(len(a)) for j in range(len(d))
            }
            gradients = cells(body, "gradient")
            assert all(
                g == explain["gradients"][layer - 1][i][j] for (_, i, j), g in gradients.items()
            )
        if phase == "backward-2":
            expect(p.get_by_test_id("network-view")).to_have_attribute("data-pulse", "arrived")
            shot(p, "run-explain-backward-1280")
    assert seen == PHASES
    shot(p, "run-explain-update-1280")
    shown = weights_after_update(body)
    assert len(shown) == 2 * 4 + 4 * 4 + 4 * 1
    for (layer, i, j), w in shown.items():
        assert w == explain["new_weights"][layer][i][j]
    new_biases = cells(body, "b-after")
    assert new_biases
    assert all(b == explain["new_biases"][k][j] for (k, j), b in new_biases.items())
    # Old and new w are written with the digits that tell them apart.
    row = body.locator("tr[data-l]").first
    old, new = (
        row.locator("[data-role=w]").inner_text(),
        row.locator("[data-role=w-after]").inner_text(),
    )
    assert old != new

    # The hover follows the explained sample: a·δ multiplies out and sums to ∂L/∂w.
    edge = hover_first_edge(p)
    tooltip = p.get_by_test_id("tooltip")
    layer, i, j = edge["l"], edge["i"], edge["j"]
    assert tip_value(tooltip, "a") == explain["activation"][layer][i]
    assert tip_value(tooltip, "delta") == explain["sample_deltas"][layer][j]
    assert tip_value(tooltip, "product") == tip_value(tooltip, "a") * tip_value(tooltip, "delta")
    assert tip_value(tooltip, "w") == explain["new_weights"][layer][i][j]
    p.mouse.move(0, 0)

    p.get_by_test_id("phase-next").click()  # Apply this update
    expect(p.get_by_test_id("explain-applied")).to_be_visible()
    expect(p.get_by_test_id("network-view")).to_have_attribute("data-phase", "none")
    assert_api_weights_equal(base_url, run["id"], 1, shown)
    after = api(base_url, f"/api/runs/{run['id']}/weights")
    for (k, j), b in new_biases.items():
        assert b == pytest.approx(after["biases"][k][j], rel=1e-12, abs=1e-15)
    # The same button goes on to the next update.
    next_phase(p, "forward-1")
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    p.get_by_test_id("explain-close").click()
    expect(p.get_by_test_id("network-view")).to_have_attribute("data-phase", "none")
    expect(p.get_by_test_id("explain-panel")).to_be_hidden()
    assert page.errors == []


def test_one_picker_follows_a_sample_in_the_view_and_the_explanation(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("sample-select").select_option("3")
    body, _ = start_explain(p)
    explain = api(base_url, f"/api/runs/{run['id']}/explain?sample=3")
    assert cells(body, "act") == {(1, j): a for j, a in enumerate(explain["activation"][1])}
    # Changing the picker mid-way re-explains the same update, same phase, through sample 5.
    next_phase(p, "forward-2")
    p.get_by_test_id("sample-select").select_option("5")
    explain = api(base_url, f"/api/runs/{run['id']}/explain?sample=5")
    wanted = {(2, j): a for j, a in enumerate(explain["activation"][2])}
    wait_until(lambda: cells(body, "act") == wanted, what="the panel to follow sample 5")
    expect(p.get_by_test_id("network-view")).to_have_attribute("data-phase", "forward-2")
    assert p.locator("select").count() == 2  # the sample picker and the speed, nothing else
    assert page.errors == []


def test_rings_keep_a_fixed_scale_so_a_shrinking_delta_draws_smaller(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, {**ARTICLE, "learning_rate": 3.0})
    url = f"{base_url}/api/runs/{run['id']}"
    first = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")["deltas"]  # of update 1
    p = page.page
    open_run(p, base_url, run["id"])
    scale = p.get_by_test_id("network-view").get_attribute("data-edge-scale")
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    wait_until(lambda: len(rings(p)) == 9, what="the rings of update 1")
    early = rings(p)
    assert httpx.post(f"{url}/step", json={"count": 4999}, timeout=60).status_code == 200
    late = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")["deltas"]  # of update 5001
    shrunk = [
        (layer + 1, j)
        for layer, row in enumerate(late)
        for j, d in enumerate(row)
        if abs(d) * 100 <= abs(first[layer][j])
    ]
    assert shrunk, "no neuron's |δ| fell by 100× in 5,000 steps"
    expect(p.get_by_test_id("step-count")).to_have_text("5,000")
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("5,001")
    wait_until(lambda: rings(p) != early, what="the rings of update 5,001")
    now = rings(p)
    for neuron in shrunk:
        assert now[neuron] < early[neuron], (neuron, now[neuron], early[neuron])
    # The edge scale stayed put while the weights changed, and the legend states it.
    assert p.get_by_test_id("network-view").get_attribute("data-edge-scale") == scale
    expect(p.get_by_test_id("scale-legend")).to_contain_text(f"≥ {float(scale):g}")
    assert page.errors == []


def test_gradient_chart_draws_one_series_per_weight_layer(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    chart = p.get_by_test_id("gradient-chart")
    expect(chart).to_have_attribute("data-layers", "3")
    p.get_by_test_id("step10-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("10")
    expect(chart).to_have_attribute("data-series", "3")
    assert int(chart.get_attribute("data-points") or 0) >= 1
    assert page.errors == []


def marked(view: Any, attribute: str) -> set[tuple[int, ...]]:
    raw = view.get_attribute(attribute) or ""
    return {tuple(map(int, item.split(","))) for item in filter(None, raw.split(";"))}


def hidden_nets(base_url: str, run_id: str) -> Any:
    """net of the first hidden layer for every training sample, from the API's weights."""
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    x = np.array(api(base_url, f"/api/runs/{run_id}/dataset")["x_train"])
    return x @ np.array(weights["weights"][0]) + np.array(weights["biases"][0])


def test_dead_relus_are_marked_on_the_diagram(page: PageWithConsole, base_url: str) -> None:
    """Found dead by the page; checked dead against the engine's weights (net ≤ 0 everywhere)."""
    config = {
        **ARTICLE,
        "layers": [2, 8, 1],
        "activation": ["relu", "sigmoid"],
        "learning_rate": 40.0,
    }
    run = create_run(base_url, config)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 20}, timeout=30)
    p = page.page
    open_run(p, base_url, run["id"])
    view = p.get_by_test_id("network-view")
    wait_until(lambda: bool(view.get_attribute("data-dead")), what="a dead ReLU marked")
    net = hidden_nets(base_url, run["id"])
    assert marked(view, "data-dead") == {(1, j) for j in range(8) if (net[:, j] <= 0).all()}
    assert page.errors == []


def test_saturated_sigmoids_are_marked_on_the_diagram(page: PageWithConsole, base_url: str) -> None:
    """Saturated: σ′(net) under 1 % of its peak ¼ for at least 90 % of the samples."""
    config = {**ARTICLE, "layers": [2, 8, 1], "learning_rate": 300.0}
    run = create_run(base_url, config)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 20}, timeout=30)
    p = page.page
    open_run(p, base_url, run["id"])
    view = p.get_by_test_id("network-view")
    wait_until(lambda: bool(view.get_attribute("data-saturated")), what="a saturated neuron marked")
    a = 1 / (1 + np.exp(-hidden_nets(base_url, run["id"])))
    flat = (a * (1 - a) < 0.01 * 0.25).mean(axis=0) >= 0.9
    assert {(layer, j) for layer, j in marked(view, "data-saturated") if layer == 1} == {
        (1, j) for j in range(8) if flat[j]
    }
    assert page.errors == []


def test_the_shortcut_never_claims_to_be_the_gradient(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url, SHORTCUT)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("shortcut-note")).to_be_visible()
    expect(p.get_by_test_id("shortcut-note")).not_to_be_empty()
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    edge = hover_until(p, "step applied")
    assert "∂L/∂w" not in edge["text"]
    p.mouse.move(0, 0)
    p.get_by_test_id("network-view").focus()
    for _ in range(3):
        p.keyboard.press("ArrowDown")
    expect(p.get_by_test_id("tooltip")).to_contain_text("Σₙ δ")
    assert "∂L/∂b" not in p.get_by_test_id("tooltip").inner_text()
    assert "∂L/∂" not in p.locator("#gradient-legend").inner_text()
    body, _ = start_explain(p)
    texts = [body.inner_text()]
    for phase in PHASES[1:]:
        next_phase(p, phase)
        texts.append(body.inner_text())
    for text in texts:
        assert "∂L/∂w" not in text and "∂L/∂b" not in text and "∂L/∂net" not in text
    edge = hover_first_edge(p)
    assert "∂L/∂w" not in edge["text"]
    assert page.errors == []


def test_a_standard_run_has_no_shortcut_sentence(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("shortcut-note")).to_be_hidden()


def history_at(base_url: str, run_id: str, step: int) -> tuple[float, float | None]:
    history = api(base_url, f"/api/runs/{run_id}/history")
    k = history["steps"].index(step)
    return history["loss"][k], history["test_loss"][k]


def expect_readouts(page: Any, base_url: str, run_id: str, step: int) -> None:
    expect(page.get_by_test_id("viewing-step")).to_have_attribute("data-step", str(step))
    expect(page.get_by_test_id("step-count")).to_have_text(f"{step:,}")
    expect(page.get_by_test_id("loss-chart")).to_have_attribute("data-marker", str(step))
    loss, test_loss = history_at(base_url, run_id, step)

    def shown(testid: str) -> float | None:
        value = page.get_by_test_id(testid).get_attribute("data-value")
        return float(value) if value else None

    # The readouts take the exact losses of that step from the server.
    wait_until(
        lambda: (shown("loss-value"), shown("test-loss-value")) == (loss, test_loss),
        what=f"the readouts of step {step}",
    )


def set_slider(slider: Any, position: int) -> None:
    slider.evaluate(
        "(slider, value) => { slider.value = String(value);"
        " slider.dispatchEvent(new Event('input')); }",
        position,
    )


def test_history_slider_shows_a_steps_readouts_and_marks_it(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 50}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("step-count")).to_have_text("50")
    viewing = p.get_by_test_id("viewing-step")
    expect(viewing).to_be_hidden()
    slider = p.get_by_test_id("history-slider")
    set_slider(slider, 20)  # step 10 has a test loss, 20 too; 21 has none
    expect(viewing).to_be_visible()
    expect_readouts(p, base_url, run["id"], 20)
    p.get_by_test_id("history-forward").click()
    expect_readouts(p, base_url, run["id"], 21)
    p.get_by_test_id("history-back").click()
    p.get_by_test_id("history-back").click()
    expect_readouts(p, base_url, run["id"], 19)
    expect(p.locator("#history-label")).to_have_attribute("data-step", "19")  # its weights shown
    old = api(base_url, f"/api/runs/{run['id']}/weights?step=19")

    def shown_is_old() -> bool:
        edge = hover_first_edge(p)
        return math.isclose(
            edge["w"], old["weights"][edge["l"]][edge["i"]][edge["j"]], rel_tol=1e-5
        )

    wait_until(shown_is_old, what="the network to show step 19's weights")
    p.mouse.move(0, 0)
    shot(p, "run-history-1280")
    # Another update while viewing: the readouts stay on step 19, the viewing line moves on.
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 1}, timeout=10)
    expect(viewing).to_contain_text("51")
    expect(p.get_by_test_id("step-count")).to_have_text("19")
    p.get_by_test_id("history-live").click()
    expect(viewing).to_be_hidden()
    expect(p.get_by_test_id("step-count")).to_have_text("51")
    expect(p.get_by_test_id("loss-chart")).not_to_have_attribute("data-marker", "19")
    assert page.errors == []


def test_a_long_run_is_scrubbed_on_a_log_slider_and_stepped_one_by_one(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 5000}, timeout=60)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("step-count")).to_have_text("5,000")
    slider = p.get_by_test_id("history-slider")
    expect(slider).to_have_attribute("data-scale", "log")
    set_slider(slider, 500)  # half-way along a log scale: about √5001 − 1
    step = round(math.expm1(0.5 * math.log1p(5000)))
    expect_readouts(p, base_url, run["id"], step)
    p.get_by_test_id("history-forward").click()
    expect_readouts(p, base_url, run["id"], step + 1)
    assert page.errors == []


def test_phone_layout_keeps_every_control_in_reach(browser: Any, base_url: str) -> None:
    run = create_run(base_url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    p = context.new_page()
    try:
        open_run(p, base_url, run["id"])
        shot(p, "run-phone-390")

        def overflow() -> int:
            return int(p.evaluate("document.documentElement.scrollWidth - window.innerWidth"))

        assert overflow() <= 0
        for control in p.locator("#controls button, #controls select, #controls input").all():
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, control
        start_explain(p)
        next_phase(p, "forward-2")
        assert overflow() <= 0
        for control in p.locator("#explain-bar button:visible").all():
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        shot(p, "run-phone-390-explain")
        # The network stays in view while the text below it scrolls.
        p.get_by_test_id("phase-body").locator("table").last.scroll_into_view_if_needed()
        view = p.get_by_test_id("network-view").bounding_box()
        assert view["y"] >= 0 and view["y"] + view["height"] <= 844
        shot(p, "run-phone-390-explain-scrolled")
        assert overflow() <= 0
    finally:
        context.close()


def test_desktop_shows_controls_network_and_loss_without_scrolling(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    shot(p, "run-1280")
    for testid in (
        "explain-button",
        "play-button",
        "speed",
        "learning-rate",
        "network-view",
        "loss-chart",
    ):
        box = p.get_by_test_id(testid).bounding_box()
        assert box and box["y"] + box["height"] <= 800, testid
    assert page.errors == []


def test_tooltips_leave_what_they_describe_uncovered(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    canvas = p.get_by_test_id("network-view")
    origin = canvas.bounding_box()
    tooltip = p.get_by_test_id("tooltip")
    for probe in canvas.get_attribute("data-neuron-probes").split(";"):
        _, _, x, y, r = map(float, probe.split(","))
        p.mouse.move(origin["x"] + x, origin["y"] + y)
        expect(tooltip).to_have_attribute("data-kind", "neuron")
        ring = {
            "x": origin["x"] + x - r - 9,
            "y": origin["y"] + y - r - 9,
            "width": 2 * r + 18,
            "height": 2 * r + 18,
        }
        assert not boxes_overlap(tooltip.bounding_box(), ring), probe
        assert tooltip.bounding_box()["width"] <= 400
    for probe in canvas.get_attribute("data-edge-probes").split(";"):
        _, _, _, x, y = probe.split(",")
        point = {
            "x": origin["x"] + float(x) - 4,
            "y": origin["y"] + float(y) - 4,
            "width": 8,
            "height": 8,
        }
        p.mouse.move(point["x"] + 4, point["y"] + 4)
        expect(tooltip).to_have_attribute("data-kind", "edge")
        assert not boxes_overlap(tooltip.bounding_box(), point), probe
    assert page.errors == []


def test_hover_numbers_are_the_apis_and_multiply_out(page: PageWithConsole, base_url: str) -> None:
    """Every number of the edge and neuron hovers is the API's, labelled with its update."""
    run = create_run(base_url)
    url = f"{base_url}/api/runs/{run['id']}"
    update_1 = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")  # made by the step below
    assert update_1["step"] == 0 and update_1["learning_rate"] == 0.5
    p = page.page
    open_run(p, base_url, run["id"])
    p.locator("#sample-select").select_option("0")
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")

    edge = hover_until(p, "step applied")
    tooltip = p.get_by_test_id("tooltip")
    layer, i, j = edge["l"], edge["i"], edge["j"]
    w0 = api(base_url, f"/api/runs/{run['id']}/weights?step=0")["weights"][layer][i][j]
    w1 = api(base_url, f"/api/runs/{run['id']}/weights?step=1")["weights"][layer][i][j]
    gradient = tip_value(tooltip, "gradient")
    assert "(after update 1)" in edge["text"]
    assert "update 1, made at the initial weights" in edge["text"]
    assert tip_value(tooltip, "w") == w1
    assert gradient == pytest.approx(update_1["gradients"][layer][i][j], rel=1e-12)
    assert tip_value(tooltip, "rate") == 0.5
    # −α·∂L/∂w is the step that was applied, and its factors are the ones shown.
    assert tip_value(tooltip, "change") == -0.5 * gradient
    assert tip_value(tooltip, "change") == pytest.approx(w1 - w0, rel=1e-9, abs=1e-15)
    assert "×" not in edge["text"].split("step applied")[0]  # no product of unrelated factors
    screenshot(p, "run-hover-edge")

    # Another tab's PATCH: the hover keeps update 1's α and says the next update's.
    assert httpx.patch(url, json={"learning_rate": 0.25}, timeout=10).status_code == 200
    expect(tooltip).to_contain_text("the next update uses α = 0.25")
    assert tip_value(tooltip, "rate") == 0.5
    expect(p.get_by_test_id("learning-rate")).to_have_value("0.25")

    # Neuron 0 of layer 1, sample 0: net, a, f′ under the weights after update 1 (the next
    # update's forward pass, from the API), and Σₙ δ of update 1, labelled as such.
    update_2 = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")
    assert update_2["step"] == 1 and update_2["row"] == 0
    p.mouse.move(0, 0)
    p.get_by_test_id("network-view").focus()
    for _ in range(3):
        p.keyboard.press("ArrowDown")
    expect(tooltip).to_contain_text("neuron 0 of layer 1")
    text = tooltip.inner_text()
    assert "training row 0, under the weights shown (after update 1)" in text
    assert "update 1, made at the initial weights" in text and "not training row 0's δ" in text
    assert tip_value(tooltip, "net") == pytest.approx(update_2["net"][0][0], rel=1e-9)
    assert tip_value(tooltip, "act") == pytest.approx(update_2["activation"][1][0], rel=1e-9)
    assert tip_value(tooltip, "dact") == pytest.approx(update_2["derivative"][0][0], rel=1e-9)
    assert tip_value(tooltip, "delta-sum") == pytest.approx(update_1["deltas"][0][0], rel=1e-12)
    screenshot(p, "run-hover-neuron")
    # The mean over samples is not f of the mean: no "a = f(net)" is claimed for it.
    p.locator("#sample-select").select_option("mean")
    p.get_by_test_id("network-view").focus()
    p.keyboard.press("ArrowDown")
    expect(tooltip).to_contain_text("mean a =")
    assert "sigmoid(net) =" not in tooltip.inner_text()
    assert page.errors == []


def test_hover_under_momentum_shows_the_step_applied(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url, {**ARTICLE, "momentum": 0.9})
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 1}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("step-button").click()  # update 2: its frame follows the state at step 1
    expect(p.get_by_test_id("step-count")).to_have_text("2")
    edge = hover_until(p, "Δw = w − w before")
    screenshot(p, "run-hover-momentum")
    tooltip = p.get_by_test_id("tooltip")
    assert "−α·v" in edge["text"] and "not −α·∂L/∂w" in edge["text"]
    assert tooltip.locator("[data-role=rate]").count() == 0  # no −α·∂L/∂w claimed as the step
    layer, i, j = edge["l"], edge["i"], edge["j"]
    w1 = api(base_url, f"/api/runs/{run['id']}/weights?step=1")["weights"][layer][i][j]
    w2 = api(base_url, f"/api/runs/{run['id']}/weights?step=2")["weights"][layer][i][j]
    assert tip_value(tooltip, "change") == pytest.approx(w2 - w1, rel=1e-12, abs=1e-18)
    assert page.errors == []


def shown_step(page: Any) -> int:
    return int(page.get_by_test_id("step-count").inner_text().replace(",", "").replace("–", "0"))


def test_play_then_pause(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("play-button").click()
    expect(p.locator("#run-status")).to_have_text("running")
    wait_until(lambda: shown_step(p) > 20, what="the run to train past step 20")
    screenshot(p, "run-mid-training")
    p.get_by_test_id("pause-button").click()
    expect(p.locator("#run-status")).to_have_text("paused")
    step = int(p.get_by_test_id("step-count").inner_text().replace(",", ""))
    assert step > 1
    chart = p.get_by_test_id("loss-chart")
    # The chart counts its points when it redraws (next animation frame), which may come just
    # after the status shows "paused": wait for that redraw rather than read the count once.
    wait_until(
        lambda: int(chart.get_attribute("data-points") or 0) >= step,
        what=f"the loss of every one of {step} steps charted",
    )
    assert page.errors == []


def test_explain_never_applies_an_update_the_run_moved_past(
    page: PageWithConsole, base_url: str
) -> None:
    """Another tab changes α, then steps: the panel says so and shows the new next update."""
    run = create_run(base_url)
    url = f"{base_url}/api/runs/{run['id']}"
    p = page.page
    open_run(p, base_url, run["id"])
    body, nxt = start_explain(p)
    walk_to_apply(p)
    assert httpx.patch(url, json={"learning_rate": 0.25}, timeout=10).status_code == 200
    expect(p.get_by_test_id("explain-stale")).to_contain_text("α is 0.25, not 0.5")
    # The explained update's new weights give way to the run's own (still those of step 0).
    now = api(base_url, f"/api/runs/{run['id']}/weights")["weights"]

    def network_shows_the_run() -> bool:
        edge = hover_first_edge(p)
        return math.isclose(edge["w"], now[edge["l"]][edge["i"]][edge["j"]], rel_tol=1e-5)

    wait_until(network_shows_the_run, what="the network to show the run's own weights")
    p.mouse.move(0, 0)
    nxt.click()
    expect(p.get_by_test_id("explain-reexplained")).to_contain_text("α = 0.25")
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 0  # nothing was applied
    expect(body).to_contain_text("α = 0.25")

    httpx.post(f"{url}/step", json={"count": 1}, timeout=10)  # "another tab" steps
    expect(p.get_by_test_id("explain-stale")).to_contain_text("at step 1, not 0")
    screenshot(p, "run-behind-the-scenes-stale")
    nxt.click()
    expect(p.get_by_test_id("explain-reexplained")).to_contain_text("from step 1")
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 1
    after = weights_after_update(body)
    expect(nxt).to_have_text("Apply this update ✓")
    nxt.click()
    p.get_by_test_id("explain-applied").wait_for()
    assert_api_weights_equal(base_url, run["id"], 2, after)
    assert page.errors == []


def test_history_says_when_a_step_was_recomputed_under_another_engine(
    page: PageWithConsole, tmp_path: Path
) -> None:
    """A run trained by an older server: its thinned-out steps are recomputed, not exact."""
    with LiveServer(tmp_path / "upgraded.db") as server:
        run = create_run(server.url)
        httpx.post(f"{server.url}/api/runs/{run['id']}/step", json={"count": 150}, timeout=30)
        server.stop()
        with closing(sqlite3.connect(server.db_path)) as conn, conn:
            conn.execute("UPDATE engines SET engine = 'engine 1; an older server'")
        server.start()
        assert not api(server.url, f"/api/runs/{run['id']}/weights?step=105")["exact"]
        p = page.page
        open_run(p, server.url, run["id"])
        label, note = p.locator("#history-label"), p.get_by_test_id("history-note")
        slider = p.get_by_test_id("history-slider")
        widths = []
        for step, recomputed in ((100, False), (105, True)):  # 100 is a snapshot: exact
            slider.evaluate(
                "(slider, step) => { slider.value = String(step);"
                " slider.dispatchEvent(new Event('input')); }",
                step,
            )
            expect(label).to_have_attribute("data-step", str(step))  # its weights fetched
            expect(label).to_have_text(f"step {step}")
            if recomputed:
                expect(note).to_be_visible()
                expect(note).to_contain_text("Made by another engine")
                expect(note).to_contain_text("may differ from the original")
            else:
                expect(note).to_be_hidden()
            assert slider.get_attribute("aria-valuetext") == f"step {step}"
            widths.append(slider.bounding_box()["width"])
        assert widths[0] == widths[1]  # the slider keeps its width under the thumb
        screenshot(p, "run-history-recomputed")
        assert page.errors == []


def test_keyboard_and_live_learning_rate(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.locator("body").click(position={"x": 5, "y": 300})
    p.keyboard.press("ArrowRight")
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    lr = p.get_by_test_id("learning-rate")
    lr.fill("0.25")
    lr.press("Tab")
    wait_until(
        lambda: api(base_url, f"/api/runs/{run['id']}")["learning_rate"] == 0.25,
        what="the learning rate to change on the server",
    )
    p.locator("body").click(position={"x": 5, "y": 300})
    p.keyboard.press(" ")
    expect(p.locator("#run-status")).to_have_text("running")
    p.keyboard.press(" ")
    expect(p.locator("#run-status")).to_have_text("paused")
    # The network is inspectable without a mouse: focus it, ↓ walks neurons then edges.
    p.get_by_test_id("network-view").focus()
    p.keyboard.press("ArrowDown")
    expect(p.get_by_test_id("tooltip")).to_contain_text("neuron 0 of layer 0")
    for _ in range(2 + 4 + 4 + 1):
        p.keyboard.press("ArrowDown")
    expect(p.get_by_test_id("tooltip")).to_contain_text("weight W")
    p.keyboard.press("Escape")
    expect(p.get_by_test_id("tooltip")).to_be_hidden()
    assert page.errors == []


def test_enter_on_step_and_play_keeps_the_keyboard_on_the_controls(
    page: PageWithConsole, base_url: str
) -> None:
    """Step and Play are disabled while they work; the focus must not fall to the page."""
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("step-button").focus()
    for count in ("1", "2"):
        p.keyboard.press("Enter")
        expect(p.get_by_test_id("step-count")).to_have_text(count)
        expect(p.get_by_test_id("step-button")).to_be_focused()
    p.get_by_test_id("play-button").focus()
    p.keyboard.press("Enter")
    expect(p.locator("#run-status")).to_have_text("running")
    expect(p.get_by_test_id("pause-button")).to_be_focused()
    p.keyboard.press("Enter")
    expect(p.locator("#run-status")).to_have_text("paused")
    expect(p.get_by_test_id("play-button")).to_be_focused()
    # A click is not a keyboard press: after clicking Step, Space still means play.
    p.get_by_test_id("step-button").click()
    step = api(base_url, f"/api/runs/{run['id']}")["step"]
    expect(p.get_by_test_id("step-count")).to_have_text(f"{step:,}")
    expect(p.get_by_test_id("step-button")).not_to_be_focused()
    p.keyboard.press(" ")
    expect(p.locator("#run-status")).to_have_text("running")
    p.keyboard.press(" ")
    expect(p.locator("#run-status")).to_have_text("paused")
    assert page.errors == []


def test_two_tabs_stay_in_sync(browser: Any, base_url: str) -> None:
    run = create_run(base_url)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        first, second = context.new_page(), context.new_page()
        for tab in (first, second):
            open_run(tab, base_url, run["id"])
        first.get_by_test_id("step10-button").click()
        expect(second.get_by_test_id("step-count")).to_have_text("10")
        second.get_by_test_id("play-button").click()
        expect(first.locator("#run-status")).to_have_text("running")
        first.get_by_test_id("pause-button").click()
        expect(second.locator("#run-status")).to_have_text("paused")
        step = api(base_url, f"/api/runs/{run['id']}")["step"]
        for tab in (first, second):
            expect(tab.get_by_test_id("step-count")).to_have_text(f"{step:,}")
        # A PATCH from one tab reaches the other (a settings frame): α field, speed, hover.
        first.get_by_test_id("learning-rate").fill("0.125")
        first.get_by_test_id("learning-rate").press("Tab")
        expect(second.get_by_test_id("learning-rate")).to_have_value("0.125")
        first.get_by_test_id("speed").select_option("30")
        expect(second.get_by_test_id("speed")).to_have_value("30")
        second.get_by_test_id("step-button").click()
        expect(first.get_by_test_id("step-count")).to_have_text(f"{step + 1:,}")
        edge = hover_until(first, "step applied")
        assert tip_value(first.get_by_test_id("tooltip"), "rate") == 0.125
        assert "next update uses" not in edge["text"]
    finally:
        context.close()


def test_page_reconnects_when_the_server_comes_back(
    page: PageWithConsole, live_server: LiveServer
) -> None:
    run = create_run(live_server.url)
    p = page.page
    open_run(p, live_server.url, run["id"])
    live_server.stop()
    expect(p.locator("#conn-status")).not_to_have_attribute("data-state", "open", timeout=10_000)
    live_server.start()
    expect(p.locator("#conn-status")).to_have_attribute("data-state", "open", timeout=20_000)
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")


def test_an_interrupted_run_can_be_stepped_from_the_page(
    page: PageWithConsole, live_server: LiveServer
) -> None:
    run = create_run(live_server.url)
    httpx.post(f"{live_server.url}/api/runs/{run['id']}/resume", timeout=10)
    live_server.stop(signal.SIGKILL)  # killed while the run trained: interrupted at restart
    live_server.start()
    p = page.page
    p.goto(live_server.url)  # the runs list offers Stop for it, as for any run that can train
    expect(p.get_by_role("button", name=f"Stop run {run['id']}")).to_be_visible()
    open_run(p, live_server.url, run["id"])
    expect(p.locator("#run-status")).to_have_text("interrupted")
    step = api(live_server.url, f"/api/runs/{run['id']}")["step"]
    expect(p.get_by_test_id("step-button")).to_be_enabled()
    expect(p.get_by_test_id("play-button")).to_be_enabled()
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text(f"{step + 1:,}")
    expect(p.locator("#run-status")).to_have_text("paused")
    assert page.errors == []


def test_cross_entropy_says_what_the_output_applies(page: PageWithConsole, base_url: str) -> None:
    config = {**ARTICLE, "loss": "cross_entropy", "dataset": {"kind": "xor", "samples": 100}}
    config["activation"] = ["tanh", "tanh", "linear"]
    run = create_run(base_url, config)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.locator("#run-summary")).to_contain_text("the output layer applies sigmoid")
    body, nxt = start_explain(p)
    for _ in range(2):
        nxt.click()
    expect(body).to_contain_text("the output layer applies sigmoid")
    nxt.click()
    expect(body.locator("table").first.locator("tbody tr")).to_have_count(
        1
    )  # the loss table: one output
    assert "NaN" not in body.inner_text()
    assert page.errors == []


def test_three_inputs_two_softmax_outputs(page: PageWithConsole, base_url: str) -> None:
    config = {
        **ARTICLE,
        "layers": [3, 5, 2],
        "activation": ["tanh", "linear"],
        "loss": "cross_entropy",
        # A sigmoid teacher's two outputs: targets in (0, 1) whose rows do not sum to 1.
        "dataset": {"kind": "teacher", "layers": [3, 4, 2], "activation": "sigmoid", "samples": 80},
    }
    run = create_run(base_url, config)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.locator("#run-summary")).to_contain_text("the output layer applies softmax")
    p.get_by_test_id("step10-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("10")
    expect(p.locator("#data-note")).to_contain_text("3 inputs")
    body, nxt = start_explain(p)
    while body.get_attribute("data-phase") != "backward-2":
        nxt.click()
    expect(body).to_contain_text("δ⁽2⁾ = (ŷ · Σₖ yₖ − y) / N")
    batch = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")["batch_size"]
    cells = (
        body.locator("table")
        .first.locator("tbody tr")
        .evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.replaceAll('−', '-')))"
        )
    )
    assert len(cells) == 2
    for _, error, _, delta, _ in cells:  # the page's ŷ·Σy − y over N is the engine's δ
        assert float(delta) == pytest.approx(float(error) / batch, rel=2e-4)
    walk_to_apply(p)
    assert "NaN" not in body.inner_text()
    nxt.click()
    p.get_by_test_id("explain-applied").wait_for()
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 11
    assert page.errors == []


def test_explain_with_momentum_and_mini_batches(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url, {**ARTICLE, "momentum": 0.9, "batch_size": 16})
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 3}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("sample-select").select_option("5")
    body, nxt = start_explain(p)
    expect(body).to_contain_text("sample 5 of the batch")
    walk_to_apply(p)
    expect(body).to_contain_text("momentum μ = 0.9")
    # The first row of W⁽⁰⁾: μ·v of the three earlier updates, as the engine holds it.
    config = {**ARTICLE, "momentum": 0.9, "batch_size": 16}
    engine = Trainer(
        RunConfig.model_validate(config).training_config(),
        make_dataset(RunConfig.model_validate(config).dataset_spec()),
    )
    for _ in range(3):
        engine.update()
    earlier = 0.9 * engine.state().weight_velocity[0][0][0]
    first = body.locator("tbody").first.locator("tr").first.locator("td")
    assert parse_number(first.nth(3).inner_text()) == pytest.approx(earlier, rel=1e-4)
    shown = weights_after_update(body)
    nxt.click()
    p.get_by_test_id("explain-applied").wait_for()
    assert_api_weights_equal(base_url, run["id"], 4, shown)
    assert page.errors == []


def test_a_network_without_biases_is_explained_without_them(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, {**ARTICLE, "bias": False})
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    canvas = p.get_by_test_id("network-view")
    canvas.focus()
    for _ in range(3):  # the two inputs, then neuron 0 of layer 1
        p.keyboard.press("ArrowDown")
    tooltip = p.get_by_test_id("tooltip")
    expect(tooltip).to_contain_text("neuron 0 of layer 1")
    expect(tooltip).to_contain_text("Σₙ δ =")
    assert "∂L/∂b" not in tooltip.inner_text() and "+ b" not in tooltip.inner_text()
    body, nxt = start_explain(p)
    expect(body).to_contain_text("(no biases)")
    assert "+ b" not in body.inner_text()
    while body.get_attribute("data-phase") != "backward-3":
        nxt.click()
    expect(body).to_contain_text("would be ∂L/∂b if the network had biases")
    walk_to_apply(p)
    expect(body).to_contain_text("W ← W − α · ∂L/∂W")
    assert "b ← b" not in body.inner_text()
    assert page.errors == []


def test_without_the_derivative_its_column_is_left_out_and_sums_read_plainly(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, {**ARTICLE, "variant": "no_activation_derivative"})
    p = page.page
    open_run(p, base_url, run["id"])
    body, nxt = start_explain(p)
    sums = body.locator("td.expand").all_inner_texts()
    assert sums and all("+ −" not in t and "×−" not in t for t in sums)
    assert any("(−" in t for t in sums)  # a negative factor or bias, in parentheses
    while body.get_attribute("data-phase") != "backward-2":
        nxt.click()
    expect(body.locator("thead").first).to_contain_text("f′(net): left out")
    cells = (
        body.locator("table")
        .first.locator("tbody tr")
        .evaluate_all("rows => rows.map(r => r.cells[2].textContent)")
    )
    assert cells and set(cells) == {"–"}
    assert page.errors == []


def test_explain_of_a_stopped_run_says_its_update_cannot_be_applied(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    httpx.post(f"{base_url}/api/runs/{run['id']}/stop", timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.locator("#run-status")).to_have_text("stopped")
    body, nxt = start_explain(p)
    while body.get_attribute("data-phase") != "update":
        nxt.click()
    expect(nxt).to_have_text("Not applicable: the run is stopped")
    expect(nxt).to_be_disabled()
    # Stopped from elsewhere while the panel waits at its last phase: the same.
    other = create_run(base_url)
    open_run(p, base_url, other["id"])
    body, nxt = start_explain(p)
    walk_to_apply(p)
    httpx.post(f"{base_url}/api/runs/{other['id']}/stop", timeout=10)
    expect(nxt).to_have_text("Not applicable: the run is stopped")
    expect(nxt).to_be_disabled()
    assert page.errors == []


def test_a_diverging_run_says_so(page: PageWithConsole, base_url: str) -> None:
    config = {
        **ARTICLE,
        "layers": [2, 8, 1],
        "activation": "linear",
        "learning_rate": 1e6,
        "dataset": {"kind": "plane", "samples": 50},
    }
    run = create_run(base_url, config)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("play-button").click()
    expect(p.locator("#run-status")).to_have_text("diverged", timeout=20_000)
    expect(p.locator("#run-notice")).to_be_visible()
    expect(p.get_by_test_id("play-button")).to_be_disabled()
    expect(p.get_by_test_id("step-button")).to_be_disabled()
    assert page.errors == []


def test_a_missing_run_answers_the_404_page(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    response = p.goto(f"{base_url}/runs/no-such-run")
    assert response is not None and response.status == 404
    expect(p.get_by_test_id("not-found")).to_contain_text("There is no run no-such-run")
    # The only console error allowed is the browser's own log line for the 404 answer.
    assert all("404" in error for error in page.errors), page.errors
