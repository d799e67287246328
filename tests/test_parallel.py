"""How the suite is shared among processes (``tests/parallel.py``)."""

from __future__ import annotations

import re

from parallel import (
    BOOK_INTERACTION,
    BOOK_MODULES,
    BOOK_PAGES,
    INTERACTION_TESTS,
    _rank,
    work_unit,
)

from book_support import REPO


def test_a_notebook_is_one_unit_of_work():
    cells = [f"book/first_look.ipynb::Cell {k}" for k in range(5)]
    assert {work_unit(c) for c in cells} == {"book/first_look.ipynb"}
    assert work_unit("book/backprop.ipynb::Cell 0") != work_unit("book/first_look.ipynb::Cell 0")


def test_the_tests_of_the_built_book_form_two_units_and_the_others_go_by_file():
    pages = [
        "tests/test_book_build.py::test_build_has_no_warnings",
        "tests/test_book_browser.py::test_page_renders_offline[book/api.html]",
        "tests/test_book_browser.py::test_axe_finds_no_violation[book/intro.html]",
    ]
    interaction = [
        "tests/test_book_explorables_browser.py::test_static_controls_swap_the_frame[x]",
        *(f"tests/test_book_browser.py::{name}[phone]" for name in INTERACTION_TESTS),
    ]
    assert {work_unit(i) for i in pages} == {BOOK_PAGES}
    assert {work_unit(i) for i in interaction} == {BOOK_INTERACTION}
    assert work_unit("tests/engine/test_mlp.py::test_a") == "tests/engine/test_mlp.py"
    assert work_unit("tests/engine/test_mlp.py::TestX::test_a") == (
        "tests/engine/test_mlp.py::TestX"
    )


def test_the_interaction_tests_exist():
    source = (REPO / "tests" / "test_book_browser.py").read_text()
    for name in INTERACTION_TESTS:
        assert f"def {name}(" in source


def test_longest_units_first():
    ids = ["tests/engine/test_mlp.py::test_a", "book/first_look.ipynb::Cell 0",
           "tests/figures/test_style.py::test_a",
           "tests/test_book_browser.py::test_page_renders_offline[book/api.html]"]  # fmt: skip
    assert sorted(ids, key=_rank) == ids[::-1]


def test_every_module_that_needs_the_built_book_is_in_a_book_unit():
    """A module using ``built_book``, ``site`` or ``browser`` elsewhere would start
    Chromium on yet another worker."""
    fixture = re.compile(r"def test_\w+\([^)]*\b(built_book|site|browser)\b")
    users = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "tests").rglob("test_*.py")
        if fixture.search(p.read_text())
    }
    assert users == set(BOOK_MODULES)
