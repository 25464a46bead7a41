"""Safe by default: who may talk to the server, how much they may send, and what errors say.

- `SecurityMiddleware` checks the Host header (DNS rebinding), the Origin of state-changing
  requests and WebSocket handshakes (CSRF, cross-site WebSockets), the optional bearer token,
  and adds security headers to every answer.
- `BodyLimitMiddleware` answers 413 once a request body passes its limit, without buffering it.
- `answer_failures` (inside the middleware) turns an unhandled exception into a JSON 500 that
  carries the headers too.
- `check_bind` is the CLI's rule: a non-loopback address needs a token.
"""

from app.security.bind import check_bind, is_loopback
from app.security.body_limit import BodyLimitMiddleware
from app.security.install import install_security
from app.security.middleware import SecurityMiddleware
from app.security.policy import DEFAULT_CSP, SecurityPolicy

__all__ = [
    "DEFAULT_CSP",
    "BodyLimitMiddleware",
    "SecurityMiddleware",
    "SecurityPolicy",
    "check_bind",
    "install_security",
    "is_loopback",
]
