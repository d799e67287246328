r"""Figures with controls that work both in a live kernel and in the static HTML book.

:func:`explorable` takes a drawing function ``draw(fig, **values)`` and a few
controls, each over a small discrete list of values, and returns **one** object
whose display carries two renderings in the same MIME bundle:

``application/vnd.jupyter.widget-view+json``
    In a live kernel (JupyterLab, Binder, Colab) the reader gets ipywidgets
    controls and a :class:`ipywidgets.Image`; moving a control replaces the
    image's PNG bytes with the frame drawn for those values.
``text/html``
    In the static book (no kernel) every combination of control values is drawn
    once in advance; the PNG frames are embedded as base64 behind plain HTML
    controls (``<input type="range">``, ``<select>``, checkbox) and a short
    inline script swaps the ``<img>``'s ``src``.  No external request, no
    dependency: it works offline.

The book's ``_config.yml`` ranks the widget view below ``text/html`` for the
HTML builder, so the book shows the precomputed version, while Jupyter ranks
the widget view first.

The number of frames is the product of the numbers of values of the controls
(:math:`\prod_c |V_c|`), so keep grids small.  Frames are drawn at their display size
(``figsize`` inches at ``dpi`` CSS pixels per inch, as every figure of the book, see
:mod:`mlcore.figures.style`) and rendered at twice as many pixels per inch, with a
palette of at most 64 colours: a 7 x 3 in frame of lines and contours is about 30 KB.
Every frame of one explorable has the same axes boxes (:func:`frame_layout`), so nothing
shifts when a control moves.

Example
-------
>>> def draw(fig, k, lr):                                     # doctest: +SKIP
...     ax = fig.add_subplot()
...     ...
>>> explorable(draw, {"k": slider([1, 2, 4]), "lr": dropdown([0.1, 0.2])})  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import numbers
import secrets
from typing import NamedTuple

from .style import DENSITY, DISPLAY_DPI

__all__ = [
    "Control",
    "Explorable",
    "checkbox",
    "draw_frame",
    "dropdown",
    "encode_png",
    "explorable",
    "frame_layout",
    "render_png",
    "slider",
]

#: Most colours in a frame's palette (lines, text and their anti-aliased edges).
FRAME_COLORS = 64

#: The line under a live explorable: what to do when its controls do nothing.
LIVE_HINT = (
    "Controls not responding? Run this cell (Shift+Enter): the frames live in the "
    "notebook's running kernel."
)

KINDS = ("slider", "dropdown", "checkbox")


class Control(NamedTuple):
    """One control over a discrete list of values.

    Attributes
    ----------
    kind : {"slider", "dropdown", "checkbox"}
        How the control is shown.
    values : tuple
        The values it can take, in order (``(False, True)`` for a checkbox).
    default : object
        The value shown first; one of ``values``.
    label : str or None
        Text next to the control; default the argument name.
    """

    kind: str
    values: tuple
    default: object = None
    label: str | None = None


def slider(values, default=None, label=None):
    """A slider over ``values`` (shown in the given order).

    Parameters
    ----------
    values : sequence
        At least one value; the slider steps through them one by one.
    default : object, optional
        Initial value, one of ``values``; default the first.
    label : str, optional
        Text next to the slider; default the argument name.

    Returns
    -------
    Control
    """
    return Control("slider", tuple(values), default, label)


def dropdown(values, default=None, label=None):
    """A drop-down menu over ``values``; see :func:`slider` for the parameters."""
    return Control("dropdown", tuple(values), default, label)


def checkbox(default=False, label=None):
    """A checkbox: the argument is ``False`` or ``True``.

    Parameters
    ----------
    default : bool, default False
        Initial state.
    label : str, optional
        Text next to the box; default the argument name.

    Returns
    -------
    Control
    """
    return Control("checkbox", (False, True), default, label)


def _check_controls(controls):
    if not isinstance(controls, dict) or not controls:
        raise ValueError(
            "controls must be a non-empty dict {argument name: slider(...)/dropdown(...)/"
            f"checkbox(...)}}; got {controls!r:.80}"
        )
    out = {}
    for name, c in controls.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"control names must be Python identifiers; got {name!r}")
        if isinstance(c, tuple) and not isinstance(c, Control) and len(c) in (2, 3, 4):
            c = Control(*c)  # ("slider", [1, 2, 3]) shorthand
        if not isinstance(c, Control):
            raise ValueError(
                f"control {name!r} must be made with slider(), dropdown() or checkbox(); "
                f"got {type(c).__name__}"
            )
        if c.kind not in KINDS:
            raise ValueError(f"control {name!r} has unknown type {c.kind!r}; use one of {KINDS}")
        values = tuple(c.values)
        if len(values) == 0:
            raise ValueError(f"control {name!r} needs at least one value; got an empty list")
        if c.kind == "checkbox" and values != (False, True):
            raise ValueError(f"checkbox {name!r} takes the values (False, True); got {values}")
        default = values[0] if c.default is None else c.default
        if not any(default is v or default == v for v in values):
            raise ValueError(
                f"default of control {name!r} must be one of its values {list(values)}; "
                f"got {default!r}"
            )
        if len(set(map(_label, values))) != len(values):
            raise ValueError(f"control {name!r} has repeated values: {list(values)}")
        out[name] = Control(c.kind, values, default, name if c.label is None else str(c.label))
    return out


def _label(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
        return f"{float(v):g}"
    return str(v)


def draw_frame(draw, values, *, figsize=(4.0, 3.0), dpi=DISPLAY_DPI * DENSITY, positions=None):
    """Draw one frame on a new figure and return the figure.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)``: adds axes to the :class:`matplotlib.figure.Figure`
        ``fig`` and draws on them.
    values : dict
        Keyword arguments for ``draw``.
    figsize : (float, float), default (4, 3)
        Figure size in inches (at display size).
    dpi : float, default 192
        Pixels per inch of the figure.
    positions : list of (float, float, float, float), optional
        Box ``(left, bottom, width, height)`` of each axes, in figure fractions, in the
        order of ``fig.axes`` (:func:`frame_layout`); default: constrained layout.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout=None if positions is not None else "constrained")
    draw(fig, **values)
    if positions is not None:
        if len(fig.axes) != len(positions):
            raise ValueError(
                f"draw made {len(fig.axes)} axes, but {len(positions)} positions were given"
            )
        for ax, box in zip(fig.axes, positions, strict=True):
            ax.set_position(box)
    return fig


def frame_layout(draw, combos, *, figsize=(4.0, 3.0), dpi=DISPLAY_DPI * DENSITY):
    """One box per axes that leaves room for the labels of every frame.

    Each frame is laid out on its own (constrained layout); for every axes the box kept
    is the intersection of its boxes over the frames, so the labels, titles and legends
    outside the axes of any frame fit, and every frame puts its axes in the same place.

    Parameters
    ----------
    draw : callable
        As for :func:`draw_frame`.
    combos : iterable of dict
        The values of every frame.
    figsize, dpi
        As for :func:`draw_frame`.

    Returns
    -------
    list of (float, float, float, float) or None
        ``(left, bottom, width, height)`` per axes, in the order of ``fig.axes``; ``None``
        if the frames do not all make the same number of axes (each frame then keeps
        its own layout).
    """
    boxes = None
    for values in combos:
        fig = draw_frame(draw, values, figsize=figsize, dpi=dpi)
        fig.get_layout_engine().execute(fig)
        frame = [ax.get_position(original=True).extents for ax in fig.axes]
        if boxes is None:
            boxes = frame
        elif len(frame) != len(boxes):
            return None
        else:
            boxes = [
                (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
                for a, b in zip(boxes, frame, strict=True)
            ]
    if not boxes:
        return None
    return [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes]


def render_png(
    draw,
    values,
    *,
    figsize=(4.0, 3.0),
    dpi=DISPLAY_DPI,
    density=DENSITY,
    positions=None,
    colors=FRAME_COLORS,
):
    """Draw one frame and return its PNG bytes, at ``density`` pixels per display pixel.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)``: adds axes to the :class:`matplotlib.figure.Figure`
        ``fig`` and draws on them.
    values : dict
        Keyword arguments for ``draw``.
    figsize : (float, float), default (4, 3)
        Display size in inches.
    dpi : float, default 96
        Display resolution, CSS pixels per inch: the frame is shown
        ``figsize * dpi`` pixels large.
    density : int, default 2
        Image pixels per display pixel: the PNG has ``figsize * dpi * density`` pixels.
    positions : list of (float, float, float, float), optional
        Axes boxes (:func:`frame_layout`); default: constrained layout.
    colors : int or None, default 64
        Most colours of the palette the frame is quantised to (no dithering); ``None``
        keeps every colour (RGB).

    Returns
    -------
    bytes
        PNG file contents (opaque, no metadata), so identical drawings give identical
        bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig = draw_frame(draw, values, figsize=figsize, dpi=dpi * density, positions=positions)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    return encode_png(image, colors)


def encode_png(image, colors=FRAME_COLORS):
    """PNG bytes of an image, in a palette of at most ``colors`` colours if it is opaque.

    Parameters
    ----------
    image : PIL.Image.Image
        RGB or RGBA.
    colors : int or None, default 64
        Most colours of the palette (no dithering; one k-means pass keeps greys grey, as
        every colour of the palette is the mean of the pixels it stands for); ``None``,
        or an image that is not opaque, keeps every colour.

    Returns
    -------
    bytes
        PNG file contents without metadata: identical images give identical bytes.
    """
    from PIL import Image

    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    if colors is not None and image.mode == "RGB":
        image = image.quantize(
            colors=int(colors), method=Image.Quantize.MAXCOVERAGE, kmeans=1,
            dither=Image.Dither.NONE,
        )  # fmt: skip
    buf = io.BytesIO()
    image.save(buf, format="png", optimize=True)
    return buf.getvalue()


class Explorable:
    """A figure with controls; displays as a live widget or as precomputed frames.

    Made by :func:`explorable`.  Attributes: ``controls`` (name to
    :class:`Control`), ``frames`` (PNG bytes per combination of values, in the
    order of ``itertools.product`` over the controls), ``size`` (display width and
    height in CSS pixels; the frames have ``density`` times as many pixels),
    ``positions`` (the axes boxes shared by every frame), ``html`` (the static
    rendering).  :attr:`widget` builds the ipywidgets view on first use;
    :meth:`update` is its callback.
    """

    def __init__(self, draw, controls, *, figsize, dpi, density, colors, alt, max_frames):
        self.draw = draw
        self.controls = _check_controls(controls)
        sizes = [len(c.values) for c in self.controls.values()]
        count = math.prod(sizes)
        if count > max_frames:
            raise ValueError(
                f"the controls give {count} frames (product of {sizes}), more than "
                f"max_frames={max_frames}; use fewer values"
            )
        # whole CSS pixels, so that every image pixel is 1/density of one
        self.size = tuple(int(round(float(v) * dpi)) for v in figsize)
        self.figsize = tuple(v / dpi for v in self.size)
        self.dpi, self.density, self.colors = dpi, density, colors
        self.alt = alt
        names = list(self.controls)
        combos = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(c.values for c in self.controls.values()))
        ]
        self.positions = frame_layout(draw, combos, figsize=self.figsize, dpi=dpi * density)
        self.frames = [
            render_png(
                draw,
                values,
                figsize=self.figsize,
                dpi=dpi,
                density=density,
                positions=self.positions,
                colors=colors,
            )  # fmt: skip
            for values in combos
        ]
        self.id = f"mlcore-{secrets.token_hex(6)}"
        self.html = self._html()
        self._widget = None
        self._inputs = {}
        self._image = None

    # ------------------------------------------------------------------ static HTML
    def _frame_index(self, values):
        """Position in :attr:`frames` of the combination ``values`` (name to value)."""
        i = 0
        for name, c in self.controls.items():
            i = i * len(c.values) + _index(c.values, values[name])
        return i

    def _default_index(self):
        return self._frame_index({name: c.default for name, c in self.controls.items()})

    def _html(self):
        uid = self.id
        rows = []
        for k, c in enumerate(self.controls.values()):
            cid = f"{uid}-{k}"
            label = html.escape(c.label)
            pos = _index(c.values, c.default)
            if c.kind == "slider":
                valuetext = html.escape(f"{c.label}: {_label(c.default)}")
                rows.append(
                    f'<label for="{cid}">{label}</label>'
                    f'<input type="range" id="{cid}" data-mlcore-control="{k}" min="0" '
                    f'max="{len(c.values) - 1}" step="1" value="{pos}" '
                    f'aria-valuetext="{valuetext}">'
                    f'<output for="{cid}">{html.escape(_label(c.default))}</output>'
                )
            elif c.kind == "dropdown":
                options = "".join(
                    f'<option value="{i}"{" selected" if i == pos else ""}>'
                    f"{html.escape(_label(v))}</option>"
                    for i, v in enumerate(c.values)
                )
                rows.append(
                    f'<label for="{cid}">{label}</label>'
                    f'<select id="{cid}" data-mlcore-control="{k}">{options}</select><span></span>'
                )
            else:
                checked = " checked" if c.default else ""
                rows.append(
                    f'<label for="{cid}">{label}</label>'
                    f'<input type="checkbox" id="{cid}" data-mlcore-control="{k}"{checked}>'
                    "<span></span>"
                )
        labels = [[_label(v) for v in c.values] for c in self.controls.values()]
        frames = [base64.b64encode(f).decode("ascii") for f in self.frames]
        width, height = self.size
        script = (
            "(function () {\n"
            f'  var root = document.getElementById("{uid}");\n'
            "  if (!root) return;\n"
            f"  var frames = {json.dumps(frames)};\n"
            f"  var labels = {json.dumps(labels)};\n"
            f"  var names = {json.dumps([c.label for c in self.controls.values()])};\n"
            '  var img = root.querySelector("img");\n'
            '  var inputs = Array.prototype.slice.call(root.querySelectorAll("[data-mlcore-control]"));\n'  # noqa: E501
            "  function pos(el) {\n"
            '    return el.type === "checkbox" ? (el.checked ? 1 : 0) : parseInt(el.value, 10);\n'
            "  }\n"
            "  function update() {\n"
            "    var i = 0;\n"
            "    inputs.forEach(function (el, c) {\n"
            "      i = i * labels[c].length + pos(el);\n"
            "      var out = el.nextElementSibling;\n"
            '      if (out && out.tagName === "OUTPUT") out.textContent = labels[c][pos(el)];\n'
            '      if (el.type === "range")\n'
            '        el.setAttribute("aria-valuetext", names[c] + ": " + labels[c][pos(el)]);\n'
            "    });\n"
            '    img.src = "data:image/png;base64," + frames[i];\n'
            "  }\n"
            "  inputs.forEach(function (el) {\n"
            '    el.addEventListener("input", update);\n'
            '    el.addEventListener("change", update);\n'
            "  });\n"
            "})();"
        )
        style = (
            "display:grid;grid-template-columns:max-content max-content max-content;"
            "gap:0.25em 0.6em;align-items:center;margin-bottom:0.4em"
        )
        return (
            f'<div class="mlcore-explorable" id="{uid}">\n'
            f'<div class="mlcore-controls" style="{style}">{"".join(rows)}</div>\n'
            f'<img src="data:image/png;base64,{frames[self._default_index()]}" '
            f'alt="{html.escape(self.alt)}" width="{width}" height="{height}" '
            'style="max-width:100%;height:auto">\n'
            f"<script>\n{script}\n</script>\n"
            "</div>"
        )

    # ------------------------------------------------------------------ live widget
    @property
    def widget(self):
        """The live ipywidgets view: controls, the image at its display size, a hint.

        The controls show their whole labels; the image is ``size`` CSS pixels large
        (smaller only if the output area is narrower); the line under it says what to do
        when the controls do nothing (no running kernel: run the cell).
        """
        if self._widget is None:
            import ipywidgets as widgets

            style = {"description_width": "initial"}
            for name, c in self.controls.items():
                if c.kind == "slider":
                    w = widgets.SelectionSlider(
                        options=[(_label(v), v) for v in c.values],
                        value=c.default,
                        description=c.label,
                        continuous_update=False,
                        style=style,
                    )
                elif c.kind == "dropdown":
                    w = widgets.Dropdown(
                        options=[(_label(v), v) for v in c.values],
                        value=c.default,
                        description=c.label,
                        style=style,
                        layout=widgets.Layout(width="max-content"),
                    )
                else:
                    w = widgets.Checkbox(
                        value=bool(c.default), description=c.label, indent=False, style=style
                    )
                w.observe(self.update, names="value")
                self._inputs[name] = w
            width, height = self.size
            self._image = widgets.Image(
                value=self.frames[self._default_index()],
                format="png",
                width=str(width),
                height=str(height),
                layout=widgets.Layout(
                    width=f"{width}px", max_width="100%", height="auto", align_self="flex-start"
                ),
            )
            controls = widgets.HBox(
                list(self._inputs.values()),
                layout=widgets.Layout(flex_flow="row wrap", grid_gap="0.2em 1.2em"),
            )
            hint = widgets.HTML(f"<small>{html.escape(LIVE_HINT)}</small>")
            self._widget = widgets.VBox(
                [controls, self._image, hint], layout=widgets.Layout(align_items="flex-start")
            )
        return self._widget

    @property
    def inputs(self):
        """The live control widgets, by argument name (builds the widget if needed)."""
        self.widget  # noqa: B018
        return dict(self._inputs)

    @property
    def image(self):
        """The live :class:`ipywidgets.Image` (builds the widget if needed)."""
        self.widget  # noqa: B018
        return self._image

    def values(self):
        """Current values of the live controls, by argument name."""
        return {name: w.value for name, w in self.inputs.items()}

    def update(self, change=None):
        """Show the frame of the current control values (the widgets' callback).

        Every combination was drawn once when the explorable was made (for the
        static version), so the live view shows that drawing instead of drawing it
        again.
        """
        self.image.value = self.frames[self._frame_index(self.values())]

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, include=None, exclude=None):
        names = ", ".join(self.controls)
        bundle = {
            "text/plain": f"<explorable figure: {names}; {len(self.frames)} frames>",
            "text/html": self.html,
        }
        try:
            w = self.widget
        except ImportError:  # no ipywidgets: the static version alone
            return bundle
        bundle["application/vnd.jupyter.widget-view+json"] = {
            "version_major": 2,
            "version_minor": 0,
            "model_id": w.model_id,
        }
        return bundle


def _index(values, v):
    for i, x in enumerate(values):
        if v is x or v == x:
            return i
    raise ValueError(f"{v!r} is not one of {list(values)}")


def explorable(
    draw,
    controls,
    *,
    figsize=(4.0, 3.0),
    dpi=DISPLAY_DPI,
    density=DENSITY,
    colors=FRAME_COLORS,
    alt="",
    max_frames=64,
):
    """A figure driven by controls, live in a kernel and precomputed in the book.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)`` draws one frame on an empty
        :class:`matplotlib.figure.Figure` (create axes with ``fig.add_subplot``
        or ``fig.subplots``); ``values`` has one entry per control.
    controls : dict
        Argument name to :func:`slider`, :func:`dropdown` or :func:`checkbox`.
    figsize : (float, float), default (4, 3)
        Display size in inches (at most 7.1 in wide for the book's text column, see
        :mod:`mlcore.figures.style`).
    dpi : float, default 96
        Display resolution, CSS pixels per inch: the frame is shown ``figsize * dpi``
        pixels large.
    density : int, default 2
        Image pixels per display pixel (2: sharp on high-density screens).
    colors : int or None, default 64
        Most colours of each frame's palette (smaller files); ``None`` keeps them all.
    alt : str, default ""
        Text alternative of the image.
    max_frames : int, default 64
        Refuse grids with more combinations than this (page size).

    Returns
    -------
    Explorable
        Display it (last expression of a cell): the MIME bundle carries the live
        widget view and the static ``text/html`` version.

    Raises
    ------
    ValueError
        Empty controls or values, unknown control type, a default that is not one
        of the values, or too many frames.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a function draw(fig, **values); got {type(draw).__name__}")
    return Explorable(draw, controls, figsize=figsize, dpi=dpi, density=density, colors=colors,
                      alt=str(alt), max_frames=max_frames)  # fmt: skip
