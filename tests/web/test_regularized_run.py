"""A regularized run on the page: the loss chart shows the data loss beside the total it
minimises, and the explained update shows the penalty's share of each gradient."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTICLE, api, create_run, open_run
from tests.web.conftest import PageWithConsole
from tests.web.test_run_page import start_explain, walk_to

pytestmark = pytest.mark.browser

L2 = {"regularization": {"kind": "l2", "rate": 0.01}}


def test_the_data_loss_is_in_the_legend_only_for_a_regularized_run(
    page: PageWithConsole, base_url: str
) -> None:
    p = page.page
    plain = create_run(base_url)
    open_run(p, base_url, plain["id"])
    expect(p.get_by_test_id("data-loss-legend")).to_be_hidden()
    penalized = create_run(base_url, ARTICLE | L2)
    open_run(p, base_url, penalized["id"])
    expect(p.get_by_test_id("data-loss-legend")).to_be_visible()
    assert page.errors == []


def test_the_update_phase_shows_the_penaltys_share_of_each_gradient(
    page: PageWithConsole, base_url: str
) -> None:
    run = create_run(base_url, ARTICLE | L2)
    p = page.page
    open_run(p, base_url, run["id"])
    start_explain(p)
    walk_to(p, "update")
    expect(p.get_by_test_id("explain-penalty")).to_be_visible()
    explained = api(base_url, f"/api/runs/{run['id']}/explain?sample=0")
    cell = p.locator('[data-role=penalty][data-l="0"][data-i="1"][data-j="2"]')
    # λ·w for the weight from input 1 to hidden neuron 2, as the server computed it.
    assert (
        float(cell.get_attribute("data-value") or "nan")
        == (explained["regularization_gradients"][0][1][2])
    )
    assert page.errors == []
