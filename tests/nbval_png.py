"""nbval, pixel by pixel: the PNG images of every checked notebook cell are compared too.

nbval 0.11 compares the text of a cell's outputs only: it leaves out ``image/png``, and
the rules of ``tests/nbval_sanitize.cfg`` blank the base64 PNG frames embedded in the
``text/html`` outputs of the explorables (``mlcore.figures.interactive``).  This plugin makes
figures part of the regression test.

**Hook.**  ``nbval.plugin.IPyNbCell.runtest`` executes a cell in the notebook's kernel and
then calls ``IPyNbCell.compare_outputs(fresh, stored)``.  The plugin wraps that method:
nbval's own comparison runs unchanged, then the images of the same fresh and stored
outputs are compared, and the cell fails ("Cell outputs differ") if either comparison
fails.  No cell is executed twice, and the images are compared exactly where nbval
compares text: not in cells tagged ``nbval-ignore-output`` (or marked
``# NBVAL_IGNORE_OUTPUT``), skipped or never-run cells, nor in unmarked cells under
``--nbval-lax``.

**Images.**  In the order of the outputs, every ``image/png`` output and every PNG
embedded as base64 in a ``text/html`` output: any base64 run that starts with the PNG
signature (``iVBORw0KGgo``), whether in a ``data:image/png;base64,`` URI or in a script's
list of frames.  Stored and fresh outputs must hold the same number of images; the
images are compared in order, as RGBA arrays.

**Tolerance.**  Two images of the same height and width match when no channel of any
pixel differs by more than :data:`LEVELS` (4 of 255) and at most :data:`FRACTION`
(0.1 %) of the pixels differ at all.  The toolchain is pinned, so the same notebook
renders the same pixels and a re-run normally matches exactly; the margin absorbs
anti-aliasing noise (a curve that moves by a fraction of 1/256 of a pixel changes the
coverage of its edge pixels by a level or two).  Anything visible fails: a line or a
marker that moves by a tenth of a pixel changes its edge pixels by tens of levels, a
changed colour, label or tick changes whole strokes, and even a change of one or two
levels over more than 0.1 % of the figure is reported.

**Failure.**  The message names the notebook, the cell, the output (and the image within
a ``text/html`` output), then either the two shapes or the number and fraction of
differing pixels and the largest difference.  The stored, fresh and diff images are
written to a temporary folder whose path the message prints (``*-stored.png``,
``*-fresh.png``, ``*-diff.png``: the fresh image faded to grey, pixels beyond the
tolerance in red, differences within it in orange).
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

LEVELS = 4
"""Largest difference allowed in any channel of any pixel, in levels of 255."""

FRACTION = 1e-3
"""Largest fraction of an image's pixels that may differ at all (by at most LEVELS)."""

VOLATILE_FIGURES = {
    ("book/batch_gradients.ipynb", "part1.plot_timings("): "timings measured in the cell before",
}
"""Cells whose images are not compared, with the reason.

A key is a notebook (relative to the repository) and a piece of source that picks out
one code cell of it.  Only for figures of quantities measured at run time (timings),
whose pixels change from run to run while the cell's text output does not.  Tagging such
a cell ``nbval-ignore-output`` skips its images too, and is the usual way; an entry here
keeps the text of the cell checked.  ``tests/test_nbval_png.py`` checks that every entry
picks out exactly one cell of the book.
"""

# A base64 run holding a PNG file: the signature b"\x89PNG\r\n\x1a\n" encodes as
# "iVBORw0KGgo".  The run must not continue a longer base64 run on its left.
PNG_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])iVBORw0KGgo[A-Za-z0-9+/]*={0,2}")


class EmbeddedPng(NamedTuple):
    """One PNG image found in a cell's outputs."""

    where: str  # for messages: "output 0 (image/png)", "output 1 (text/html, PNG 3 of 16)"
    tag: str  # for file names: "out0", "out1-html3"
    data: str  # base64


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def png_images(outputs) -> list[EmbeddedPng]:
    """Every PNG of a list of notebook outputs, in order (see the module's docstring)."""
    found = []
    for i, out in enumerate(outputs):
        data = out.get("data") or {}
        if "image/png" in data:
            png = _text(data["image/png"])
            found.append(EmbeddedPng(f"output {i} (image/png)", f"out{i}", png))
        if "text/html" in data:
            runs = PNG_BASE64.findall(_text(data["text/html"]))
            for k, run in enumerate(runs, start=1):
                where = f"output {i} (text/html, PNG {k} of {len(runs)})"
                found.append(EmbeddedPng(where, f"out{i}-html{k}", run))
    return found


def decode_png(data: str) -> np.ndarray:
    """The base64 PNG as an RGBA uint8 array of shape (height, width, 4)."""
    from PIL import Image

    raw = base64.b64decode("".join(data.split()), validate=True)
    with Image.open(io.BytesIO(raw)) as image:
        return np.asarray(image.convert("RGBA"))


def pixel_difference(stored: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Per pixel, the largest absolute difference over the channels (same shapes)."""
    return np.abs(stored.astype(np.int16) - fresh.astype(np.int16)).max(axis=-1)


def compare_pixels(
    stored: np.ndarray, fresh: np.ndarray, levels: int = LEVELS, fraction: float = FRACTION
) -> str | None:
    """``None`` if the two RGBA arrays match within the tolerance, else what differs."""
    if stored.shape != fresh.shape:
        (h0, w0), (h1, w1) = stored.shape[:2], fresh.shape[:2]
        return f"shape differs: stored {w0}x{h0} pixels, fresh {w1}x{h1} pixels"
    delta = pixel_difference(stored, fresh)
    total = delta.size
    differing = int(np.count_nonzero(delta))
    beyond = int(np.count_nonzero(delta > levels))
    worst = int(delta.max()) if total else 0
    if beyond == 0 and differing <= fraction * total:
        return None
    return (
        f"{differing:,} of {total:,} pixels differ ({differing / total:.3%}), "
        f"{beyond:,} of them by more than {levels} levels; max difference {worst} levels "
        f"(allowed: at most {levels} levels on at most {fraction:.1%} of the pixels)"
    )


def diff_image(stored: np.ndarray, fresh: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """The fresh image faded to grey; red where it differs beyond ``levels``, orange within."""
    rgb = fresh[..., :3].astype(np.float64)
    grey = 255 - 0.3 * (255 - rgb.mean(axis=-1))
    out = np.repeat(grey[..., None], 3, axis=-1)
    delta = pixel_difference(stored, fresh)
    out[(delta > 0) & (delta <= levels)] = (255, 160, 0)
    out[delta > levels] = (255, 0, 0)
    return out.astype(np.uint8)


@dataclass
class _Session:
    """Counts for the summary line, and the folder of the images of failed comparisons."""

    images: int = 0
    cells: int = 0
    volatile: list[str] = field(default_factory=list)
    seconds: float = 0.0
    folder: Path | None = None
    failures: list[str] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # those of xdist's workers

    def out_dir(self) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="nbval-png-"))
        return self.folder


_session_key = pytest.StashKey[_Session]()


def _cell_label(cell) -> tuple[str, str]:
    """("book/first_look.ipynb", "first_look") for an nbval cell item."""
    path = Path(str(cell.path))
    try:
        shown = path.relative_to(cell.config.rootpath).as_posix()
    except ValueError:
        shown = str(path)
    return shown, path.stem


def compare_cell_pngs(cell, fresh_outputs, stored_outputs) -> list[str]:
    """Compare the images of one cell; return the failure lines (empty if all match)."""
    state = cell.config.stash[_session_key]
    shown, stem = _cell_label(cell)
    for (notebook, piece), reason in VOLATILE_FIGURES.items():
        if shown == notebook and piece in cell.cell.source:
            state.volatile.append(f"{shown}, cell {cell.cell_num} ({reason})")
            return []
    stored = png_images(stored_outputs)
    fresh = png_images(fresh_outputs)
    if not stored and not fresh:
        return []
    state.cells += 1
    state.images += len(stored)
    prefix = f"{stem}-cell{cell.cell_num}"
    lines: list[str] = []

    def save(name: str, data: bytes | np.ndarray) -> None:
        target = state.out_dir() / f"{prefix}-{name}.png"
        if isinstance(data, np.ndarray):
            from PIL import Image

            Image.fromarray(data).save(target)
        else:
            target.write_bytes(data)

    def raw(image: EmbeddedPng) -> bytes:
        try:
            return base64.b64decode("".join(image.data.split()))
        except (binascii.Error, ValueError):
            return image.data.encode()

    if len(stored) != len(fresh):
        lines.append(
            f"  the stored outputs hold {len(stored)} PNG image(s), the fresh run "
            f"{len(fresh)}: stored {[s.where for s in stored]}, fresh {[f.where for f in fresh]}"
        )
        for image in stored:
            save(f"{image.tag}-stored", raw(image))
        for image in fresh:
            save(f"{image.tag}-fresh", raw(image))
    else:
        for old, new in zip(stored, fresh, strict=True):
            try:
                a, b = decode_png(old.data), decode_png(new.data)
            except Exception as exc:  # an image that does not decode is a failure too
                lines.append(f"  {old.where}: cannot decode the image ({exc})")
                continue
            problem = compare_pixels(a, b)
            if problem is None:
                continue
            lines.append(f"  {old.where}: {problem}")
            save(f"{old.tag}-stored", raw(old))
            save(f"{old.tag}-fresh", raw(new))
            if a.shape == b.shape:
                save(f"{old.tag}-diff", diff_image(a, b))
    if lines:
        header = f"PNG images differ from the stored ones in {shown}, cell {cell.cell_num}:"
        footer = f"  stored, fresh and diff images: {state.out_dir()}/{prefix}-*.png"
        state.failures.append(f"{shown}, cell {cell.cell_num}")
        return [header, *lines, footer]
    return []


def _install(config) -> None:
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to extend
        return
    original = IPyNbCell.compare_outputs
    if getattr(original, "_compares_png", False):
        return

    @functools.wraps(original)
    def compare_outputs(self, test, ref, skip_compare=None):
        text_ok = original(self, test, ref, skip_compare)
        state = self.config.stash[_session_key]
        start = time.perf_counter()
        # The cell's own stored outputs (not nbval's copy with merged streams), so that
        # output numbers are those of the .ipynb file; streams never hold images.
        lines = compare_cell_pngs(self, test, self.cell.outputs)
        state.seconds += time.perf_counter() - start
        if lines:
            self.comparison_traceback.extend(lines)
        return text_ok and not lines

    compare_outputs._compares_png = True
    IPyNbCell.compare_outputs = compare_outputs
    config.add_cleanup(lambda: setattr(IPyNbCell, "compare_outputs", original))


def pytest_configure(config):
    config.stash[_session_key] = _Session()
    _install(config)


def _active(config) -> bool:
    option = config.option
    return bool(getattr(option, "nbval", False) or getattr(option, "nbval_lax", False))


def pytest_report_header(config):
    if _active(config):
        return (
            f"nbval PNG comparison: at most {LEVELS} levels per channel "
            f"on at most {FRACTION:.1%} of the pixels (tests/nbval_png.py)"
        )
    return None


def pytest_sessionfinish(session):
    """On a pytest-xdist worker, hand this process's counts to the controlling process."""
    workeroutput = getattr(session.config, "workeroutput", None)
    state = session.config.stash.get(_session_key, None)
    if workeroutput is not None and state is not None:
        workeroutput["nbval_png"] = {
            "images": state.images,
            "cells": state.cells,
            "volatile": state.volatile,
            "seconds": state.seconds,
            "folder": str(state.folder) if state.folder else None,
            "failures": state.failures,
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """In the controlling process, add up the counts of each worker as it finishes."""
    counts = getattr(node, "workeroutput", {}).get("nbval_png")
    state = node.config.stash.get(_session_key, None)
    if not counts or state is None:
        return
    state.images += counts["images"]
    state.cells += counts["cells"]
    state.volatile += counts["volatile"]
    state.seconds += counts["seconds"]
    state.failures += counts["failures"]
    if counts["folder"]:
        state.folders.append(Path(counts["folder"]))


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(_session_key, None)
    if state is None or not (state.cells or state.volatile):
        return
    folders = [str(f) for f in ([state.folder] if state.folder else []) + state.folders]
    terminalreporter.write_line(
        f"nbval PNG comparison: {state.images} stored image(s) in {state.cells} cell(s), "
        f"{len(state.failures)} cell(s) differ, {state.seconds:.2f} s"
        + (f"; images of the differences in {', '.join(folders)}" if folders else "")
    )
    for cell in state.volatile:
        terminalreporter.write_line(f"  images not compared (VOLATILE_FIGURES): {cell}")
