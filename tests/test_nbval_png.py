"""The PNG comparison of nbval runs (``tests/nbval_png.py``).

The functions it is made of are checked on small arrays; the whole plugin on a small
notebook, executed once to store its outputs, whose stored images are then altered in
known ways (only images: nbval's text comparison alone would pass every cell) before
it runs under ``pytest --nbval`` with the plugin.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import nbval_png
import numpy as np
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from nbval_png import FRACTION, LEVELS, compare_pixels, decode_png, png_images
from PIL import Image

from book_support import REPO, toc_notebooks

# ---------------------------------------------------------------------------- pieces


def white(h: int = 40, w: int = 50) -> np.ndarray:
    return np.full((h, w, 4), 255, dtype=np.uint8)


def encode(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def test_identical_images_match():
    assert compare_pixels(white(), white()) is None


def test_differences_within_the_tolerance_match():
    stored, fresh = white(100, 100), white(100, 100)
    allowed = int(FRACTION * stored.shape[0] * stored.shape[1])  # 10 of 10,000 pixels
    assert allowed >= 1
    fresh.reshape(-1, 4)[:allowed, :3] -= LEVELS
    assert compare_pixels(stored, fresh) is None


def test_one_pixel_beyond_the_levels_fails():
    stored, fresh = white(), white()
    fresh[3, 4, 1] = 255 - LEVELS - 1
    message = compare_pixels(stored, fresh)
    assert message.startswith("1 of 2,000 pixels differ (0.050%)")
    assert f"1 of them by more than {LEVELS} levels" in message
    assert f"max difference {LEVELS + 1} levels" in message


def test_small_differences_on_too_many_pixels_fail():
    stored, fresh = white(100, 100), white(100, 100)
    too_many = int(FRACTION * 100 * 100) + 1
    fresh.reshape(-1, 4)[:too_many, 2] -= 1
    message = compare_pixels(stored, fresh)
    assert message.startswith(f"{too_many} of 10,000 pixels differ")
    assert f"0 of them by more than {LEVELS} levels; max difference 1 levels" in message


def test_a_different_shape_fails():
    assert compare_pixels(white(40, 50), white(40, 52)) == (
        "shape differs: stored 50x40 pixels, fresh 52x40 pixels"
    )


def test_decode_gives_rgba():
    image = np.zeros((3, 5, 3), dtype=np.uint8)
    image[1, 2] = (10, 20, 30)
    decoded = decode_png(encode(image))
    assert decoded.shape == (3, 5, 4)
    assert tuple(decoded[1, 2]) == (10, 20, 30, 255)


def test_png_images_finds_outputs_data_uris_and_frame_lists():
    a, b, c = encode(white()), encode(white(10, 10)), encode(white(20, 10))
    jpeg_uri = "data:image/jpeg;base64," + "/9j/" + "A" * 300  # not a PNG
    html = (
        f'<img src="data:image/png;base64,{a}"><img src="{jpeg_uri}">'
        f"<script>var frames = {json.dumps([b, c])};</script>"
    )
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "x = 1\n"},
        {"output_type": "display_data", "data": {"image/png": b, "text/plain": "<Figure>"}},
        {"output_type": "display_data", "data": {"text/html": html}},
        {"output_type": "execute_result", "data": {"text/plain": a}},  # text is not searched
    ]
    found = png_images(outputs)
    assert [(f.where, f.tag, f.data) for f in found] == [
        ("output 1 (image/png)", "out1", b),
        ("output 2 (text/html, PNG 1 of 3)", "out2-html1", a),
        ("output 2 (text/html, PNG 2 of 3)", "out2-html2", b),
        ("output 2 (text/html, PNG 3 of 3)", "out2-html3", c),
    ]


def test_the_plugin_is_loaded_for_this_repository(pytestconfig):
    from nbval.plugin import IPyNbCell

    assert pytestconfig.pluginmanager.has_plugin("nbval_png")
    assert getattr(IPyNbCell.compare_outputs, "_compares_png", False)


def test_every_volatile_figure_names_one_cell_of_the_book():
    notebooks = {nb.relative_to(REPO).as_posix(): nb for nb in toc_notebooks()}
    for (notebook, piece), reason in nbval_png.VOLATILE_FIGURES.items():
        assert notebook in notebooks, f"{notebook} is not a notebook of _toc.yml"
        cells = nbformat.read(notebooks[notebook], as_version=4).cells
        hits = [c for c in cells if c.cell_type == "code" and piece in c.source]
        assert len(hits) == 1, f"{notebook}: {piece!r} picks out {len(hits)} code cells"
        assert reason


# ------------------------------------------------------------- a notebook under nbval

SETUP = """\
%config InlineBackend.print_figure_kwargs = {"bbox_inches": None}
import base64
import io
import json

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display


def figure(k):
    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
    x = np.linspace(0, 1, 50)
    ax.plot(x, x**k)
    ax.set_title(f"x to the power {k}")
    return fig


def frame(k):
    fig = figure(k)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
"""

HTML_CELL = """\
frames = [frame(10), frame(11), frame(12)]
display(HTML(f'<img src="data:image/png;base64,{frames[0]}">'
             f"<script>var frames = {json.dumps(frames)};</script>"))
"""

# Cell number under nbval -> (source, how its stored images are altered, fails?).
CELLS = {
    0: (SETUP, None, False),
    1: ("figure(1)\nplt.show()", None, False),
    2: ("figure(2)\nplt.show()", "five pixels", True),
    3: ("figure(3)\nplt.show()", "within the tolerance", False),
    4: ("figure(4)\nplt.show()", "another figure", True),
    5: ("figure(5)\nplt.show()", "cropped", True),
    6: ("figure(6)\nplt.show()", "another figure, cell tagged nbval-ignore-output", False),
    7: ("figure(7)\nplt.show()", "image removed", True),
    8: (HTML_CELL, "one frame of the HTML", True),
    9: ("figure(9)\nplt.show()", "one level on 1 % of the pixels", True),
}


def _png_of(cell) -> dict:
    """The data of the cell's one output holding an image/png."""
    (data,) = [o["data"] for o in cell.outputs if "image/png" in o.get("data", {})]
    return data


def _altered(notebook) -> None:
    """Alter the stored images of the executed notebook as CELLS says."""
    cells = notebook.cells
    first = _png_of(cells[1])["image/png"]

    def edit(cell, change):
        data = _png_of(cell)
        image = decode_png(data["image/png"]).copy()
        data["image/png"] = encode(change(image))

    def five_pixels(a):
        a[5, 5:10] = (255, 0, 0, 255)  # on the white margin
        return a

    def within(a):
        k = int(FRACTION * a.shape[0] * a.shape[1])
        a.reshape(-1, 4)[:k, 0] -= LEVELS  # top rows: white margin
        return a

    def spread(a):
        k = a.shape[0] * a.shape[1] // 100
        a.reshape(-1, 4)[:k, 1] -= 1
        return a

    edit(cells[2], five_pixels)
    edit(cells[3], within)
    _png_of(cells[4])["image/png"] = first
    edit(cells[5], lambda a: a[:, :-10])
    _png_of(cells[6])["image/png"] = first
    cells[6].metadata["tags"] = ["nbval-ignore-output"]
    del _png_of(cells[7])["image/png"]
    (html_out,) = [o for o in cells[8].outputs if "text/html" in o.get("data", {})]
    html = html_out["data"]["text/html"]
    frames = png_images([html_out])
    assert len(frames) == 4  # the <img> and the list of three
    second = frames[2].data
    altered = decode_png(second).copy()
    altered[5, 5] = (0, 0, 0, 255)
    html_out["data"]["text/html"] = html.replace(second, encode(altered))
    edit(cells[9], spread)


@pytest.fixture(scope="module")
def altered_notebook(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nbval_png")
    notebook = new_notebook(cells=[new_code_cell(CELLS[i][0]) for i in sorted(CELLS)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    shapes = {decode_png(_png_of(notebook.cells[i])["image/png"]).shape for i in (1, 2, 4)}
    assert len(shapes) == 1, f"the figures should share one size: {shapes}"
    _altered(notebook)
    nbformat.write(notebook, folder / "figures.ipynb")
    (folder / "pytest.ini").write_text("[pytest]\n")  # this folder is the rootdir
    return folder


def run_nbval(folder: Path) -> dict[int, str | None]:
    """``pytest --nbval -p nbval_png`` on the folder's notebook, as ``pyproject.toml``
    runs the book: {cell number: failure text, or None if the cell passed}."""
    report = folder / "report.xml"
    (folder / "tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "tests"), env.get("PYTHONPATH")]))
    env["TMPDIR"] = str(folder / "tmp")  # where the plugin writes the images of failures
    cmd = [sys.executable, "-m", "pytest", "figures.ipynb", "--nbval", "--nbval-current-env"]
    cmd += [f"--nbval-sanitize-with={REPO / 'tests' / 'nbval_sanitize.cfg'}"]
    cmd += ["-p", "no:cacheprovider", "--color=no", f"--junitxml={report}", "-p", "nbval_png"]
    result = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert report.exists(), result.stdout + result.stderr
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        number = int(case.get("name").removeprefix("Cell "))
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        outcomes[number] = None if problem is None else (problem.text or "")
    assert sorted(outcomes) == sorted(CELLS), result.stdout + result.stderr
    return outcomes


def test_the_plugin_fails_exactly_the_altered_images(altered_notebook):
    outcomes = run_nbval(altered_notebook)
    failed = sorted(n for n, text in outcomes.items() if text is not None)
    assert failed == sorted(n for n, (_, _, fails) in CELLS.items() if fails)

    for n in failed:
        # Nothing before the images' report: nbval's own text comparison passed, so
        # without the plugin these cells would pass.
        header = f"Traceback:\nPNG images differ from the stored ones in figures.ipynb, cell {n}:"
        assert header in outcomes[n], outcomes[n]
    assert "output 0 (image/png): 5 of " in outcomes[2]
    assert f"5 of them by more than {LEVELS} levels; max difference 255 levels" in outcomes[2]
    assert "max difference" in outcomes[4]
    assert re.search(r"shape differs: stored (\d+)x(\d+) pixels, fresh \d+x\2 pixels", outcomes[5])
    assert "the stored outputs hold 0 PNG image(s), the fresh run 1" in outcomes[7]
    assert "output 0 (text/html, PNG 3 of 4): 1 of " in outcomes[8]
    assert "max difference 255 levels" in outcomes[8]
    assert f"0 of them by more than {LEVELS} levels; max difference 1 levels" in outcomes[9]

    folder = re.search(r"stored, fresh and diff images: (\S+)/figures-cell2-\*\.png", outcomes[2])
    folder = Path(folder.group(1))
    assert folder.is_relative_to(altered_notebook / "tmp")
    written = sorted(p.name for p in folder.iterdir())
    assert {
        "figures-cell2-out0-stored.png",
        "figures-cell2-out0-fresh.png",
        "figures-cell2-out0-diff.png",
        "figures-cell5-out0-stored.png",
        "figures-cell5-out0-fresh.png",
        "figures-cell8-out0-html3-diff.png",
    } <= set(written)
    assert "figures-cell5-out0-diff.png" not in written  # no diff of different shapes
    diff = np.asarray(Image.open(folder / "figures-cell2-out0-diff.png").convert("RGB"))
    red = np.all(diff == (255, 0, 0), axis=-1)
    assert np.argwhere(red).tolist() == [[5, c] for c in range(5, 10)]
