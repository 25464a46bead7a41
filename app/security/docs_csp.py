"""A Content-Security-Policy for the /docs page that still forbids inline code.

Swagger UI is started with one inline script. Rather than allow 'unsafe-inline', this
middleware reads the page as it goes out and allows exactly its own inline blocks by their
SHA-256 hashes. Its files come from this server (app/api/docs.py), so no other host is allowed.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

INLINE_BLOCK = re.compile(rb"<(script|style)(?:\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
MAX_PAGE_BYTES = 256 * 1024  # the docs pages are ~1 KB; anything larger is not what we expect


def block_hashes(html: bytes) -> tuple[list[str], list[str]]:
    """CSP hash sources of the non-empty inline <script> and <style> blocks of `html`."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in INLINE_BLOCK.finditer(html):
        tag, body = match.group(1).lower(), match.group(2)
        if not body.strip() or (tag == b"script" and b"src=" in match.group(0)[:200]):
            continue  # an external script's (empty) body needs no hash
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        (scripts if tag == b"script" else styles).append(f"'sha256-{digest}'")
    return scripts, styles


def docs_policy(html: bytes) -> str:
    scripts, styles = block_hashes(html)
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *scripts]),
            " ".join(["style-src 'self'", *styles]),
            "img-src 'self' data:",
            "font-src 'self'",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


class DocsCspMiddleware:
    """Sets the hashed policy on GETs of `paths`; every other request passes untouched."""

    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = b""

        async def buffering_send(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body") and len(body) <= MAX_PAGE_BYTES:
                return
            await send(_with_policy(start, docs_policy(body)))
            await send({**message, "body": body})
            start, body = None, b""

        await self.app(scope, receive, buffering_send)


def _with_policy(start: Message, policy: str) -> Message:
    headers = [
        (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-security-policy"
    ]
    headers.append((b"content-security-policy", policy.encode()))
    return {**start, "headers": headers}
