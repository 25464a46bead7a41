"""Routes that render the pages; the data itself comes from the REST API and the stream.

Templates carry no inline script or style (the server's CSP is `script-src 'self'`), so anything a
page needs from the server travels in `data-` attributes on the page's root element.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_ROOT / "templates"
STATIC_DIR = REPO_ROOT / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    """Serve `static/` (ES modules, CSS) at `/static`; called once by the app factory."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The runs and the form for a new one."""
    return templates.TemplateResponse(request, "home.html", {"page": "home"})


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str) -> HTMLResponse:
    """One run, live: network, loss, data, controls, behind the scenes, history."""
    return templates.TemplateResponse(request, "run.html", {"page": "run", "run_id": run_id})


@router.get("/descent", response_class=HTMLResponse)
def descent(request: Request) -> HTMLResponse:
    """Gradient descent on one variable: the idea backpropagation applies to every weight."""
    return templates.TemplateResponse(request, "descent.html", {"page": "descent"})


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request) -> HTMLResponse:
    """Two to four runs side by side (`?runs=a,b`); the page reads the ids from its own URL."""
    return templates.TemplateResponse(request, "compare.html", {"page": "compare"})
