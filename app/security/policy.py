"""What the security middleware allows, and the pure decisions it makes from request headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# Content types a browser may send cross-origin without a CORS preflight (a plain HTML form).
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Authority:
    """A host (lower case, IPv6 without brackets) and a port, as the client addressed it."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """Who may talk to the server.

    `allowed_hosts` are host names without a port; `"*"` allows any Host header.
    `allowed_origins` are extra origins (`scheme://host[:port]`) besides the server's own.
    `token`, when set, is required on every path except `public_paths` (exact paths, or prefixes
    when they end in `/`).
    """

    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    allowed_origins: tuple[str, ...] = ()
    token: str | None = None
    api_prefix: str = "/api/"
    public_paths: tuple[str, ...] = ("/healthz", "/static/", "/favicon.ico")
    content_security_policy: str = DEFAULT_CSP
    cookie_name: str = "backprop_token"
    _hosts: frozenset[str] = field(init=False, repr=False)
    _origins: frozenset[tuple[str, Authority]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Normalise once so that every request compares plain values.
        hosts = frozenset(h.strip().strip("[]").lower() for h in self.allowed_hosts)
        origins = frozenset(o for o in map(parse_origin, self.allowed_origins) if o is not None)
        object.__setattr__(self, "_hosts", hosts)
        object.__setattr__(self, "_origins", origins)
        object.__setattr__(self, "token", self.token or None)

    def host_allowed(self, authority: Authority) -> bool:
        return "*" in self._hosts or authority.host in self._hosts

    def origin_listed(self, origin: tuple[str, Authority]) -> bool:
        return origin in self._origins

    def is_public(self, path: str) -> bool:
        return any(path.startswith(p) if p.endswith("/") else path == p for p in self.public_paths)

    def is_api(self, path: str) -> bool:
        return path.startswith(self.api_prefix)


def _web_scheme(scheme: str) -> str:
    # A WebSocket handshake's origin is the page's http(s) origin.
    return {"ws": "http", "wss": "https"}.get(scheme, scheme)


def parse_host_header(value: str | None, scheme: str) -> Authority | None:
    """`'Example.com:8000'` -> Authority('example.com', 8000); None if missing or malformed."""
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = value.partition(":")
        if ":" in port_text:
            return None  # a bare IPv6 address is not a valid Host header
    if not host or any(c.isspace() or c in "/\\@?#" for c in host):
        return None
    return _with_port(host, port_text, _web_scheme(scheme))


def _with_port(host: str, port_text: str, scheme: str) -> Authority | None:
    if not port_text:
        default = DEFAULT_PORTS.get(scheme)
        return None if default is None else Authority(host, default)
    if not port_text.isdigit() or len(port_text) > 5 or not 0 < int(port_text) < 65536:
        return None
    return Authority(host, int(port_text))


def parse_origin(value: str | None) -> tuple[str, Authority] | None:
    """`'http://localhost:8000'` -> ('http', Authority('localhost', 8000)); None for `null`."""
    if not value or value.strip() == "null":
        return None
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, Authority(parts.hostname, port or DEFAULT_PORTS[parts.scheme])


def origin_allowed(origin_header: str, request: Authority, policy: SecurityPolicy) -> bool:
    """True if the page at `origin_header` is the server itself or an allow-listed origin.

    The scheme is not compared for the server's own origin: behind a TLS proxy the server sees
    http while the page is https, and both name the same host and port anyway.
    """
    origin = parse_origin(origin_header)
    if origin is None:
        return False
    return origin[1] == request or policy.origin_listed(origin)


def is_form_content_type(content_type: str | None) -> bool:
    """True for the content types an HTML form (or a no-preflight fetch) can send."""
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in FORM_CONTENT_TYPES
