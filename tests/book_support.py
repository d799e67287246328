"""Shared helpers for the tests of the book: the table of contents, the build, a server."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

#: Seconds a book build may take before it counts as failed.
BUILD_TIMEOUT = 1200

#: The kernel every notebook names, as ipykernel installs it (JupyterLab shows this name).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@functools.cache
def config() -> dict:
    """The parsed ``_config.yml``."""
    return yaml.safe_load((REPO / "_config.yml").read_text())


def _toc_entries(node) -> list[str]:
    """Every ``file:`` entry below a node of ``_toc.yml``, in reading order."""
    found = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                found.append(node[key])
        for value in node.values():
            if isinstance(value, (list, dict)):
                found.extend(_toc_entries(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_toc_entries(item))
    return found


def toc_sources() -> list[Path]:
    """The source file of every page listed in ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    paths = []
    for entry in _toc_entries(toc):
        matches = [REPO / f"{entry}{ext}" for ext in (".ipynb", ".md")]
        matches = [p for p in matches if p.exists()] or [REPO / entry]
        paths.append(matches[0])
    return paths


def toc_notebooks() -> list[Path]:
    return [p for p in toc_sources() if p.suffix == ".ipynb"]


def notebooks_on_disk() -> list[Path]:
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in (REPO / "book").rglob("*.ipynb") if not skip.intersection(p.parts))


def build_book(out_dir: Path) -> subprocess.CompletedProcess:
    """Build the HTML book with warnings as errors into ``out_dir/_build/html``."""
    exe = shutil.which("jupyter-book") or str(Path(sys.executable).parent / "jupyter-book")
    cmd = [exe, "build", str(REPO), "-W", "-n", "--keep-going", "--path-output", str(out_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=BUILD_TIMEOUT)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


class StaticServer:
    """Serve a folder on 127.0.0.1 at a free port, in a background thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


DESKTOP = {"width": 1280, "height": 900}


def open_page(browser, url: str, viewport: dict | None = None, touch: bool = False):
    """Open a page, recording console errors, every request's URL and the bytes received.

    ``record["bytes"]`` maps each URL fetched to the size of its response body, as the
    local server sent it (uncompressed). A ``touch`` page is a phone or tablet: touch
    events, mobile viewport.
    """
    page = browser.new_page(
        viewport=viewport or DESKTOP, has_touch=touch, is_mobile=touch, device_scale_factor=1
    )
    record = {"errors": [], "requests": [], "bytes": {}}
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.on("request", lambda r: record["requests"].append(r.url))
    page.on("requestfailed", lambda r: record["errors"].append(f"failed: {r.url}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and record["errors"].append(f"HTTP {r.status}: {r.url}"),
    )
    page.on(
        "requestfinished",
        lambda r: record["bytes"].__setitem__(r.url, r.sizes()["responseBodySize"]),
    )
    page.goto(url, wait_until="load")
    settle(page)
    return page, record


def settle(page):
    """Wait until the page is idle and MathJax (if any) has typeset it."""
    page.wait_for_load_state("networkidle")
    typeset(page)


def typeset(page):
    """Wait until MathJax (if the page has it) has typeset the page."""
    if page.evaluate("() => typeof window.MathJax !== 'undefined'"):
        page.wait_for_function(
            "() => window.MathJax.startup && window.MathJax.startup.promise "
            "&& window.MathJax.startup.document && "
            "window.MathJax.startup.document.processed !== undefined",
            timeout=30_000,
        )
        page.evaluate("() => window.MathJax.startup.promise")
