"""The 404 page in Chromium: an unknown run or address says so and offers the way home."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageWithConsole

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/runs/doesnotexist", "There is no run doesnotexist"),
        ("/no/such/page", "no page at /no/such/page"),
    ],
)
def test_an_unknown_address_answers_the_404_page(
    page: PageWithConsole, base_url: str, path: str, words: str
) -> None:
    p = page.page
    response = p.goto(f"{base_url}{path}")
    assert response is not None and response.status == 404
    expect(p.get_by_test_id("not-found")).to_contain_text(words)
    expect(p.locator("#conn-status")).to_have_count(0)  # no controls waiting on a stream
    p.get_by_test_id("home-link").click()
    p.wait_for_url(f"{base_url}/")
    expect(p.get_by_test_id("create-run")).to_be_visible()
    # The only console error allowed is the browser's own log line for the 404 answer.
    assert all("404" in error for error in page.errors), page.errors
