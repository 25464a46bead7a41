"""The pages in real headless Chromium against a real server (issue 4's browser tests)."""

from __future__ import annotations

import math
import signal
import sqlite3
import time
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
from tests.support.server import LiveServer
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser

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


def start_behind_the_scenes(page: Any) -> tuple[Any, Any]:
    """Open Behind the scenes on the run page; (phase body, next-phase button) at phase one."""
    page.get_by_test_id("bts-start").click()
    body = page.get_by_test_id("phase-body")
    wait_until(lambda: bool(body.get_attribute("data-phase")), what="first phase")
    return body, page.get_by_test_id("phase-next")


def walk_to_apply(next_phase: Any) -> None:
    """Press next phase until the button offers to apply the update (the last phase)."""
    while "Apply" not in next_phase.inner_text():
        next_phase.click()


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


def tip_value(tooltip: Any, role: str) -> float:
    """The exact value behind a number of the tooltip (its data-value)."""
    return float(tooltip.locator(f"[data-role={role}]").get_attribute("data-value"))


def hover_until(page: Any, text: str, timeout: float = 10.0) -> dict[str, Any]:
    """Hover the first edge until its tooltip says `text` (the frame it needs has been drawn)."""
    deadline = time.monotonic() + timeout
    edge = hover_first_edge(page)
    while text not in edge["text"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"the tooltip never said {text!r}: {edge['text']}")
        page.mouse.move(0, 0)
        time.sleep(0.1)
        edge = hover_first_edge(page)
    return edge


def weights_after_update(body: Any) -> dict[tuple[int, ...], float]:
    """The update phase's table: (layer, i, j) -> the weight shown after the update."""
    shown = {}
    for row in body.locator("tr[data-l]").all():
        key = tuple(int(row.get_attribute(f"data-{name}") or -1) for name in "lij")
        shown[key] = float(row.locator("[data-w-after]").get_attribute("data-w-after") or "nan")
    return shown


def assert_api_weights_equal(
    base_url: str, run_id: str, step: int, shown: dict[tuple[int, ...], float]
) -> None:
    """Every weight the page showed equals the API's at `step`."""
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    assert weights["step"] == step
    for (layer, i, j), value in shown.items():
        assert value == pytest.approx(weights["weights"][layer][i][j], rel=1e-12, abs=1e-15)


def test_article_example_from_the_form_then_one_step(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="The article's example").click()
    screenshot(p, "home")
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    run_id = p.url.rstrip("/").split("/")[-1]
    wait_connected(p)
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    assert api(base_url, f"/api/runs/{run_id}")["config"]["layers"] == [2, 4, 4, 1]

    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    canvas = p.get_by_test_id("network-view")
    wait_until(lambda: bool(canvas.get_attribute("data-edge-probes")), what="edges drawn")
    run = api(base_url, f"/api/runs/{run_id}")
    assert run["step"] == 1
    shown = p.get_by_test_id("loss-value")
    assert float(shown.get_attribute("data-value")) == run["loss"]
    assert math.isclose(parse_number(shown.inner_text()), run["loss"], rel_tol=1e-5)

    # The update frame of step 1 carries the gradients; once it is drawn the tooltip shows them.
    deadline = time.monotonic() + 10
    edge = hover_first_edge(p)
    while "∂L/∂w =" not in edge["text"] and time.monotonic() < deadline:
        p.mouse.move(0, 0)
        time.sleep(0.1)
        edge = hover_first_edge(p)
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    assert weights["step"] == 1
    expected = weights["weights"][edge["l"]][edge["i"]][edge["j"]]
    assert math.isclose(edge["w"], expected, rel_tol=1e-5, abs_tol=1e-9), (edge, expected)
    assert "−α·∂L/∂w" in edge["text"]
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


def test_play_for_a_second_then_pause(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    p.get_by_test_id("play-button").click()
    expect(p.locator("#run-status")).to_have_text("running")
    time.sleep(1.0)
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


def test_behind_the_scenes_walks_every_phase(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    body, nxt = start_behind_the_scenes(p)
    seen = [body.get_attribute("data-phase")]
    while "Apply" not in nxt.inner_text():
        nxt.click()
        seen.append(body.get_attribute("data-phase"))
        if seen[-1] == "backward:2":
            screenshot(p, "run-behind-the-scenes")
    assert seen == [
        "forward:1",
        "forward:2",
        "forward:3",
        "loss:3",
        "backward:3",
        "backward:2",
        "backward:1",
        "update:",
    ]
    after = weights_after_update(body)
    assert len(after) == 2 * 4 + 4 * 4 + 4 * 1
    # The hover now follows sample 0 of this update: a·δ multiplies out, and sums to ∂L/∂w.
    explain = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")
    edge = hover_first_edge(p)
    tooltip = p.get_by_test_id("tooltip")
    layer, i, j = edge["l"], edge["i"], edge["j"]
    a, delta = tip_value(tooltip, "a"), tip_value(tooltip, "delta")
    assert a == explain["activation"][layer][i]
    assert delta == explain["sample_deltas"][layer][j]
    assert tip_value(tooltip, "product") == a * delta
    assert tip_value(tooltip, "gradient") == explain["gradients"][layer][i][j]
    assert tip_value(tooltip, "w") == explain["new_weights"][layer][i][j]
    assert "over the 160 samples of the batch" in edge["text"]
    screenshot(p, "run-hover-behind-the-scenes")
    p.mouse.move(0, 0)
    nxt.click()
    p.get_by_test_id("bts-applied").wait_for()
    body = p.get_by_test_id("phase-body").inner_text()
    assert "has not taken this step yet" not in body and "phase 8 of 8" not in body
    assert_api_weights_equal(base_url, run["id"], 1, after)
    assert page.errors == []


def test_behind_the_scenes_never_applies_an_update_the_run_moved_past(
    page: PageWithConsole, base_url: str
) -> None:
    """Another tab changes α, then steps: the panel says so and shows the new next update."""
    run = create_run(base_url)
    url = f"{base_url}/api/runs/{run['id']}"
    p = page.page
    open_run(p, base_url, run["id"])
    body, nxt = start_behind_the_scenes(p)
    walk_to_apply(nxt)
    assert httpx.patch(url, json={"learning_rate": 0.25}, timeout=10).status_code == 200
    expect(p.get_by_test_id("bts-stale")).to_contain_text("α is 0.25, not 0.5")
    # The explained update's new weights give way to the run's own (still those of step 0).
    now = api(base_url, f"/api/runs/{run['id']}/weights")["weights"]

    def network_shows_the_run() -> bool:
        edge = hover_first_edge(p)
        return math.isclose(edge["w"], now[edge["l"]][edge["i"]][edge["j"]], rel_tol=1e-5)

    wait_until(network_shows_the_run, what="the network to show the run's own weights")
    p.mouse.move(0, 0)
    nxt.click()
    expect(p.get_by_test_id("bts-reexplained")).to_contain_text("α = 0.25")
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 0  # nothing was applied
    expect(body).to_contain_text("α = 0.25")

    httpx.post(f"{url}/step", json={"count": 1}, timeout=10)  # "another tab" steps
    expect(p.get_by_test_id("bts-stale")).to_contain_text("at step 1, not 0")
    screenshot(p, "run-behind-the-scenes-stale")
    nxt.click()
    expect(p.get_by_test_id("bts-reexplained")).to_contain_text("from step 1")
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 1
    after = weights_after_update(body)
    expect(nxt).to_have_text("Apply this update ✓")
    nxt.click()
    p.get_by_test_id("bts-applied").wait_for()
    assert_api_weights_equal(base_url, run["id"], 2, after)
    assert page.errors == []


def test_form_errors_appear_next_to_their_fields(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_label("Samples").fill("0")
    p.get_by_test_id("create-run").click()
    error = p.locator("[data-error-for='dataset.samples']")
    error.wait_for(state="visible")
    assert error.inner_text().strip()
    assert p.get_by_label("Samples").get_attribute("aria-invalid") == "true"
    assert "/runs/" not in p.url


def test_cross_entropy_on_a_tanh_teacher_is_refused_beside_the_loss(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    p.locator("#f-loss").select_option("cross_entropy")
    p.locator("#f-t-act").select_option("tanh")
    p.get_by_test_id("create-run").click()
    error = p.locator("[data-error-for='loss']")
    expect(error).to_contain_text("cross_entropy needs targets between 0 and 1")
    assert p.locator("#f-loss").get_attribute("aria-invalid") == "true"
    assert "/runs/" not in p.url


def test_phone_width_has_no_sideways_scroll(browser: Any, base_url: str) -> None:
    run = create_run(base_url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    p = context.new_page()
    try:
        for name, path in [("home", "/"), ("run", f"/runs/{run['id']}"), ("descent", "/descent")]:
            p.goto(f"{base_url}{path}")
            p.wait_for_load_state("networkidle")
            time.sleep(0.3)
            screenshot(p, f"phone-{name}")
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    finally:
        context.close()


def test_history_slider_shows_a_past_step(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 5}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.get_by_test_id("step-count")).to_have_text("5")
    slider = p.get_by_test_id("history-slider")
    expect(slider).to_have_attribute("max", "5")
    slider.focus()
    p.keyboard.press("Home")
    expect(p.locator("#history-label")).to_have_text("step 0")
    old = api(base_url, f"/api/runs/{run['id']}/weights?step=0")
    assert old["step"] == 0

    def shown_is_old() -> bool:
        edge = hover_first_edge(p)
        expected = old["weights"][edge["l"]][edge["i"]][edge["j"]]
        return math.isclose(edge["w"], expected, rel_tol=1e-5, abs_tol=1e-9)

    wait_until(shown_is_old, what="the network to show step 0's weights")
    live_width = p.get_by_test_id("history-slider").bounding_box()["width"]
    p.locator("#history-live").click()
    expect(p.locator("#history-label")).to_have_text("live")
    expect(p.locator("#history-live")).to_be_hidden()
    assert p.get_by_test_id("history-slider").bounding_box()["width"] == live_width
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


def test_stop_and_delete_ask_first(page: PageWithConsole, base_url: str) -> None:
    """Both cannot be undone: dismissing the question leaves the run as it was."""
    run = create_run(base_url)
    url = f"/api/runs/{run['id']}"
    p = page.page
    open_run(p, base_url, run["id"])
    questions: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Any) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        p.once("dialog", handle)

    answer(False)
    p.get_by_test_id("stop-button").click()
    wait_until(lambda: len(questions) == 1, what="the question")
    assert "for good" in questions[0] and api(base_url, url)["status"] == "paused"
    answer(True)
    p.get_by_test_id("stop-button").click()
    expect(p.locator("#run-status")).to_have_text("stopped")
    p.goto(base_url)
    delete = p.get_by_role("button", name=f"Delete run {run['id']}")
    answer(False)
    delete.click()
    wait_until(lambda: len(questions) == 3, what="the question")
    assert "cannot be undone" in questions[2]
    assert httpx.get(f"{base_url}{url}", timeout=10).status_code == 200
    answer(True)
    delete.click()
    gone = lambda: httpx.get(f"{base_url}{url}", timeout=10).status_code == 404  # noqa: E731
    wait_until(gone, what="deletion")
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
        first.get_by_test_id("speed").select_option("20")
        expect(second.get_by_test_id("speed")).to_have_value("20")
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
    body, nxt = start_behind_the_scenes(p)
    for _ in range(2):
        nxt.click()
    expect(body).to_contain_text("the output layer applies sigmoid")
    nxt.click()
    expect(body.locator("tbody tr")).to_have_count(1)  # the loss table: one output
    assert "NaN" not in body.inner_text()
    assert page.errors == []


def engine_accuracy(base_url: str, run_id: str) -> float:
    """The run's test accuracy in % (output above ½ as 1) by the engine, at its current step."""
    config = RunConfig.model_validate(api(base_url, f"/api/runs/{run_id}")["config"])
    network = Trainer(config.training_config(), make_dataset(config.dataset_spec())).network
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    network.weights = [np.array(w) for w in weights["weights"]]
    network.biases = [np.array(b) for b in weights["biases"]]
    data = api(base_url, f"/api/runs/{run_id}/dataset")
    output = network.forward(np.array(data["x_test"])).output
    return float(np.mean((output > 0.5) == (np.array(data["y_test"]) > 0.5)) * 100)


@pytest.mark.parametrize("preset", ["XOR", "Circle", "Spiral", "1-D function fit"])
def test_every_preset_creates_a_run_that_trains(
    page: PageWithConsole, base_url: str, preset: str
) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name=preset).click()
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    wait_connected(p)
    p.get_by_test_id("step10-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("10")
    run_id = p.url.rstrip("/").split("/")[-1]
    run = api(base_url, f"/api/runs/{run_id}")
    assert run["step"] == 10
    assert math.isfinite(run["loss"])
    p.get_by_test_id("play-button").click()
    time.sleep(1.0)
    p.get_by_test_id("pause-button").click()
    expect(p.locator("#run-status")).to_have_text("paused")
    screenshot(p, f"preset-{preset.split()[0].lower()}")
    if preset != "1-D function fit":  # 0/1 labels: the data view gives the test accuracy
        note = p.locator("#data-note")
        expect(note).to_contain_text("Test accuracy: ")
        shown = float(note.inner_text().split("Test accuracy: ")[1].split("%")[0])
        assert shown == pytest.approx(engine_accuracy(base_url, run_id), abs=0.05)
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
    body, nxt = start_behind_the_scenes(p)
    while body.get_attribute("data-phase") != "backward:2":
        nxt.click()
    expect(body).to_contain_text("δ⁽2⁾ = (ŷ · Σₖ yₖ − y) / N")
    batch = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")["batch_size"]
    cells = body.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.replaceAll('−', '-')))"
    )
    assert len(cells) == 2
    for _, error, _, delta, _ in cells:  # the page's ŷ·Σy − y over N is the engine's δ
        assert float(delta) == pytest.approx(float(error) / batch, rel=2e-4)
    walk_to_apply(nxt)
    assert "NaN" not in body.inner_text()
    nxt.click()
    p.get_by_test_id("bts-applied").wait_for()
    assert api(base_url, f"/api/runs/{run['id']}")["step"] == 11
    assert page.errors == []


def test_behind_the_scenes_with_momentum_and_mini_batches(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, {**ARTICLE, "momentum": 0.9, "batch_size": 16})
    httpx.post(f"{base_url}/api/runs/{run['id']}/step", json={"count": 3}, timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    p.locator("#bts-sample").select_option("5")
    body, nxt = start_behind_the_scenes(p)
    expect(body).to_contain_text("Sample 5 of the batch")
    walk_to_apply(nxt)
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
    p.get_by_test_id("bts-applied").wait_for()
    assert_api_weights_equal(base_url, run["id"], 4, shown)
    assert page.errors == []


def test_pages_work_with_a_token(page: PageWithConsole, tmp_path: Path) -> None:
    """With --token, one visit with ?token= logs the browser in (cookie); then everything works."""
    token = "s3cret-classroom-token"
    with LiveServer(tmp_path / "token.db", extra_args=["--token", token]) as server:
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.post(f"{server.url}/api/runs", json=ARTICLE, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
        p = page.page
        p.goto(f"{server.url}/?token={token}")
        assert "token" not in p.url
        open_run(p, server.url, run_id)
        p.get_by_test_id("step-button").click()
        expect(p.get_by_test_id("step-count")).to_have_text("1")
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
    body, nxt = start_behind_the_scenes(p)
    expect(body).to_contain_text("(no biases)")
    assert "+ b" not in body.inner_text()
    while body.get_attribute("data-phase") != "backward:3":
        nxt.click()
    expect(body).to_contain_text("would be ∂L/∂b if the network had biases")
    walk_to_apply(nxt)
    expect(body).to_contain_text("W ← W − α · ∂L/∂W")
    assert "b ← b" not in body.inner_text()
    assert page.errors == []


def test_without_the_derivative_its_column_is_left_out_and_sums_read_plainly(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, {**ARTICLE, "variant": "no_activation_derivative"})
    p = page.page
    open_run(p, base_url, run["id"])
    body, nxt = start_behind_the_scenes(p)
    sums = body.locator("td.expand").all_inner_texts()
    assert sums and all("+ −" not in t and "×−" not in t for t in sums)
    assert any("(−" in t for t in sums)  # a negative factor or bias, in parentheses
    while body.get_attribute("data-phase") != "backward:2":
        nxt.click()
    expect(body.locator("thead")).to_contain_text("f′(net): left out")
    cells = body.locator("tbody tr").evaluate_all("rows => rows.map(r => r.cells[2].textContent)")
    assert cells and set(cells) == {"–"}
    assert page.errors == []


def test_behind_the_scenes_of_a_stopped_run_says_its_update_cannot_be_applied(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url)
    httpx.post(f"{base_url}/api/runs/{run['id']}/stop", timeout=10)
    p = page.page
    open_run(p, base_url, run["id"])
    expect(p.locator("#run-status")).to_have_text("stopped")
    body, nxt = start_behind_the_scenes(p)
    while body.get_attribute("data-phase") != "update:":
        nxt.click()
    expect(nxt).to_have_text("Not applicable: the run is stopped")
    expect(nxt).to_be_disabled()
    # Stopped from elsewhere while the panel waits at its last phase: the same.
    other = create_run(base_url)
    open_run(p, base_url, other["id"])
    body, nxt = start_behind_the_scenes(p)
    walk_to_apply(nxt)
    httpx.post(f"{base_url}/api/runs/{other['id']}/stop", timeout=10)
    expect(nxt).to_have_text("Not applicable: the run is stopped")
    expect(nxt).to_be_disabled()
    assert page.errors == []


def test_the_form_config_lives_in_the_url(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="XOR").click()
    p.get_by_label("Learning rate α").fill("0.123")
    p.get_by_label("Learning rate α").press("Tab")
    assert "#config=" in p.url
    p.goto(p.url)
    p.reload()
    expect(p.get_by_label("Kind")).to_have_value("xor")
    expect(p.get_by_label("Learning rate α")).to_have_value("0.123")
    expect(p.locator("#layers input")).to_have_count(3)
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


def test_a_missing_run_says_so(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(f"{base_url}/runs/no-such-run")
    expect(p.locator("#run-notice")).to_contain_text("There is no run no-such-run")
    expect(p.locator("#run-status")).to_have_text("missing")
    # The only console error allowed is the browser's own log line for the 404 answer.
    assert all("404" in error for error in page.errors), page.errors
