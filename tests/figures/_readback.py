"""Read back what a matplotlib figure shows: the numbers behind its artists.

The figure tests draw a figure, then read its data from the matplotlib objects (line
vertices, scatter offsets, arrow vectors, image arrays, contour vertices, numbers in
titles and labels) and compare them with the engine.  The artists are found by the
``gid`` their builder gives them (what they show, e.g. ``"gd-path"``) or by their label,
never by drawing order or colour, so a change of style does not break a test while a
change of what is drawn does.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.contour import ContourSet
from matplotlib.lines import Line2D
from matplotlib.path import Path
from matplotlib.quiver import Quiver

__all__ = [
    "all_gid",
    "arrows",
    "colour",
    "contour_vertices",
    "labelled",
    "mahalanobis_sq",
    "numbers",
    "offsets",
    "one_gid",
    "same_colour",
    "xy",
]


def _axes(where):
    return list(where.axes) if hasattr(where, "get_axes") else [where]


def _artists(ax):
    return [*ax.lines, *ax.collections, *ax.patches, *ax.images, *ax.texts]


def all_gid(where, gid):
    """Every artist with this ``gid`` in a figure or an axes, in drawing order.

    Legends are not searched (their handles are copies without the gid).
    """
    return [a for ax in _axes(where) for a in _artists(ax) if a.get_gid() == gid]


def one_gid(where, gid):
    """The one artist with this ``gid``; fails if there is none or more than one."""
    found = all_gid(where, gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def labelled(ax, label):
    """The one artist of ``ax`` whose legend label is ``label`` (legend shown or not)."""
    handles, labels = ax.get_legend_handles_labels()
    found = [h for h, lab in zip(handles, labels, strict=True) if lab == label]
    assert len(found) == 1, f"expected one artist labelled {label!r}, found {labels}"
    return found[0]


def xy(artist):
    """Vertices of a line, ``(n, 2)`` floats (data coordinates)."""
    assert isinstance(artist, Line2D), f"not a line: {artist!r}"
    return np.asarray(artist.get_xydata(), dtype=np.float64)


def offsets(collection):
    """Positions of the markers of a scatter, ``(n, 2)`` floats."""
    assert isinstance(collection, Collection), f"not a collection: {collection!r}"
    return np.asarray(np.ma.getdata(collection.get_offsets()), dtype=np.float64)


def arrows(quiver):
    """Tails and vectors of a quiver in data units, each ``(n, 2)``.

    Only a quiver drawn with ``angles="xy"``, ``scale_units="xy"``, ``scale=1`` and
    ``pivot="tail"`` shows ``(U, V)`` as the data-space vector from its tail; anything
    else would draw a different arrow than the numbers say, and fails here.
    """
    assert isinstance(quiver, Quiver), f"not a quiver: {quiver!r}"
    assert quiver.angles == "xy" and quiver.scale_units == "xy", "arrows not in data units"
    assert quiver.scale == 1.0 and quiver.pivot == "tail", "arrows rescaled or not at the tail"
    tails = np.column_stack([np.ravel(quiver.X), np.ravel(quiver.Y)])
    vecs = np.column_stack([np.ma.getdata(quiver.U).ravel(), np.ma.getdata(quiver.V).ravel()])
    return tails.astype(np.float64), vecs.astype(np.float64)


def contour_vertices(ax):
    """``(level, vertices (k, 2))`` of every contour line (not filled) drawn in ``ax``."""
    sets = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert sets, "no contour lines in this axes"
    out = []
    for cs in sets:
        for level, path in zip(cs.levels, cs.get_paths(), strict=True):
            if len(path.vertices) == 0:
                continue
            codes = path.codes
            keep = np.ones(len(path.vertices), bool) if codes is None else codes != Path.CLOSEPOLY
            out.append((float(level), np.asarray(path.vertices[keep], dtype=np.float64)))
    return out


_NUMBER = re.compile(r"(?<![A-Za-z_^{])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numbers(text):
    """The numbers a reader sees in a title or label, in order, as floats.

    ``"$B = 3$ of $N = 8$: 3 updates per epoch"`` gives ``[3.0, 8.0, 3.0]``; digits that
    are part of a TeX name or index (``x^{(1)}``, ``E_n``) are skipped.
    """
    return [float(m) for m in _NUMBER.findall(text)]


def colour(artist):
    """The RGB colour (transparency aside) of a line, or of a collection's first face or edge."""
    if isinstance(artist, Line2D):
        return to_rgba(artist.get_color())[:3]
    faces = to_rgba_array(artist.get_facecolor())
    return tuple(faces[0] if len(faces) else to_rgba_array(artist.get_edgecolor())[0])[:3]


def same_colour(a, b):
    """Whether two artists are drawn in the same colour (the reader's link between panels)."""
    return np.allclose(colour(a), colour(b))


def mahalanobis_sq(points, centre, cov):
    r"""Squared Mahalanobis distance :math:`(p - c)^\top C^{-1} (p - c)` of every point."""
    d = np.asarray(points, dtype=np.float64) - np.asarray(centre, dtype=np.float64)
    return np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
