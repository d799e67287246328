r"""Figures of Part III's hyperparameter chapters: batch size, learning rate, update rules.

Each ``draw_*`` function draws numbers that the engine computed (a
:class:`mlcore.budgets.EpochSweep`, per-parameter steps, ...) on a given
:class:`matplotlib.figure.Figure`; the signature is ``draw(fig, **controls, **data)``,
as :func:`mlcore.figures.interactive.explorable` expects (bind the data with
:func:`functools.partial`).

Readable without colour: diverged or unstable runs carry a symbol, the update rules
differ by marker and line style as well as by colour (the Okabe-Ito palette), and
every text is at least 9 pt.
"""

from __future__ import annotations

import numpy as np

from ..budgets import stability_edge

__all__ = [
    "METRICS",
    "OKABE_ITO",
    "draw_batch_lr_map",
    "draw_lr_sweeps",
    "draw_stability_edge",
    "draw_step_comparison",
    "format_lr",
    "geometric_edges",
]

#: Colour-blind-safe colours (Okabe and Ito): blue, vermillion, bluish green, orange.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00")
STYLES = (("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"))
FONT = 9
UNSTABLE = "\u00d7"  # the multiplication sign marks an unstable run


def format_lr(lr):
    """A learning rate as a short tick label: ``0.001``, ``0.0625``, ``1``, ``4``."""
    lr = float(lr)
    if lr >= 1:
        return f"{lr:g}"
    return f"{lr:.2g}" if lr >= 0.01 else f"{lr:.1g}"


def geometric_edges(values):
    """Cell edges on a log axis: geometric midpoints, and half a step beyond both ends."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2 or not (np.diff(v) > 0).all() or v[0] <= 0:
        raise ValueError(f"values must be at least 2 increasing positive numbers; got {v}")
    mid = np.sqrt(v[:-1] * v[1:])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


METRICS = {
    "validation accuracy": ("val_accuracy", "best"),
    "training cost": ("train_loss", "lowest"),
}


def _cell_text(value, metric):
    if metric == "validation accuracy":
        return "1.0" if value >= 1 else f"{value:.2f}"[1:]
    if value < 0.01:
        return f"{value:.3f}"[1:]
    return f"{value:.2f}"[1:] if value < 1 else f"{value:.1f}"


def draw_batch_lr_map(fig, epochs, metric="validation accuracy", *, sweep, ceiling=None,
                      threshold=None):  # fmt: skip
    r"""Heat map over batch size and learning rate after a budget of ``epochs``.

    Axes are logarithmic, so a line :math:`\eta / B = \text{const}` is a diagonal.  An
    unstable cell (diverged, or training cost above ``threshold``, by default the
    initial cost: :meth:`mlcore.budgets.EpochSweep.unstable`) is grey and marked
    :data:`UNSTABLE`; a black staircase separates, in each row, the rates below the
    first unstable one.  The best cell is outlined, and a dashed diagonal through it
    shows the ratio :math:`\eta/B` of the best run.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    epochs : int
        Budget :math:`e` (``1 <= e <= sweep.num_epochs``).
    metric : {"validation accuracy", "training cost"}, default "validation accuracy"
        What the colours show: accuracy from chance (0.1) to 1, or the training-set cost
        on a log scale from 0.001 to the initial cost (low is good, so the colours run
        the other way).
    sweep : mlcore.budgets.EpochSweep
        The sweep, with validation accuracies.
    ceiling : float, optional
        A learning rate drawn as a dotted vertical line (e.g. :math:`2/\lambda_{\max}`).
    threshold : float, optional
        Passed to :meth:`~mlcore.budgets.EpochSweep.unstable`.
    """
    from matplotlib.colors import LogNorm, Normalize

    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}; got {metric!r}")
    field, best_word = METRICS[metric]
    at = sweep.at(epochs)
    unstable = sweep.unstable(epochs, threshold=threshold)
    values = np.where(unstable, np.nan, getattr(at, field))
    if metric == "validation accuracy":
        norm, cmap = Normalize(vmin=0.1, vmax=1.0), _cmap("viridis")
        best = np.unravel_index(np.nanargmax(values), values.shape)
    else:
        norm, cmap = LogNorm(vmin=1e-3, vmax=sweep.initial_loss), _cmap("viridis_r")
        best = np.unravel_index(np.nanargmin(values), values.shape)
    Bs, lrs = at.batch_sizes, at.lrs
    x_edges, y_edges = geometric_edges(lrs), geometric_edges(Bs)
    # a fixed layout (fractions of the figure): several times faster than "constrained"
    fig.set_layout_engine("none")
    ax = fig.add_axes((0.11, 0.26, 0.68, 0.65))
    cax = fig.add_axes((0.81, 0.26, 0.022, 0.65))
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(values), cmap=cmap, norm=norm,
                         shading="flat")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    for i, B in enumerate(Bs):
        for j, lr in enumerate(lrs):
            if unstable[i, j]:
                ax.text(lr, B, UNSTABLE, ha="center", va="center", fontsize=FONT + 2,
                        color="k")  # fmt: skip
            else:
                rgba = cmap(norm(values[i, j]))
                light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.5
                ax.text(lr, B, _cell_text(values[i, j], metric), ha="center", va="center",
                        fontsize=FONT, color="k" if light else "w")  # fmt: skip
    # the staircase: in each row, the edge before the first unstable rate
    _, first = stability_edge(unstable, lrs)
    xs, ys = [], []
    for i in range(len(Bs)):
        k = np.searchsorted(lrs, first[i]) if np.isfinite(first[i]) else len(lrs)
        xs += [x_edges[k], x_edges[k]]
        ys += [y_edges[i], y_edges[i + 1]]
    ax.plot(xs, ys, color="k", lw=2.0, solid_joinstyle="miter", label="first unstable rate")
    # the best cell and the diagonal eta / B through it
    i, j = int(best[0]), int(best[1])
    ax.plot(x_edges[[j, j + 1, j + 1, j, j]], y_edges[[i, i, i + 1, i + 1, i]], color="k",
            lw=1.2, ls="-", label=f"{best_word} value")  # fmt: skip
    ratio = lrs[j] / Bs[i]
    ax.plot(ratio * y_edges[[0, -1]], y_edges[[0, -1]], color="0.35", lw=1.2, ls="--",
            label=rf"$\eta/B$ of the {best_word} value")  # fmt: skip
    if ceiling is not None:
        ax.axvline(ceiling, color="k", lw=1.0, ls=":", label=r"$2/\lambda_{\max}$ at the start")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xticks(lrs, [format_lr(v) for v in lrs], fontsize=FONT)
    ax.set_yticks(Bs, [str(int(B)) for B in Bs], fontsize=FONT)
    ax.minorticks_off()
    ax.set_xlabel(r"learning rate $\eta$", fontsize=FONT + 1)
    ax.set_ylabel("batch size $B$", fontsize=FONT + 1)
    shown = f"{values[i, j]:.3f}"
    ax.set_title(
        f"after {epochs} epoch{'s' if epochs != 1 else ''}: {best_word} {shown} at "
        f"$B = {int(Bs[i])}$, $\\eta = {format_lr(lrs[j])}$; {UNSTABLE} = unstable",
        fontsize=FONT,
    )
    cbar = fig.colorbar(mesh, cax=cax)
    cbar.set_label(metric + (" (log scale)" if metric == "training cost" else ""), fontsize=FONT)
    cbar.ax.tick_params(labelsize=FONT)
    fig.legend(loc="lower center", ncols=2, fontsize=FONT, frameon=False)
    return ax


def _cmap(name):
    import matplotlib as mpl

    return mpl.colormaps[name].with_extremes(bad="0.85")


def draw_stability_edge(fig, *, batch_sizes, last_stable, first_unstable, ceiling=None,
                        noise_scale=None):  # fmt: skip
    r"""Where training stops being stable, against the batch size (log-log).

    For each :math:`B` the edge lies between the last stable rate (filled circle) and
    the first unstable one (cross), joined by a bar; a triangle marks a row whose rates
    are all stable (the edge lies above the largest).  A dotted line through the first
    row's last stable rate has slope 1 (linear scaling, :math:`\eta \propto B`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_sizes : array_like of int, shape (S,)
    last_stable, first_unstable : array_like, shape (S,)
        From :func:`mlcore.budgets.stability_edge` (``inf``: no unstable rate in the grid).
    ceiling : float, optional
        A rate drawn as a horizontal line (e.g. :math:`2/\lambda_{\max}`).
    noise_scale : float, optional
        A batch size drawn as a vertical line (e.g. :math:`B_{\text{noise}}`).
    """
    Bs = np.asarray(batch_sizes, dtype=float)
    lo = np.asarray(last_stable, dtype=float)
    hi = np.asarray(first_unstable, dtype=float)
    ax = fig.add_subplot()
    finite = np.isfinite(hi) & np.isfinite(lo)
    ax.vlines(Bs[finite], lo[finite], hi[finite], color="0.6", lw=3, label="the edge lies here")
    ax.plot(Bs[finite], lo[finite], "o", color=OKABE_ITO[0], ms=6, linestyle="none",
            label="last stable rate")  # fmt: skip
    ax.plot(Bs[finite], hi[finite], "x", color=OKABE_ITO[1], ms=8, mew=2, linestyle="none",
            label="first unstable rate")  # fmt: skip
    above = np.isinf(hi) & np.isfinite(lo)
    if above.any():
        ax.plot(Bs[above], lo[above], "^", color=OKABE_ITO[0], ms=7, linestyle="none",
                label="every rate stable: the edge is above")  # fmt: skip
    line = lo[0] * Bs / Bs[0]
    ax.plot(Bs, line, ":", color="k", lw=1.2, label=r"$\eta \propto B$ (linear scaling)")
    if ceiling is not None:
        ax.axhline(ceiling, color=OKABE_ITO[2], lw=1.5, ls="--",
                   label=rf"$2/\lambda_{{\max}} = {ceiling:.2f}$ (GD at the start)")  # fmt: skip
    if noise_scale is not None:
        ax.axvline(noise_scale, color=OKABE_ITO[3], lw=1.5, ls="-.",
                   label=rf"$B_{{\mathrm{{noise}}}} = {noise_scale:.0f}$ at the start")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    top = np.nanmax(np.where(np.isfinite(hi), hi, lo))
    ax.set_ylim(np.nanmin(lo) / 2, top * 3)
    ax.set_xticks(Bs, [str(int(B)) for B in Bs], fontsize=FONT)
    ax.minorticks_off()
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel("batch size $B$", fontsize=FONT + 1)
    ax.set_ylabel(r"learning rate $\eta$", fontsize=FONT + 1)
    ax.legend(fontsize=FONT, loc="lower right")
    return ax


def draw_lr_sweeps(fig, *, lrs, accuracy, unstable, band=(1e-3, 1e-2)):
    r"""Validation accuracy against the learning rate, one curve per update rule.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    lrs : array_like, shape (R,)
        Learning rates.
    accuracy : dict of str to array_like, shape (R,)
        Validation accuracy of each rule (in drawing order).
    unstable : dict of str to array_like of bool, shape (R,)
        Unstable runs of each rule, drawn with a cross over their point.
    band : (float, float) or None, default (1e-3, 1e-2)
        A range of rates to shade (the rule of thumb).
    """
    lrs = np.asarray(lrs, dtype=float)
    ax = fig.add_subplot()
    if band is not None:
        ax.axvspan(*band, color="0.9", zorder=0)
        ax.text(np.sqrt(band[0] * band[1]), 0.03, f"{band[0]:g} to {band[1]:g}", ha="center",
                va="bottom", fontsize=FONT)  # fmt: skip
    for k, (name, acc) in enumerate(accuracy.items()):
        marker, ls = STYLES[k % len(STYLES)]
        color = OKABE_ITO[k % len(OKABE_ITO)]
        acc = np.asarray(acc, dtype=float)
        ax.plot(lrs, acc, ls=ls, marker=marker, color=color, ms=5, lw=1.5, label=name)
        bad = np.asarray(unstable[name], dtype=bool)
        ax.plot(lrs[bad], acc[bad], "x", color="k", ms=9, mew=1.5, linestyle="none",
                label="unstable" if k == 0 else None)  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(r"learning rate $\eta$", fontsize=FONT + 1)
    ax.set_ylabel("validation accuracy", fontsize=FONT + 1)
    ax.tick_params(labelsize=FONT)
    ax.grid(True, which="major", color="0.85", lw=0.6)
    ax.legend(fontsize=FONT, loc="lower left", bbox_to_anchor=(0.44, 0.02))
    return ax


def draw_step_comparison(fig, *, steps, lr_units=None):
    r"""Per parameter: the step of the mean gradient against the mean of per-example steps.

    One panel per update rule; every point is one parameter :math:`\theta_i`, at
    :math:`x` = the change made by one step with the mean gradient, :math:`y` = the
    mean over examples of the change made by one step with each example's own
    gradient.  Points on the diagonal mean "averaging the weights after one local step
    is one step with the averaged gradient".  Equal axes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    steps : dict of str to (array_like, array_like)
        For each rule, ``(mean_gradient_step, averaged_step)``, each of shape (P,).
    lr_units : dict of str to float, optional
        Divide each rule's steps by this (e.g. its learning rate), so that the axes are
        in units of :math:`\eta`.
    """
    axes = np.atleast_1d(fig.subplots(1, len(steps)))
    for k, (ax, (name, (step, averaged))) in enumerate(zip(axes, steps.items(), strict=True)):
        unit = 1.0 if lr_units is None else float(lr_units[name])
        x = np.asarray(step, dtype=float) / unit
        y = np.asarray(averaged, dtype=float) / unit
        lim = 1.08 * max(np.abs(x).max(), np.abs(y).max())
        ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=1, ls="--", label="$y = x$")
        marker, _ = STYLES[k % len(STYLES)]
        ax.plot(x, y, marker, color=OKABE_ITO[k % len(OKABE_ITO)], ms=2.5, alpha=0.5,
                linestyle="none", label="one parameter")  # fmt: skip
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        unit_label = "" if lr_units is None else r" / $\eta$"
        ax.set_xlabel("step with the mean gradient" + unit_label, fontsize=FONT)
        ax.set_ylabel("mean of per-example steps" + unit_label, fontsize=FONT)
        ax.set_title(name, fontsize=FONT + 1)
        ax.tick_params(labelsize=FONT)
        ax.legend(fontsize=FONT, loc="upper left", handlelength=1.2)
    return axes
