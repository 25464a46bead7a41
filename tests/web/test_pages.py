"""What every page shares, in real headless Chromium against a real server: phone width, the
runs' Stop and Delete questions, a token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTICLE, api, create_run, open_run, wait_until
from tests.support.server import LiveServer
from tests.web.conftest import PageWithConsole, screenshot

pytestmark = pytest.mark.browser


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
