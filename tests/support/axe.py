"""axe-core's WCAG 2 A and AA checks, run inside a page (axe-core comes from npm: package.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa"]


def axe_violations(page: Any) -> list[str]:
    """Each violation as "rule: selector: summary", for the page as it is now.

    The script is evaluated over the DevTools protocol, which the page's CSP does not govern, so
    the page needs no exception for it. A missing axe-core fails the test (`npm ci` installs it).
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (package.json lists axe-core)")
    page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}}).then((result) =>
            result.violations.map((v) => ({id: v.id, nodes: v.nodes.map((n) =>
                ({target: n.target.join(" "), summary: n.failureSummary})) })))""",
        WCAG_AA,
    )
    return [
        f"{rule['id']}: {node['target']}: {node['summary']}"
        for rule in found
        for node in rule["nodes"]
    ]
