"""The size and layout at which the book's chapters draw each figure builder.

Read from the notebooks' code, so that a test draws a builder exactly as its chapter
does: ``plt.figure(figsize=..., layout="constrained")`` followed by the builder, or an
explorable frame (``figsize=`` passed to :func:`~mlcore.figures.interactive.explorable`).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

from matplotlib.figure import Figure

from mlcore.figures import style

BOOK = Path(__file__).resolve().parents[2] / "book"


def figure_cells() -> Iterator[tuple[Path, list[tuple[float, float]], list[str], set[str]]]:
    """Every notebook code cell that sets a ``figsize``: (notebook, the sizes, the layouts
    and the ``draw_*`` names in its source), in the book's folder order."""
    for nb in sorted(BOOK.glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or "figsize" not in source:
                continue
            sizes = [ast.literal_eval(s) for s in re.findall(r"figsize=(\([^)]*\))", source)]
            layouts = re.findall(r'layout="(\w+)"', source)
            yield nb, sizes, layouts, set(re.findall(r"\b(draw_\w+)", source))


@functools.cache
def _sizes() -> dict[str, tuple[tuple[float, float], str | None]]:
    """Builder name -> (figsize, layout) of the one notebook cell that draws it."""
    found: dict[str, tuple[tuple[float, float], str | None]] = {}
    for _, sizes, layouts, names in figure_cells():
        for name in names:
            if len(sizes) == 1:
                found[name] = (sizes[0], layouts[0] if layouts else None)
    return found


def book_size(name: str) -> tuple[tuple[float, float], str | None]:
    """(figsize, layout) of builder ``name`` in its chapter."""
    assert name in _sizes(), f"no chapter draws {name} in a cell with one figsize"
    return _sizes()[name]


def book_figure(name: str) -> Figure:
    """An empty figure of the size and layout at which the chapter draws ``name``.

    An explorable's frame (no layout in the notebook) gets the constrained layout that
    :func:`~mlcore.figures.interactive.draw_frame` gives a frame drawn on its own.
    """
    size, layout = book_size(name)
    return Figure(figsize=size, layout=layout or "constrained")


def assert_fits_the_book(fig: Figure) -> None:
    """Nothing in ``fig`` breaks the book's style (:func:`mlcore.figures.style.problems`)."""
    found = style.problems(fig)
    assert found == [], found
