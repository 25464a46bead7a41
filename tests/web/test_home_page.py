"""The home page in real headless Chromium: presets, the form, its data preview, the runs list."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from app.nn.datasets import make_dataset
from app.nn.trainer import Trainer
from app.runs.config import RunConfig
from tests.support.axe import axe_violations
from tests.support.browser import ARTICLE, api, create_run, wait_connected, wait_until
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser


def run_id_of(page: Any) -> str:
    return str(page.url.rstrip("/").split("/")[-1])


def create_from_preset(page: Any, base_url: str, preset: str) -> str:
    page.goto(base_url)
    page.get_by_role("button", name=preset, exact=True).click()
    page.get_by_test_id("create-run").click()
    page.wait_for_url("**/runs/*")
    wait_connected(page)
    return run_id_of(page)


def shown_step(page: Any) -> int:
    return int(page.get_by_test_id("step-count").inner_text().replace(",", "") or 0)


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


def open_fold(page: Any, name: str) -> None:
    """Unfold one of the form's <details> sections (Network, Training, Data set kind and shape)."""
    page.locator("details.fold > summary", has_text=name).click()


def test_a_preset_makes_a_named_paused_run_at_its_own_pace(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="The article's example").click()
    expect(p.get_by_test_id("run-name-input")).to_have_value("The article's example")
    screenshot(p, "home")
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    run_id = run_id_of(p)
    wait_connected(p)
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    expect(p.get_by_test_id("run-name")).to_have_text("The article's example")
    expect(p).to_have_title("The article's example · backprop-live")
    expect(p.get_by_test_id("speed")).to_have_value("100")
    config = api(base_url, f"/api/runs/{run_id}")["config"]
    assert (config["name"], config["speed"], config["max_steps"]) == (
        "The article's example",
        100,
        3000,
    )
    assert config["layers"] == [2, 4, 4, 1]
    p.goto(base_url)  # the runs list shows the name, linked to the run
    link = p.locator(f"tr[data-run-id='{run_id}']").get_by_test_id("run-name")
    expect(link).to_have_text("The article's example")
    assert link.get_attribute("href") == f"/runs/{run_id}"
    assert page.errors == []


def test_play_at_the_default_speed_keeps_its_pace(page: PageWithConsole, base_url: str) -> None:
    """XOR plays at the form's default, 30 updates a second: 90 steps take about 3 s."""
    p = page.page
    run_id = create_from_preset(p, base_url, "XOR")
    expect(p.get_by_test_id("speed")).to_have_value("30")
    assert api(base_url, f"/api/runs/{run_id}")["speed"] == 30
    p.get_by_test_id("play-button").click()
    wait_until(lambda: shown_step(p) >= 1, what="the first update shown")
    start, first = time.monotonic(), shown_step(p)
    wait_until(lambda: shown_step(p) >= first + 90, timeout=20, what="90 more updates")
    elapsed = time.monotonic() - start
    p.get_by_test_id("pause-button").click()
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    # At most 30 a second (one update of slack for the pacer's first tick), and not far below.
    assert elapsed + 1 / 30 >= 89 / 30, elapsed
    assert elapsed < 90 / 30 * 1.6 + 0.5, elapsed
    assert page.errors == []


def engine_class_accuracy(base_url: str, run_id: str) -> float:
    """A K-class run's test accuracy in % (the largest output names the class) by the engine."""
    config = RunConfig.model_validate(api(base_url, f"/api/runs/{run_id}")["config"])
    network = Trainer(config.training_config(), make_dataset(config.dataset_spec())).network
    weights = api(base_url, f"/api/runs/{run_id}/weights")
    network.weights = [np.array(w) for w in weights["weights"]]
    network.biases = [np.array(b) for b in weights["biases"]]
    data = api(base_url, f"/api/runs/{run_id}/dataset")
    output = network.forward(np.array(data["x_test"])).output
    return float(np.mean(output.argmax(1) == np.array(data["y_test"]).argmax(1)) * 100)


@pytest.mark.parametrize(
    ("preset", "promise", "at_least"),
    [
        ("Spiral", "step 1,000, with about 97 %", 95),
        ("Three spirals", "step 1,000, with about 92 %", 90),
    ],
)
def test_a_preset_stops_at_its_max_steps_with_the_accuracy_its_note_promises(
    page: PageWithConsole, base_url: str, preset: str, promise: str, at_least: float
) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name=preset, exact=True).click()
    expect(p.locator("#preset-note")).to_contain_text(promise)
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    run_id = run_id_of(p)
    wait_connected(p)
    p.get_by_test_id("play-button").click()
    expect(p.get_by_test_id("run-status")).to_have_text("finished", timeout=60_000)
    expect(p.get_by_test_id("step-count")).to_have_text("1,000")
    run = api(base_url, f"/api/runs/{run_id}")
    assert run["step"] == run["config"]["max_steps"] == 1000
    k_classes = run["config"]["dataset"].get("classes", 2) > 2
    accuracy = (engine_class_accuracy if k_classes else engine_accuracy)(base_url, run_id)
    assert accuracy >= at_least, accuracy
    view = p.get_by_test_id("data-view")
    wait_until(lambda: view.get_attribute("data-accuracy") is not None, what="the accuracy shown")
    assert view.get_attribute("data-accuracy-of") == "test"
    assert float(view.get_attribute("data-accuracy") or "nan") == pytest.approx(accuracy, abs=1e-9)
    assert page.errors == []


def test_ticked_features_and_classes_shape_the_network(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="XOR").click()
    open_fold(p, "Data set kind")
    features = p.get_by_test_id("features")
    expect(features.locator("input:checked")).to_have_count(2)  # x1, x2: the raw inputs
    features.locator("[data-feature='x1*x2']").check()
    expect(p.locator("#layers input").first).to_have_value("3")
    p.get_by_label("Kind").select_option("gaussians")
    expect(features.locator("input:checked")).to_have_count(
        2
    )  # a new kind starts from its raw inputs
    features.locator("[data-feature='x1*x2']").check()
    p.get_by_test_id("classes-input").fill("4")
    p.get_by_test_id("classes-input").press("Tab")
    expect(p.locator("#layers input").last).to_have_value("4")
    open_fold(p, "Training")
    open_fold(p, "Network")
    assert axe_violations(p) == []  # every fold open: the form's fields pass WCAG 2 A and AA too
    p.get_by_label("Regularization", exact=True).select_option("l2")
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    config = api(base_url, f"/api/runs/{run_id_of(p)}")["config"]
    assert config["dataset"]["features"] == ["x1", "x2", "x1*x2"]
    assert config["dataset"]["classes"] == 4
    assert (config["layers"][0], config["layers"][-1]) == (3, 4)
    assert config["regularization"] == {"kind": "l2", "rate": 0.001}
    network = p.get_by_test_id("network-view")
    wait_until(
        lambda: network.get_attribute("data-input-names") == "x1,x2,x1*x2", what="inputs named"
    )
    assert page.errors == []


@pytest.mark.parametrize("preset", ["XOR", "Circle", "1-D function fit", "Three spirals"])
def test_every_preset_creates_a_run_that_trains(
    page: PageWithConsole, base_url: str, preset: str
) -> None:
    p = page.page
    run_id = create_from_preset(p, base_url, preset)
    p.get_by_test_id("step10-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("10")
    run = api(base_url, f"/api/runs/{run_id}")
    assert run["step"] == 10
    assert math.isfinite(run["loss"])
    p.get_by_test_id("play-button").click()
    wait_until(lambda: shown_step(p) >= 20, what="ten more updates")
    p.get_by_test_id("pause-button").click()
    expect(p.get_by_test_id("run-status")).to_have_text("paused")
    screenshot(p, f"preset-{preset.split()[0].lower()}")
    if preset != "1-D function fit":  # 0/1 labels: the data view gives the test accuracy
        step = api(base_url, f"/api/runs/{run_id}")["step"]
        expect(p.get_by_test_id("step-count")).to_have_text(f"{step:,}")
        view = p.get_by_test_id("data-view")
        k_classes = preset == "Three spirals"
        accuracy = (engine_class_accuracy if k_classes else engine_accuracy)(base_url, run_id)
        wait_until(
            lambda: (
                float(view.get_attribute("data-accuracy") or "nan")
                == pytest.approx(accuracy, abs=1e-9)
            ),
            what="the accuracy of the paused step",
        )
    assert page.errors == []


def test_the_sliders_redraw_the_data_preview(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="Circle").click()
    preview = p.get_by_test_id("data-preview")
    wait_until(lambda: preview.get_attribute("data-test-points") == "40", what="the preview drawn")
    expect(preview).to_have_attribute("data-train-points", "160")
    p.get_by_test_id("test-slider").fill("0.5")
    expect(p.locator("#f-test-out")).to_have_text("50 %")
    wait_until(
        lambda: preview.get_attribute("data-test-points") == "100", what="half the points as test"
    )
    p.get_by_test_id("samples-input").fill("300")
    wait_until(
        lambda: preview.get_attribute("data-train-points") == "150", what="300 samples drawn"
    )
    drawn = int(preview.get_attribute("data-previewed") or 0)
    p.get_by_test_id("noise-slider").fill("0.3")
    wait_until(
        lambda: int(preview.get_attribute("data-previewed") or 0) > drawn, what="noise redrawn"
    )
    p.get_by_test_id("data-seed-input").fill("5")
    wait_until(
        lambda: int(preview.get_attribute("data-previewed") or 0) > drawn + 1, what="seed redrawn"
    )
    p.get_by_test_id("create-run").click()
    p.wait_for_url("**/runs/*")
    dataset = api(base_url, f"/api/runs/{run_id_of(p)}")["config"]["dataset"]
    assert (dataset["samples"], dataset["test_fraction"], dataset["noise"], dataset["seed"]) == (
        300,
        0.5,
        0.3,
        5,
    )
    assert page.errors == []


def test_a_refused_learning_rate_reads_the_same_on_the_form_and_the_run_page(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    open_fold(p, "Training")
    p.get_by_label("Learning rate α").fill("1e300")
    p.get_by_test_id("create-run").click()
    beside = p.locator("[data-error-for='learning_rate']")
    expect(beside).to_have_text("Must be a number above 0 and at most 10¹².")
    assert p.get_by_label("Learning rate α").get_attribute("aria-invalid") == "true"
    assert "/runs/" not in p.url
    form_words = beside.inner_text()
    run = create_run(base_url)
    p.goto(f"{base_url}/runs/{run['id']}")
    wait_connected(p)
    for typed in ("1e300", "0", "-1"):
        rate = p.get_by_test_id("learning-rate")
        rate.fill(typed)
        rate.press("Enter")
        expect(p.locator("#lr-error")).to_have_text(form_words)
        assert rate.get_attribute("aria-invalid") == "true"
    assert api(base_url, f"/api/runs/{run['id']}")["learning_rate"] == ARTICLE["learning_rate"]
    # The only console error allowed is the browser's own log line for the form's 422 answer.
    assert all("422" in error for error in page.errors), page.errors


def test_a_folded_field_with_an_error_is_unfolded_beside_it(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    open_fold(p, "Training")
    p.locator("#f-loss").select_option("cross_entropy")
    open_fold(p, "Data set kind")
    p.locator("#f-t-act").select_option("tanh")
    open_fold(p, "Training")  # fold it again: the error must open it
    p.get_by_test_id("create-run").click()
    error = p.locator("[data-error-for='loss']")
    expect(error).to_contain_text("cross_entropy needs targets between 0 and 1")
    expect(error).to_be_visible()
    assert p.locator("#f-loss").get_attribute("aria-invalid") == "true"
    assert "/runs/" not in p.url


def test_the_form_config_lives_in_the_url(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="XOR").click()
    open_fold(p, "Training")
    p.get_by_label("Learning rate α").fill("0.123")
    p.get_by_label("Learning rate α").press("Tab")
    assert "#config=" in p.url
    p.goto(p.url)
    p.reload()
    expect(p.get_by_label("Kind")).to_have_value("xor")
    expect(p.get_by_label("Learning rate α")).to_have_value("0.123")
    expect(p.get_by_test_id("run-name-input")).to_have_value("XOR")
    expect(p.locator("#layers input")).to_have_count(3)
    assert page.errors == []


def test_create_is_in_reach_with_the_details_folded(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    create = p.get_by_test_id("create-run")
    box = create.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800 + 40, box  # at most a nudge below
    assert p.locator("details.fold[open]").count() == 0
    preset = p.get_by_role("button", name="Spiral", exact=True).bounding_box()
    assert preset is not None and preset["y"] < box["y"]  # presets first
