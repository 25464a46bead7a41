"""Own data in Chromium: a CSV uploaded from the form trains, drawn points train, the scores
show beside the loss, and the Download buttons give files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser

CSV = "width,height,kind\n" + "".join(
    f"{(i % 10) / 10},{((i * 3) % 10) / 10},{'tall' if ((i * 3) % 10) > (i % 10) else 'wide'}\n"
    for i in range(80)
)


def train_on_the_run_page(page: Any, base_url: str) -> str:
    page.wait_for_url(f"{base_url}/runs/*")
    run_id: str = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("run-status")).to_have_text("paused")
    page.get_by_test_id("step10-button").click()
    expect(page.get_by_test_id("step-count")).to_have_text("10", timeout=10_000)
    return run_id


def test_a_csv_uploaded_from_the_form_trains(
    page: PageWithConsole, base_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "shapes.csv"
    file.write_text(CSV)
    p = page.page
    p.goto(base_url)
    p.select_option("#f-kind", "csv")
    p.get_by_test_id("csv-file").set_input_files(str(file))
    expect(p.get_by_test_id("csv-status")).to_contain_text("80 rows, 3 columns")
    expect(p.get_by_test_id("csv-role-kind")).to_have_value("target")
    p.get_by_test_id("create-run").click()
    run_id = train_on_the_run_page(p, base_url)
    run = httpx.get(f"{base_url}/api/runs/{run_id}").json()
    dataset = run["config"]["dataset"]
    assert dataset["kind"] == "csv" and dataset["inputs"] == ["width", "height"]
    assert dataset["targets"] == ["kind"] and run["step"] == 10
    expect(p.get_by_test_id("accuracy")).to_have_text(f"{100 * run['metrics']['accuracy']:.1f} %")
    assert page.errors == []


def test_a_bad_csv_says_where_and_nothing_is_created(
    page: PageWithConsole, base_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("a,b\n1,2\n3,oops\n")
    p = page.page
    p.goto(base_url)
    p.select_option("#f-kind", "csv")
    p.get_by_test_id("csv-file").set_input_files(str(file))
    expect(p.get_by_test_id("csv-status")).to_contain_text("row 3, column 'b'")


def test_drawn_points_train(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(base_url)
    p.select_option("#f-kind", "draw")
    canvas = p.get_by_test_id("draw-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # in the viewport, where the mouse is
    for k, (x, y) in enumerate(
        [(0.2, 0.2), (0.3, 0.25), (0.25, 0.35), (0.7, 0.7), (0.8, 0.75), (0.75, 0.8)]
    ):
        p.select_option("#f-draw-class", "0" if k < 3 else "1")
        p.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    expect(p.get_by_test_id("draw-count")).to_have_text("6 points (3 orange, 3 blue)")
    # A drag across the last point erases it.
    p.mouse.move(box["x"] + 0.70 * box["width"], box["y"] + 0.8 * box["height"])
    p.mouse.down()
    p.mouse.move(box["x"] + 0.75 * box["width"], box["y"] + 0.8 * box["height"], steps=5)
    p.mouse.move(box["x"] + 0.80 * box["width"], box["y"] + 0.8 * box["height"], steps=5)
    p.mouse.up()
    expect(p.get_by_test_id("draw-count")).to_have_text("5 points (3 orange, 2 blue)")
    p.fill("#f-test", "0")
    p.get_by_test_id("create-run").click()
    run_id = train_on_the_run_page(p, base_url)
    data = httpx.get(f"{base_url}/api/runs/{run_id}/dataset").json()
    assert len(data["x_train_raw"]) == 5 and data["class_names"] == ["0", "1"]
    assert sorted(y for (y,) in data["y_train"]) == [0, 0, 0, 1, 1]
    assert page.errors == []


def test_scores_show_beside_the_loss_for_regression(page: PageWithConsole, base_url: str) -> None:
    config = {"layers": [2, 4, 1], "dataset": {"kind": "plane"}}
    run_id = httpx.post(f"{base_url}/api/runs", json=config).json()["id"]
    httpx.post(f"{base_url}/api/runs/{run_id}/step", json={"count": 20})
    p = page.page
    p.goto(f"{base_url}/runs/{run_id}")
    r2 = httpx.get(f"{base_url}/api/runs/{run_id}").json()["metrics"]["r2"]
    expect(p.get_by_test_id("r2")).to_be_visible()
    expect(p.get_by_test_id("accuracy")).to_be_hidden()
    assert abs(float(p.get_by_test_id("r2").inner_text().replace("−", "-")) - r2) < 1e-3
    screenshot(p, "own-data-scores")


def test_the_download_buttons_give_files(
    page: PageWithConsole, base_url: str, tmp_path: Path
) -> None:
    config = {"layers": [2, 3, 1], "dataset": {"kind": "xor"}}
    run_id = httpx.post(f"{base_url}/api/runs", json=config).json()["id"]
    httpx.post(f"{base_url}/api/runs/{run_id}/step", json={"count": 15})
    p = page.page
    p.goto(f"{base_url}/runs/{run_id}")
    expect(p.get_by_test_id("step-count")).to_have_text("15")
    files = {}
    for testid in ("download-export", "download-history", "download-png"):
        with p.expect_download() as info:
            p.get_by_test_id(testid).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        files[testid] = path
    assert json.loads(files["download-export"].read_text())["weights"]["step"] == 15
    lines = files["download-history"].read_text().splitlines()
    assert lines[0] == "step,loss,test_loss" and len(lines) == 17
    assert files["download-png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert files["download-png"].name == f"run-{run_id}-loss.png"


def test_digits_show_each_first_layer_neurons_weights_as_an_image(
    page: PageWithConsole, base_url: str
) -> None:
    config = {"layers": [64, 6, 10], "learning_rate": 2.0, "dataset": {"kind": "digits"}}
    run_id = httpx.post(f"{base_url}/api/runs", json=config).json()["id"]
    p = page.page
    p.goto(f"{base_url}/runs/{run_id}")
    images = p.get_by_test_id("weight-images").locator("canvas")
    expect(images).to_have_count(6)

    def pixels() -> list[int]:
        data: list[int] = p.evaluate(
            "() => [...document.querySelectorAll('[data-images] canvas')].flatMap(c =>"
            " [...c.getContext('2d').getImageData(0, 0, 8, 8).data])"
        )
        return data

    before = pixels()
    p.get_by_test_id("step10-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("10", timeout=10_000)
    p.wait_for_function(
        "(before) => [...document.querySelectorAll('[data-images] canvas')].flatMap(c =>"
        " [...c.getContext('2d').getImageData(0, 0, 8, 8).data]).some((v, k) => v !== before[k])",
        arg=before,
    )
    assert len(before) == 6 * 64 * 4
    assert page.errors == []
