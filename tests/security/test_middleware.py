"""SecurityMiddleware in front of a tiny app: Host, Origin, form posts, token, headers, WS."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from app.security import DEFAULT_CSP, SecurityPolicy
from tests.security.apps import BASE_URL, OWN_ORIGIN, TOKEN, make_app

WS = "ws://127.0.0.1:8000/api/stream"

ITEM = {"size": 3, "rate": 0.5}


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(), base_url=BASE_URL)


@pytest.fixture
def token_client() -> TestClient:
    return TestClient(make_app(SecurityPolicy(token=TOKEN)), base_url=BASE_URL)


def refused(client: TestClient, url: str = WS, **kwargs: Any) -> WebSocketDenialResponse:
    """The HTTP answer to a WebSocket handshake that must be refused before accept."""
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect(url, **kwargs):
        pass
    return denied.value


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- Host header (DNS rebinding) ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", "::1"])
def test_foreign_host_header_is_refused(client: TestClient, host: str) -> None:
    response = client.get("/api/items", headers={"host": host})
    assert response.status_code == 400
    assert "Host" in response.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"])
def test_loopback_host_headers_pass(client: TestClient, host: str) -> None:
    assert client.get("/api/items", headers={"host": host}).status_code == 200


def test_allowed_hosts_setting_admits_a_name() -> None:
    client = TestClient(make_app(SecurityPolicy(allowed_hosts=("lab.school",))), base_url=BASE_URL)
    assert client.get("/api/items", headers={"host": "lab.school:8000"}).status_code == 200
    assert client.get("/api/items").status_code == 400  # 127.0.0.1 is no longer listed


# --- Cross-origin state changes (CSRF) ---------------------------------------------------------


def test_same_origin_and_originless_writes_pass(client: TestClient) -> None:
    assert client.post("/api/items", json=ITEM, headers={"origin": OWN_ORIGIN}).status_code == 201
    assert client.post("/api/items", json=ITEM).status_code == 201  # curl, scripts
    assert client.delete("/api/items/1", headers={"origin": OWN_ORIGIN}).status_code == 204


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:3000", "null"])
def test_foreign_origin_writes_are_refused(client: TestClient, method: str, origin: str) -> None:
    response = client.request(method, "/api/items/1", json=ITEM, headers={"origin": origin})
    assert response.status_code == 403
    assert "Origin" in response.json()["detail"]


def test_cross_site_fetch_metadata_without_origin_is_refused(client: TestClient) -> None:
    headers = {"sec-fetch-site": "cross-site"}
    assert client.post("/api/items", json=ITEM, headers=headers).status_code == 403
    headers = {"sec-fetch-site": "same-origin"}
    assert client.post("/api/items", json=ITEM, headers=headers).status_code == 201


def test_reads_from_other_origins_are_not_refused(client: TestClient) -> None:
    # The browser will not let the foreign page read the answer (no CORS headers).
    response = client.get("/api/items", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_allow_listed_origin_may_write() -> None:
    policy = SecurityPolicy(allowed_origins=("http://localhost:3000",))
    client = TestClient(make_app(policy), base_url=BASE_URL)
    headers = {"origin": "http://localhost:3000", "sec-fetch-site": "cross-site"}
    assert client.post("/api/items", json=ITEM, headers=headers).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"],
)
def test_form_posts_to_the_api_are_refused(client: TestClient, content_type: str) -> None:
    body = '{"size": 3, "rate": 0.5}'
    response = client.post("/api/items", content=body, headers={"content-type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


# --- Security headers --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/items", "/healthz", "/nowhere"])
def test_every_answer_carries_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["content-security-policy"] == DEFAULT_CSP
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_refusals_carry_security_headers_too(client: TestClient) -> None:
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert response.headers["x-frame-options"] == "DENY"


# --- Token -------------------------------------------------------------------------------------


def test_rest_needs_the_bearer_token(token_client: TestClient) -> None:
    response = token_client.get("/api/items")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert token_client.get("/api/items", headers=auth("wrong-token-xyz")).status_code == 401
    assert token_client.get("/api/items", headers=auth()).status_code == 200
    assert token_client.post("/api/items", json=ITEM, headers=auth()).status_code == 201


def test_token_in_the_url_is_not_accepted_by_the_api(token_client: TestClient) -> None:
    assert token_client.get(f"/api/items?token={TOKEN}").status_code == 401


def test_public_paths_need_no_token(token_client: TestClient) -> None:
    assert token_client.get("/healthz").status_code == 200


def test_page_login_sets_a_strict_cookie_and_drops_the_token_from_the_url(
    token_client: TestClient,
) -> None:
    assert token_client.get("/").status_code == 401
    response = token_client.get(f"/?token={TOKEN}&run=7", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?run=7"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"backprop_token={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    # The cookie now opens pages and the API (the page's own fetches).
    token_client.cookies.set("backprop_token", TOKEN)
    assert token_client.get("/").status_code == 200
    assert token_client.get("/api/items").status_code == 200


def test_page_login_with_a_wrong_token_is_refused(token_client: TestClient) -> None:
    response = token_client.get("/?token=nope-nope-nope", follow_redirects=False)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_login_redirect_never_leaves_the_host(token_client: TestClient) -> None:
    response = token_client.get(f"//evil.example/?token={TOKEN}", follow_redirects=False)
    assert response.headers["location"].startswith("/")
    assert not response.headers["location"].startswith("//")


def test_cookie_does_not_excuse_a_cross_origin_write(token_client: TestClient) -> None:
    token_client.cookies.set("backprop_token", TOKEN)
    response = token_client.post("/api/items", json=ITEM, headers={"origin": "http://evil.example"})
    assert response.status_code == 403


# --- WebSocket ---------------------------------------------------------------------------------


def test_websocket_from_own_origin_or_no_origin_is_accepted(client: TestClient) -> None:
    for headers in ({"origin": OWN_ORIGIN}, {}):
        with client.websocket_connect(WS, headers=headers) as ws:
            assert ws.receive_json() == {"subprotocols": []}


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:3000", "null"])
def test_cross_origin_websocket_is_refused_before_accept(client: TestClient, origin: str) -> None:
    denied = refused(client, WS, headers={"origin": origin})
    assert denied.status_code == 403
    assert denied.headers["x-frame-options"] == "DENY"


def test_websocket_with_foreign_host_is_refused(client: TestClient) -> None:
    denied = refused(client, WS, headers={"host": "evil.example"})
    assert denied.status_code == 400


def test_websocket_needs_the_token(token_client: TestClient) -> None:
    assert refused(token_client, WS).status_code == 401
    assert refused(token_client, f"{WS}?token={TOKEN}").status_code == 401  # never from the URL
    assert refused(token_client, WS, subprotocols=["bearer.wrong-token-1"]).status_code == 401


def test_websocket_token_as_subprotocol_is_hidden_from_the_app(token_client: TestClient) -> None:
    with token_client.websocket_connect(
        WS, subprotocols=["bearer", f"bearer.{TOKEN}", "json"]
    ) as ws:
        assert ws.accepted_subprotocol == "bearer"  # the token itself is never echoed
        assert ws.receive_json() == {"subprotocols": ["json"]}
    with token_client.websocket_connect(WS, subprotocols=[f"bearer.{TOKEN}"]) as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_json() == {"subprotocols": []}


def test_websocket_token_as_header_or_cookie(token_client: TestClient) -> None:
    with token_client.websocket_connect(WS, headers=auth()) as ws:
        assert ws.receive_json() == {"subprotocols": []}
    token_client.cookies.set("backprop_token", TOKEN)
    with token_client.websocket_connect(WS, headers={"origin": OWN_ORIGIN}) as ws:
        assert ws.receive_json() == {"subprotocols": []}


def test_websocket_without_denial_extension_is_closed_before_accept() -> None:
    # Servers without the denial-response extension turn a close before accept into HTTP 403.
    import asyncio

    from app.security import SecurityMiddleware

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not see a refused handshake")

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/api/stream",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://evil.example")],
        "subprotocols": [],
    }
    asyncio.run(SecurityMiddleware(app, SecurityPolicy())(scope, receive, send))  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]


# --- The token never stays in an address -------------------------------------------------------


def test_an_address_with_the_token_is_redirected_even_when_logged_in(
    token_client: TestClient,
) -> None:
    token_client.cookies.set("backprop_token", TOKEN)
    for path in ("/", "/runs/abc/", "/compare?runs=a,b"):
        target = path.replace("?", f"?token={TOKEN}&") if "?" in path else f"{path}?token={TOKEN}"
        response = token_client.get(target, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, quote_path(path))
        assert TOKEN not in response.headers["location"]
    # A trailing-slash redirect never sees the token: the guard has taken it off first.
    wrong = token_client.get("/runs/abc/?token=not-the-token", follow_redirects=False)
    assert (wrong.status_code, wrong.headers["location"]) == (303, "/runs/abc/")


def quote_path(path: str) -> str:
    return path.replace(",", "%2C")


def test_an_api_call_with_the_token_in_the_address_is_redirected_without_it(
    token_client: TestClient,
) -> None:
    read = token_client.get(f"/api/items?token={TOKEN}", headers=auth(), follow_redirects=False)
    assert (read.status_code, read.headers["location"]) == (303, "/api/items")
    write = token_client.post(
        f"/api/items?token={TOKEN}", json=ITEM, headers=auth(), follow_redirects=False
    )
    # 307: the client sends the same method and body again, to the address without the token.
    assert (write.status_code, write.headers["location"]) == (307, "/api/items")
    assert "set-cookie" not in read.headers and "set-cookie" not in write.headers


# --- Failures ----------------------------------------------------------------------------------


def test_an_injected_failure_answers_a_json_500_with_the_security_headers(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/api/fail")
    [logged] = [r for r in caplog.records if r.exc_info and r.name == "uvicorn.error"]
    assert str(logged.exc_info[1]) == "an injected failure"  # type: ignore[index]
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == DEFAULT_CSP
    assert "an injected failure" not in response.text
