"""The decisions of the security middleware, as pure functions of one request's headers.

Each check returns an `Answer` to send instead of the app's, or None to let the request on.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.requests import HTTPConnection

from app.security.policy import (
    UNSAFE_METHODS,
    Authority,
    SecurityPolicy,
    is_form_content_type,
    origin_allowed,
    parse_host_header,
)

BEARER_SUBPROTOCOL = "bearer"
TOKEN_SUBPROTOCOL_PREFIX = "bearer."


@dataclass(frozen=True, slots=True)
class Answer:
    """A response the middleware sends itself: a refusal, or the redirect after a page login."""

    status: int
    detail: str
    headers: tuple[tuple[str, str], ...] = ()


def decide(conn: HTTPConnection, policy: SecurityPolicy) -> Answer | None:
    """The first check that refuses the request (or logs a page in), or None to let it through."""
    authority = parse_host_header(conn.headers.get("host"), conn.url.scheme)
    if authority is None or not policy.host_allowed(authority):
        return Answer(400, "unknown Host header: this server answers only its allowed hosts")
    is_websocket = conn.scope["type"] == "websocket"
    return (
        check_origin(conn, authority, policy, is_websocket)
        or (None if is_websocket else check_content_type(conn, policy))
        or check_token(conn, policy, is_websocket)
    )


def check_origin(
    conn: HTTPConnection, authority: Authority, policy: SecurityPolicy, is_websocket: bool
) -> Answer | None:
    """Refuse WebSocket handshakes and state-changing requests that a foreign page started.

    Browsers always send Origin on these, so a missing Origin means a non-browser client (curl,
    a script), which cannot ride on a visitor's session. Sec-Fetch-Site covers old paths where a
    browser omits Origin.
    """
    if not is_websocket and conn.scope.get("method") not in UNSAFE_METHODS:
        return None
    origin = conn.headers.get("origin")
    if origin is not None:
        if origin_allowed(origin, authority, policy):
            return None
        return Answer(403, "cross-origin request refused: the Origin is not allowed")
    if conn.headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return Answer(403, "cross-site request refused (Sec-Fetch-Site)")
    return None


def check_content_type(conn: HTTPConnection, policy: SecurityPolicy) -> Answer | None:
    """Refuse form bodies on the API: JSON needs a CORS preflight, a form post does not."""
    if conn.scope.get("method") not in UNSAFE_METHODS or not policy.is_api(conn.url.path):
        return None
    if is_form_content_type(conn.headers.get("content-type")):
        return Answer(415, "the API accepts only application/json bodies")
    return None


def check_token(conn: HTTPConnection, policy: SecurityPolicy, is_websocket: bool) -> Answer | None:
    """With a token set, every non-public path needs it; the token is never read from the URL.

    An address with `?token=` is never served as it is, so the token stays out of the address
    bar, the history and any `Location` the app would build from it: a page visit with the
    right token exchanges it for an HttpOnly cookie and is redirected to the same address
    without it, and any other request that is otherwise authorised is redirected likewise.
    """
    expected = policy.token
    if expected is None or policy.is_public(conn.url.path):
        return None
    authorised = token_matches(presented_tokens(conn, policy, is_websocket), expected)
    if not is_websocket and "token" in conn.query_params:
        return _drop_url_token(conn, policy, expected, authorised)
    if authorised:
        return None
    return Answer(401, "a token is required", (("www-authenticate", "Bearer"),))


def presented_tokens(conn: HTTPConnection, policy: SecurityPolicy, is_websocket: bool) -> list[str]:
    """Every token the client offered: bearer header, cookie, and (WebSocket) subprotocol."""
    tokens: list[str] = []
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        tokens.append(value.strip())
    cookie = conn.cookies.get(policy.cookie_name)
    if cookie:
        tokens.append(cookie)
    if is_websocket:
        tokens += [p.removeprefix(TOKEN_SUBPROTOCOL_PREFIX) for p in token_subprotocols(conn)]
    return tokens


def token_subprotocols(conn: HTTPConnection) -> list[str]:
    offered: Iterable[str] = conn.scope.get("subprotocols", ())
    return [p for p in offered if p.startswith(TOKEN_SUBPROTOCOL_PREFIX)]


def token_matches(presented: Iterable[str], expected: str) -> bool:
    """Constant-time comparison (per candidate), on bytes so that any input is comparable."""
    wanted = expected.encode()
    found = False
    for candidate in presented:
        # No early exit: the time taken does not say which candidate matched.
        found |= hmac.compare_digest(candidate.encode("utf-8", "replace"), wanted)
    return found


def _drop_url_token(
    conn: HTTPConnection, policy: SecurityPolicy, expected: str, authorised: bool
) -> Answer:
    """Redirect to the address without `token`: a page login sets the cookie on the way."""
    reading = conn.scope.get("method") in ("GET", "HEAD")
    login = reading and not policy.is_api(conn.url.path)
    if login and token_matches([conn.query_params["token"]], expected):
        secure = "; Secure" if conn.url.scheme == "https" else ""
        cookie = f"{policy.cookie_name}={expected}; Path=/; HttpOnly; SameSite=Strict{secure}"
        headers = (("location", _location_without_token(conn)), ("set-cookie", cookie))
        return Answer(303, "token accepted", headers)
    if authorised:
        # 307 has the client repeat its method and body at the new address.
        status = 303 if reading else 307
        return Answer(
            status,
            "the token is never read from the address",
            (("location", _location_without_token(conn)),),
        )
    if login:
        return Answer(401, "wrong token")
    return Answer(401, "a token is required", (("www-authenticate", "Bearer"),))


def _location_without_token(conn: HTTPConnection) -> str:
    # Relative, and never starting with '//', which a browser would read as another host.
    path = "/" + quote(conn.url.path).lstrip("/")
    rest = [(k, v) for k, v in conn.query_params.multi_items() if k != "token"]
    return f"{path}?{urlencode(rest)}" if rest else path
