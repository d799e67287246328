r"""Figures of Part II: average the gradients, not the weights.

Each ``draw_*`` function draws one frame of a chapter's figure from the
simulations of :mod:`mlcore.line` and :mod:`mlcore.noise`; it computes nothing
that the engine does not.  The signature is ``draw(fig, **controls, **data)``,
as :func:`mlcore.figures.interactive.explorable` expects (bind the data with
:func:`functools.partial`).  matplotlib is imported by the caller's figure.
Artists that show numbers carry a ``gid`` saying what they show (e.g. ``"gd-path"``,
``"predicted-ellipse"``), so the tests find them whatever the style.
"""

from __future__ import annotations

import numpy as np

from ..averaging import average_params
from ..line import examples_seen, fedavg_and_gd, line_cost, per_example_limits, three_answers
from ..losses import reduce, squared_error
from ..mlp import cost, predict
from ..noise import covariance_trace, minibatch_means, predicted_minibatch_covariance
from ..params import _flatten
from ..training import train

__all__ = [
    "draw_average_weights",
    "draw_batch_sizes",
    "draw_effective_lr",
    "draw_minibatch_cloud",
    "draw_noise_vs_batch_size",
    "draw_per_example_limits",
    "draw_same_budget",
    "draw_three_answers",
    "draw_weight_interpolation",
]


def _contours(ax, problem, *, star=True):
    Wg, Bg, E = problem.grid
    levels = np.quantile(E, np.linspace(0.0, 0.9, 14) ** 2)
    ax.contour(Wg, Bg, E, levels=np.unique(levels), colors="0.75", linewidths=0.7)
    if star:
        ax.plot(*problem.theta_star, marker="*", color="k", markersize=11, linestyle="none",
                gid="minimiser")  # fmt: skip
    ax.set_xlim(problem.extent[:2])
    ax.set_ylim(problem.extent[2:])
    ax.set_aspect("equal")  # one unit of w as long as one unit of b: angles are true
    ax.set_xlabel("$w$")
    ax.set_ylabel("$b$")


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
    ax.plot(*_flatten(problem.params), "o", color="k", ms=4, gid="start")
    steps = np.arange(num_steps + 1)
    for key, path in runs.items():
        color, label = style[key]
        ax.plot(*path.T, "-", color=color, lw=1.3, alpha=0.9, gid=f"{key}-path")
        ax.plot(*path[-1], "o", color=color, ms=5, mec="k", mew=0.5, gid=f"{key}-end")
        ax2.semilogy(steps, line_cost(path, problem.X, problem.y), color=color, label=label,
                     gid=f"{key}-cost")  # fmt: skip
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--", label="minimum of $E$", gid="minimum-cost")
    ax.set_title(f"after {num_steps} steps", fontsize=9)
    ax2.set_xlabel("steps")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.legend(fontsize=6)


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
                label="$w x_n + b = y_n$ (one per example)" if n == 0 else None,
                gid="example-minimisers")  # fmt: skip
        ax.plot(*np.column_stack([theta0, limits[n]]), ":", color="tab:red", lw=0.8, gid="to-limit")
    ax.plot(*limits.T, "o", color="tab:red", ms=4, label="end of GD on one example", gid="limits")
    ax.plot(*limits.mean(axis=0), "X", color="tab:purple", ms=9, linestyle="none",
            label="average of those ends", gid="average-of-limits")  # fmt: skip
    ax.plot(*theta0, "o", color="k", ms=5, label=r"start $\theta_0$", gid="start")
    ax.plot([], [], "*", color="k", ms=9, label=r"minimiser $\theta^*$ of $E$")
    ax.legend(fontsize=7, loc="lower left")


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
    ax.plot(*runs["gd"].T, "-", color="tab:blue", lw=1.5, label="GD (mean gradient)", gid="gd-path")
    ax.plot(*runs["fedavg"].T, "o-", color="tab:red", ms=3, lw=1.2,
            label=f"average weights every {local_steps} steps", gid="fedavg-path")  # fmt: skip
    ax.plot(*limits.mean(axis=0), marker="X", color="tab:purple", ms=8, linestyle="none",
            label="average of one-example limits", gid="average-of-limits")  # fmt: skip
    ax.legend(loc="lower left", fontsize=6)
    ax.set_title(f"$k = {local_steps}$, $\\eta = {lr:g}$", fontsize=9)
    evals = np.arange(budget + 1)
    ax2.semilogy(evals, runs["gd_cost"], color="tab:blue", label="GD", gid="gd-cost")
    ax2.semilogy(evals[:: local_steps], runs["fedavg_cost"], "o-", color="tab:red", ms=3,
                 label="FedAvg", gid="fedavg-cost")  # fmt: skip
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--", label="minimum $E^*$", gid="minimum-cost")
    ax2.set_xlabel("gradient evaluations per example")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.legend(fontsize=6)


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
    ax1.plot(ts, path, "o-", ms=3, gid="segment-cost")
    E_zero = reduce(squared_error(np.zeros(np.shape(y)), y))  # the cost of predicting 0
    ax1.axhline(E_zero, color="k", ls="--", lw=0.8, label="predict 0", gid="zero-prediction-cost")
    ax1.set_xlabel(r"$t$ in $(1 - t)\,\theta_A + t\,\theta_B$")
    ax1.set_ylabel("cost $E$")
    ax1.legend()
    ax2.plot(X, y, ".", color="0.6", label="data", gid="data")
    ax2.plot(X, predict(net_a, X, activations), label="A (= B)", gid="net-a")
    ax2.plot(X, predict(average_params([net_a, net_b]), X, activations), label="average",
             gid="midpoint")  # fmt: skip
    ax2.set_xlabel("$x$")
    ax2.legend()


def draw_batch_sizes(fig, batch_size, lr, num_epochs, shuffle, *, problem, seed=0):
    r"""One minibatch-SGD run on the line: path on the contours and cost per update.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Empty figure to draw on.
    batch_size : int
        :math:`B`, ``1 <= B <= N`` (need not divide :math:`N`; the last batch
        is then smaller and, by :func:`mlcore.training.train`'s default, treated as full).
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
    cost = line_cost(traj, X, y)
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    _contours(ax, problem)
    ax.plot(*traj.T, "-", color="tab:orange", lw=1.0, marker="o", ms=2, gid="path")
    ends = traj[:: hist.steps_per_epoch]
    ax.plot(*ends.T, "s", color="tab:green", ms=3, linestyle="none", label="end of an epoch",
            gid="epoch-ends")  # fmt: skip
    ax.legend(loc="lower left", fontsize=6)
    per = hist.steps_per_epoch
    ax.set_title(f"$B = {batch_size}$ of $N = {N}$: {per} updates per epoch", fontsize=8)
    seen = examples_seen(N, batch_size, num_epochs)
    ax2.semilogy(seen / N, cost, color="tab:orange", lw=1.2, gid="cost")
    E_star = line_cost(problem.theta_star, X, y)
    ax2.axhline(E_star, color="k", lw=0.8, ls="--", gid="minimum-cost")
    ax2.set_xlabel("epochs (examples seen / $N$)")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.set_ylim(E_star * 0.8, max(cost[0], E_star) * 1.5)
    ax2.set_title(f"$\\eta = {lr:g}$, {'shuffled' if shuffle else 'fixed order'}", fontsize=8)


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
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
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
    pred = predicted_minibatch_covariance(G, batch_size)
    ax = fig.add_subplot()
    ax.plot(G[:, 0], G[:, 1], ".", color="0.7", ms=4, label="one example $g_n$", gid="examples")
    ax.plot(S[:, 0], S[:, 1], ".", color="tab:blue", ms=2, alpha=0.5, label="minibatch $g_B$",
            gid="minibatch-means")  # fmt: skip
    vals, vecs = np.linalg.eigh(pred)
    t = np.linspace(0, 2 * np.pi, 100)
    ell = (vecs * (2 * np.sqrt(np.maximum(vals, 0)))) @ np.vstack([np.cos(t), np.sin(t)])
    ax.plot(g_bar[0] + ell[0], g_bar[1] + ell[1], color="tab:red", lw=1.2,
            label="predicted $2\\sigma$", gid="predicted-ellipse")  # fmt: skip
    ax.plot(*g_bar, "*", color="k", ms=10, label="full gradient $\\bar g$", gid="full-gradient")
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
    ax.loglog(B, noise["pred_with"], "-", color="tab:orange", label=r"$\mathrm{tr}\,\Sigma / B$",
              gid="predicted-with")  # fmt: skip
    ax.loglog(B, noise["with"], "o", color="tab:orange", ms=5, mfc="none",
              label="measured, with replacement", gid="measured-with")  # fmt: skip
    ax.loglog(B[keep], noise["pred_without"][keep], "-", color="tab:blue",
              label=r"$\frac{\mathrm{tr}\,\Sigma}{B}\,\frac{N-B}{N-1}$",
              gid="predicted-without")  # fmt: skip
    ax.loglog(B[keep], noise["without"][keep], "s", color="tab:blue", ms=4,
              label="measured, without replacement", gid="measured-without")  # fmt: skip
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}[g_B]$")
    ax.legend(fontsize=7)


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
    ax1.plot(Bs, np.full(len(Bs), lr), "o-", label=r"mean: $\eta$", gid="lr-mean")
    ax1.plot(Bs, lr * Bs, "s-", label=r"sum: $\eta B$", gid="lr-sum")
    ax1.set_ylabel("effective learning rate")
    ax1.legend()
    runs = ((final_mean, r"mean, $\eta$ fixed", "o", "final-mean"),
            (final_sum, r"sum, $\eta$ fixed (= mean, $\eta B$)", "s", "final-sum"))  # fmt: skip
    for values, label, marker, gid in runs:
        ax2.plot(Bs, np.minimum(np.asarray(values) - E_star, cap), marker + "-", label=label,
                 gid=gid)  # fmt: skip
    ax2.axhline(cap, color="k", lw=0.6, ls=":", gid="cap")
    ax2.text(Bs[0], cap * 1.5, "diverged", fontsize=8, gid="diverged")
    ax2.set_ylabel("excess cost after 5 epochs")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$")
