"""The rule the CLI applies before it listens: a non-loopback address needs a token."""

from __future__ import annotations

import ipaddress
import re

# The token travels in a header, a cookie and a WebSocket subprotocol name; these characters are
# safe in all three (RFC 6750's b64token without '+', '/' and '=', which cookies and
# subprotocol tokens handle badly).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]+")
MIN_TOKEN_LENGTH = 8


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback address (127.0.0.0/8, ::1); False for the rest.

    Other host names count as non-loopback: they may resolve to anything.
    """
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_token(token: str) -> str | None:
    """A one-line reason why `token` is unusable, or None if it is fine."""
    if len(token) < MIN_TOKEN_LENGTH:
        return f"the token must be at least {MIN_TOKEN_LENGTH} characters long"
    if not TOKEN_PATTERN.fullmatch(token):
        return "the token may hold only letters, digits and . _ ~ -"
    return None


def check_bind(host: str, token: str | None) -> str | None:
    """None if the server may listen on `host` with `token`; otherwise a one-line error.

    An empty token counts as no token.
    """
    if token:
        problem = check_token(token)
        if problem is not None:
            return problem
        return None
    if is_loopback(host):
        return None
    return (
        f"refusing to listen on {host}: a non-loopback address needs a token "
        "(--token or BACKPROP_TOKEN), or listen on 127.0.0.1"
    )
