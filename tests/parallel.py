"""Run the suite on several processes (pytest-xdist) without splitting what belongs together.

``pyproject.toml`` asks for one worker per core (``-n auto``, at most 4). xdist's
``loadscope`` mode hands out whole files: a notebook's cells share one kernel and run in
order, so a notebook is never split. The tests of the built book form two units instead
of three files: :data:`BOOK_PAGES` (the ``-W`` build and the checks of every page, which
share one visit per page) and :data:`BOOK_INTERACTION` (the explorables, and the menus at
phone and tablet width). Each unit starts Chromium once; the book itself is built once
for the whole run (``built_book`` in ``conftest.py``).

The units run longest first: the two book units, then the tests of the figures (they draw
every figure of the book: ``test_style.py`` alone runs longer than any notebook), then
the notebooks, then the other unit tests, which fill the gaps at the end.
"""

from __future__ import annotations

import pytest

#: The test modules that use the ``built_book``, ``site`` or ``browser`` fixtures.
BOOK_MODULES = (
    "tests/test_book_build.py",
    "tests/test_book_browser.py",
    "tests/test_book_explorables_browser.py",
)
BOOK_PAGES = "the built book: its build and every page"
BOOK_INTERACTION = "the built book: explorables and menus"
#: Tests of ``test_book_browser.py`` that belong to :data:`BOOK_INTERACTION`.
INTERACTION_TESTS = (
    "test_chapter_menu_and_page_contents_on_touch_screens",
    "test_sidebar_toggle_collapses_the_chapter_list_at_desktop_width",
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: a book unit, or its file (class)."""
    module, _, rest = nodeid.partition("::")
    if module == "tests/test_book_explorables_browser.py" or (
        module == "tests/test_book_browser.py" and rest.split("[")[0] in INTERACTION_TESTS
    ):
        return BOOK_INTERACTION
    if module in BOOK_MODULES:
        return BOOK_PAGES
    return nodeid.rsplit("::", 1)[0]


def _rank(nodeid: str) -> int:
    unit = work_unit(nodeid)
    if unit in (BOOK_PAGES, BOOK_INTERACTION):
        return 0
    if unit.startswith("tests/figures/"):
        return 1
    return 2 if unit.endswith(".ipynb") else 3


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Longest units first (a stable sort: a notebook's cells keep their order)."""
    items.sort(key=lambda item: _rank(item.nodeid))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class BookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep the order of the hook above
    return BookScheduling(config, log)
