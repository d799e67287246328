r"""Simulations and figures of Part II: average the gradients, not the weights.

The chapters of Part II compare ways of turning many per-example gradients
into parameter updates.  Most of their pictures use the two-parameter model
:math:`\hat y = w x + b` with the mean squared-error cost

.. math::

    E(w, b) = \frac1N \sum_{n=1}^N E_n, \qquad E_n = \tfrac12 (w x_n + b - y_n)^2,

whose parameters :math:`\theta = (w, b)` are the flattened parameters of
``init_params([1, 1], rng)`` (see :mod:`mlcore.params`), so every trajectory
can be drawn over the contours of :math:`E`.

The ``draw_*`` functions have the signature ``draw(fig, **controls, **data)``
expected by :func:`mlcore.interactive.explorable` (bind the data with
:func:`functools.partial`).  matplotlib is imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .averaging import average_params, average_weights
from .data import line_cost as linear_cost  # the line's cost, re-exported for the chapters
from .mlp import cost, gradient, predict
from .params import _flatten
from .stats import covariance_trace, predicted_minibatch_trace
from .train import batch_schedule, train

__all__ = [
    "LineProblem",
    "draw_effective_lr",
    "draw_weight_interpolation",
    "draw_three_answers",
    "three_answers",
    "batch_size_sweep",
    "batch_gradients",
    "draw_average_weights",
    "draw_batch_sizes",
    "draw_minibatch_cloud",
    "draw_noise_vs_batch_size",
    "draw_per_example_limits",
    "draw_same_budget",
    "fedavg_and_gd",
    "line_problem",
    "linear_cost",
    "minibatch_means",
    "noise_vs_batch_size",
    "per_example_limits",
    "permute_hidden",
    "same_budget_runs",
]


# ----------------------------------------------------------------------------- the line
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

    X: np.ndarray
    y: np.ndarray
    params: list
    theta_star: np.ndarray
    extent: tuple
    grid: tuple


def line_problem(rng, *, num_examples=8, start=(-1.5, 2.5), noise=0.4, grid=80, pad=1.0):
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
    from .data import least_squares, make_line

    X, y, _ = make_line(num_examples, rng, w=2.0, b=-1.0, noise=noise)
    ls = least_squares(X, y)
    theta_star = np.array([ls[0]["W"][0, 0], ls[0]["b"][0]])
    s = np.asarray(start, dtype=np.float64)
    lo = np.minimum(s, theta_star) - pad
    hi = np.maximum(s, theta_star) + pad
    extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    Wg, Bg = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    E = linear_cost(np.column_stack([Wg.ravel(), Bg.ravel()]), X, y).reshape(Wg.shape)
    params = [{"W": np.array([[s[0]]]), "b": np.array([s[1]])}]
    return LineProblem(X, y, params, theta_star, extent, (Wg, Bg, E))


def _contours(ax, problem, *, star=True):
    Wg, Bg, E = problem.grid
    levels = np.quantile(E, np.linspace(0.0, 0.9, 14) ** 2)
    ax.contour(Wg, Bg, E, levels=np.unique(levels), colors="0.75", linewidths=0.7)
    if star:
        ax.plot(*problem.theta_star, marker="*", color="k", markersize=11, linestyle="none")
    ax.set_xlim(problem.extent[:2])
    ax.set_ylim(problem.extent[2:])
    ax.set_xlabel("$w$")
    ax.set_ylabel("$b$")


# ----------------------------------------------------------------------------- first look
def three_answers(problem, *, lr, num_steps, rng):
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
    common = dict(activations="identity", lr=lr, record="epoch", track_epoch_loss=False)
    _, gd = train(p0, X, y, num_epochs=T, shuffle="never", **common)
    ends = [train(p0, X[n : n + 1], y[n : n + 1], num_epochs=T, shuffle="never", **common)[1]
            for n in range(N)]  # fmt: skip
    avg = np.mean([h.trajectory for h in ends], axis=0)  # average the weights, run by run
    _, sgd = train(p0, X, y, activations="identity", lr=lr, batch_size=1, rng=rng,
                   num_epochs=-(-T // N), record="step", track_epoch_loss=False)  # fmt: skip
    return {"gd": gd.trajectory, "average_at_end": avg, "sgd": sgd.trajectory[: T + 1]}


def draw_three_answers(fig, num_steps, *, problem, lr=0.1, seed=0):
    r"""Paths of the three candidate answers on the contours of :math:`E` (left), cost (right).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    num_steps : int
        Updates shown.
    problem : LineProblem
        Data, start and contour grid.
    lr : float, default 0.1
        Learning rate of every method.
    seed : int, default 0
        Seed of the SGD order (the same for every ``num_steps``).
    """
    runs = three_answers(problem, lr=lr, num_steps=num_steps, rng=np.random.default_rng(seed))
    style = {
        "gd": ("tab:blue", "average the gradients (GD)"),
        "average_at_end": ("tab:purple", "GD per example, average the weights"),
        "sgd": ("tab:orange", "one example at a time (SGD)"),
    }
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    _contours(ax, problem)
    ax.plot(*_flatten(problem.params), "o", color="k", ms=4)
    steps = np.arange(num_steps + 1)
    for key, path in runs.items():
        color, label = style[key]
        ax.plot(*path.T, "-", color=color, lw=1.3, alpha=0.9)
        ax.plot(*path[-1], "o", color=color, ms=5, mec="k", mew=0.5)
        ax2.semilogy(steps, linear_cost(path, problem.X, problem.y), color=color, label=label)
    E_star = linear_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--", label="minimum of $E$")
    ax.set_title(f"after {num_steps} steps", fontsize=9)
    ax2.set_xlabel("steps")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.legend(fontsize=6)


# ----------------------------------------------------------------------------- chapter 1
def per_example_limits(params, X, y):
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
    A = np.column_stack([np.asarray(X, dtype=np.float64).reshape(-1), np.ones(len(X))])
    t = np.asarray(y, dtype=np.float64).reshape(-1)
    r = A @ theta0 - t
    return theta0 - (r / np.einsum("ij,ij->i", A, A))[:, None] * A


def draw_per_example_limits(fig, *, problem):
    r"""Each example's line of minimisers, where its own GD run ends, and their average.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    problem : LineProblem
        Data, start and contour grid.
    """
    ax = fig.add_subplot()
    _contours(ax, problem)
    theta0 = _flatten(problem.params)
    limits = per_example_limits(problem.params, problem.X, problem.y)
    w = np.linspace(*problem.extent[:2], 2)
    for n, (x_n, y_n) in enumerate(zip(problem.X[:, 0], problem.y[:, 0], strict=True)):
        ax.plot(w, y_n - x_n * w, color="tab:green", lw=0.6, alpha=0.6,
                label="$w x_n + b = y_n$ (one per example)" if n == 0 else None)  # fmt: skip
        ax.plot(*np.column_stack([theta0, limits[n]]), ":", color="tab:red", lw=0.8)
    ax.plot(*limits.T, "o", color="tab:red", ms=4, label="end of GD on one example")
    ax.plot(*limits.mean(axis=0), "X", color="tab:purple", ms=9, linestyle="none",
            label="average of those ends")  # fmt: skip
    ax.plot(*theta0, "o", color="k", ms=5, label=r"start $\theta_0$")
    ax.plot([], [], "*", color="k", ms=9, label=r"minimiser $\theta^*$ of $E$")
    ax.legend(fontsize=7, loc="lower left")


def fedavg_and_gd(problem, *, lr, local_steps, budget):
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
    _, fed = average_weights(p0, X, y, activations="identity", lr=lr, local_steps=k,
                             rounds=budget // k)  # fmt: skip
    gd = hist.trajectory
    return {
        "gd": gd,
        "fedavg": fed.trajectory,
        "gd_cost": linear_cost(gd, X, y),
        "fedavg_cost": fed.round_loss,
    }


def draw_average_weights(fig, local_steps, lr, *, problem, budget=60):
    r"""Contours with GD and FedAvg paths (left) and their cost per gradient evaluation (right).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    local_steps : int
        :math:`k`, local steps per example between two averages.
    lr : float
        Learning rate.
    problem : LineProblem
        Data, start and contour grid.
    budget : int, default 60
        Gradient evaluations per example (a multiple of every ``k`` shown).
    """
    runs = fedavg_and_gd(problem, lr=lr, local_steps=local_steps, budget=budget)
    limits = per_example_limits(problem.params, problem.X, problem.y)
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    _contours(ax, problem)
    ax.plot(*runs["gd"].T, "-", color="tab:blue", lw=1.5, label="GD (mean gradient)")
    ax.plot(*runs["fedavg"].T, "o-", color="tab:red", ms=3, lw=1.2,
            label=f"average weights every {local_steps} steps")  # fmt: skip
    ax.plot(*limits.mean(axis=0), marker="X", color="tab:purple", ms=8, linestyle="none",
            label="average of one-example limits")  # fmt: skip
    ax.legend(loc="lower left", fontsize=6)
    ax.set_title(f"$k = {local_steps}$, $\\eta = {lr:g}$", fontsize=9)
    evals = np.arange(budget + 1)
    ax2.semilogy(evals, runs["gd_cost"], color="tab:blue", label="GD")
    ax2.semilogy(evals[:: local_steps], runs["fedavg_cost"], "o-", color="tab:red", ms=3,
                 label="FedAvg")  # fmt: skip
    E_star = linear_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--", label="minimum $E^*$")
    ax2.set_xlabel("gradient evaluations per example")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.legend(fontsize=6)


def permute_hidden(params, perm):
    r"""Reorder the hidden units of a one-hidden-layer network (same function).

    Rows of :math:`W^{(1)}` and entries of :math:`b^{(1)}` are permuted by
    :math:`\pi`, and so are the columns of :math:`W^{(2)}`:
    :math:`W^{(2)} f(W^{(1)} x + b^{(1)}) = W^{(2)} P^\top f(P W^{(1)} x + P b^{(1)})`
    for the permutation matrix :math:`P`, because :math:`f` acts entrywise.

    Parameters
    ----------
    params : list of dict
        Two layers: ``W^(1)`` of shape ``(n_1, n_0)``, ``W^(2)`` of shape ``(n_2, n_1)``.
    perm : array_like of int, shape (n_1,)
        A permutation of ``range(n_1)``.

    Returns
    -------
    list of dict
        New parameters computing the same function.
    """
    if len(params) != 2:
        raise ValueError(f"params must have exactly 2 layers; got {len(params)}")
    perm = np.asarray(perm)
    n1 = params[0]["W"].shape[0]
    if sorted(perm.tolist()) != list(range(n1)):
        raise ValueError(f"perm must be a permutation of range({n1}); got {perm}")
    l1, l2 = params
    return [
        {"W": l1["W"][perm].copy(), "b": l1["b"][perm].copy()},
        {"W": l2["W"][:, perm].copy(), "b": l2["b"].copy()},
    ]


def draw_weight_interpolation(fig, net_a, net_b, X, y, *, activations="tanh"):
    r"""Cost along the segment between two networks' weights (left) and their fits (right).

    Left: :math:`E((1 - t)\,\theta_A + t\,\theta_B)` for :math:`t \in [0, 1]`, with the
    cost of predicting 0 everywhere for reference.  Right: the data, network A and the
    midpoint :math:`\tfrac12(\theta_A + \theta_B)`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    net_a, net_b : list of dict
        Parameters of two networks with the same shapes.
    X : array_like, shape (N, 1)
        Inputs (one feature).
    y : array_like, shape (N, 1)
        Targets.
    activations : str or sequence of str, default "tanh"
        As in :func:`mlcore.mlp.forward`.
    """
    ts = np.linspace(0.0, 1.0, 21)
    path = [cost(average_params([net_a, net_b], [1 - t, t]), X, y, activations) for t in ts]
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(ts, path, "o-", ms=3)
    ax1.axhline(0.5 * np.mean(np.asarray(y) ** 2), color="k", ls="--", lw=0.8, label="predict 0")
    ax1.set_xlabel(r"$t$ in $(1 - t)\,\theta_A + t\,\theta_B$")
    ax1.set_ylabel("cost $E$")
    ax1.legend()
    ax2.plot(X, y, ".", color="0.6", label="data")
    ax2.plot(X, predict(net_a, X, activations), label="A (= B)")
    ax2.plot(X, predict(average_params([net_a, net_b]), X, activations), label="average")
    ax2.set_xlabel("$x$")
    ax2.legend()


# ----------------------------------------------------------------------------- chapter 2
def draw_batch_sizes(fig, batch_size, lr, num_epochs, shuffle, *, problem, seed=0):
    r"""One minibatch-SGD run on the line: path on the contours and cost per update.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_size : int
        :math:`B`, ``1 <= B <= N`` (need not divide :math:`N`; the last batch
        is then smaller and, by :func:`mlcore.train.train`'s default, treated as full).
    lr : float
        Learning rate.
    num_epochs : int
        Passes over the data.
    shuffle : bool
        Reshuffle every epoch (``True``) or keep the data order (``False``).
    problem : LineProblem
        Data, start and contour grid.
    seed : int, default 0
        Seed of the shuffling, so every frame is reproducible.
    """
    rng = np.random.default_rng(seed)
    X, y = problem.X, problem.y
    N = X.shape[0]
    _, hist = train(problem.params, X, y, activations="identity", lr=lr, num_epochs=num_epochs,
                    batch_size=batch_size, shuffle="every_epoch" if shuffle else "never",
                    rng=rng, record="step", track_epoch_loss=False)  # fmt: skip
    traj = hist.trajectory
    cost = linear_cost(traj, X, y)
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    _contours(ax, problem)
    ax.plot(*traj.T, "-", color="tab:orange", lw=1.0, marker="o", ms=2)
    ends = traj[:: hist.steps_per_epoch]
    ax.plot(*ends.T, "s", color="tab:green", ms=3, linestyle="none", label="end of an epoch")
    ax.legend(loc="lower left", fontsize=6)
    per = hist.steps_per_epoch
    ax.set_title(f"$B = {batch_size}$ of $N = {N}$: {per} updates per epoch", fontsize=8)
    seen = np.concatenate([[0], np.cumsum(np.tile(_batch_sizes(N, batch_size), num_epochs))])
    ax2.semilogy(seen / N, cost, color="tab:orange", lw=1.2)
    E_star = linear_cost(problem.theta_star, X, y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--")
    ax2.set_xlabel("epochs (examples seen / $N$)")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.set_ylim(E_star * 0.8, max(cost[0], E_star) * 1.5)
    ax2.set_title(f"$\\eta = {lr:g}$, {'shuffled' if shuffle else 'fixed order'}", fontsize=8)


def same_budget_runs(problem, batch_sizes, *, lr, num_epochs, rng):
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
        seen = np.concatenate([[0], np.cumsum(np.tile(_batch_sizes(N, B), num_epochs))])
        out[B] = (hist.trajectory, linear_cost(hist.trajectory, X, y), seen)
    return out


def draw_same_budget(fig, *, problem, runs):
    r"""Paths on the contours, cost per epoch and cost per update, for several batch sizes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    problem : LineProblem
        Data and contour grid.
    runs : dict
        From :func:`same_budget_runs`.
    """
    N = problem.X.shape[0]
    ax, ax2, ax3 = fig.subplots(1, 3, width_ratios=(1.1, 1, 1))
    _contours(ax, problem)
    E_star = linear_cost(problem.theta_star, problem.X, problem.y)
    for B, (traj, costs, seen) in runs.items():
        name = "GD" if B == N else ("SGD" if B == 1 else "minibatch")
        label = f"{name}, $B = {B}$"
        ax.plot(*traj.T, "-", lw=0.9, alpha=0.85, label=label)
        ax2.semilogy(seen / N, costs - E_star, lw=1, label=label)
        ax3.semilogy(np.arange(len(costs)), costs - E_star, lw=1, label=label)
    ax.legend(fontsize=6, loc="lower left")
    ax2.set_xlabel("epochs (examples seen / $N$)")
    ax2.set_ylabel("excess cost $E - E^*$")
    ax3.set_xlabel("updates")
    ax3.set_xscale("log")
    ax2.set_title("same gradient budget", fontsize=9)
    ax3.set_title("per update", fontsize=9)


def _batch_sizes(N, B):
    sizes = [B] * (N // B)
    if N % B:
        sizes.append(N % B)
    return np.array(sizes)


# ----------------------------------------------------------------------------- chapter 3
def minibatch_means(G, batch_size, num_draws, rng):
    r"""Means of random minibatches of the rows of :math:`G`, drawn without replacement.

    Parameters
    ----------
    G : array_like, shape (N, P)
        Per-example gradients :math:`g_n` as rows.
    batch_size : int
        :math:`B`, ``1 <= B <= N``.
    num_draws : int
        :math:`D`, number of minibatches.
    rng : numpy.random.Generator
        Draws the minibatches (each one :math:`B` distinct rows).

    Returns
    -------
    ndarray, shape (D, P)
        Row :math:`d` is :math:`g_{B_d} = \frac1B \sum_{n \in B_d} g_n`.
    """
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2:
        raise ValueError(f"G must have shape (N, P); got shape {G.shape}")
    N = G.shape[0]
    B = _checks.positive_int(batch_size, "batch_size", maximum=N)
    D = _checks.positive_int(num_draws, "num_draws")
    _checks.rng(rng)
    # B distinct rows per draw: the first B entries of a random permutation per draw
    idx = np.argsort(rng.random((D, N)), axis=1)[:, :B]
    return G[idx].mean(axis=1)


def draw_minibatch_cloud(fig, batch_size, *, G, num_draws=400, seed=0, lim=None):
    r"""The cloud of minibatch gradients around the full gradient, with the predicted spread.

    Draws :math:`D` minibatch means :math:`g_B` (two coordinates), the full
    gradient :math:`\bar g`, and the ellipse of two standard deviations of the
    predicted covariance :math:`\frac{\Sigma}{B}\frac{N-B}{N-1}`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_size : int
        :math:`B`.
    G : ndarray, shape (N, 2)
        Per-example gradients.
    num_draws : int, default 400
        :math:`D`.
    seed : int, default 0
        Seed of the draws.
    lim : (float, float, float, float), optional
        Axis limits ``(x_lo, x_hi, y_lo, y_hi)``, fixed across frames.
    """
    rng = np.random.default_rng(seed)
    N = G.shape[0]
    g_bar = G.mean(axis=0)
    S = minibatch_means(G, batch_size, num_draws, rng)
    C = G - g_bar
    Sigma = C.T @ C / N
    pred = Sigma / batch_size * (N - batch_size) / max(N - 1, 1)
    ax = fig.add_subplot()
    ax.plot(G[:, 0], G[:, 1], ".", color="0.7", ms=4, label="one example $g_n$")
    ax.plot(S[:, 0], S[:, 1], ".", color="tab:blue", ms=2, alpha=0.5, label="minibatch $g_B$")
    vals, vecs = np.linalg.eigh(pred)
    t = np.linspace(0, 2 * np.pi, 100)
    ell = (vecs * (2 * np.sqrt(np.maximum(vals, 0)))) @ np.vstack([np.cos(t), np.sin(t)])
    ax.plot(g_bar[0] + ell[0], g_bar[1] + ell[1], color="tab:red", lw=1.2,
            label="predicted $2\\sigma$")  # fmt: skip
    ax.plot(*g_bar, "*", color="k", ms=10, label="full gradient $\\bar g$")
    measured = covariance_trace(S)
    ax.set_title(
        f"$B = {batch_size}$ of {N}: tr Cov measured {measured:.3g}, "
        f"predicted {np.trace(pred):.3g}",
        fontsize=8,
    )
    if lim is not None:
        ax.set_xlim(lim[:2])
        ax.set_ylim(lim[2:])
    ax.set_xlabel(r"$\partial E / \partial w$")
    ax.set_ylabel(r"$\partial E / \partial b$")
    ax.legend(fontsize=6, loc="upper left")


# ----------------------------------------------------------------------------- chapter 4
def batch_gradients(params, X, Y, batch_size, *, activations="identity", loss="squared_error"):
    r"""Mean gradient of each consecutive batch of one epoch (no shuffling), and the sizes.

    Parameters
    ----------
    params : list of dict
        Parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    batch_size : int
        :math:`B`; the last batch has :math:`N - B\lfloor (N-1)/B \rfloor` rows.
    activations : str or sequence of str, default "identity"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.

    Returns
    -------
    grads : ndarray, shape (K, P)
        Row :math:`k` is the flattened mean gradient :math:`g_k` of batch :math:`k`.
    sizes : ndarray of int, shape (K,)
        :math:`|B_k|`.
    """
    batches = batch_schedule(len(X), batch_size)  # the epoch's consecutive batches
    grads = np.array(
        [_flatten(gradient(params, X[k.start : k.stop], Y[k.start : k.stop], activations, loss))
         for k in batches]
    )  # fmt: skip
    sizes = np.array([k.stop - k.start for k in batches])
    return grads, sizes


def noise_vs_batch_size(G, batch_sizes, *, num_draws, rng):
    r"""Measured and predicted noise :math:`\operatorname{tr}\operatorname{Cov}[g_B]` per :math:`B`.

    Parameters
    ----------
    G : array_like, shape (N, P)
        Per-example gradients.
    batch_sizes : sequence of int
        Values of :math:`B` (``<= N``).
    num_draws : int
        Minibatches drawn per :math:`B` (without and with replacement each).
    rng : numpy.random.Generator
        Draws the minibatches.

    Returns
    -------
    dict of ndarray
        ``"B"``; ``"without"``, ``"with"``: measured traces (sample covariance,
        :math:`1/(D-1)`); ``"pred_without"`` :math:`\frac{\operatorname{tr}\Sigma}{B}
        \frac{N-B}{N-1}`; ``"pred_with"`` :math:`\frac{\operatorname{tr}\Sigma}{B}`;
        ``"mean_error"``: largest :math:`\lVert \overline{g_B} - \bar g\rVert / \lVert\bar g\rVert`
        over the :math:`B` values (without replacement).
    """
    G = np.asarray(G, dtype=np.float64)
    N = G.shape[0]
    g_bar = G.mean(axis=0)
    tr_sigma = covariance_trace(G, ddof=0)
    Bs = np.array([_checks.positive_int(int(B), "batch_size", maximum=N) for B in batch_sizes])
    out = {"B": Bs, "without": [], "with": [], "mean_error": 0.0}
    for B in Bs:
        S = minibatch_means(G, int(B), num_draws, rng)
        out["without"].append(covariance_trace(S))
        err = np.linalg.norm(S.mean(axis=0) - g_bar) / np.linalg.norm(g_bar)
        out["mean_error"] = max(out["mean_error"], float(err))
        R = G[rng.integers(0, N, size=(num_draws, int(B)))].mean(axis=1)
        out["with"].append(covariance_trace(R))
    out["without"] = np.array(out["without"])
    out["with"] = np.array(out["with"])
    out["pred_with"] = predicted_minibatch_trace(tr_sigma, N, Bs, replace=True)
    out["pred_without"] = predicted_minibatch_trace(tr_sigma, N, Bs)
    out["trace_sigma"] = tr_sigma
    return out


def draw_noise_vs_batch_size(fig, *, noise):
    r"""Log-log plot of measured and predicted minibatch-gradient noise against :math:`B`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    noise : dict
        From :func:`noise_vs_batch_size`.
    """
    ax = fig.add_subplot()
    B = noise["B"]
    keep = noise["pred_without"] > 0
    ax.loglog(B, noise["pred_with"], "-", color="tab:orange", label=r"$\mathrm{tr}\,\Sigma / B$")
    ax.loglog(B, noise["with"], "o", color="tab:orange", ms=5, mfc="none",
              label="measured, with replacement")  # fmt: skip
    ax.loglog(B[keep], noise["pred_without"][keep], "-", color="tab:blue",
              label=r"$\frac{\mathrm{tr}\,\Sigma}{B}\,\frac{N-B}{N-1}$")  # fmt: skip
    ax.loglog(B[keep], noise["without"][keep], "s", color="tab:blue", ms=4,
              label="measured, without replacement")  # fmt: skip
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}[g_B]$")
    ax.legend(fontsize=7)


def batch_size_sweep(problem, batch_sizes, *, lr, reduction, scale_lr=False, num_epochs=5):
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
    num_epochs : int, default 5
        Passes over the data (no shuffling, last batch treated as full).

    Returns
    -------
    ndarray, shape (len(batch_sizes),)
        Final cost; ``inf`` where training diverged.
    """
    out = []
    with np.errstate(all="ignore"):
        for B in batch_sizes:
            eta = lr * B if scale_lr else lr
            p, _ = train(problem.params, problem.X, problem.y, activations="identity", lr=eta,
                         num_epochs=num_epochs, batch_size=int(B), shuffle="never",
                         reduction=reduction, track_epoch_loss=False)  # fmt: skip
            E = linear_cost(_flatten(p), problem.X, problem.y)
            out.append(E if np.isfinite(E) and E < 1e6 else np.inf)
    return np.array(out)


def draw_effective_lr(fig, batch_sizes, lr, final_mean, final_sum, E_star, *, cap=1e3):
    r"""Effective learning rate of the sum and mean reductions (left), excess cost (right).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_sizes : sequence of int
        The batch sizes :math:`B` of the sweep.
    lr : float
        The learning rate :math:`\eta` used with both reductions.
    final_mean, final_sum : array_like, shape (len(batch_sizes),)
        Cost after training with each reduction (:func:`batch_size_sweep`; ``inf``
        where training diverged).
    E_star : float
        Minimum of the cost.
    cap : float, default 1e3
        Excess costs above this are drawn at ``cap`` and marked "diverged".
    """
    Bs = np.asarray(batch_sizes)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(Bs, np.full(len(Bs), lr), "o-", label=r"mean: $\eta$")
    ax1.plot(Bs, lr * Bs, "s-", label=r"sum: $\eta B$")
    ax1.set_ylabel("effective learning rate")
    ax1.legend()
    runs = ((final_mean, r"mean, $\eta$ fixed", "o"),
            (final_sum, r"sum, $\eta$ fixed (= mean, $\eta B$)", "s"))  # fmt: skip
    for values, label, marker in runs:
        ax2.plot(Bs, np.minimum(np.asarray(values) - E_star, cap), marker + "-", label=label)
    ax2.axhline(cap, color="k", lw=0.6, ls=":")
    ax2.text(Bs[0], cap * 1.5, "diverged", fontsize=8)
    ax2.set_ylabel("excess cost after 5 epochs")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$")
