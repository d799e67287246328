r"""Figure builders of the distributed chapter (Part V).

Every builder draws numbers that the processes (or the cost model) have already
produced and the notebook has printed; none of them trains or times anything, so a
figure cannot disagree with the numbers next to it.  Matplotlib is imported inside
the functions.

* :func:`plot_rounds` - training-set cost against communication rounds, one line per
  number of local steps :math:`k`, one panel per way of sharding the data.
* :func:`plot_bias` - local SGD on a least-squares problem: the gap to the minimum
  settles at a level that grows with :math:`k`.
* :func:`plot_step_times` - measured time per step on this machine, split into compute
  and all-reduce, against the number of processes.
* :func:`plot_cost_model` - the cost model's time per step against :math:`P`, for
  data-parallel SGD and local SGD, with the crossover where communication dominates.
* :func:`draw_local_sgd` - one frame of the explorable over :math:`k` and :math:`P`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .style import BLUE, GREY, LIGHT_GREY, ORANGE, series

__all__ = ["draw_local_sgd", "plot_bias", "plot_cost_model", "plot_rounds", "plot_step_times"]

#: One look (colour, line style, marker) per number of local steps, the same in every figure.
K_STYLES = {k: series(i) for i, k in enumerate((1, 4, 16, 64, 2, 8, 32))}


def _look(k: int) -> dict:
    """Colour and line style of the curves of ``k`` local steps."""
    look = K_STYLES.get(k, {"color": GREY, "linestyle": "-"})
    return {"color": look["color"], "linestyle": look["linestyle"]}


def _curve(rounds: ArrayLike, loss: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r, y = np.asarray(rounds, dtype=float), np.asarray(loss, dtype=float)
    if r.shape != y.shape or r.ndim != 1:
        raise ValueError(f"rounds and loss must be 1-D of one length; got {r.shape}, {y.shape}")
    keep = r >= 1  # a log axis: the start (round 0) is left out
    return r[keep], y[keep]


def plot_rounds(panels: Mapping[str, Mapping[int, tuple[ArrayLike, ArrayLike]]], *, target: float):
    r"""Training-set cost against communication rounds, per :math:`k`, per panel.

    Parameters
    ----------
    panels : mapping
        Panel title to ``{k: (rounds, loss)}``: the all-reduces done and the
        training-set cost after them (round 0, the start, is not drawn on the log axis).
    target : float
        Cost drawn as a dotted line (the "rounds to target" of the chapter's table).

    Returns
    -------
    matplotlib.figure.Figure
        One axis per panel; line ``i`` of an axis is the ``i``-th ``k``.
    """
    import matplotlib.pyplot as plt

    width = min(7.0, 3.5 * len(panels))
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 3.0), sharey=True,
                             layout="constrained")  # fmt: skip
    axes = np.atleast_1d(axes)
    for ax, (title, curves) in zip(axes, panels.items(), strict=True):
        for k, (rounds, loss) in curves.items():
            x, y = _curve(rounds, loss)
            ax.plot(x, y, lw=1.8, label=f"k = {k}", **_look(k))
        ax.axhline(target, color=GREY, ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("communication rounds (all-reduces)")
        ax.set_title(title)
        ax.grid(True, which="both")
    axes[0].set_ylabel("training-set cost")
    axes[0].legend(title="local steps")
    return fig


def plot_bias(curves: Mapping[int, tuple[ArrayLike, ArrayLike]]):
    r"""The gap :math:`E(\theta) - E^*` against steps, one line per :math:`k`.

    Parameters
    ----------
    curves : mapping
        ``{k: (steps, gap)}``: global steps done and the gap to the minimum of the
        training-set cost after the averages recorded then.

    Returns
    -------
    matplotlib.figure.Figure
        Line ``i`` is the ``i``-th ``k``.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.4), layout="constrained")
    for k, (steps, gap) in curves.items():
        x, y = _curve(steps, gap)
        ax.plot(x, y, lw=1.8, label=f"k = {k}", **_look(k))
    ax.set_yscale("log")
    ax.set_xlabel("steps (global batches)")
    ax.set_ylabel(r"$E(\theta) - E^*$")
    ax.set_title("Constant rate: local SGD settles above the minimum")
    ax.legend(title="local steps")
    ax.grid(True, which="both")
    return fig


def plot_step_times(
    num_procs: Sequence[int],
    panels: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    cores: int,
):
    r"""Measured milliseconds per step, compute below and all-reduce on top.

    Parameters
    ----------
    num_procs : sequence of int
        :math:`P` of each bar.
    panels : mapping
        Panel title to ``(compute_ms, comm_ms)``, arrays shaped like ``num_procs``.
    cores : int
        Cores of the machine, marked by a vertical line: to its right the processes
        share cores.

    Returns
    -------
    matplotlib.figure.Figure
        Per axis, the compute bars are the first container, the all-reduce bars the
        second.
    """
    import matplotlib.pyplot as plt

    P = np.asarray(num_procs)
    x = np.arange(len(P))
    width = min(7.0, 3.5 * len(panels))
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 3.0), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, (title, (compute, comm)) in zip(axes, panels.items(), strict=True):
        compute, comm = np.asarray(compute, dtype=float), np.asarray(comm, dtype=float)
        if compute.shape != P.shape or comm.shape != P.shape:
            raise ValueError(f"{title}: need one compute and one comm time per P = {P.tolist()}")
        ax.bar(x, compute, color=BLUE, label="compute")
        ax.bar(x, comm, bottom=compute, color=ORANGE, hatch="///", edgecolor="white",
               linewidth=0, label="all-reduce (incl. waiting)")  # fmt: skip
        ax.set_ylim(top=1.3 * float(np.max(compute + comm)))  # room for the legend
        over = np.flatnonzero(P > cores)
        if over.size:
            ax.axvline(over[0] - 0.5, color="0.4", ls="--", lw=1)
            ax.text(over[0] - 0.45, ax.get_ylim()[1] * 0.78, f"> {cores} cores", fontsize=9,
                    va="top")  # fmt: skip
        ax.set_xticks(x, [str(p) for p in P])
        ax.set_xlabel("processes $P$")
        ax.set_title(title)
        ax.grid(True, axis="y")
        ax.set_axisbelow(True)
    axes[0].set_ylabel("milliseconds per step")
    axes[0].legend(loc="upper left")
    return fig


def plot_cost_model(
    num_procs: ArrayLike,
    curves: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    crossovers: Mapping[str, int | None] | None = None,
    title: str = "",
):
    r"""The cost model's seconds per step against :math:`P` (log-log).

    Parameters
    ----------
    num_procs : array_like of int, shape (n,)
        :math:`P`.
    curves : mapping
        Label to ``(compute, comm)``, seconds per step shaped like ``num_procs``
        (:func:`mlcore.comm_model.step_seconds`); the total is drawn solid, the
        communication part dashed.
    crossovers : mapping, optional
        Label to the crossover :math:`P` (:func:`mlcore.comm_model.crossover`), marked
        with a dot on that label's total if it is one of ``num_procs``.
    title : str, optional
        Axis title.

    Returns
    -------
    matplotlib.figure.Figure
        For label ``i``: line ``3i`` is the total, line ``3i + 1`` the communication
        (:math:`P \ge 2`), line ``3i + 2`` the crossover dot (empty if none is drawn).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    P = np.asarray(num_procs, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    # markers at powers of two (evenly spaced on the log axis), one shape per curve
    marks = np.flatnonzero(np.log2(P) == np.round(np.log2(P)))
    for i, (label, (compute, comm)) in enumerate(curves.items()):
        compute, comm = np.asarray(compute, dtype=float), np.asarray(comm, dtype=float)
        look = series(i)
        c, m = look["color"], ("s", "^", "D", "v", "P", "X")[i % 6]
        ax.plot(P, 1e3 * (compute + comm), "-", color=c, lw=1.8, marker=m, ms=5,
                markevery=list(marks[::2]), label=label)  # fmt: skip
        talks = comm > 0  # one process sends nothing (and log axes have no 0)
        at_marks = [j for j, idx in enumerate(np.flatnonzero(talks)) if idx in set(marks[1::2])]
        ax.plot(P[talks], 1e3 * comm[talks], "--", color=c, lw=1, marker=m, ms=4, mfc="white",
                markevery=at_marks)  # fmt: skip
        star = (crossovers or {}).get(label)
        at = np.flatnonzero(P == star) if star is not None else np.array([], dtype=int)
        ax.plot(P[at[:1]], 1e3 * (compute + comm)[at[:1]], "o", color=c, ms=9, mec="k", mew=1.0,
                zorder=5)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("processes $P$")
    ax.set_ylabel("milliseconds per step (model)")
    ax.set_title(title or "Time per step (model)")
    key = [
        Line2D([], [], color="0.2", lw=1.8, linestyle="-", label="total"),
        Line2D([], [], color="0.2", lw=1, linestyle="--", label="all-reduce part"),
        Line2D([], [], color="0.6", marker="o", ms=8, mec="k", linestyle="none",
               label="crossover"),
    ]  # fmt: skip
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles + key, labels + [h.get_label() for h in key], loc="outside right upper")
    ax.grid(True, which="both")
    return fig


def draw_local_sgd(
    fig,
    local_steps: int,
    num_procs: int,
    shards: str,
    *,
    runs: Mapping[tuple[str, int, int], Mapping[str, object]],
    target: float,
) -> None:
    r"""One frame of the explorable: local SGD with :math:`k` steps on :math:`P` processes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    local_steps, num_procs : int
        :math:`k` and :math:`P` of the frame.
    shards : str
        Key of the sharding (e.g. ``"random"`` or ``"by digit"``).
    runs : mapping
        ``(shards, P, k)`` to a result with ``"rounds"``, ``"loss"`` (arrays) and
        ``"distance"`` (relative distance of the final parameters to the
        single-process run); ``(shards, P, 1)`` must be present (drawn as reference).
    target : float
        Cost drawn as a dotted line.
    """
    run = runs[(shards, num_procs, local_steps)]
    ref = runs[(shards, num_procs, 1)]
    ax = fig.add_subplot()
    x, y = _curve(ref["rounds"], ref["loss"])
    ax.plot(x, y, "-", color=LIGHT_GREY, lw=5, solid_capstyle="butt",
            label="k = 1 (data-parallel SGD)")  # fmt: skip
    x, y = _curve(run["rounds"], run["loss"])
    same = " (the same run: the curves coincide)" if local_steps == 1 else ""
    ax.plot(x, y, lw=1.8, label=f"k = {local_steps}{same}", **_look(local_steps))
    ax.axhline(target, color=GREY, ls=":", lw=1, label="target cost")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.8, 1.2 * float(np.max(ref["rounds"])))
    ax.set_xlabel("communication rounds")
    ax.set_ylabel("training-set cost")
    d = float(run["distance"])
    ax.set_title(
        f"P = {num_procs}, shards {shards}: {int(np.max(run['rounds']))} rounds, "
        f"distance to one process {'< 1e-12' if d < 1e-12 else f'{d:.1e}'}"
    )
    ax.legend(loc="upper right")
    ax.grid(True, which="both")
