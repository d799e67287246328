"""Fixtures shared by the book tests, and the check that nbval sees every notebook."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from book_support import BUILD_TIMEOUT, REPO, StaticServer, build_book, toc_notebooks


def pytest_collection_modifyitems(session, config, items):
    """Fail the run if a notebook listed in ``_toc.yml`` was not collected by nbval.

    Only applies when the whole ``book/`` folder was asked for (a plain ``pytest``).
    """
    asked = [Path(a.split("::")[0]).resolve() for a in config.args]
    book = (REPO / "book").resolve()
    if not any(book == a or book.is_relative_to(a) for a in asked):
        return
    collected = {Path(str(item.fspath)).resolve() for item in items}
    missing = [nb for nb in toc_notebooks() if nb.resolve() not in collected]
    if missing:
        names = ", ".join(str(nb.relative_to(REPO)) for nb in missing)
        raise pytest.UsageError(f"nbval did not collect these notebooks from _toc.yml: {names}")


def _keep_html(html: Path, dest: Path) -> None:
    """Copy the built HTML to ``dest`` (replacing an earlier build there), for publishing."""
    if dest.exists():
        if any(dest.iterdir()) and not (dest / "index.html").exists():
            pytest.fail(f"BOOK_HTML_DIR={dest} holds files that are not a built book")
        shutil.rmtree(dest)
    shutil.copytree(html, dest, ignore=shutil.ignore_patterns("_build.log"))


def _build_once(root: Path) -> tuple[Path, int, str]:
    """Build the book into ``root/book``, once for all the processes of a test run.

    The first process to create ``root/book.lock`` builds; any other waits for the
    ``book.done`` marker it writes at the end (with the build's return code and log).
    """
    out = root / "book"
    try:
        os.close(os.open(root / "book.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        deadline = time.monotonic() + BUILD_TIMEOUT + 60
        while not (root / "book.done").exists():
            if time.monotonic() > deadline:
                pytest.fail(f"no book build finished in {root} (another worker builds it)")
            time.sleep(0.5)
    else:
        try:
            result = build_book(out)
            code, log = result.returncode, result.stdout + result.stderr
        except Exception as exc:  # a build that cannot even run fails every waiter too
            code, log = -1, f"{type(exc).__name__}: {exc}"
        (root / "book.log").write_text(log)
        if (out / "_build" / "html").is_dir():  # read by test_book_build, never published
            (out / "_build" / "html" / "_build.log").write_text(log)
        (root / "book.rc").write_text(str(code))
        (root / "book.done").touch()
    return out, int((root / "book.rc").read_text()), (root / "book.log").read_text()


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book once per test run (warnings are errors); return the HTML folder.

    Under pytest-xdist the workers share one build (:func:`_build_once`). With
    ``BOOK_HTML_DIR`` set, the HTML of this build is also copied there, so that CI
    publishes the very book the tests built and checked.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out, code, log = _build_once(root)
    if code != 0:
        pytest.fail(f"jupyter-book build -W failed ({code}):\n{log[-6000:]}")
    html = out / "_build" / "html"
    assert (html / "index.html").exists(), log[-3000:]
    if os.environ.get("BOOK_HTML_DIR"):
        try:  # one process copies it
            os.close(os.open(root / "book.kept", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            _keep_html(html, Path(os.environ["BOOK_HTML_DIR"]).expanduser().resolve())
    return html


def chromium_path() -> str | None:
    """Debian's Chromium, or the browser named by ``CHROMIUM_PATH``."""
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"):
        if os.path.exists(candidate):
            return candidate
    return None


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI: apt-get install chromium")
        pytest.skip("headless Chromium not found (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def site(built_book: Path):
    with StaticServer(built_book) as server:
        yield server.url


@pytest.fixture(scope="module")
def problem():
    """The line problem of Part II, small: 8 examples, a 20 x 20 contour grid."""
    import numpy as np

    from mlcore import line

    return line.line_problem(np.random.default_rng(0), num_examples=8, grid=20)


@pytest.fixture
def line_data():
    """Ten noisy points on the line y = 2x - 1."""
    import numpy as np

    import mlcore

    X, y, _ = mlcore.make_line(10, np.random.default_rng(0))
    return X, y
