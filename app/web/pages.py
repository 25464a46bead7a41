"""Routes that render the pages; the data itself comes from the REST API and the stream.

Templates carry no inline script or style (the server's CSP is `script-src 'self'`), so anything a
page needs from the server travels in `data-` attributes on the page's root element.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.deps import Manager
from app.runs.errors import RunNotFound

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# templates/ and static/ sit at the top of the repo (the project layout wants them there), but a
# wheel can only carry files inside a package: pyproject.toml maps them to app/templates and
# app/static, so `pip install .` puts them next to this package. A source checkout or an editable
# install (`pip install -e .`) has no app/templates and reads them from the repo root instead.
ASSET_ROOTS = (PACKAGE_DIR, PACKAGE_DIR.parent)


def find_asset_root() -> Path | None:
    """The first of ASSET_ROOTS holding both templates/ and static/, or None."""
    for root in ASSET_ROOTS:
        if (root / "templates").is_dir() and (root / "static").is_dir():
            return root
    return None


ASSET_ROOT = find_asset_root()
TEMPLATES_DIR = (ASSET_ROOT or PACKAGE_DIR) / "templates"
STATIC_DIR = (ASSET_ROOT or PACKAGE_DIR) / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    """Serve `static/` (ES modules, CSS) at `/static`; called once by the app factory."""
    if ASSET_ROOT is None:
        # The app factory runs outside app/cli.py's error handling, so report it the way the CLI
        # reports its own start-up errors: one line on stderr, exit status 2, no traceback.
        places = " nor ".join(str(root) for root in ASSET_ROOTS)
        print(
            f"backprop-live: the pages' templates/ and static/ are in neither {places};"
            " reinstall backprop-live (`pip install .` from a checkout)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The runs and the form for a new one."""
    return templates.TemplateResponse(request, "home.html", {"page": "home"})


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, manager: Manager) -> HTMLResponse:
    """One run, live: network, loss, gradient sizes, data, controls, explain, history."""
    try:
        run = manager.get(run_id)
    except RunNotFound:
        return not_found_page(request, f"There is no run {run_id}. It may have been deleted.")
    context = {"page": "run", "run_id": run_id, "run_name": run.config.name}
    return templates.TemplateResponse(request, "run.html", context)


@router.get("/descent", response_class=HTMLResponse)
def descent(request: Request) -> HTMLResponse:
    """Gradient descent on one variable: the idea backpropagation applies to every weight."""
    return templates.TemplateResponse(request, "descent.html", {"page": "descent"})


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request) -> HTMLResponse:
    """Two to four runs side by side (`?runs=a,b`); the page reads the ids from its own URL."""
    return templates.TemplateResponse(request, "compare.html", {"page": "compare"})


def not_found_page(request: Request, message: str) -> HTMLResponse:
    """The 404 page: what is missing, and the way home."""
    context = {"page": "not-found", "message": message}
    return templates.TemplateResponse(request, "not_found.html", context, status_code=404)


async def not_found(request: Request, exc: Exception) -> Response:
    """A page address nobody serves gets the 404 page; the API keeps its JSON answers."""
    assert isinstance(exc, HTTPException)
    if exc.status_code != 404 or request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    return not_found_page(request, f"There is no page at {request.url.path}.")


def install_not_found(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, not_found)
