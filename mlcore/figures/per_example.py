r"""Figures of two Part IV chapters: per-example gradient norms, and private training.

Every builder draws numbers that the chapter computed with the engine (per-example
gradient norms, the flipped labels, the accuracies of DP-SGD runs); the little arithmetic
it does itself (ranking examples by a score, the fraction of flipped ones among the
top :math:`k`, the fraction of norms above :math:`C`) is stated in its docstring and
checked in ``tests/figures/test_per_example.py`` by reading the drawn data back.
Series differ by line style, marker or hatching as well as by colour, and no text is
smaller than 9 pt.  The ``draw_*`` functions draw on a given
:class:`matplotlib.figure.Figure`, as :func:`mlcore.figures.interactive.explorable`
expects; bind their data with :func:`functools.partial`.

Per-example gradients without the loop (:ref:`ch-per-example`)
    :func:`recall_at_k`, :func:`draw_mislabel_ranking` (flipped labels found among the
    largest gradient norms; the norms of clean and flipped examples).
Private training (:ref:`ch-private-training`)
    :func:`draw_private_run` (validation accuracy of one DP-SGD run per epoch, and the
    per-example gradient norms it clips).
"""

from __future__ import annotations

import numpy as np

from .style import BLACK, BLUE, GREY, LIGHT_GREY, ORANGE, VERMILLION, series

__all__ = ["draw_mislabel_ranking", "draw_private_run", "recall_at_k"]

FONT = 9  # points: the smallest text of every figure


def recall_at_k(score, flipped):
    r"""Fraction of the flipped examples among the ``k`` highest scores, for every ``k``.

    Parameters
    ----------
    score : array_like, shape (N,)
        One number per example; the larger, the more suspect (ties: lower index first).
    flipped : array_like of bool, shape (N,)
        Which examples carry a flipped label.

    Returns
    -------
    ndarray, shape (N + 1,)
        Entry ``k`` is (flipped examples among the top ``k``) / (number flipped);
        entry 0 is 0.
    """
    score = np.asarray(score, dtype=float)
    flipped = np.asarray(flipped, dtype=bool)
    order = np.argsort(-score, kind="stable")
    return np.concatenate([[0.0], np.cumsum(flipped[order]) / flipped.sum()])


def _finish(ax, xlabel, ylabel, title=None):
    ax.set_xlabel(xlabel, fontsize=FONT + 1)
    ax.set_ylabel(ylabel, fontsize=FONT + 1)
    if title is not None:
        ax.set_title(title, fontsize=FONT + 1)
    ax.tick_params(labelsize=FONT)
    ax.grid(True, alpha=0.3)


def draw_mislabel_ranking(fig, *, scores, flipped, hist_score, max_k=None):
    r"""Flipped labels found by ranking the examples (left); the scores' spread (right).

    Left: :func:`recall_at_k` of every score in ``scores`` against ``k``, with the chance
    level (a random ranking finds ``k / N`` of the flipped examples on average) and the
    best possible (``min(k / n_flipped, 1)``), and a dotted line at ``k = n_flipped``.
    Right: histograms of ``hist_score`` for the clean and the flipped examples, on 30
    logarithmic bins over its range, each as the fraction of its own group per bin.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    scores : dict
        Label to a score per example, shape (N,).
    flipped : array_like of bool, shape (N,)
        Which examples carry a flipped label.
    hist_score : str
        The key of ``scores`` whose distribution the right panel shows.
    max_k : int, optional
        Right end of the left panel; default ``3 * n_flipped``.
    """
    flipped = np.asarray(flipped, dtype=bool)
    N, m = len(flipped), int(flipped.sum())
    max_k = 3 * m if max_k is None else int(max_k)
    k = np.arange(max_k + 1)
    ax1, ax2 = fig.subplots(1, 2)
    for i, (label, score) in enumerate(scores.items()):
        look = series(i)
        ax1.plot(k, recall_at_k(score, flipped)[: max_k + 1], label=label, lw=1.6,
                 color=look["color"], ls=look["linestyle"], marker=look["marker"], ms=4,
                 markevery=max(1, max_k // 8), gid=f"recall-{i}")  # fmt: skip
    ax1.plot(k, np.minimum(k / m, 1.0), color=LIGHT_GREY, lw=1.2, label="best possible",
             gid="recall-best")  # fmt: skip
    ax1.plot(k, k / N, color=GREY, ls=(0, (1, 2)), lw=1.4, label="random ranking",
             gid="recall-chance")  # fmt: skip
    ax1.axvline(m, color=BLACK, ls=":", lw=0.8, gid="n-flipped")
    ax1.set_xlim(0, max_k)
    ax1.set_ylim(0, 1.02)
    _finish(ax1, "top $k$ examples by score", "flipped labels found", f"{m} of {N} flipped")
    ax1.legend(fontsize=FONT, frameon=False, loc="center right")
    s = np.asarray(scores[hist_score], dtype=float)
    bins = np.geomspace(s.min(), s.max(), 31)
    ax2.hist(s[~flipped], bins=bins, weights=np.full(N - m, 1 / (N - m)), histtype="stepfilled",
             color=BLUE,
             alpha=0.45, label=f"clean ({N - m})", gid="hist-clean")  # fmt: skip
    ax2.hist(s[flipped], bins=bins, weights=np.full(m, 1 / m), histtype="step", color=VERMILLION,
             lw=1.8,
             hatch="///", label=f"flipped ({m})", gid="hist-flipped")  # fmt: skip
    ax2.set_xscale("log")
    _finish(ax2, hist_score, "fraction of the group", "gradient norms")
    ax2.legend(fontsize=FONT, frameon=False, loc="upper left")


def draw_private_run(fig, clip_norm, noise_multiplier, *, runs, reference, epsilons):
    r"""One DP-SGD run of a grid: its accuracy per epoch and the norms it clipped.

    Left: the validation accuracy after every epoch of the run ``(clip_norm,
    noise_multiplier)``, with every other run of the grid in light grey and the
    non-private reference dashed. Right: a histogram of the per-example gradient norms of
    the training set at the run's end (30 logarithmic bins over the range of all runs'
    norms), a line at :math:`C`, and the fraction of norms above it in the title.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    clip_norm, noise_multiplier : float
        Which run: a key ``(C, sigma)`` of ``runs``.
    runs : dict
        ``(C, sigma)`` to a dict with ``"val_accuracy"`` (shape (E + 1,)) and ``"norms"``
        (per-example gradient norms of the training set after training, shape (N,)).
    reference : array_like, shape (E + 1,)
        Validation accuracy per epoch of ordinary (non-private) SGD.
    epsilons : dict
        ``sigma`` to the :math:`\varepsilon` of the run (``inf`` for :math:`\sigma = 0`).
    """
    key = (clip_norm, noise_multiplier)
    run = runs[key]
    ax1, ax2 = fig.subplots(1, 2)
    for other, r in runs.items():
        if other != key:
            ax1.plot(r["val_accuracy"], color="0.85", ls="-", lw=0.8)
    ax1.plot(np.asarray(reference), color=GREY, ls="--", lw=1.4, label="non-private SGD",
             gid="reference")  # fmt: skip
    ax1.plot(run["val_accuracy"], color=BLUE, ls="-", lw=2.0, marker="o", ms=3.5,
             markevery=max(1, (len(run["val_accuracy"]) - 1) // 6), label="DP-SGD",
             gid="accuracy")  # fmt: skip
    ax1.set_ylim(0, 1)
    eps = epsilons[noise_multiplier]
    eps_text = "$\\varepsilon = \\infty$" if np.isinf(eps) else f"$\\varepsilon = {eps:.1f}$"
    _finish(ax1, "epoch", "validation accuracy",
            f"$C = {clip_norm:g}$, $\\sigma = {noise_multiplier:g}$: {eps_text}")  # fmt: skip
    ax1.legend(fontsize=FONT, frameon=False, loc="lower right")
    everything = np.concatenate([r["norms"] for r in runs.values()])
    bins = np.geomspace(everything.min(), everything.max(), 31)
    norms = np.asarray(run["norms"], dtype=float)
    ax2.hist(norms, bins=bins, color=ORANGE, alpha=0.8, hatch="..", edgecolor="0.3",
             linewidth=0.4, gid="norms")  # fmt: skip
    ax2.axvline(clip_norm, color=BLACK, lw=1.6, ls="-.", label=f"$C = {clip_norm:g}$",
                gid="clip-norm")  # fmt: skip
    ax2.set_xscale("log")
    frac = float(np.mean(norms > clip_norm))
    _finish(ax2, "$\\|\\nabla E_n\\|$ after training", "training examples",
            f"{100 * frac:.0f} % above $C$")  # fmt: skip
    ax2.legend(fontsize=FONT, frameon=False, loc="upper right")
