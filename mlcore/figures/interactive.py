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
(:math:`\prod_c |V_c|`); a 320x240 frame is about 12 KB, so keep grids small.

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

__all__ = ["Control", "Explorable", "checkbox", "dropdown", "explorable", "render_png", "slider"]

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


def render_png(draw, values, *, figsize=(4.0, 3.0), dpi=80):
    """Draw one frame on a new figure and return its PNG bytes.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)``: adds axes to the :class:`matplotlib.figure.Figure`
        ``fig`` and draws on them.
    values : dict
        Keyword arguments for ``draw``.
    figsize : (float, float), default (4, 3)
        Figure size in inches.
    dpi : int, default 80
        Resolution: ``figsize * dpi`` pixels (320x240 by default).

    Returns
    -------
    bytes
        PNG file contents, without a "Software" tag, so identical drawings give
        identical bytes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    draw(fig, **values)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


class Explorable:
    """A figure with controls; displays as a live widget or as precomputed frames.

    Made by :func:`explorable`.  Attributes: ``controls`` (name to
    :class:`Control`), ``frames`` (PNG bytes per combination of values, in the
    order of ``itertools.product`` over the controls), ``html`` (the static
    rendering).  :attr:`widget` builds the ipywidgets view on first use;
    :meth:`update` is its callback.
    """

    def __init__(self, draw, controls, *, figsize, dpi, alt, max_frames):
        self.draw = draw
        self.controls = _check_controls(controls)
        sizes = [len(c.values) for c in self.controls.values()]
        count = math.prod(sizes)
        if count > max_frames:
            raise ValueError(
                f"the controls give {count} frames (product of {sizes}), more than "
                f"max_frames={max_frames}; use fewer values"
            )
        self.figsize, self.dpi = figsize, dpi
        self.alt = alt
        names = list(self.controls)
        self.frames = [
            render_png(draw, dict(zip(names, combo, strict=True)), figsize=figsize, dpi=dpi)
            for combo in itertools.product(*(c.values for c in self.controls.values()))
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
        width = int(round(self.figsize[0] * self.dpi))
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
            f'alt="{html.escape(self.alt)}" style="max-width:100%;width:{width}px">\n'
            f"<script>\n{script}\n</script>\n"
            "</div>"
        )

    # ------------------------------------------------------------------ live widget
    @property
    def widget(self):
        """The live ipywidgets view (controls above an :class:`ipywidgets.Image`)."""
        if self._widget is None:
            import ipywidgets as widgets

            for name, c in self.controls.items():
                if c.kind == "slider":
                    w = widgets.SelectionSlider(
                        options=[(_label(v), v) for v in c.values],
                        value=c.default,
                        description=c.label,
                        continuous_update=False,
                    )
                elif c.kind == "dropdown":
                    w = widgets.Dropdown(
                        options=[(_label(v), v) for v in c.values],
                        value=c.default,
                        description=c.label,
                    )
                else:
                    w = widgets.Checkbox(value=bool(c.default), description=c.label)
                w.observe(self.update, names="value")
                self._inputs[name] = w
            self._image = widgets.Image(value=self.frames[self._default_index()], format="png")
            self._widget = widgets.VBox([widgets.HBox(list(self._inputs.values())), self._image])
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


def explorable(draw, controls, *, figsize=(4.0, 3.0), dpi=80, alt="", max_frames=64):
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
        Frame size in inches.
    dpi : int, default 80
        Frame resolution (``figsize * dpi`` pixels).
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
    return Explorable(draw, controls, figsize=figsize, dpi=dpi, alt=str(alt), max_frames=max_frames)
