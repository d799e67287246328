r"""The one figure style of the book: sizes, fonts, colours, line styles, pixel density.

**Display size.** The HTML book's text column is 688 CSS pixels wide and CSS counts 96
pixels per inch, so a figure of ``w`` inches is shown ``96 w`` pixels wide and keeps the
size of its text only if ``w`` is at most :data:`MAX_WIDTH` (7.1 in); a wider figure is
scaled down, text included.  Every figure of the book is therefore *designed at its
display size*: at most 7.1 in wide, no text smaller than :data:`MIN_FONT` (9 pt) once
shown.

**Pixel density.** Figures are rendered at :data:`DENSITY` (2) image pixels per CSS
pixel, 192 dpi, and the page is told their display size, so they stay sharp on
high-density screens.  :func:`use` arranges that for inline figures in a notebook
(``figure.dpi`` 96 and IPython's "retina" PNG format, which stores the display size in
the output's metadata); :func:`mlcore.figures.interactive.render_png` does the same for
the frames of the explorables.

**Colour.** The Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies; the cycle pairs every colour with a line style, and the figures give every
series that colour tells apart a marker or a line style of its own too, and a label, so
that no meaning rests on colour alone.  Fields use :data:`SEQUENTIAL` (viridis), signed
fields :data:`DIVERGING` (red-blue, symmetric about 0).

**Methods.** :data:`METHODS` fixes how each way of using the per-example gradients is
drawn, in every chapter: gradient descent, minibatch SGD, one-example SGD, averaging the
weights.

Importing :mod:`mlcore.figures` calls :func:`use`; :func:`problems` lists what breaks the
rules in a drawn figure (the tests call it for every figure of the book).
"""

from __future__ import annotations

__all__ = [
    "BLACK",
    "BLUE",
    "DENSITY",
    "DISPLAY_DPI",
    "DIVERGING",
    "GREEN",
    "GREY",
    "INLINE_PAD",
    "LIGHT_GREY",
    "LINESTYLES",
    "MARKERS",
    "MAX_WIDTH",
    "METHODS",
    "MIN_FONT",
    "OKABE_ITO",
    "ORANGE",
    "PURPLE",
    "RC",
    "SEQUENTIAL",
    "SKY",
    "VERMILLION",
    "YELLOW",
    "inline_png",
    "problems",
    "series",
    "use",
]

#: CSS pixels per inch: a figure ``w`` inches wide is shown ``DISPLAY_DPI * w`` px wide.
DISPLAY_DPI = 96
#: Image pixels per CSS pixel (192 dpi images for 96 dpi display).
DENSITY = 2
#: Widest figure, in inches, that the 688 px text column shows at its own size.
MAX_WIDTH = 7.1
#: Smallest font size, in points at display size.
MIN_FONT = 9.0
#: Margin around an inline figure, in inches.
INLINE_PAD = 0.03

# The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design").
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"  # "reddish purple"
ORANGE = "#E69F00"
SKY = "#56B4E9"
YELLOW = "#F0E442"  # too light for lines on white; fills only
BLACK = "#000000"
OKABE_ITO = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, YELLOW, BLACK)

#: Context: reference lines, data in the background.
GREY = "0.45"
#: Contour lines and other faint context.
LIGHT_GREY = "0.72"

#: Line styles and markers that go with the colours of the cycle, in order.
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)), (0, (1, 2.5)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_CYCLE_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)

#: Colour maps: values (sequential) and signed values (diverging, centre 0).
SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"

#: How each way of using the per-example gradients is drawn, in every chapter.
METHODS = {
    "gd": {"color": BLUE, "linestyle": "-", "marker": "o"},
    "minibatch": {"color": ORANGE, "linestyle": "--", "marker": "s"},
    "sgd": {"color": VERMILLION, "linestyle": "-.", "marker": "^"},
    "average": {"color": PURPLE, "linestyle": ":", "marker": "D"},
}


def series(i):
    """Colour, line style and marker of the ``i``-th series (``i`` from 0), as keywords."""
    n = len(_CYCLE_COLOURS)
    i %= n
    return {"color": _CYCLE_COLOURS[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i]}


def _rc():
    from cycler import cycler

    return {
        "figure.dpi": DISPLAY_DPI,
        "figure.figsize": (6.0, 3.6),
        "figure.facecolor": "white",
        "figure.constrained_layout.use": True,
        "savefig.facecolor": "white",
        "font.size": 10.0,
        "axes.titlesize": 10.0,
        "axes.labelsize": 10.0,
        "figure.titlesize": 10.0,
        "figure.labelsize": 10.0,
        "xtick.labelsize": MIN_FONT,
        "ytick.labelsize": MIN_FONT,
        "legend.fontsize": MIN_FONT,
        "legend.title_fontsize": MIN_FONT,
        "axes.prop_cycle": cycler(color=_CYCLE_COLOURS) + cycler(linestyle=LINESTYLES),
        "axes.linewidth": 0.8,
        "axes.edgecolor": "0.25",
        "axes.titlepad": 5.0,
        "lines.linewidth": 1.6,
        "lines.markersize": 5.0,
        "patch.linewidth": 0.8,
        "grid.color": "0.88",
        "grid.linewidth": 0.6,
        "legend.framealpha": 0.92,
        "legend.edgecolor": "0.8",
        "legend.handlelength": 2.6,
        "legend.borderaxespad": 0.4,
        "image.cmap": SEQUENTIAL,
    }


#: The matplotlib settings of the style (what :func:`use` applies).
RC = _rc()


def use():
    """Apply the style: matplotlib's settings, and 2x PNG figures in an IPython kernel.

    Sets :data:`RC` in ``matplotlib.rcParams``.  In an IPython kernel (Jupyter, Binder,
    Colab) with the inline backend, every figure shown inline becomes :func:`inline_png`:
    a PNG at twice ``figure.dpi`` whose output metadata gives its display width, which
    the HTML book and Jupyter honour.  Called when :mod:`mlcore.figures` is imported;
    call it again after changing ``rcParams`` to get the book's look back.
    """
    import matplotlib

    matplotlib.rcParams.update(RC)
    _inline_2x()


INLINE_BACKENDS = ("inline", "module://matplotlib_inline.backend_inline")


def _inline_2x():
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # no IPython: nothing is shown inline
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    from matplotlib.figure import Figure

    # What the inline backend itself would do, should it register its formatter again
    # (e.g. after %matplotlib inline): 2x PNGs of the figure's own box, 3 CSS px margin.
    config = InlineBackend.instance(parent=shell)
    if config.figure_formats != {"retina"}:
        config.figure_formats = {"retina"}
    kwargs = {"bbox_inches": "tight", "pad_inches": INLINE_PAD}
    if config.print_figure_kwargs != kwargs:
        config.print_figure_kwargs = kwargs
    try:
        backend = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10
        backend = matplotlib.rcParams._get("backend")
    if backend not in INLINE_BACKENDS:
        return
    # Loading the backend module activates it once (and registers its own formatter),
    # so the formatter registered next is the one that stays.
    import matplotlib_inline.backend_inline  # noqa: F401

    shell.display_formatter.formatters["image/png"].for_type(Figure, inline_png)


def inline_png(fig):
    """The PNG a notebook shows for a figure, and its display width.

    The figure's own box (``bbox_inches="tight"`` with a margin of :data:`INLINE_PAD`) at
    :data:`DENSITY` times ``fig.dpi``, quantised like the explorables' frames when it is
    opaque.  The metadata gives the width only, in CSS pixels, so a page narrower than the
    figure scales it down without changing its aspect.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    (str, dict) or None
        Base64 PNG and ``{"width": ...}``; ``None`` for a figure without axes or lines.
    """
    import base64
    import io

    from PIL import Image

    from .interactive import encode_png

    if not fig.axes and not fig.lines:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DENSITY * fig.dpi, bbox_inches="tight",
                pad_inches=INLINE_PAD, facecolor=fig.get_facecolor(),
                edgecolor=fig.get_edgecolor())  # fmt: skip
    with Image.open(buf) as image:
        data = encode_png(image.convert("RGBA"))
        width = image.size[0] // DENSITY
    return base64.b64encode(data).decode("ascii"), {"width": width}


def problems(fig, *, max_width=MAX_WIDTH, min_font=MIN_FONT):
    """What breaks the book's rules in a figure, drawn at its own size (empty if nothing).

    The figure must be at most ``max_width`` inches wide; every text that is drawn
    (titles, labels, tick labels, legends, annotations) at least ``min_font`` points and
    inside the figure (nothing clipped at its edges).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure at its display size (inches at :data:`DISPLAY_DPI`); it is drawn on a
        new Agg canvas.
    max_width : float, default MAX_WIDTH
    min_font : float, default MIN_FONT

    Returns
    -------
    list of str
        One line per problem.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = []
    width, _ = fig.get_size_inches()
    if width > max_width + 1e-9:
        out.append(f"figure is {width:g} in wide, more than {max_width:g} in")
    renderer = FigureCanvasAgg(fig).get_renderer()
    drawn = {}
    draw_text = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip():
            drawn[id(mtext)] = (mtext, prop.get_size_in_points())
        return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = record
    fig.draw(renderer)
    box = fig.bbox
    for text, size in drawn.values():
        words = text.get_text()
        if size < min_font - 1e-9:
            out.append(f"{words!r} is {size:g} pt, less than {min_font:g} pt")
        ext = text.get_window_extent(renderer)
        if ext.x0 < box.x0 - 1 or ext.y0 < box.y0 - 1 or ext.x1 > box.x1 + 1 or ext.y1 > box.y1 + 1:
            out.append(f"{words!r} reaches outside the figure")
    return out
