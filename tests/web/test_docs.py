"""/docs works without internet: Swagger UI comes from this server, under its strict CSP."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import screenshot


def test_docs_refer_only_to_this_server(base_url: str) -> None:
    page = httpx.get(f"{base_url}/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "http" not in policy and "unsafe-inline" not in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    for source in sources:
        assert httpx.get(f"{base_url}{source}").status_code == 200, source


@pytest.mark.browser
def test_swagger_ui_lists_every_operation(base_url: str, page: Any) -> None:
    page.page.goto(f"{base_url}/docs")
    operations = page.page.locator(".opblock")
    operations.first.wait_for(timeout=15_000)
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    expected = sum(len(methods) for methods in paths.values())
    assert operations.count() == expected
    screenshot(page.page, "docs")
    assert page.errors == []
