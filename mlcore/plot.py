r"""Plot helpers: loss curves, cost contours with trajectories, gradient arrows.

Every function takes an optional matplotlib ``Axes`` (a new figure is made if
omitted) and returns the ``Axes`` it drew on.  matplotlib is imported lazily,
so ``import mlcore`` never needs it.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .mlp import check_model, cost
from .params import _flatten, _unflatten

__all__ = [
    "cost_surface",
    "plot_cost_contour",
    "plot_gradient_arrows",
    "plot_loss",
    "plot_trajectory",
]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt  # lazy: optional dependency

        _, ax = plt.subplots()
    return ax


def plot_loss(history, ax=None, *, per="step", label=None, logy=False, **kwargs):
    r"""Plot a loss curve.

    Parameters
    ----------
    history : History or array_like
        A :class:`mlcore.train.History` (its ``step_loss`` or ``epoch_loss``) or
        a 1-D sequence of losses.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    per : {"step", "epoch"}, default "step"
        Which curve of a ``History``: x axis in steps, or in epochs (epoch 0 =
        before training).  With ``per="epoch"`` and ``record``-free histories the
        x values are ``0..num_epochs``.
    label : str, optional
        Legend label.
    logy : bool, default False
        Logarithmic y axis.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    _checks.choice(per, ("step", "epoch"), "per")
    if hasattr(history, "step_loss"):
        values = history.step_loss if per == "step" else history.epoch_loss
    else:
        values = history
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"history must give a non-empty 1-D loss sequence; got shape {values.shape}"
        )
    ax = _axes(ax)
    x = np.arange(values.size) if per == "epoch" else np.arange(1, values.size + 1)
    ax.plot(x, values, label=label, **kwargs)
    ax.set_xlabel("epoch" if per == "epoch" else "step")
    ax.set_ylabel("cost $E$")
    if logy:
        ax.set_yscale("log")
    if label is not None:
        ax.legend()
    return ax


def cost_surface(
    params,
    X,
    Y,
    values0,
    values1,
    *,
    indices=(0, 1),
    activations="identity",
    loss="squared_error",
    reduction="mean",
):
    r"""The cost on a grid of two parameters, the others held at ``params``.

    For the 2-parameter model :math:`\hat y = w x + b` (``init_params([1, 1], rng)``)
    the flattened parameters are :math:`\theta = (w, b)` and the default
    ``indices=(0, 1)`` gives :math:`E(w, b)`.

    Parameters
    ----------
    params : list of dict
        Network parameters; the varied entries are overwritten on a copy.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    values0, values1 : array_like, shape (G0,) and (G1,)
        Grid values for :math:`\theta_{i_0}` and :math:`\theta_{i_1}`.
    indices : (int, int), default (0, 1)
        Positions in the flattened parameter vector (see
        :func:`mlcore.params.flatten_params`).
    activations : str or sequence of str, default "identity"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.

    Returns
    -------
    T0, T1 : ndarray, shape (G1, G0)
        Meshgrid of the two parameters.
    E : ndarray, shape (G1, G0)
        The cost at every grid point.
    """
    X, Y = check_model(params, X, Y, activations, loss, reduction)
    theta = _flatten(params)
    i0, i1 = _indices(indices, theta.size)
    v0 = _grid_values(values0, "values0")
    v1 = _grid_values(values1, "values1")
    T0, T1 = np.meshgrid(v0, v1)
    E = np.empty(T0.shape)
    for idx in np.ndindex(T0.shape):
        theta[i0], theta[i1] = T0[idx], T1[idx]
        E[idx] = cost(_unflatten(theta, params), X, Y, activations, loss, reduction, check=False)
    return T0, T1, E


def plot_cost_contour(
    params,
    X,
    Y,
    range0,
    range1,
    ax=None,
    *,
    indices=(0, 1),
    activations="identity",
    loss="squared_error",
    reduction="mean",
    num=60,
    levels=20,
    filled=False,
    **kwargs,
):
    r"""Contour plot of the cost over two parameters (e.g. :math:`E(w, b)`).

    Parameters
    ----------
    params : list of dict
        Network parameters (the other entries stay fixed).
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    range0, range1 : (float, float)
        Intervals for :math:`\theta_{i_0}` (x axis) and :math:`\theta_{i_1}` (y axis).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    indices : (int, int), default (0, 1)
        Positions in the flattened parameter vector.
    activations, loss, reduction
        As in :func:`cost_surface`.
    num : int, default 60
        Grid points per axis.
    levels : int or array_like, default 20
        Contour levels (passed to ``contour``).
    filled : bool, default False
        Use ``contourf``.
    **kwargs
        Passed to ``Axes.contour`` / ``contourf``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    num = _checks.positive_int(num, "num", minimum=2)
    lo0, hi0 = _checks.interval(range0, "range0")
    lo1, hi1 = _checks.interval(range1, "range1")
    T0, T1, E = cost_surface(
        params, X, Y, np.linspace(lo0, hi0, num), np.linspace(lo1, hi1, num),
        indices=indices, activations=activations, loss=loss, reduction=reduction,
    )  # fmt: skip
    ax = _axes(ax)
    (ax.contourf if filled else ax.contour)(T0, T1, E, levels=levels, **kwargs)
    i0, i1 = indices
    ax.set_xlabel(rf"$\theta_{{{i0}}}$" if indices != (0, 1) else "$w$")
    ax.set_ylabel(rf"$\theta_{{{i1}}}$" if indices != (0, 1) else "$b$")
    return ax


def plot_trajectory(trajectory, ax=None, *, indices=(0, 1), label=None, marker="o", **kwargs):
    r"""Draw a path through parameter space (two coordinates), e.g. over a contour plot.

    Parameters
    ----------
    trajectory : array_like, shape (T, P)
        Flattened parameters over time, e.g. ``History.trajectory``.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    indices : (int, int), default (0, 1)
        Which two coordinates to plot.
    label : str, optional
        Legend label.
    marker : str, default "o"
        Marker of the points.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim != 2 or traj.shape[0] == 0:
        raise ValueError(f"trajectory must have shape (T, P) with T >= 1; got shape {traj.shape}")
    i0, i1 = _indices(indices, traj.shape[1])
    ax = _axes(ax)
    ax.plot(traj[:, i0], traj[:, i1], marker=marker, markersize=3, label=label, **kwargs)
    ax.plot(traj[-1, i0], traj[-1, i1], marker="*", markersize=10, color=ax.lines[-1].get_color())
    if label is not None:
        ax.legend()
    return ax


def plot_gradient_arrows(
    gradients, origin=(0.0, 0.0), ax=None, *, scale=1.0, descent=True, show_mean=True, **kwargs
):
    r"""Per-example gradient arrows from a common point, and their mean.

    With ``descent=True`` each arrow is :math:`-\text{scale}\cdot g_n` (the step
    example :math:`n` alone would take); the thick arrow is the mean
    :math:`-\text{scale}\cdot \frac1N \sum_n g_n`, the step of gradient descent
    on the mean cost.

    Parameters
    ----------
    gradients : array_like, shape (N, 2)
        Per-example gradients of a 2-parameter model (e.g. the rows of
        :func:`mlcore.stats.per_example_gradient_matrix`).
    origin : (float, float), default (0, 0)
        Where the arrows start (the current parameters).
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    scale : float, default 1.0
        Arrow length factor (e.g. the learning rate).
    descent : bool, default True
        Draw :math:`-g` (descent directions) instead of :math:`g`.
    show_mean : bool, default True
        Also draw the mean arrow.
    **kwargs
        Passed to ``Axes.quiver`` for the per-example arrows.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    G = np.asarray(gradients, dtype=np.float64)
    if G.ndim != 2 or G.shape[1] != 2 or G.shape[0] == 0:
        raise ValueError(f"gradients must have shape (N, 2); got shape {G.shape}")
    _checks.finite(G, "gradients")
    o = np.asarray(origin, dtype=np.float64)
    if o.shape != (2,):
        raise ValueError(f"origin must have shape (2,); got shape {o.shape}")
    scale = _checks.real(scale, "scale", positive=True)
    V = (-scale if descent else scale) * G
    ax = _axes(ax)
    kw = dict(angles="xy", scale_units="xy", scale=1, color="tab:blue", alpha=0.5, width=0.004)
    kw.update(kwargs)
    ax.quiver(np.full(len(V), o[0]), np.full(len(V), o[1]), V[:, 0], V[:, 1], **kw)
    if show_mean:
        m = V.mean(axis=0)
        ax.quiver(o[0], o[1], m[0], m[1], angles="xy", scale_units="xy", scale=1,
                  color="tab:red", width=0.012, label="mean")  # fmt: skip
    pts = np.vstack([o, o + V])
    pad = 0.1 * (np.ptp(pts, axis=0) + 1e-12)
    ax.update_datalim(np.vstack([pts.min(axis=0) - pad, pts.max(axis=0) + pad]))
    ax.autoscale_view()
    return ax


def _indices(indices, P):
    try:
        i0, i1 = (int(i) for i in indices)
    except Exception as exc:
        raise TypeError(f"indices must be a pair of ints; got {indices!r}") from exc
    if not (0 <= i0 < P and 0 <= i1 < P and i0 != i1):
        raise ValueError(f"indices must be two distinct positions in [0, {P}); got {indices!r}")
    return i0, i1


def _grid_values(v, name):
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 values; got shape {v.shape}")
    return _checks.finite(v, name)
