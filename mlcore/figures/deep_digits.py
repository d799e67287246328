r"""Figures of Part III's first chapters: a deep net on the digits, and shuffling.

Every builder takes numbers that the notebook computed with the engine (losses per
epoch, measured seconds, predicted classes) and only draws them, so a figure cannot
disagree with the numbers printed next to it.  Runs are told apart by line style and
marker (lines) or hatching (bars) as well as by colour, and all text is at least 9 pt.
The ``draw_*`` functions draw on a given :class:`matplotlib.figure.Figure` (the
signature :func:`mlcore.figures.interactive.explorable` expects; bind the data with
:func:`functools.partial`).

A deep net on real digits (:ref:`ch-deep-digits`)
    :func:`draw_epoch_curves` (validation loss and accuracy per epoch),
    :func:`draw_clock_curves` (validation loss against measured seconds),
    :func:`draw_settling` (when the validation loss settles; what early stopping keeps).
Why shuffle (:ref:`ch-shuffling`)
    :func:`draw_order_curves` (losses per epoch for each example order),
    :func:`draw_predicted_classes` (what the net predicts, step by step),
    :func:`draw_class_accuracy` (accuracy of each class, for each order).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STYLES",
    "draw_class_accuracy",
    "draw_clock_curves",
    "draw_epoch_curves",
    "draw_order_curves",
    "draw_predicted_classes",
    "draw_settling",
]

#: Colour-blind-safe colours (Okabe and Ito), line styles and markers, one per run, in order.
STYLES = (
    {"color": "#0072B2", "linestyle": "-", "marker": "o"},
    {"color": "#D55E00", "linestyle": "--", "marker": "s"},
    {"color": "#009E73", "linestyle": ":", "marker": "^"},
    {"color": "#CC79A7", "linestyle": "-.", "marker": "D"},
)
#: Hatching of the bars of each run, in the order of :data:`STYLES`.
HATCHES = ("", "///", "...", "xx")
FONT = 9  # smallest text size (points)


def _style(i, n_points):
    """Line style ``i``, with markers at every point of a short curve, evenly spaced else."""
    style = dict(STYLES[i % len(STYLES)])
    style["markevery"] = 0.1 if n_points > 12 else 1  # evenly spaced on the drawn axes
    style["markersize"] = 5
    style["lw"] = 1.6
    return style


def _finish(ax, xlabel, ylabel, *, legend=True):
    ax.set_xlabel(xlabel, fontsize=FONT + 1)
    ax.set_ylabel(ylabel, fontsize=FONT + 1)
    ax.tick_params(labelsize=FONT)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(fontsize=FONT, frameon=False)


def draw_epoch_curves(fig, curves):
    """Validation loss (left, log-log) and validation accuracy (right) after each epoch.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    curves : dict
        Run label to ``{"val_loss": (E+1,), "val_accuracy": (E+1,)}``: entry ``e`` is
        after epoch ``e`` (entry 0, before training, is not drawn on the log axis).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax1, ax2 = fig.subplots(1, 2)
    for i, (label, c) in enumerate(curves.items()):
        loss = np.asarray(c["val_loss"], dtype=float)
        acc = np.asarray(c["val_accuracy"], dtype=float)
        epochs = np.arange(1, len(loss))
        ax1.loglog(epochs, loss[1:], label=label, **_style(i, len(epochs)))
        ax2.semilogx(epochs, 100 * acc[1:], label=label, **_style(i, len(epochs)))
    _finish(ax1, "epochs", "validation loss")
    _finish(ax2, "epochs", "validation accuracy (%)", legend=False)
    return fig


def draw_clock_curves(fig, curves, seconds_per_epoch):
    """Validation loss against training seconds (epochs times measured seconds per epoch).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    curves : dict
        Run label to ``{"val_loss": (E+1,)}`` (entry ``e`` after epoch ``e``).
    seconds_per_epoch : dict
        Run label to the measured seconds of one training epoch.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax = fig.add_subplot()
    for i, (label, c) in enumerate(curves.items()):
        loss = np.asarray(c["val_loss"], dtype=float)
        seconds = seconds_per_epoch[label] * np.arange(1, len(loss))
        ax.loglog(seconds, loss[1:], label=label, **_style(i, len(seconds)))
    _finish(ax, "training time (seconds, measured on this machine)", "validation loss")
    return fig


def draw_settling(fig, tolerance, patience, *, val_loss, settled, stops):
    r"""When the validation loss settles (tolerance), and what early stopping keeps (patience).

    The validation loss near its minimum, the band up to
    :math:`(1 + \tau) \min_e L_{\text{val}}(e)`, the settling epoch (dotted line), the epoch
    early stopping keeps (star) and the last epoch it trains (dash-dot line, if it stops).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    tolerance : float
        :math:`\tau`, a key of ``settled``.
    patience : int
        A key of ``stops``.
    val_loss : array_like, shape (E+1,)
        Validation loss after each epoch (entry 0 before training).
    settled : dict
        Tolerance to the first epoch from which the validation loss stays in the band.
    stops : dict
        Patience to ``(best_epoch, last_epoch)``: the epoch early stopping keeps and the
        last epoch it trained.

    Returns
    -------
    matplotlib.figure.Figure
    """
    val = np.asarray(val_loss, dtype=float)
    epochs = np.arange(len(val))
    ax = fig.add_subplot()
    low = val.min()
    band = (1 + tolerance) * low
    ax.plot(epochs, val, label="validation loss", **_style(0, len(val)))
    ax.axhspan(low, band, color="0.85", zorder=0, label=f"within {100 * tolerance:g} % of its min")
    ax.axhline(band, color="0.3", lw=1, ls=(0, (4, 2)))
    e_settled = settled[tolerance]
    ax.axvline(e_settled, color="k", lw=1.2, ls=":")
    best, last = stops[patience]
    ax.plot([best], [val[best]], marker="*", ms=14, color="k", ls="none",
            label=f"early stopping keeps epoch {best}")  # fmt: skip
    if last < len(val) - 1:
        ax.axvline(last, color="#D55E00", lw=1.4, ls="-.")
    ax.set_ylim(0.97 * low, 1.3 * low)
    stop = f"stops after epoch {last}" if last < len(val) - 1 else "never stops"
    ax.set_title(f"settled from epoch {e_settled}; patience {patience}: {stop}", fontsize=FONT)
    _finish(ax, "epochs", "validation loss (near its minimum)")
    ax.legend(fontsize=FONT, frameon=False, loc="upper right")
    return fig


def draw_order_curves(fig, curves):
    """Training-set loss (left) and validation loss (right) after each epoch, per order.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    curves : dict
        Order label to ``{"train_loss": (E+1,), "val_loss": (E+1,)}``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    for i, (label, c) in enumerate(curves.items()):
        for ax, key in ((ax1, "train_loss"), (ax2, "val_loss")):
            loss = np.asarray(c[key], dtype=float)
            ax.semilogy(np.arange(len(loss)), loss, label=label, **_style(i, len(loss)))
    _finish(ax1, "epochs", "training-set loss")
    _finish(ax2, "epochs", "validation loss", legend=False)
    return fig


def _grouped_bars(ax, values, width=0.8):
    labels = list(values)
    w = width / len(labels)
    classes = np.arange(len(next(iter(values.values()))))
    for i, label in enumerate(labels):
        style = STYLES[i % len(STYLES)]
        ax.bar(classes + (i - (len(labels) - 1) / 2) * w, values[label], width=w, label=label,
               color=style["color"], hatch=HATCHES[i % len(HATCHES)], edgecolor="k",
               linewidth=0.5)  # fmt: skip
    ax.set_xticks(classes)
    return classes


def draw_predicted_classes(fig, step, *, counts, true_counts, batch_classes, num_steps):
    """How many validation images the net assigns to each class, after ``step`` steps.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    step : int
        Number of steps taken (0 is the start); a valid row of every ``counts`` array.
    counts : dict
        Order label to an int array ``(num_steps + 1, C)``: predicted-class counts on the
        validation set after each step.
    true_counts : array_like, shape (C,)
        How many validation images each class has (drawn as black bars).
    batch_classes : sequence of str
        Entry ``step - 1``: the classes in the sorted order's batch of that step.
    num_steps : int
        Steps in the epoch (for the title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax = fig.add_subplot()
    classes = _grouped_bars(ax, {label: c[step] for label, c in counts.items()}, width=0.7)
    ax.plot(classes, true_counts, ls="none", marker="_", ms=16, mew=2.5, color="k",
            label="true count")  # fmt: skip
    top = max(int(np.max([c.max() for c in counts.values()])), int(np.max(true_counts)))
    ax.set_ylim(0, 1.08 * top)
    if step == 0:
        seen = "the start"
    else:
        digits = batch_classes[step - 1]
        seen = f"the sorted order's step {step} saw digit{'s' if ',' in digits else ''} {digits}"
    ax.set_title(f"after {step} of {num_steps} steps ({seen})", fontsize=FONT)
    _finish(ax, "predicted digit", "validation images")
    ax.grid(False)
    return fig


def draw_class_accuracy(fig, accuracies, *, title=None):
    """Validation accuracy of each class, one group of bars per class, one bar per run.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    accuracies : dict
        Run label to an array ``(C,)`` of per-class accuracies in [0, 1].
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax = fig.add_subplot()
    _grouped_bars(ax, {label: 100 * np.asarray(a, dtype=float) for label, a in accuracies.items()})
    ax.set_ylim(0, 105)
    if title:
        ax.set_title(title, fontsize=FONT + 1)
    _finish(ax, "digit", "validation accuracy (%)")
    ax.grid(False)
    ax.legend(fontsize=FONT, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=len(accuracies))  # fmt: skip
    return fig
