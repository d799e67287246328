r"""Figures of the chapter on gradients of the input (:ref:`ch-input-gradients`).

Every builder takes images and numbers that the notebook computed with
:mod:`mlcore.inputs` and only draws them.  Images are 8x8 digits given as rows of 64
grey levels (0 white to 16 black, the scale of the data set); saliency maps as rows of 64
non-negative numbers, each map scaled to its own maximum.  The ``draw_*`` functions draw
on a given :class:`matplotlib.figure.Figure` (the signature
:func:`mlcore.figures.interactive.explorable` expects; bind the data with
:func:`functools.partial`).  Every image carries a ``gid`` naming what it shows.

:func:`draw_saliency`
    digits and the magnitude of two input gradients, pixel by pixel.
:func:`draw_attack_accuracy`
    test accuracy against :math:`\varepsilon`, for the sign attack and for random signs.
:func:`draw_attack`
    a few digits and their attacked versions at one :math:`\varepsilon`, with the
    predicted classes (a frame of the chapter's explorable).
:func:`draw_digits`
    a grid of digits with titles (class visualisation).
:func:`draw_style`
    content, style and result of the miniature style transfer, one row per pair.
"""

from __future__ import annotations

import numpy as np

from .style import GREY, METHODS, SEQUENTIAL

__all__ = ["draw_attack", "draw_attack_accuracy", "draw_digits", "draw_saliency", "draw_style"]

#: Grey levels of the digits: 0 is white paper, 16 full ink.
INK = 16.0
DIGIT_CMAP = "gray_r"


def _image(ax, row, gid, *, cmap=DIGIT_CMAP, vmax=INK):
    ax.imshow(np.asarray(row, dtype=float).reshape(8, 8), cmap=cmap, vmin=0.0, vmax=vmax,
              interpolation="nearest", gid=gid)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def draw_saliency(fig, digits, maps, *, titles, map_labels):
    """Digits (top row) and, below each, saliency maps scaled to their own maximum.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    digits : array_like, shape (k, 64)
        Grey levels 0-16.
    maps : sequence of array_like, each of shape (k, 64)
        Non-negative saliency maps, one array per row of the figure; each map is drawn
        from 0 (dark) to its own maximum (bright).
    titles : sequence of str
        One title per digit.
    map_labels : sequence of str
        One label per row of maps (shown left of the row).

    Returns
    -------
    matplotlib.figure.Figure
    """
    digits = np.asarray(digits, dtype=float)
    k = len(digits)
    axes = np.atleast_2d(fig.subplots(1 + len(maps), k, squeeze=False))
    for i in range(k):
        _image(axes[0, i], digits[i], f"digit-{i}")
        axes[0, i].set_title(titles[i], fontsize=9)
        for r, m in enumerate(maps, start=1):
            row = np.asarray(m[i], dtype=float)
            if (row < 0).any():
                raise ValueError("saliency maps must be non-negative (take the magnitude)")
            top = row.max() if row.max() > 0 else 1.0
            _image(axes[r, i], row / top, f"map-{r - 1}-{i}", cmap=SEQUENTIAL, vmax=1.0)
    axes[0, 0].set_ylabel("digit", fontsize=9)
    for r, label in enumerate(map_labels, start=1):
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def draw_attack_accuracy(fig, eps, accuracy, random_accuracy, *, median_eps, unit):
    r"""Test accuracy against :math:`\varepsilon`: the sign attack, random signs, the median.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    eps : array_like, shape (K,)
        :math:`\varepsilon` values.
    accuracy : array_like, shape (K,)
        Accuracy under the sign attack at each :math:`\varepsilon` (fractions).
    random_accuracy : array_like, shape (K,)
        Accuracy when every pixel moves by :math:`\pm\varepsilon` with random signs.
    median_eps : float
        Median smallest flipping :math:`\varepsilon` (drawn as a vertical line).
    unit : str
        Unit of :math:`\varepsilon`, for the axis label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    eps = np.asarray(eps, dtype=float)
    ax = fig.add_subplot()
    ax.plot(eps, 100 * np.asarray(accuracy, dtype=float), label="sign of the input gradient",
            gid="attack", markevery=0.1, **METHODS["sgd"])  # fmt: skip
    ax.plot(eps, 100 * np.asarray(random_accuracy, dtype=float), label="random signs",
            gid="random", markevery=0.1, **METHODS["gd"])  # fmt: skip
    ax.axvline(median_eps, color=GREY, linestyle=":", lw=1.4, gid="median-eps",
               label=f"median smallest flipping ε ({median_eps:.3g})")  # fmt: skip
    ax.set_xlabel(f"ε ({unit})")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.set_xlim(eps[0], eps[-1])
    ax.grid(True, alpha=0.5)
    ax.legend(loc="upper right")
    return fig


def draw_attack(fig, eps, *, digits, attacked, predicted, labels):
    r"""A few digits (top) and their attacked versions at one :math:`\varepsilon` (bottom).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    eps : float
        A key of ``attacked`` and ``predicted``.
    digits : array_like, shape (k, 64)
        The clean digits, grey levels 0-16.
    attacked : dict
        :math:`\varepsilon` to the attacked digits, shape (k, 64), grey levels.
    predicted : dict
        :math:`\varepsilon` to the classes the network predicts for them, shape (k,).
    labels : array_like of int, shape (k,)
        True classes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    digits = np.asarray(digits, dtype=float)
    k = len(digits)
    axes = fig.subplots(2, k, squeeze=False)
    for i in range(k):
        _image(axes[0, i], digits[i], f"clean-{i}")
        axes[0, i].set_title(f"a {labels[i]}", fontsize=9)
        _image(axes[1, i], np.asarray(attacked[eps])[i], f"attacked-{i}")
        guess = int(predicted[eps][i])
        wrong = guess != int(labels[i])
        axes[1, i].set_title(f"seen as {guess}" + (" ✗" if wrong else ""), fontsize=9,
                             fontweight="bold" if wrong else "normal")  # fmt: skip
    axes[0, 0].set_ylabel("clean", fontsize=9)
    axes[1, 0].set_ylabel(f"ε = {eps:g}", fontsize=9)
    return fig


def draw_digits(fig, digits, *, titles, ncols):
    """A grid of digits with a title each.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    digits : array_like, shape (k, 64)
        Grey levels 0-16 (values outside are clipped by the colour scale).
    titles : sequence of str
        One per digit.
    ncols : int
        Digits per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    digits = np.asarray(digits, dtype=float)
    k = len(digits)
    nrows = -(-k // ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= k:
            ax.set_axis_off()
            continue
        _image(ax, digits[i], f"digit-{i}")
        ax.set_title(titles[i], fontsize=9)
    return fig


def draw_style(fig, rows):
    """Content, style and result of the miniature style transfer: one row per pair.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    rows : sequence of (array_like, array_like, array_like)
        ``(content, style, result)`` digits, each of shape (64,), grey levels 0-16.

    Returns
    -------
    matplotlib.figure.Figure
    """
    axes = fig.subplots(len(rows), 3, squeeze=False)
    for r, images in enumerate(rows):
        for c, (name, image) in enumerate(zip(("content", "style", "result"), images, strict=True)):
            _image(axes[r, c], image, f"{name}-{r}")
            axes[r, c].set_title(name, fontsize=9)
    return fig
