"""The pages without a browser: CSP-safe markup, labelled inputs, every referenced file there."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web.pages import STATIC_DIR, mount_static, router

PAGES = ["/", "/runs/abc123", "/descent", "/compare?runs=a,b"]


class Markup(HTMLParser):
    """Collects what the CSP (script-src 'self'; style-src 'self') and a11y checks need."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.labelled: set[str] = set()
        self.inputs: list[str] = []
        self.assets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
            if name == "style":
                self.problems.append(f"<{tag} style=...> inline style")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.problems.append("inline <script>")
            else:
                self.assets.append(names["src"] or "")
        if tag == "link" and names.get("href", "").startswith("/static/"):  # type: ignore[union-attr]
            self.assets.append(names["href"] or "")
        if tag == "label" and names.get("for"):
            self.labelled.add(names["for"] or "")
        if tag in ("input", "select") and names.get("type") != "hidden":
            self.inputs.append(names.get("id") or f"<{tag} name={names.get('name')}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script text")


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    mount_static(app)
    return TestClient(app)


@pytest.mark.parametrize("path", PAGES)
def test_page_markup_is_csp_safe_and_labelled(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    markup = Markup()
    markup.feed(response.text)
    assert markup.problems == []
    unlabelled = [i for i in markup.inputs if i not in markup.labelled]
    # Inputs wrapped in their <label> (checkboxes) count as labelled too.
    unlabelled = [
        i
        for i in unlabelled
        if not re.search(rf'<label[^>]*>\s*<input[^>]*id="{i}"', response.text)
    ]
    assert unlabelled == []
    for asset in markup.assets:
        assert client.get(asset).status_code == 200, asset


def test_run_page_passes_its_id_in_a_data_attribute(client: TestClient) -> None:
    assert 'data-run-id="abc123"' in client.get("/runs/abc123").text


def test_every_module_import_resolves() -> None:
    """No build step: a wrong relative import would only show in the browser, so check here."""
    modules = list((STATIC_DIR / "js").rglob("*.js"))
    assert modules
    for module in modules:
        for target in re.findall(r'from\s+"([^"]+)"', module.read_text()):
            resolved = (
                STATIC_DIR.parent / target.lstrip("/")
                if target.startswith("/")
                else (module.parent / target).resolve()
            )
            assert Path(resolved).is_file(), f"{module.name} imports missing {target}"


def test_no_eval_or_inline_handlers_in_scripts() -> None:
    for module in (STATIC_DIR / "js").rglob("*.js"):
        text = module.read_text()
        assert not re.search(
            r"\beval\(|new Function\(|setAttribute\(\"on|innerHTML\s*=.*<script", text
        ), module
