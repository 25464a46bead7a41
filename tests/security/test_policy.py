"""Parsing of Host and Origin headers, and what counts as the server's own origin."""

from __future__ import annotations

import pytest

from app.security.policy import (
    Authority,
    SecurityPolicy,
    is_form_content_type,
    origin_allowed,
    parse_host_header,
    parse_origin,
)


@pytest.mark.parametrize(
    ("header", "scheme", "expected"),
    [
        ("127.0.0.1:8000", "http", Authority("127.0.0.1", 8000)),
        ("LocalHost", "http", Authority("localhost", 80)),
        ("localhost", "wss", Authority("localhost", 443)),
        ("[::1]:8000", "ws", Authority("::1", 8000)),
        ("[::1]", "https", Authority("::1", 443)),
    ],
)
def test_host_headers_parse(header: str, scheme: str, expected: Authority) -> None:
    assert parse_host_header(header, scheme) == expected


@pytest.mark.parametrize(
    "header", [None, "", "::1", "host:99999", "host:8x", "[::1", "[::1]x", "a b", "evil.com/x"]
)
def test_malformed_host_headers_are_none(header: str | None) -> None:
    assert parse_host_header(header, "http") is None


def test_origins_parse_and_null_is_none() -> None:
    assert parse_origin("http://LOCALHOST:8000") == ("http", Authority("localhost", 8000))
    assert parse_origin("https://example.com") == ("https", Authority("example.com", 443))
    for bad in ["null", "", "file:///etc", "http://x.com/path", "http://x:bad", "nonsense"]:
        assert parse_origin(bad) is None


def test_own_origin_and_allow_list() -> None:
    policy = SecurityPolicy(allowed_origins=("http://localhost:3000",))
    own = Authority("127.0.0.1", 8000)
    assert origin_allowed("http://127.0.0.1:8000", own, policy)
    assert origin_allowed("http://localhost:3000", own, policy)
    # Same host, other port: another origin (and another program) on the same machine.
    assert not origin_allowed("http://127.0.0.1:3000", own, policy)
    assert not origin_allowed("http://evil.example", own, policy)
    assert not origin_allowed("null", own, policy)


def test_hosts_allow_list_and_wildcard() -> None:
    assert SecurityPolicy().host_allowed(Authority("::1", 80))
    assert not SecurityPolicy().host_allowed(Authority("evil.example", 80))
    assert SecurityPolicy(allowed_hosts=("*",)).host_allowed(Authority("evil.example", 80))
    assert SecurityPolicy(allowed_hosts=("[::1]",)).host_allowed(Authority("::1", 80))


def test_form_content_types() -> None:
    assert is_form_content_type("application/x-www-form-urlencoded")
    assert is_form_content_type("multipart/form-data; boundary=x")
    assert is_form_content_type("Text/Plain;charset=UTF-8")
    assert not is_form_content_type("application/json")
    assert not is_form_content_type(None)


def test_public_paths() -> None:
    policy = SecurityPolicy()
    assert policy.is_public("/healthz") and policy.is_public("/static/js/app.js")
    assert not policy.is_public("/healthz/x") and not policy.is_public("/api/runs")
