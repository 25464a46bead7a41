"""The pages without a browser: CSP-safe markup, labelled inputs, every referenced file there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.pages import STATIC_DIR

PAGES = ["/", "/runs/{run_id}", "/descent", "/compare?runs=a,b", "/no/such/page"]


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
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("pages") / "runs.db"
    settings = Settings(db_path=db, allowed_hosts=["testserver"])
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def run_id(client: TestClient) -> str:
    config = {"name": "Tiny <b>run</b>", "layers": [2, 2, 1]}
    answer = client.post("/api/runs", json=config)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.mark.parametrize("path", PAGES)
def test_page_markup_is_csp_safe_and_labelled(client: TestClient, run_id: str, path: str) -> None:
    response = client.get(path.format(run_id=run_id))
    assert response.status_code == (404 if path == "/no/such/page" else 200)
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


def test_run_page_passes_its_id_in_a_data_attribute(client: TestClient, run_id: str) -> None:
    assert f'data-run-id="{run_id}"' in client.get(f"/runs/{run_id}").text


def test_run_page_is_titled_by_the_runs_name_escaped(client: TestClient, run_id: str) -> None:
    text = client.get(f"/runs/{run_id}").text
    assert "<title>Tiny &lt;b&gt;run&lt;/b&gt; · backprop-live</title>" in text
    assert 'data-testid="run-name">Tiny &lt;b&gt;run&lt;/b&gt;</h1>' in text


@pytest.mark.parametrize("path", ["/runs/doesnotexist", "/no/such/page", "/runs/x/y"])
def test_an_unknown_page_answers_the_404_page_with_a_way_home(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="not-found"' in response.text
    assert 'href="/" data-testid="home-link"' in response.text


@pytest.mark.parametrize("path", ["/api/runs/doesnotexist", "/api/no/such/route"])
def test_unknown_api_paths_keep_their_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["detail"], str)


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
