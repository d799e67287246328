"""How the suite is shared among processes (``tests/parallel.py``)."""

from __future__ import annotations

import re

from parallel import BOOK_MODULES, BOOK_UNIT, work_unit

from book_support import REPO


def test_a_notebook_is_one_unit_of_work():
    cells = [f"book/first_look.ipynb::Cell {k}" for k in range(5)]
    assert {work_unit(c) for c in cells} == {"book/first_look.ipynb"}
    assert work_unit("book/backprop.ipynb::Cell 0") != work_unit("book/first_look.ipynb::Cell 0")


def test_the_tests_of_the_built_book_are_one_unit_and_the_others_go_by_file():
    ids = [f"{m}::test_x[a]" for m in BOOK_MODULES] + [f"{m}::test_y" for m in BOOK_MODULES]
    assert {work_unit(i) for i in ids} == {BOOK_UNIT}
    assert work_unit("tests/engine/test_mlp.py::test_a") == "tests/engine/test_mlp.py"
    assert work_unit("tests/engine/test_mlp.py::TestX::test_a") == (
        "tests/engine/test_mlp.py::TestX"
    )


def test_every_module_that_needs_the_built_book_is_in_the_book_unit():
    """A module using ``built_book``, ``site`` or ``browser`` outside the unit would build
    the book (and start Chromium) a second time on another worker."""
    fixture = re.compile(r"def test_\w+\([^)]*\b(built_book|site|browser)\b")
    users = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "tests").rglob("test_*.py")
        if fixture.search(p.read_text())
    }
    assert users == set(BOOK_MODULES)
