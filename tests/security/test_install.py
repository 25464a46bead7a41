"""install_security on a FastAPI app: the docs pages' hashed policy and the documented answers."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient

from app.security import DEFAULT_CSP, SecurityPolicy, install_security
from app.security.docs_csp import block_hashes
from tests.security.apps import BASE_URL


class Body(BaseModel):
    n: int


def make_app(token: str | None = None) -> FastAPI:
    app = FastAPI()

    @app.post("/api/things")
    def create(body: Body) -> dict[str, int]:
        return {"n": body.n}

    @app.get("/api/things")
    def read() -> list[int]:
        return []

    install_security(app, SecurityPolicy(token=token), max_body_bytes=2048)
    return app


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_docs_pages_allow_exactly_their_inline_blocks() -> None:
    client = TestClient(make_app(), base_url=BASE_URL)
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
        for script in inline:
            assert sha256_source(script) in policy
    assert client.get("/api/things").headers["content-security-policy"] == DEFAULT_CSP


def test_block_hashes_skip_external_scripts() -> None:
    html = b'<script src="x.js"></script><script>go()</script><style>b{}</style>'
    scripts, styles = block_hashes(html)
    assert scripts == [sha256_source("go()")]
    assert styles == [sha256_source("b{}")]


def test_openapi_documents_the_guards_answers() -> None:
    client = TestClient(make_app(token="a-long-token"), base_url=BASE_URL)
    schema = client.get("/openapi.json", headers={"authorization": "Bearer a-long-token"})
    paths = schema.json()["paths"]["/api/things"]
    assert {"400", "401", "403", "413", "415", "422"} <= set(paths["post"]["responses"])
    assert {"400", "401"} <= set(paths["get"]["responses"])
    assert "413" not in paths["get"]["responses"]


def test_no_token_no_401_documented() -> None:
    schema = TestClient(make_app(), base_url=BASE_URL).get("/openapi.json").json()
    assert "401" not in schema["paths"]["/api/things"]["post"]["responses"]
