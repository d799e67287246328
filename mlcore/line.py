r"""The line :math:`\hat y = w x + b`: the two-parameter model of Parts I and II.

Most pictures of the book use this model with the squared-error cost

.. math::

    E(w, b) = \frac1N \sum_{n=1}^N E_n, \qquad E_n = \tfrac12 (w x_n + b - y_n)^2,

whose parameters :math:`\theta = (w, b)` are the flattened parameters of
``init_params([1, 1], rng)``, so every trajectory can be drawn over the
contours of :math:`E`.  This module holds the cost on many points at once, the
problem the chapters share (data, start, minimiser, grid) and the simulations
the chapters run on it; the figures that draw them are in
``mlcore.figures``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import FloatArray, IntArray, LastBatch, Params, Reduction
from .averaging import federated_averaging
from .data import least_squares, make_line
from .params import _flatten
from .training import History, train

__all__ = [
    "LineProblem",
    "batch_size_sweep",
    "examples_seen",
    "fedavg_and_gd",
    "line_cost",
    "line_cost_grid",
    "line_problem",
    "per_example_limits",
    "same_budget_runs",
    "three_answers",
]


def line_cost(
    thetas: ArrayLike, X: ArrayLike, y: ArrayLike, *, reduction: Reduction = "mean"
) -> float | NDArray[np.float64]:
    r"""Squared-error cost of the line :math:`\hat y = w x + b` at many :math:`(w, b)` at once.

    .. math::

        E(w, b) = c \sum_{n=1}^N \tfrac12 (w x_n + b - y_n)^2, \qquad
        c = 1/N \ (\text{mean}) \text{ or } 1 \ (\text{sum}).

    Parameters
    ----------
    thetas : array_like, shape (..., 2)
        Points :math:`(w, b)`: one pair, rows of a trajectory, or a grid.
    X : array_like, shape (N, 1)
        Inputs (one feature).
    y : array_like, shape (N, 1) or (N,)
        Targets.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.

    Returns
    -------
    ndarray, shape (...) (a float for one pair)
        The cost at every point.
    """
    T = np.asarray(thetas, dtype=np.float64)
    if T.ndim == 0 or T.shape[-1] != 2:
        raise ValueError(f"thetas must have shape (..., 2), pairs (w, b); got shape {T.shape}")
    X = _checks.float_matrix(X, "X")
    if X.shape[1] != 1:
        raise ValueError(f"X must have shape (N, 1) (one feature); got {X.shape}")
    t = np.asarray(y, dtype=np.float64).reshape(-1)
    if t.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} entries (one per row of X); got {t.shape[0]}")
    _checks.choice(reduction, ("sum", "mean"), "reduction")
    r = T[..., :1] * X[:, 0] + T[..., 1:] - t  # (..., N) residuals
    E = 0.5 * np.einsum("...n,...n->...", r, r)
    if reduction == "mean":
        E = E / X.shape[0]
    return float(E) if T.ndim == 1 else E


def line_cost_grid(
    X: ArrayLike,
    y: ArrayLike,
    w_grid: ArrayLike,
    b_grid: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> NDArray[np.float64]:
    r"""The squared-error cost of :math:`\hat y = w x + b` on a grid of :math:`(w, b)`.

    .. math::

        E(w, b) = c \sum_{n=1}^N \tfrac12 (w x_n + b - y_n)^2, \qquad
        c = 1 \ (\text{sum}) \text{ or } 1/N \ (\text{mean}).

    Parameters
    ----------
    X : array_like, shape (N, 1)
        Inputs (one feature).
    y : array_like, shape (N, 1) or (N,)
        Targets.
    w_grid, b_grid : array_like, shape (G_w,) and (G_b,)
        Grid values of the slope and the intercept.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.

    Returns
    -------
    ndarray, shape (G_b, G_w)
        ``E[i, j]`` is the cost at ``(w_grid[j], b_grid[i])`` (the layout of
        :func:`matplotlib.pyplot.contour`).
    """
    Wg, Bg = np.meshgrid(np.asarray(w_grid, dtype=np.float64), np.asarray(b_grid, dtype=np.float64))
    E = line_cost(np.stack([Wg, Bg], axis=-1), X, y, reduction=reduction)
    return cast(NDArray[np.float64], E)  # an array: the points form a grid


@dataclass
class LineProblem:
    r"""A data set for :math:`\hat y = w x + b`, a start and a grid of the cost.

    Attributes
    ----------
    X : ndarray, shape (N, 1)
        Inputs.
    y : ndarray, shape (N, 1)
        Targets.
    params : list of dict
        Starting parameters ``[{"W": [[w0]], "b": [b0]}]``.
    theta_star : ndarray, shape (2,)
        Least-squares minimiser :math:`(w^*, b^*)` of :math:`E`.
    extent : (float, float, float, float)
        ``(w_lo, w_hi, b_lo, b_hi)`` of the contour grid.
    grid : tuple of ndarray
        ``(Wg, Bg, E)`` meshgrid and cost values, shape ``(G, G)`` each.
    """

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    params: Params
    theta_star: NDArray[np.float64]
    extent: tuple[float, float, float, float]
    grid: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def line_problem(
    rng: np.random.Generator,
    *,
    num_examples: int = 8,
    start: tuple[float, float] = (-1.5, 2.5),
    noise: float = 0.4,
    grid: int = 80,
    pad: float = 1.0,
) -> LineProblem:
    r"""Noisy points on a line, a start :math:`\theta_0` and the cost on a grid.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the data (via :func:`mlcore.data.make_line`).
    num_examples : int, default 8
        :math:`N`.
    start : (float, float), default (-1.5, 2.5)
        :math:`\theta_0 = (w_0, b_0)`.
    noise : float, default 0.4
        Noise standard deviation.
    grid : int, default 80
        Grid points per axis for the contours.
    pad : float, default 1.0
        Margin around the start and the minimiser.

    Returns
    -------
    LineProblem
    """
    X, y, _ = make_line(num_examples, rng, w=2.0, b=-1.0, noise=noise)
    ls = least_squares(X, y)
    theta_star = np.array([ls[0]["W"][0, 0], ls[0]["b"][0]])
    s = np.asarray(start, dtype=np.float64)
    lo = np.minimum(s, theta_star) - pad
    hi = np.maximum(s, theta_star) + pad
    extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    Wg, Bg = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    E = np.reshape(line_cost(np.column_stack([Wg.ravel(), Bg.ravel()]), X, y), Wg.shape)
    params = [{"W": np.array([[s[0]]]), "b": np.array([s[1]])}]
    return LineProblem(X, y, params, theta_star, extent, (Wg, Bg, E))


def three_answers(
    problem: LineProblem, *, lr: float, num_steps: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    r"""The three candidate answers to "which gradient?", run side by side on the line.

    * ``"gd"``: average the gradients at every step, i.e. gradient descent on
      :math:`E = \frac1N \sum_n E_n`;
    * ``"average_at_end"``: gradient descent on each example's :math:`E_n` alone
      from the common start, the :math:`N` weight vectors averaged afterwards
      (entry :math:`t` is the average after :math:`t` steps of every run);
    * ``"sgd"``: one example at a time, a fresh random order every epoch.

    Parameters
    ----------
    problem : LineProblem
        Data and start :math:`\theta_0`.
    lr : float
        Learning rate :math:`\eta` of every method.
    num_steps : int
        Updates per run, ``>= 1``.
    rng : numpy.random.Generator
        Shuffles the order of the examples for ``"sgd"``.

    Returns
    -------
    dict of str to ndarray
        Each method's trajectory, shape ``(num_steps + 1, 2)``, rows :math:`(w, b)`.
    """
    T = _checks.positive_int(num_steps, "num_steps")
    X, y, p0 = problem.X, problem.y, problem.params
    N = X.shape[0]
    common: dict[str, Any] = dict(
        activations="identity", lr=lr, record="epoch", track_epoch_loss=False
    )
    _, gd = train(p0, X, y, num_epochs=T, shuffle="never", **common)
    ends = [train(p0, X[n : n + 1], y[n : n + 1], num_epochs=T, shuffle="never", **common)[1]
            for n in range(N)]  # fmt: skip
    avg = np.mean([_recorded(h) for h in ends], axis=0)  # average the weights, run by run
    _, sgd = train(p0, X, y, activations="identity", lr=lr, batch_size=1, rng=rng,
                   num_epochs=-(-T // N), record="step", track_epoch_loss=False)  # fmt: skip
    return {"gd": _recorded(gd), "average_at_end": avg, "sgd": _recorded(sgd)[: T + 1]}


def _recorded(history: History) -> FloatArray:
    """The trajectory of a run of :func:`~mlcore.training.train` made with ``record`` set."""
    return cast(FloatArray, history.trajectory)


def per_example_limits(params: Params, X: ArrayLike, y: ArrayLike) -> FloatArray:
    r"""Where gradient descent on one example alone ends, for each example (linear model).

    With :math:`a_n = (x_n, 1)`, :math:`E_n(\theta) = \tfrac12 (a_n^\top\theta - y_n)^2`
    has gradient :math:`(a_n^\top\theta - y_n)\, a_n`: every step moves
    :math:`\theta` along :math:`a_n` only, so from :math:`\theta_0` (with a
    stable step, :math:`0 < \eta \lVert a_n\rVert^2 < 2`) the run converges to
    the orthogonal projection of :math:`\theta_0` on the line
    :math:`\{\theta : a_n^\top\theta = y_n\}` of that example's minimisers,

    .. math::

        \theta_n^\infty = \theta_0 - \frac{a_n^\top\theta_0 - y_n}{\lVert a_n\rVert^2}\, a_n .

    Parameters
    ----------
    params : list of dict
        :math:`\theta_0` of the model ``[{"W": (1, 1), "b": (1,)}]``.
    X : array_like, shape (N, 1)
        Inputs.
    y : array_like, shape (N, 1)
        Targets.

    Returns
    -------
    ndarray, shape (N, 2)
        Row :math:`n` is :math:`\theta_n^\infty = (w, b)`.
    """
    theta0 = _flatten(params)
    if theta0.shape != (2,):
        raise ValueError(f"params must be the 2-parameter model w x + b; got {theta0.size} params")
    A = np.column_stack([np.asarray(X, dtype=np.float64).reshape(-1), np.ones(np.shape(X)[0])])
    t = np.asarray(y, dtype=np.float64).reshape(-1)
    r = A @ theta0 - t
    return theta0 - (r / np.einsum("ij,ij->i", A, A))[:, None] * A


def fedavg_and_gd(
    problem: LineProblem, *, lr: float, local_steps: int, budget: int
) -> dict[str, FloatArray]:
    r"""Gradient descent and federated averaging with the same gradient budget.

    Every example is its own subset.  Gradient descent makes ``budget`` steps
    on the mean cost; federated averaging makes ``budget // local_steps``
    rounds of ``local_steps`` local steps per example followed by an
    average, so each example's gradient is evaluated ``budget`` times in both.

    Parameters
    ----------
    problem : LineProblem
        Data and start.
    lr : float
        Learning rate :math:`\eta` (global for GD, local for FedAvg).
    local_steps : int
        :math:`k \ge 1`.
    budget : int
        Gradient evaluations per example, a multiple of ``local_steps``.

    Returns
    -------
    dict
        ``"gd"``: trajectory ``(budget + 1, 2)``; ``"fedavg"``: trajectory
        ``(budget // k + 1, 2)`` of the averages; ``"gd_cost"``, ``"fedavg_cost"``:
        the cost along each.
    """
    k = _checks.positive_int(local_steps, "local_steps")
    budget = _checks.positive_int(budget, "budget")
    if budget % k:
        raise ValueError(f"budget must be a multiple of local_steps={k}; got {budget}")
    X, y, p0 = problem.X, problem.y, problem.params
    _, hist = train(p0, X, y, activations="identity", lr=lr, num_epochs=budget,
                    shuffle="never", record="epoch", track_epoch_loss=False)  # fmt: skip
    _, fed = federated_averaging(p0, X, y, activations="identity", lr=lr, local_steps=k,
                             rounds=budget // k)  # fmt: skip
    gd = _recorded(hist)
    return {
        "gd": gd,
        "fedavg": fed.trajectory,
        "gd_cost": cast(FloatArray, line_cost(gd, X, y)),
        "fedavg_cost": fed.round_loss,
    }


def same_budget_runs(
    problem: LineProblem,
    batch_sizes: Sequence[int],
    *,
    lr: float,
    num_epochs: int,
    rng: np.random.Generator,
) -> dict[int, tuple[FloatArray, FloatArray, IntArray]]:
    r"""Train the line with several batch sizes for the same number of epochs.

    Every run evaluates ``num_epochs * N`` per-example gradients, whatever
    :math:`B`; it makes :math:`\lceil N/B \rceil` updates per epoch.

    Parameters
    ----------
    problem : LineProblem
        Data and start.
    batch_sizes : sequence of int
        Values of :math:`B`.
    lr : float
        Learning rate (mean reduction).
    num_epochs : int
        Passes over the data.
    rng : numpy.random.Generator
        Shuffles every epoch.

    Returns
    -------
    dict
        ``B -> (trajectory (T, 2), cost (T,), examples_seen (T,))`` per update.
    """
    X, y = problem.X, problem.y
    N = X.shape[0]
    out = {}
    for B in batch_sizes:
        _, hist = train(problem.params, X, y, activations="identity", lr=lr,
                        num_epochs=num_epochs, batch_size=B, rng=rng, record="step",
                        track_epoch_loss=False)  # fmt: skip
        seen = examples_seen(N, B, num_epochs)
        trajectory = _recorded(hist)
        out[B] = (trajectory, cast(FloatArray, line_cost(trajectory, X, y)), seen)
    return out


def examples_seen(num_examples: int, batch_size: int, num_epochs: int) -> IntArray:
    r"""Examples seen before each update of minibatch SGD, starting at 0.

    Parameters
    ----------
    num_examples : int
        :math:`N`.
    batch_size : int
        :math:`B`; the last batch of an epoch has :math:`N \bmod B` examples if that is not 0.
    num_epochs : int
        Passes over the data.

    Returns
    -------
    ndarray of int, shape (num_updates + 1,)
        Cumulative number of examples whose gradient has been used.
    """
    sizes = [batch_size] * (num_examples // batch_size)
    if num_examples % batch_size:
        sizes.append(num_examples % batch_size)
    return np.concatenate([[0], np.cumsum(np.tile(sizes, num_epochs))])


def batch_size_sweep(
    problem: LineProblem,
    batch_sizes: Sequence[int],
    *,
    lr: float,
    reduction: Reduction,
    scale_lr: bool = False,
    last_batch: LastBatch = "keep",
    num_epochs: int = 5,
) -> NDArray[np.float64]:
    r"""Full-set cost after a few epochs of minibatch SGD, for several batch sizes.

    Parameters
    ----------
    problem : LineProblem
        Data and start.
    batch_sizes : sequence of int
        Values of :math:`B`.
    lr : float
        Learning rate :math:`\eta` (for ``scale_lr``: the rate at :math:`B = 1`).
    reduction : {"sum", "mean"}
        Reduction of each batch's cost.
    scale_lr : bool, default False
        Use :math:`\eta B` (the linear scaling heuristic) instead of :math:`\eta`.
    last_batch : {"keep", "weighted", "drop"}, default "keep"
        Treatment of a partial last batch (:func:`mlcore.training.train`).
    num_epochs : int, default 5
        Passes over the data, in the data's order (no shuffling).

    Returns
    -------
    ndarray, shape (len(batch_sizes),)
        Final cost; ``inf`` where training diverged, that is where the cost or the
        parameters stopped being finite (:func:`mlcore.training.train` with
        ``on_divergence="stop"``).  A run that grows without overflowing keeps its
        finite, large cost.
    """
    out: list[float] = []
    for B in batch_sizes:
        eta = lr * B if scale_lr else lr
        p, hist = train(problem.params, problem.X, problem.y, activations="identity", lr=eta,
                        num_epochs=num_epochs, batch_size=int(B), shuffle="never",
                        reduction=reduction, last_batch=last_batch, track_epoch_loss=False,
                        on_divergence="stop")  # fmt: skip
        out.append(np.inf if hist.diverged else float(line_cost(_flatten(p), problem.X, problem.y)))
    return np.array(out)
