"""The CLI's rule: a non-loopback address needs a token; tokens must be usable everywhere."""

from __future__ import annotations

import pytest

from app.security import check_bind, is_loopback


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"]
)
def test_loopback_hosts_are_loopback(host: str) -> None:
    assert is_loopback(host)
    assert check_bind(host, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_non_loopback_without_token_is_refused_in_one_line(host: str) -> None:
    message = check_bind(host, None)
    assert message is not None
    assert "token" in message and "\n" not in message
    assert check_bind(host, "") == message  # an empty token is no token


def test_non_loopback_with_token_is_allowed() -> None:
    assert check_bind("0.0.0.0", "long-enough-token") is None


@pytest.mark.parametrize("token", ["short", "has space in it", "comma,in,token", "semi;colon-xx"])
def test_unusable_tokens_are_refused_even_on_loopback(token: str) -> None:
    message = check_bind("127.0.0.1", token)
    assert message is not None and "token" in message
