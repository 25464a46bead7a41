"""The /descent page in real headless Chromium against a real server: stepping, divergence,
refused inputs, late answers, overshoot that the axes follow, and the server's curve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import parse_number, wait_until
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-descent")


def drawn_range(page: Any) -> tuple[float, float]:
    """The x range the curve canvas shows now (its data-x-min and data-x-max)."""
    canvas = page.get_by_test_id("descent-curve")
    return float(canvas.get_attribute("data-x-min")), float(canvas.get_attribute("data-x-max"))


def set_input(page: Any, test_id: str, value: str, first_move: str) -> None:
    """Enter a new input; returns once the new trace is shown, its first move written out."""
    field = page.get_by_test_id(test_id)
    field.fill(value)
    field.press("Enter")
    expect(page.locator("#d-explain")).to_contain_text(f"Next step: x ← x − α·f′(x) = {first_move}")
    expect(page.get_by_test_id("step-count")).to_have_text("0")


def step_and_read_x(page: Any, step: int) -> float:
    """Press Step to reach `step`; x after it, once the picture has drawn that point."""
    page.get_by_test_id("step-button").click()
    expect(page.get_by_test_id("step-count")).to_have_text(str(step))
    x = parse_number(page.get_by_test_id("x-value").inner_text())
    canvas = page.get_by_test_id("descent-curve")
    wait_until(
        lambda: (
            canvas.get_attribute("data-x-min") is not None
            and drawn_range(page)[0] <= x <= drawn_range(page)[1]
        ),
        what=f"step {step}'s point inside the drawn range",
    )
    return x


def test_overshoot_is_seen_the_axes_follow_the_points_out(
    page: PageWithConsole, base_url: str
) -> None:
    """(x + 2)² at α = 1.1: each step lands 1.2 times as far from −2, on the other side."""
    p = page.page
    p.goto(f"{base_url}/descent")
    set_input(p, "descent-lr", "1.1", "0 − 1.1 × 4 = −4.4")
    xs = [0.0, step_and_read_x(p, 1)]
    assert xs[1] == pytest.approx(-4.4, abs=1e-4)
    lo, hi = drawn_range(p)
    # Fitted to the two points shown, not to the whole trace fetched ahead (about ±18,000).
    assert min(xs) - 5 <= lo <= min(xs) and max(xs) <= hi <= max(xs) + 5
    # The notation of the run page: negative factors in parentheses.
    expect(p.locator("#d-explain")).to_contain_text("= (−4.4) − 1.1 × (−4.8) = 0.88")
    widths = [hi - lo]
    for step in range(2, 13):
        xs.append(step_and_read_x(p, step))
        lo, hi = drawn_range(p)
        assert lo <= min(xs) and max(xs) <= hi
        widths.append(hi - lo)
    assert xs[-1] + 2 == pytest.approx(2 * (-1.2) ** 12, rel=1e-6)
    assert widths == sorted(widths) and widths[-1] > 3 * widths[0]
    assert page.errors == []


def test_the_curve_of_sigmoid_is_drawn_from_the_servers_points(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    p.goto(f"{base_url}/descent")
    set_input(p, "descent-expr", "sigmoid(x)", "0 − 0.1 × 0.25 = −0.025")
    canvas = p.get_by_test_id("descent-curve")
    wait_until(lambda: int(canvas.get_attribute("data-curve-points") or 0) > 0, what="a curve")
    lo, hi = drawn_range(p)
    query: dict[str, str | float] = {"expr": "sigmoid(x)", "x_min": lo, "x_max": hi, "points": 400}
    curve = httpx.get(f"{base_url}/api/descent/curve", params=query, timeout=10).json()
    assert int(canvas.get_attribute("data-curve-points")) == len(curve["x"]) == 400
    assert page.errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_overshoot_screenshots(browser: Any, base_url: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    p = context.new_page()
    try:
        p.goto(f"{base_url}/descent")
        set_input(p, "descent-lr", "1.1", "0 − 1.1 × 4 = −4.4")
        for step in range(1, 8):
            step_and_read_x(p, step)
        overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/descent scrolls sideways by {overflow}px at {width}px"
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(SHOTS / f"descent-overshoot-{width}x{height}.png"), full_page=True)
    finally:
        context.close()


HOLD_NEXT_DESCENT = """() => {
  const original = window.fetch;
  window.held = [];
  window.holdNext = true;
  window.fetch = (url, options) => {
    const trace = new URL(String(url), window.location.href).pathname === "/api/descent";
    if (!trace || !window.holdNext) return original(url, options);
    window.holdNext = false;
    return new Promise((resolve) => window.held.push(() => resolve(original(url, options))));
  };
}"""


def test_descent_page_slope_and_steps(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(f"{base_url}/descent")
    expect(p.get_by_test_id("slope-value")).not_to_have_text("–")
    assert parse_number(p.get_by_test_id("slope-value").inner_text()) == 4
    assert parse_number(p.get_by_test_id("x-value").inner_text()) == 0
    xs = [0.0]
    for _ in range(3):
        p.get_by_test_id("step-button").click()
        expect(p.get_by_test_id("step-count")).to_have_text(str(len(xs)))
        xs.append(parse_number(p.get_by_test_id("x-value").inner_text()))
    assert xs[1] == pytest.approx(-0.4)
    distances = [abs(x + 2) for x in xs]
    assert distances == sorted(distances, reverse=True) and distances[-1] < distances[0]
    p.get_by_test_id("play-button").click()
    time.sleep(1.5)
    p.get_by_test_id("pause-button").click()
    x = parse_number(p.get_by_test_id("x-value").inner_text())
    assert abs(x + 2) < distances[-1]
    screenshot(p, "descent")
    assert page.errors == []


def test_descent_says_when_it_diverges(page: PageWithConsole, base_url: str) -> None:
    p = page.page
    p.goto(f"{base_url}/descent")
    lr = p.get_by_test_id("descent-lr")
    lr.fill("1000000")  # each step multiplies |x + 2| by ~2e6: f overflows within ~25 steps
    lr.press("Enter")
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    p.get_by_test_id("play-button").click()
    expect(p.locator("#d-error")).to_contain_text("diverges", timeout=30_000)
    expect(p.locator("#d-error")).to_contain_text("(the server: stopped after step")
    x = parse_number(p.get_by_test_id("x-value").inner_text())
    assert abs(x) > 1e100
    expect(p.get_by_test_id("pause-button")).to_be_disabled()
    screenshot(p, "descent-diverged")  # huge tick labels widen the margin, not run off
    assert page.errors == []


def test_descent_refused_inputs_leave_nothing_to_step(page: PageWithConsole, base_url: str) -> None:
    """After an error the old trace neither stays on screen nor steps with the new inputs."""
    p = page.page
    p.goto(f"{base_url}/descent")
    expect(p.get_by_test_id("slope-value")).to_have_text("4")
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    lr = p.get_by_test_id("descent-lr")
    lr.fill("-0.5")
    lr.press("Enter")
    expect(p.locator("[data-error-for='learning_rate']")).not_to_be_empty()
    expect(p.get_by_test_id("step-button")).to_be_disabled()
    expect(p.get_by_test_id("play-button")).to_be_disabled()
    expect(p.get_by_test_id("x-value")).to_have_text("–")
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    assert p.locator("#d-explain").inner_text() == ""
    lr.fill("0.25")
    lr.press("Enter")
    expect(p.get_by_test_id("step-button")).to_be_enabled()
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    # (x + 2)² from 0 with α = 0.25: x ← 0 − 0.25 × 4 = −1, and the text says so.
    assert parse_number(p.get_by_test_id("x-value").inner_text()) == -1
    expect(p.locator("#d-explain")).to_contain_text("0.25")
    assert page.errors == [] or all("422" in e for e in page.errors)


def test_descent_drops_a_chunk_that_arrives_after_new_inputs(
    page: PageWithConsole, base_url: str
) -> None:
    """Step past the first 50 points (the page fetches more), change α while that answer is
    on its way: the late chunk must not be appended to the new α's trace."""
    p = page.page
    p.goto(f"{base_url}/descent")
    expect(p.get_by_test_id("slope-value")).to_have_text("4")
    p.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(50):
        p.keyboard.press("ArrowRight")
    expect(p.get_by_test_id("step-count")).to_have_text("50")
    p.evaluate(HOLD_NEXT_DESCENT)
    p.keyboard.press("ArrowRight")  # needs step 51: its chunk is held
    wait_until(lambda: p.evaluate("window.held.length") == 1, what="the held request")
    lr = p.get_by_test_id("descent-lr")
    lr.fill("0.25")
    lr.press("Enter")
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    p.evaluate("window.held.forEach((release) => release())")
    time.sleep(0.5)  # the late chunk arrives, and must change nothing
    expect(p.get_by_test_id("step-count")).to_have_text("0")
    p.get_by_test_id("step-button").click()
    expect(p.get_by_test_id("step-count")).to_have_text("1")
    assert parse_number(p.get_by_test_id("x-value").inner_text()) == -1  # 0 − 0.25 × 4
    assert page.errors == []
