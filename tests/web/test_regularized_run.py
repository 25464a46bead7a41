"""A regularized run's loss chart shows the data loss beside the total it minimises."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTICLE, create_run, open_run
from tests.web.conftest import PageWithConsole

pytestmark = pytest.mark.browser


def test_the_data_loss_is_in_the_legend_only_for_a_regularized_run(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    plain = create_run(base_url)
    open_run(p, base_url, plain["id"])
    expect(p.get_by_test_id("data-loss-legend")).to_be_hidden()
    penalized = create_run(base_url, ARTICLE | {"regularization": {"kind": "l1", "rate": 0.001}})
    open_run(p, base_url, penalized["id"])
    expect(p.get_by_test_id("data-loss-legend")).to_be_visible()
    assert page.errors == []
