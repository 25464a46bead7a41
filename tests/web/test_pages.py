"""The home page and what every page shares, in real headless Chromium against a real server."""

from __future__ import annotations

import math
import time
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
