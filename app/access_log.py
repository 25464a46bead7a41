"""What the server's log lines leave out: the token always, and routine requests by default.

uvicorn writes every request's path and query to the access log, and a page login arrives as
`/?token=...`: `TokenScrubber` replaces the token (and any `token=` query value, a near-miss
included) in every record of the loggers it is put on, tracebacks too. `QuietAccessLog` drops
the access lines that would drown the rest: static files and the home page's polling
(`GET /api/runs` every two seconds, and each moving run's sparkline history), when they succeed.
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"
_TOKEN_PARAM = re.compile(r"(?i)(token=)[^&\s\"']*")
_SPARKLINE = re.compile(r"/api/runs/[^/]+/history")


def scrub(text: str, token: str | None) -> str:
    """`text` with `token` and every `token=` query value replaced by `***`."""
    if token:
        text = text.replace(token, REDACTED)
    return _TOKEN_PARAM.sub(rf"\g<1>{REDACTED}", text)


class TokenScrubber(logging.Filter):
    """Rewrites each record so that neither its message, its arguments nor its traceback holds
    the token."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg, self.token)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.token)
        return True

    def _clean(self, arg: object) -> object:
        return scrub(arg, self.token) if isinstance(arg, str) else arg


class QuietAccessLog(logging.Filter):
    """Drops uvicorn access lines of successful static-file and polling requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 5):
            return True
        _, method, path_and_query, _, status = args
        if method not in ("GET", "HEAD") or not isinstance(status, int) or status >= 400:
            return True
        path, _, query = str(path_and_query).partition("?")
        return not is_routine(path, query)


def is_routine(path: str, query: str) -> bool:
    """Static files, the runs list the home page polls, and the sparklines' thinned history."""
    if path.startswith("/static/") or path in ("/api/runs", "/favicon.ico"):
        return True
    return _SPARKLINE.fullmatch(path) is not None and query.startswith("points=")


def install_log_filters(token: str | None, quiet: bool) -> None:
    """Put the filters on uvicorn's loggers (call once uvicorn has configured logging)."""
    scrubber = TokenScrubber(token)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(scrubber)
    if quiet:
        logging.getLogger("uvicorn.access").addFilter(QuietAccessLog())
