"""Setting a weight by hand on the run page: click an edge of a paused run, type, Set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import api, create_run, open_run, wait_until
from tests.web.conftest import PageWithConsole

pytestmark = pytest.mark.browser


def test_a_clicked_edge_accepts_a_new_weight(page: PageWithConsole, base_url: str) -> None:
    run = create_run(base_url)
    p = page.page
    open_run(p, base_url, run["id"])
    canvas = p.get_by_test_id("network-view")
    layer, source, target, x, y = canvas.get_attribute("data-edge-probes").split(";")[0].split(",")
    box = canvas.bounding_box()
    assert box is not None
    p.mouse.click(box["x"] + float(x), box["y"] + float(y))
    editor = p.get_by_test_id("weight-editor")
    expect(editor).to_be_visible()
    assert (editor.get_attribute("data-layer"), editor.get_attribute("data-from")) == (
        layer,
        source,
    )
    assert editor.get_attribute("data-to") == target
    p.get_by_test_id("weight-input").fill("abc")
    p.get_by_test_id("weight-set").click()
    expect(p.get_by_test_id("weight-error")).not_to_be_empty()  # beside the field, not sent
    p.get_by_test_id("weight-input").fill("1.25")
    p.get_by_test_id("weight-set").click()
    expect(editor).to_be_hidden()
    weights = api(base_url, f"/api/runs/{run['id']}/weights")["weights"]
    assert weights[int(layer)][int(source)][int(target)] == 1.25
    # The page shows it: hovering the same edge reads the new weight.
    p.mouse.move(box["x"] + float(x), box["y"] + float(y))
    tooltip = p.get_by_test_id("tooltip")
    wait_until(lambda: tooltip.get_attribute("data-value") == "1.25", what="the new weight shown")
    assert page.errors == []
