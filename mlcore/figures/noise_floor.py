r"""Figures of two Part III chapters: the noise floor, and gradient accumulation.

Every builder draws numbers that the chapter computed with the engine (training
histories, floors, gradients); the little arithmetic it does itself (a loss minus
the lowest reachable cost, the mean of the last epochs of a run, a schedule
evaluated at every step) is stated in its docstring and checked in
``tests/figures/test_noise_floor.py`` by reading the drawn data back.

Lines differ by style and marker as well as by colour (the Okabe-Ito palette), so
no figure relies on colour alone.  ``draw_*`` builders draw on a given ``fig``
(an empty :class:`matplotlib.figure.Figure`), as
:func:`mlcore.figures.interactive.explorable` expects; their data are keyword
arguments (bind them with :func:`functools.partial`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STYLES",
    "draw_constant_rate",
    "draw_example_weights",
    "draw_floor",
    "draw_remedies",
    "draw_trajectory_gaps",
    "floor_heights",
]

#: Okabe-Ito colours with a distinct line style and marker each (colour-blind safe).
STYLES = (
    {"color": "#000000", "ls": "-", "marker": None},
    {"color": "#E69F00", "ls": "--", "marker": "o"},
    {"color": "#0072B2", "ls": "-.", "marker": "s"},
    {"color": "#009E73", "ls": ":", "marker": "^"},
    {"color": "#CC79A7", "ls": (0, (5, 1, 1, 1, 1, 1)), "marker": "D"},
    {"color": "#D55E00", "ls": (0, (1, 1)), "marker": "v"},
)

FONT = 9  # points: the smallest text of every figure


def _style(k, n_points):
    """Keyword arguments of ``ax.plot`` for the k-th line of ``n_points`` points."""
    s = STYLES[k % len(STYLES)]
    kw = {"color": s["color"], "ls": s["ls"], "lw": 1.4}
    if s["marker"] is not None:
        kw.update(marker=s["marker"], ms=4, markevery=max(1, (n_points - 1) // 6))
    return kw


def _curves(ax, curves, offset=0.0, *, order=None):
    """Plot ``y - offset`` for every labelled curve on a log scale; return the lines.

    A curve's style is that of its label's position in ``order`` (default: its own
    position), so that the same label looks the same in every panel.
    """
    order = list(curves) if order is None else list(order)
    lines = []
    for label, y in curves.items():
        y = np.asarray(y, dtype=float) - offset
        lines += ax.semilogy(
            np.arange(len(y)), y, label=label, **_style(order.index(label), len(y))
        )
    return lines


def _finish(ax, title, ylabel, xlabel="epoch"):
    ax.set_title(title, fontsize=FONT + 1)
    ax.set_xlabel(xlabel, fontsize=FONT + 1)
    ax.set_ylabel(ylabel, fontsize=FONT + 1)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT, frameon=False)


def draw_constant_rate(fig, *, clean, ambiguous, bound):
    r"""Constant-rate SGD on data the network fits exactly (left) and on data it cannot (right).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    clean : dict
        Label to the training cost after each epoch (entry 0 before training), for the
        data set the network fits exactly; drawn as it is.
    ambiguous : dict
        Label to the training cost after each epoch on the data no network can fit;
        drawn as the excess ``cost - bound`` over the lowest reachable cost.
    bound : float
        The lowest cost any network can reach on the ambiguous data.
    """
    ax1, ax2 = fig.subplots(1, 2)
    _curves(ax1, clean)
    _finish(ax1, "digits: fits every example", "training cost $E$")
    _curves(ax2, ambiguous, bound)
    _finish(ax2, "ambiguous copies: cannot", "excess cost $E - E_{\\min}$")


def draw_remedies(fig, *, schedules, steps_per_epoch, num_epochs, ambiguous, bound, clean):
    r"""The learning-rate schedules (left) and the cost of each remedy on both data sets.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    schedules : dict
        Label to a schedule ``lr(t)`` (:mod:`mlcore.schedules`), drawn at every step
        :math:`t` against ``t / steps_per_epoch`` (epochs); a float is a constant rate.
        A label also in ``ambiguous`` takes that curve's style; one legend below the
        panels, that of ``ambiguous``, serves all three.
    steps_per_epoch : int
        Updates per epoch of the runs.
    num_epochs : int
        Length of the runs.
    ambiguous : dict
        Label to the training cost after each epoch on the ambiguous data, drawn as
        ``cost - bound``.
    bound : float
        Lowest cost any network can reach on the ambiguous data.
    clean : dict
        Label to the training cost after each epoch on the clean data, drawn as it is;
        a label also in ``ambiguous`` is drawn in the same style (the middle panel's
        legend serves both).
    """
    ax0, ax1, ax2 = fig.subplots(1, 3, width_ratios=(0.8, 1, 1))
    t = np.arange(num_epochs * steps_per_epoch)
    order = list(ambiguous) + [k for k in schedules if k not in ambiguous]
    for label, lr in schedules.items():
        eta = np.full(len(t), float(lr)) if not callable(lr) else np.array([lr(s) for s in t])
        ax0.plot(t / steps_per_epoch, eta, label=label, **_style(order.index(label), len(t)))
    _finish(ax0, "learning rate", "$\\eta_t$")
    ax0.legend().remove()  # one legend below the panels serves all three
    ax0.set_ylim(0, None)
    _curves(ax1, ambiguous, bound)
    _finish(ax1, "ambiguous copies", "excess cost $E - E_{\\min}$")
    _curves(ax2, clean, order=order + [k for k in clean if k not in order])
    _finish(ax2, "digits as they are", "training cost $E$")
    handles, labels = ax1.get_legend_handles_labels()
    for ax in (ax1, ax2):
        ax.legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=FONT,
               frameon=False)  # fmt: skip


def floor_heights(curves, bound, last):
    r"""Mean of the last ``last`` entries of every curve, minus ``bound``.

    Parameters
    ----------
    curves : dict
        Learning rate to the training cost after each epoch.
    bound : float
        Lowest reachable cost (0 for data the network fits exactly).
    last : int
        Number of final epochs averaged.

    Returns
    -------
    ndarray
        One height per curve, in the order of ``curves``.
    """
    return np.array([np.mean(np.asarray(y, dtype=float)[-last:]) - bound for y in curves.values()])


def draw_floor(fig, lr, *, ambiguous, bound, clean, last, start_ambiguous, start_clean):
    r"""Constant-rate SGD from a good point: cost per epoch for one rate, and the floors.

    Left: the excess cost ``cost - bound`` on the ambiguous data after each epoch, for
    every rate (thin grey) and for ``lr`` (thick). Right: the level each run settles at,
    :func:`floor_heights` (the mean of its last ``last`` epochs), against the rate, on
    both data sets, with the starting level dashed and ``lr`` marked.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    lr : float
        The rate shown in the left panel; a key of ``ambiguous``.
    ambiguous, clean : dict
        Learning rate to the training cost after each epoch, same rates in both.
    bound : float
        Lowest cost any network can reach on the ambiguous data.
    last : int
        Final epochs averaged into a floor.
    start_ambiguous, start_clean : float
        Cost at the common starting point on each data set.
    """
    rates = np.array(list(ambiguous), dtype=float)
    ax1, ax2 = fig.subplots(1, 2)
    for rate, y in ambiguous.items():
        if rate != lr:
            ax1.semilogy(np.asarray(y) - bound, color="0.75", lw=0.8)
    ax1.semilogy(np.asarray(ambiguous[lr]) - bound, color="#000000", lw=1.8,
                 label=f"$\\eta = {lr:g}$")  # fmt: skip
    ax1.axhline(start_ambiguous - bound, color="#0072B2", ls="--", lw=1, label="start")
    n = len(ambiguous[lr])
    ax1.axvspan(n - 1 - last, n - 1, color="0.92", zorder=0)
    _finish(ax1, "ambiguous copies, from a good point", "excess cost $E - E_{\\min}$")
    floors = {
        "ambiguous: $E - E_{\\min}$": floor_heights(ambiguous, bound, last),
        "digits: $E$": floor_heights(clean, 0.0, last),
    }
    for k, (label, y) in enumerate(floors.items()):
        style = _style(k + 1, len(y))
        style.update(markevery=1)
        ax2.loglog(rates, y, label=label, **style)
    for k, start in enumerate((start_ambiguous - bound, start_clean)):
        ax2.axhline(start, color=STYLES[k + 1]["color"], ls=(0, (2, 2)), lw=0.8)
    ax2.axvline(lr, color="0.5", lw=0.8)
    ax2.set_xticks(rates, labels=[f"{r:g}" for r in rates])
    ax2.minorticks_off()
    _finish(ax2, f"mean of the last {last} epochs", "level reached", "learning rate $\\eta$")


def draw_example_weights(fig, *, weights, sizes):
    r"""The weight of every example of one large batch in the accumulated gradient.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    weights : dict
        Label to the weights :math:`w_n` of the examples, in their order (the
        accumulated gradient is :math:`\sum_n w_n g_n`).
    sizes : sequence of int
        Sizes of the consecutive micro-batches, marked by vertical lines.
    """
    ax = fig.add_subplot()
    for k, (label, w) in enumerate(weights.items()):
        w = np.asarray(w, dtype=float)
        style = _style(k, len(w))
        ax.step(np.arange(1, len(w) + 1), w, where="mid", label=label,
                **{key: style[key] for key in ("color", "ls", "lw")})  # fmt: skip
    for edge in np.cumsum(sizes)[:-1]:
        ax.axvline(edge + 0.5, color="0.6", lw=0.7, ls=":")
    ax.set_ylim(0, None)
    _finish(ax, "one large batch, micro-batches of " + ", ".join(map(str, sizes)),
            "weight $w_n$ of example $n$", "example $n$ of the large batch")  # fmt: skip


def draw_trajectory_gaps(fig, *, gaps, eps):
    r"""Distance of accumulated-gradient training from large-batch training, step by step.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    gaps : dict
        Label to :math:`\max_i |\theta_i - \theta_i^{\text{large}}|` after each step (entry 0
        at the start, where it is 0, is not drawn); on the log scale, values below
        ``eps / 10`` (exact zeros included) are drawn at ``eps / 10``.
    eps : float
        Machine epsilon of the parameters' dtype, drawn for reference.
    """
    ax = fig.add_subplot()
    for k, (label, g) in enumerate(gaps.items()):
        g = np.asarray(g, dtype=float)
        steps = np.arange(1, len(g))
        ax.semilogy(steps, np.maximum(g[1:], eps / 10), label=label, **_style(k + 1, len(steps)))
    ax.axhline(eps, color="0.5", lw=0.8, ls="--", label="machine epsilon")
    _finish(ax, "distance from large-batch training", "largest parameter difference", "step")
