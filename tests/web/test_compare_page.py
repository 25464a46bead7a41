"""The compare page in real headless Chromium: runs side by side, driven together."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTICLE, api, create_run, wait_until
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser


def open_compare(page: Any, base_url: str, ids: list[str]) -> None:
    page.goto(f"{base_url}/compare?runs={','.join(ids)}")
    for k in range(len(ids)):
        card = page.get_by_test_id(f"compare-run-{k}")
        expect(card.locator("[data-role=conn]")).to_have_attribute("data-state", "open")


def test_two_learning_rates_step_together(page: PageWithConsole, base_url: str) -> None:
    slow = create_run(base_url, {**ARTICLE, "learning_rate": 0.5})
    fast = create_run(base_url, {**ARTICLE, "learning_rate": 2.0})
    ids = [slow["id"], fast["id"]]
    p = page.page
    open_compare(p, base_url, ids)
    step = p.get_by_test_id("compare-step")
    for _ in range(10):
        step.click()  # waits while the previous step is in flight (the button is disabled then)
    for k, run_id in enumerate(ids):
        card = p.get_by_test_id(f"compare-run-{k}")
        expect(card.get_by_test_id("compare-run-step")).to_have_text("10")
        run = api(base_url, f"/api/runs/{run_id}")
        assert run["step"] == 10
        shown = card.get_by_test_id("compare-run-loss").get_attribute("data-value")
        assert float(shown or "nan") == run["loss"]
    expect(p.get_by_test_id("compare-sync")).to_have_text("all at step 10")
    chart = p.get_by_test_id("compare-loss-chart")
    wait_until(lambda: chart.get_attribute("data-series") == "2", what="two loss lines")
    wait_until(lambda: chart.get_attribute("data-points") == "11", what="steps 0-10 drawn")
    legend = p.get_by_test_id("compare-legend")
    expect(legend).to_contain_text("lr 0.5")
    expect(legend).to_contain_text("lr 2")
    diff = p.get_by_test_id("compare-diff")
    assert diff.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.field)") == [
        "learning_rate"
    ]
    # The losses differ: the two rates really trained differently.
    losses = [api(base_url, f"/api/runs/{run_id}")["loss"] for run_id in ids]
    assert losses[0] != losses[1]
    p.get_by_test_id("compare-network").first.focus()  # each small network is inspectable
    p.keyboard.press("ArrowDown")
    expect(p.locator("[data-testid=compare-run-0] [role=tooltip]")).to_contain_text("neuron 0")
    p.keyboard.press("Escape")
    screenshot(p, "compare")
    assert page.errors == []


def test_play_all_then_pause_all(page: PageWithConsole, base_url: str) -> None:
    ids = [create_run(base_url)["id"], create_run(base_url, {**ARTICLE, "momentum": 0.9})["id"]]
    p = page.page
    open_compare(p, base_url, ids)
    p.get_by_test_id("compare-play").click()
    for k in range(2):
        expect(
            p.get_by_test_id(f"compare-run-{k}").get_by_test_id("compare-run-status")
        ).to_have_text("running")
    expect(p.get_by_test_id("compare-step")).to_be_disabled()
    wait_until(
        lambda: all(api(base_url, f"/api/runs/{run_id}")["step"] > 0 for run_id in ids),
        what="both runs trained",
    )
    p.get_by_test_id("compare-pause").click()
    for k, run_id in enumerate(ids):
        card = p.get_by_test_id(f"compare-run-{k}")
        expect(card.get_by_test_id("compare-run-status")).to_have_text("paused")
        run = api(base_url, f"/api/runs/{run_id}")
        assert run["step"] > 0
        expect(card.get_by_test_id("compare-run-step")).to_have_text(f"{run['step']:,}")
    expect(p.get_by_test_id("compare-step")).to_be_enabled()
    assert page.errors == []


def test_line_up_steps_the_runs_behind_to_the_leader(page: PageWithConsole, base_url: str) -> None:
    ids = [create_run(base_url)["id"], create_run(base_url, {**ARTICLE, "momentum": 0.9})["id"]]
    httpx.post(f"{base_url}/api/runs/{ids[0]}/step", json={"count": 7}, timeout=10)
    p = page.page
    open_compare(p, base_url, ids)
    expect(p.get_by_test_id("compare-sync")).to_have_text("runs at different steps")
    lineup = p.get_by_test_id("compare-lineup")
    expect(lineup).to_have_text("Line up at step 7")
    lineup.click()
    expect(p.get_by_test_id("compare-sync")).to_have_text("all at step 7")
    assert [api(base_url, f"/api/runs/{run_id}")["step"] for run_id in ids] == [7, 7]
    expect(lineup).to_be_disabled()
    assert page.errors == []


def test_preset_pair_creates_two_runs_differing_only_in_variant(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(base_url)
    p.get_by_role("button", name="Compare: standard vs no f′(net)").click()
    p.wait_for_url("**/compare?runs=*")
    ids = p.url.split("runs=")[1].split(",")
    assert len(ids) == 2
    configs = [api(base_url, f"/api/runs/{run_id}")["config"] for run_id in ids]
    assert [c["variant"] for c in configs] == ["standard", "no_activation_derivative"]
    assert {**configs[0], "variant": None} == {**configs[1], "variant": None}
    assert configs[0]["layers"] == [2, 4, 4, 1]
    diff = p.get_by_test_id("compare-diff")
    expect(diff.locator("tbody tr")).to_have_count(1)
    expect(diff.locator("tbody tr")).to_have_attribute("data-field", "variant")
    expect(p.get_by_test_id("compare-legend")).to_contain_text("no f′(net)")
    assert page.errors == []


def test_compare_selected_on_home_opens_the_right_url(page: PageWithConsole, base_url: str) -> None:
    first = create_run(base_url)
    second = create_run(base_url, {**ARTICLE, "activation": "tanh"})
    create_run(base_url)  # a third run, left unticked
    p = page.page
    p.goto(base_url)
    button = p.get_by_test_id("compare-selected")
    expect(button).to_be_disabled()
    p.get_by_label(f"Compare run {first['id']}").check()
    expect(button).to_be_disabled()
    p.get_by_label(f"Compare run {second['id']}").check()
    expect(button).to_be_enabled()
    # The list re-renders every 2 s: the ticks must survive a re-render.
    body = p.locator("#runs-body")
    rendered = int(body.get_attribute("data-refreshes") or 0)
    wait_until(
        lambda: int(body.get_attribute("data-refreshes") or 0) > rendered, what="a re-render"
    )
    expect(p.get_by_label(f"Compare run {first['id']}")).to_be_checked()
    screenshot(p, "home-compare-selected")
    wrap = p.locator(".table-wrap")
    assert wrap.evaluate("t => t.scrollWidth - t.clientWidth") <= 0, (
        "the runs table scrolls sideways with its checkboxes"
    )
    button.click()
    p.wait_for_url(f"**/compare?runs={first['id']},{second['id']}")
    expect(p.get_by_test_id("compare-diff").locator("tbody tr").first).to_have_attribute(
        "data-field", "activation"
    )
    expect(p.get_by_test_id("compare-legend")).to_contain_text("tanh")
    assert page.errors == []


def test_an_unknown_run_id_says_so(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    p.goto(f"{base_url}/compare?runs={run['id']},no-such-run")
    notice = p.get_by_test_id("compare-notice")
    expect(notice).to_contain_text("There is no run no-such-run")
    expect(p.get_by_test_id("compare-run-0")).to_be_visible()
    assert all("404" in error for error in page.errors), page.errors


def test_too_few_runs_say_how_to_pick_them(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(f"{base_url}/compare?runs=only-one")
    expect(p.get_by_test_id("compare-notice")).to_contain_text("Pick two to four runs")
    expect(p.get_by_test_id("compare-step")).to_be_disabled()
    assert page.errors == []


def test_phone_width_stacks_the_runs(browser: Any, base_url: str) -> None:
    ids = [
        create_run(base_url)["id"],
        create_run(base_url, {**ARTICLE, "learning_rate": 2.0})["id"],
    ]
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    p = context.new_page()
    try:
        open_compare(p, base_url, ids)
        p.get_by_test_id("compare-step10").click()
        expect(p.get_by_test_id("compare-run-1").get_by_test_id("compare-run-step")).to_have_text(
            "10"
        )
        network = p.get_by_test_id("compare-run-1").get_by_test_id("compare-network")
        wait_until(lambda: bool(network.get_attribute("data-edge-probes")), what="networks drawn")
        screenshot(p, "phone-compare")
        overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the compare page scrolls sideways by {overflow}px"
        boxes = [p.get_by_test_id(f"compare-run-{k}").bounding_box() for k in range(2)]
        assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"], "runs should stack"
    finally:
        context.close()


def test_one_speed_for_every_run(page: PageWithConsole, base_url: str) -> None:
    """The compare page's speed control sets every run's pace, as the run page's does for one."""
    ids = [
        create_run(base_url, {**ARTICLE, "speed": 100})["id"],
        create_run(base_url, {**ARTICLE, "learning_rate": 2.0, "speed": 100})["id"],
    ]
    p = page.page
    open_compare(p, base_url, ids)
    speed = p.get_by_test_id("speed")
    expect(speed).to_have_value("100")
    speed.select_option("5")
    wait_until(
        lambda: [api(base_url, f"/api/runs/{run_id}")["speed"] for run_id in ids] == [5, 5],
        what="both runs at 5 updates a second",
    )
    speed.select_option("max")
    wait_until(
        lambda: [api(base_url, f"/api/runs/{run_id}")["speed"] for run_id in ids] == [None, None],
        what="both runs as fast as they go",
    )
    expect(p.locator("#compare-error")).to_have_text("")
    assert page.errors == []


def test_runs_at_different_speeds_show_mixed_until_one_is_picked(
    page: PageWithConsole, base_url: str
) -> None:
    ids = [
        create_run(base_url, {**ARTICLE, "speed": 5})["id"],
        create_run(base_url, {**ARTICLE, "momentum": 0.9, "speed": 100})["id"],
    ]
    p = page.page
    open_compare(p, base_url, ids)
    speed = p.get_by_test_id("speed")
    expect(speed).to_have_value("mixed")
    speed.select_option("30")
    wait_until(
        lambda: [api(base_url, f"/api/runs/{run_id}")["speed"] for run_id in ids] == [30, 30],
        what="both runs at 30 updates a second",
    )
    assert page.errors == []


def test_the_shortcut_is_told_beside_the_loss_and_never_labelled_a_gradient(
    page: PageWithConsole, base_url: str
) -> None:
    standard = create_run(base_url)
    shortcut = create_run(base_url, {**ARTICLE, "variant": "no_activation_derivative"})
    p = page.page
    open_compare(p, base_url, [standard["id"], shortcut["id"]])
    note = p.get_by_test_id("shortcut-note")
    expect(note).to_be_visible()
    expect(note).not_to_be_empty()
    p.get_by_test_id("compare-step").click()
    card = p.get_by_test_id("compare-run-1")
    expect(card.get_by_test_id("compare-run-step")).to_have_text("1")
    canvas = card.get_by_test_id("compare-network")
    tooltip = card.locator("[data-role=tooltip]")

    def hovered_edge_text() -> str:
        probe = canvas.get_attribute("data-edge-probes") or ""
        if not probe:
            return ""
        _, _, _, x, y = probe.split(";")[0].split(",")
        canvas.scroll_into_view_if_needed()  # the mouse reaches only what the viewport shows
        box = canvas.bounding_box()
        p.mouse.move(0, 0)
        p.mouse.move(box["x"] + float(x), box["y"] + float(y))
        return str(tooltip.inner_text()) if tooltip.is_visible() else ""

    wait_until(lambda: "step applied" in hovered_edge_text(), what="the shortcut run's edge hover")
    assert "∂L/∂w" not in hovered_edge_text()
    assert page.errors == []
