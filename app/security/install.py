"""Put the guards on a FastAPI app: middleware in the right order, and the OpenAPI that says so."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.security.body_limit import BodyLimitMiddleware
from app.security.docs_csp import DocsCspMiddleware
from app.security.middleware import SecurityMiddleware
from app.security.policy import UNSAFE_METHODS, SecurityPolicy

# One shared schema, referenced by every guard answer: a generated client then has one error
# model rather than one per operation and status. An app's own model of the same name and shape
# (a string `detail`) is used as it is.
ERROR_SCHEMA_NAME = "ErrorOut"
ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# What the guards (and FastAPI's own body parsing) may answer besides each route's answers.
GUARD_RESPONSES = {
    "400": "malformed request: Host header, Content-Length, or a body that cannot be decoded",
    "403": "cross-origin request refused",
    "413": "request body larger than max_body_bytes",
    "415": "the API accepts only application/json bodies",
}


def install_security(
    app: FastAPI,
    policy: SecurityPolicy,
    max_body_bytes: int,
    limit_name: str = "max_body_bytes",
    docs_paths: tuple[str, ...] | None = None,
    limit_env: str | None = None,
) -> None:
    """Security checks outermost, then the body limit, then the docs pages' own policy.

    `docs_paths` are the pages that start Swagger UI with an inline script (by default
    FastAPI's own /docs and /redoc).
    """
    # add_middleware puts the last one added outermost.
    if docs_paths is None:
        docs_paths = tuple(p for p in (app.docs_url, app.redoc_url) if p)
    app.add_middleware(DocsCspMiddleware, paths=docs_paths)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=max_body_bytes,
        setting_name=limit_name,
        setting_env=limit_env,
    )
    app.add_middleware(SecurityMiddleware, policy=policy)
    document_guard_responses(app, token_required=policy.token is not None)


def document_guard_responses(app: FastAPI, token_required: bool) -> None:
    """Add the guards' answers to every state-changing operation in the OpenAPI document.

    Clients (and Schemathesis) then find every status code the server may send documented.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault(ERROR_SCHEMA_NAME, ERROR_SCHEMA)
            for path_item in schema.get("paths", {}).values():
                for method, operation in path_item.items():
                    _add_responses(operation, method.upper() in UNSAFE_METHODS, token_required)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_responses(operation: dict[str, Any], unsafe: bool, token_required: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = dict(GUARD_RESPONSES) if unsafe else {"400": GUARD_RESPONSES["400"]}
    if token_required:
        codes["401"] = "a bearer token is required"
    for code, description in codes.items():
        reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
        content = {"application/json": {"schema": reference}}
        responses.setdefault(code, {"description": description, "content": content})
