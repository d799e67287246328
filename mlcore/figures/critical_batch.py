r"""Figures of the chapter on the critical batch size: the noise scale along a run, and
the steps to a target cost against the batch size.

Every builder draws numbers the chapter computed with :mod:`mlcore.critical_batch`; the
little arithmetic it does itself (the ideal line :math:`S(B_0) B_0 / B`, the fitted
:math:`S(B) = S_{\min} + E_{\min}/B` and :math:`E = BS`) is stated in its docstring and
checked in ``tests/figures/test_critical_batch_figures.py`` by reading the drawn data back
(artists by ``gid``).  Series differ by marker and line style as well as by colour
(the Okabe-Ito palette of :mod:`mlcore.figures.style`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from .style import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION

__all__ = ["draw_noise_scale_along", "draw_steps_vs_batch"]


def _marks(ax, steps, labels):
    """Dotted vertical lines at the steps where the targets were reached, labelled on top."""
    for t, text in zip(steps, labels, strict=True):
        ax.axvline(t, color=GREY, ls=":", lw=1.0, gid="target-step")
        ax.annotate(text, (t, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=9,
                    color=GREY)  # fmt: skip


def draw_noise_scale_along(fig, *, steps, b_simple, trace, grad_sq, num_examples,
                           smoothed=None, target_steps=(), target_labels=()):  # fmt: skip
    r"""The simple noise scale along one run (left) and its two parts (right).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    steps : array_like of int, shape (T,)
        Steps of the run at which the quantities were measured.
    b_simple, trace, grad_sq : array_like, shape (T,)
        :math:`B_{\text{simple}}`, :math:`\operatorname{tr}\Sigma` and
        :math:`\lVert G\rVert^2` there (:func:`mlcore.critical_batch.noise_scale_along`).
    num_examples : int
        :math:`N`, drawn as a horizontal line on the left.
    smoothed : array_like, shape (T,), optional
        The noise scale from moving means of its parts
        (:func:`mlcore.critical_batch.smoothed_noise_scale`), drawn thick over the
        per-step values, which are then drawn thin.
    target_steps, target_labels : sequence
        Steps at which the run reached its targets, and their labels (dotted lines).

    Returns
    -------
    (Axes, Axes)
    """
    t = np.asarray(steps, dtype=float)
    every = max(1, len(t) // 12)  # markers on a dozen points of each curve
    left, right = fig.subplots(1, 2)
    raw = r"$B_{\mathrm{simple}} = \mathrm{tr}\,\Sigma / \Vert G\Vert^2$"
    if smoothed is None:
        left.plot(t, b_simple, color=BLUE, ls="-", marker="o", ms=3.5, markevery=every,
                  gid="b-simple", label=raw + ", every step")  # fmt: skip
    else:
        left.plot(t, b_simple, color=SKY, ls="-", lw=0.8, gid="b-simple",
                  label=raw + ", every step")  # fmt: skip
        left.plot(t, smoothed, color=BLUE, ls="--", lw=2.0, marker="o", ms=3.5,
                  markevery=every, gid="b-smoothed", label="moving means")  # fmt: skip
    left.axhline(num_examples, color=BLACK, ls="--", lw=1.2, gid="num-examples",
                 label=f"$N = {num_examples}$ (all examples)")  # fmt: skip
    left.set_yscale("log")
    left.set_ylabel("noise scale (examples)")
    right.plot(t, trace, color=VERMILLION, ls="-.", marker="^", ms=3.5, markevery=every,
               gid="trace",
               label=r"$\mathrm{tr}\,\Sigma$ (spread)")  # fmt: skip
    right.plot(t, grad_sq, color=GREEN, ls=":", marker="s", ms=3.5, markevery=every,
               gid="grad-sq",
               label=r"$\Vert G\Vert^2$ (mean gradient)")  # fmt: skip
    right.set_yscale("log")
    right.set_ylabel("squared gradient norm")
    for ax in (left, right):
        _marks(ax, target_steps, target_labels)
        ax.set_xlabel("step")
        ax.set_xlim(0, t.max() * 1.02)
        ax.grid(True, which="major")
        ax.legend(loc="lower right" if ax is left else "lower left")
    return left, right


def draw_steps_vs_batch(fig, *, batch_sizes, steps, fit, b_noise, steps_range=None):
    r"""Steps to the target against the batch size (left) and examples against steps (right).

    Left, log-log: the measured :math:`S(B)` (circles, with the range over the example
    orders as bars when ``steps_range`` is given), the ideal :math:`S(B_0) B_0 / B` of
    perfect scaling through the smallest batch (dotted), the fitted
    :math:`S_{\min} + E_{\min}/B` (solid), its floor :math:`S_{\min}` (dashed), and
    vertical lines at :math:`B_{\text{crit}} = E_{\min}/S_{\min}` and at ``b_noise``.
    Right, log-log: :math:`E = BS` against :math:`S` with the fitted hyperbola
    :math:`(S/S_{\min} - 1)(E/E_{\min} - 1) = 1`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_sizes : array_like of int, shape (K,)
        :math:`B`, increasing.
    steps : array_like, shape (K,)
        Measured :math:`S(B)`.
    fit : mlcore.critical_batch.Tradeoff
        The fitted trade-off (finite :math:`B_{\text{crit}}`).
    b_noise : float
        The noise scale to compare with.
    steps_range : (array_like, array_like), optional
        Lowest and highest :math:`S` over repeated runs, shape (K,) each.

    Returns
    -------
    (Axes, Axes)
    """
    B = np.asarray(batch_sizes, dtype=float)
    S = np.asarray(steps, dtype=float)
    left, right = fig.subplots(1, 2)
    fine = np.geomspace(B[0] / 1.5, B[-1] * 1.5, 200)
    left.plot(fine, S[0] * B[0] / fine, color=GREY, ls=":", lw=1.4, gid="ideal",
              label=r"ideal: $S \propto 1/B$")  # fmt: skip
    left.plot(fine, fit.steps(fine), color=BLUE, ls="-", lw=1.6, gid="fit",
              label=r"fit $S_{\min} + E_{\min}/B$")  # fmt: skip
    left.axhline(fit.s_min, color=BLUE, ls="--", lw=1.0, gid="s-min",
                 label=rf"$S_{{\min}} = {fit.s_min:.0f}$")  # fmt: skip
    if steps_range is not None:
        lo, hi = (np.asarray(a, dtype=float) for a in steps_range)
        left.vlines(B, lo, hi, color=BLACK, lw=1.2, gid="steps-range")
    left.plot(B, S, color=BLACK, ls="none", marker="o", ms=5, gid="steps", label="measured")
    left.axvline(fit.b_crit, color=ORANGE, ls="-.", lw=1.5, gid="b-crit",
                 label=rf"$B_{{\mathrm{{crit}}}} = {fit.b_crit:.0f}$")  # fmt: skip
    left.axvline(b_noise, color=PURPLE, ls=(0, (5, 1.5, 1, 1.5, 1, 1.5)), lw=1.5,
                 gid="b-noise",
                 label=rf"$B_{{\mathrm{{simple}}}} = {b_noise:.0f}$ at the target")  # fmt: skip
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(B, [str(int(b)) for b in B])
    left.minorticks_off()
    left.set_xlabel("batch size $B$")
    left.set_ylabel("steps to the target $S$")
    left.legend(loc="lower left", fontsize=9)

    E = B * S
    s_curve = np.geomspace(fit.s_min * 1.01, S.max() * 1.5, 200)
    right.plot(s_curve, fit.e_min * s_curve / (s_curve - fit.s_min), color=BLUE, ls="-",
               lw=1.6, gid="hyperbola", label="fitted trade-off")  # fmt: skip
    right.plot(S, E, color=BLACK, ls="none", marker="o", ms=5, gid="examples",
               label="measured")  # fmt: skip
    for b, s, e in zip(B, S, E, strict=True):
        right.annotate(f"{int(b)}", (s, e), xytext=(4, 2), textcoords="offset points",
                       fontsize=9)  # fmt: skip
    right.axhline(fit.e_min, color=GREY, ls="--", lw=1.0, gid="e-min",
                  label=rf"$E_{{\min}} = {fit.e_min:.0f}$")  # fmt: skip
    right.set_xscale("log")
    right.set_yscale("log")
    ticks = [v for v in (10, 20, 50, 100, 200, 500, 1000) if s_curve[0] <= v <= s_curve[-1]]
    right.set_xticks(ticks, [str(v) for v in ticks])
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("steps $S$")
    right.set_ylabel("examples $E = BS$")
    right.legend(loc="upper right", fontsize=9)
    return left, right
