"""The interactive API documentation at /docs, served entirely from this machine.

FastAPI's default /docs loads Swagger UI from a CDN, which leaves a blank page wherever the
server has no internet (a classroom, a lab, this project's CI). The `swagger-ui-bundle` package
ships Swagger UI's files, and they are served from /docs-assets.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="backprop-live API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


def mount_docs_assets(app: FastAPI) -> None:
    """Serve the installed Swagger UI files that /docs refers to."""
    assets = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
