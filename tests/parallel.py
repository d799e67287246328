"""Run the suite on several processes (pytest-xdist) without splitting what belongs together.

``pyproject.toml`` asks for one worker per core (``-n auto``, at most 4). xdist's
``loadscope`` mode sends whole files to a worker: a notebook's cells share one kernel
and run in order, so a notebook must never be split. On top of that, the tests that need
the built book (the ``-W`` build and the browser checks, :data:`BOOK_MODULES`) form a
single unit, so that the book is built and Chromium started once per run, not once per
worker. Units are handed out largest first (xdist's default ``--loadscope-reorder``).
"""

from __future__ import annotations

import pytest

#: The test modules that use the ``built_book``, ``site`` or ``browser`` fixtures.
BOOK_MODULES = (
    "tests/test_book_build.py",
    "tests/test_book_browser.py",
    "tests/test_book_explorables_browser.py",
)
BOOK_UNIT = "the built book (tests/test_book_*.py)"


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or :data:`BOOK_UNIT`."""
    module = nodeid.split("::", 1)[0]
    return BOOK_UNIT if module in BOOK_MODULES else nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class BookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return BookScheduling(config, log)
