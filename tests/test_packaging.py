"""A normal (non-editable) install carries the pages: the wheel holds templates/ and static/, and
the installed app serves them from outside the repo.

The wheel is built offline from a copy of the sources (so nothing is written into the checkout and
no stale build/ leaks in), installed with `pip install --target`, and run with `python -S` so that
the editable install's import hook (a .pth file in site-packages) cannot hand back the checkout;
the dependencies still come from the site-packages already installed.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[1]
# What the build reads: pyproject.toml and README.md (the long description), the package, the pages.
SOURCES = ("pyproject.toml", "README.md", "app", "templates", "static")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")

pytestmark = pytest.mark.slow


def repo_files(folder: str, pattern: str = "*") -> set[str]:
    """Files under REPO/folder as POSIX paths relative to REPO, skipping caches and dotfiles."""
    found = set()
    for path in (REPO / folder).rglob(pattern):
        relative = path.relative_to(REPO)
        if path.is_file() and not any(
            part == "__pycache__" or part.startswith(".") for part in relative.parts
        ):
            found.add(relative.as_posix())
    return found


def pip(*args: str, cwd: Path) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline (no internet here; setuptools is installed)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=JUNK)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = root / "dist"
    pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source), cwd=root)
    (built,) = dist.glob("backprop_live-*.whl")
    return built


@pytest.fixture(scope="module")
def target(wheel: Path) -> Path:
    """The wheel installed into its own directory, as `pip install .` would into site-packages."""
    installed = wheel.parent.parent / "target"
    args = ["--no-deps", "--no-build-isolation", "-q", "--target", str(installed), str(wheel)]
    pip("install", *args, cwd=wheel.parent)
    return installed


def installed_env(target: Path) -> dict[str, str]:
    """The installed copy first on sys.path, then the dependencies from site-packages."""
    path = [str(target), *site.getsitepackages()]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        path.append(site.getusersitepackages())
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def test_the_wheel_carries_every_template_static_file_and_module(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if not name.endswith("/")}
    in_wheel = {name.removeprefix("app/") for name in names if name.startswith("app/")}
    templates = {name for name in in_wheel if name.startswith("templates/")}
    static = {name for name in in_wheel if name.startswith("static/")}
    assert templates == repo_files("templates"), "the wheel's app/templates differs from templates/"
    assert repo_files("templates", "*.html"), "no templates in the repo?"
    assert static == repo_files("static"), "the wheel's app/static differs from static/"
    assert any(name.startswith("static/js/views/") for name in static)
    # The package list in pyproject.toml is explicit: a subpackage left out of it shows here.
    modules = {name for name in names if name.endswith(".py")}
    assert modules == repo_files("app", "*.py"), "pyproject.toml's packages miss some of app/"


def test_the_installed_package_finds_its_pages_outside_the_repo(
    target: Path, tmp_path: Path
) -> None:
    lookup = (
        "import app.web.pages as p; print(p.__file__); print(p.TEMPLATES_DIR); print(p.STATIC_DIR)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", lookup],
        cwd=tmp_path,
        env=installed_env(target),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    module, templates, static = (Path(line) for line in result.stdout.splitlines())
    assert module.is_relative_to(target), f"imported {module}, not the installed copy"
    assert templates.is_relative_to(target) and static.is_relative_to(target)
    assert (templates / "home.html").is_file(), f"no home.html in {templates}"
    assert (static / "js" / "pages" / "home.js").is_file(), f"no js/pages/home.js in {static}"


def test_the_installed_server_serves_pages_and_static_files(target: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    command = [sys.executable, "-S", "-m", "app", "serve", "--port", str(port)]
    command += ["--db", str(tmp_path / "x.db")]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=installed_env(target), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start in 20 s"
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        with urllib.request.urlopen(f"{url}/", timeout=5) as response:
            assert response.status == 200
            assert b"<html" in response.read().lower()
        with urllib.request.urlopen(
            f"{url}/static/js/views/network_view.js", timeout=5
        ) as response:
            assert response.status == 200
            assert "javascript" in response.headers["content-type"]
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_an_install_without_its_pages_fails_in_one_line(target: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(target / "app", broken / "app", ignore=shutil.ignore_patterns("static"))
    command = [sys.executable, "-S", "-m", "app", "serve", "--port", "1"]
    command += ["--db", str(tmp_path / "x.db")]
    result = subprocess.run(
        command, cwd=tmp_path, env=installed_env(broken), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("backprop-live: ") and "static/" in line
