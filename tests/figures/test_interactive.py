"""The live/static figure mechanism of mlcore.figures.interactive."""

from __future__ import annotations

import base64
import io
import itertools
import re

import numpy as np
import pytest

from mlcore.figures.interactive import (
    LIVE_HINT,
    Control,
    checkbox,
    dropdown,
    explorable,
    render_png,
    slider,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def draw(fig, a, colour, shift):
    ax = fig.add_subplot()
    x = np.linspace(0.0, 1.0, 30)
    ax.plot(x, a * x**2 + (0.5 if shift else 0.0), color=colour)
    ax.set_ylim(-0.2, 3.5)


CONTROLS = {
    "a": slider([0.5, 1.0, 3.0], default=1.0),
    "colour": dropdown(["C0", "C3"]),
    "shift": checkbox(),
}


@pytest.fixture(scope="module")
def exp():
    return explorable(draw, CONTROLS, figsize=(2.0, 1.5), dpi=60)


def test_one_frame_per_combination_in_the_html(exp):
    assert len(exp.frames) == 3 * 2 * 2
    frames = re.findall(r'"([A-Za-z0-9+/]{200,}={0,2})"', exp.html)
    assert len(frames) == 12
    assert len(set(frames)) == 12, "every combination draws a different picture"
    for combo, b64 in zip(itertools.product(*(c.values for c in CONTROLS.values())), frames,
                          strict=True):  # fmt: skip
        png = base64.b64decode(b64)
        assert png.startswith(b"\x89PNG")
        values = dict(zip(CONTROLS, combo, strict=True))
        assert png == render_png(draw, values, figsize=(2.0, 1.5), dpi=60,
                                 positions=exp.positions)  # fmt: skip


def test_html_is_self_contained_with_plain_controls(exp):
    html = exp.html
    assert html.startswith(f'<div class="mlcore-explorable" id="{exp.id}">')
    assert re.fullmatch(r"mlcore-[0-9a-f]{12}", exp.id)
    assert html.count('type="range"') == 1
    assert html.count("<select") == 1
    assert html.count('type="checkbox"') == 1
    assert html.count("<option") == 2
    assert "<script>" in html and 'src="http' not in html and "https://" not in html
    # the image shown first is the default combination: a=1.0 (index 1), C0, off
    first = re.search(r'<img src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(first) == exp.frames[(1 * 2 + 0) * 2 + 0]


def test_ids_are_unique():
    e1 = explorable(draw_one, {"a": slider([1.0, 2.0])}, figsize=(1, 1), dpi=20)
    e2 = explorable(draw_one, {"a": slider([1.0, 2.0])}, figsize=(1, 1), dpi=20)
    assert e1.id != e2.id


def draw_one(fig, a):
    draw(fig, a, "C0", False)


def test_png_frames_are_reproducible():
    values = {"a": 1.0, "colour": "C0", "shift": True}
    assert render_png(draw, values) == render_png(draw, values)
    assert b"Software" not in render_png(draw, values)


def png_chunks(png):
    """The chunk types of a PNG file, in order."""
    out, i = [], 8
    while i < len(png):
        n = int.from_bytes(png[i : i + 4], "big")
        out.append(png[i + 4 : i + 8].decode("ascii"))
        i += 12 + n
    return out


def test_frames_are_twice_their_display_size_in_few_colours(exp):
    """Shown at figsize * dpi CSS pixels; drawn with twice as many pixels; a small palette."""
    from PIL import Image

    assert exp.size == (120, 90)  # 2 x 1.5 in at 60 px per inch
    for png in exp.frames:
        image = Image.open(io.BytesIO(png))
        assert image.size == (240, 180)
        assert image.mode == "P" and len(image.getcolors()) <= 64
        assert set(png_chunks(png)) <= {"IHDR", "PLTE", "IDAT", "IEND"}, "no metadata"
    img = re.search(r"<img [^>]*>", exp.html).group(0)
    assert 'width="120" height="90"' in img and "max-width:100%;height:auto" in img
    full = render_png(draw, {"a": 1.0, "colour": "C0", "shift": True}, colors=None)
    assert Image.open(io.BytesIO(full)).mode == "RGB"
    assert Image.open(io.BytesIO(full)).size == (4 * 96 * 2, 3 * 96 * 2)  # the defaults
    # a display size in whole CSS pixels: figsize is rounded to them
    e = explorable(draw_one, {"a": slider([1.0])}, figsize=(2.01, 1.0), dpi=100)
    assert e.size == (201, 100) and e.figsize == (2.01, 1.0)


def test_the_live_view_shows_the_image_at_its_size_full_labels_and_a_hint(exp):
    import ipywidgets as widgets

    controls, image, hint = exp.widget.children
    assert image is exp.image
    assert (image.width, image.height) == ("120", "90")
    assert image.layout.width == "120px" and image.layout.max_width == "100%"
    assert image.layout.height == "auto", "scaled down keeps its aspect, never stretched"
    assert exp.widget.layout.align_items == "flex-start"
    for w in controls.children:  # the whole label, not cut to the default width
        assert w.style.description_width == "initial"
    assert isinstance(hint, widgets.HTML) and "run this cell" in hint.value.lower()
    assert LIVE_HINT.split(":")[0] in hint.value


def test_bundle_carries_widget_view_and_html(exp):
    bundle = exp._repr_mimebundle_()
    assert bundle["text/html"] == exp.html
    view = bundle[WIDGET_VIEW]
    assert view["model_id"] == exp.widget.model_id
    assert view["version_major"] == 2
    assert "12 frames" in bundle["text/plain"]


def test_live_callback_over_the_extremes_of_every_control(exp):
    inputs = exp.inputs
    assert set(inputs) == set(CONTROLS)
    for name, control in CONTROLS.items():
        for value in (control.values[-1], control.values[0]):
            before = bytes(exp.image.value)
            if inputs[name].value == value:
                continue
            inputs[name].value = value  # fires the observer -> update()
            after = bytes(exp.image.value)
            assert after != before, f"moving {name} to {value!r} did not redraw"
            assert after.startswith(b"\x89PNG")
            expected = render_png(draw, exp.values(), figsize=(2.0, 1.5), dpi=60,
                                  positions=exp.positions)  # fmt: skip
            assert after == expected


def test_live_image_starts_at_the_default_frame():
    e = explorable(draw_one, {"a": slider([1.0, 2.0, 3.0], default=3.0)}, figsize=(1, 1), dpi=30)
    assert bytes(e.image.value) == e.frames[2]
    assert e.inputs["a"].value == 3.0


def test_tuple_shorthand_is_accepted():
    e = explorable(draw_one, {"a": ("dropdown", [1.0, 2.0])}, figsize=(1, 1), dpi=20)
    assert e.controls["a"] == Control("dropdown", (1.0, 2.0), 1.0, "a")


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({}, "non-empty dict"),
        ({"a": slider([])}, "at least one value"),
        ({"a": ("knob", [1, 2])}, "unknown type 'knob'"),
        ({"a": slider([1.0, 2.0], default=5.0)}, "must be one of its values"),
        ({"a": dropdown(["x", "y"], default="z")}, "must be one of its values"),
        ({"a": Control("checkbox", (0, 1, 2))}, "takes the values"),
        ({"a": [1, 2, 3]}, "slider\\(\\), dropdown\\(\\) or checkbox\\(\\)"),
        ({"not a name": slider([1])}, "identifiers"),
        ({"a": slider([1.0, 1.0])}, "repeated"),
    ],
)
def test_bad_controls_raise_a_clear_error(controls, message):
    with pytest.raises(ValueError, match=message):
        explorable(draw_one, controls)


def test_too_many_frames_and_bad_draw_raise():
    with pytest.raises(ValueError, match="max_frames"):
        explorable(draw_one, {"a": slider(list(range(10)))}, max_frames=5)
    with pytest.raises(ValueError, match="draw must be a function"):
        explorable("not callable", {"a": slider([1])})
