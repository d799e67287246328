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
from .style import BLACK, BLUE, GREEN, GREY, LIGHT_GREY, METHODS, ORANGE, PURPLE, VERMILLION, series

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

#: The minimum of the cost, wherever a cost is drawn against steps.
MINIMUM = {"color": BLACK, "linestyle": "--", "linewidth": 0.9}
#: A short remark inside an axes (e.g. why two paths coincide).
NOTE = {
    "fontsize": 9,
    "bbox": {"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.8", "alpha": 0.92},
}


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _method(batch_size, N):
    """The name of the method a batch size makes: GD, SGD or minibatch."""
    return "gd" if batch_size >= N else ("sgd" if batch_size == 1 else "minibatch")


def _integer_ticks(axis):
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _contours(ax, problem, *, star=True):
    Wg, Bg, E = problem.grid
    levels = np.quantile(E, np.linspace(0.0, 0.9, 14) ** 2)
    ax.contour(Wg, Bg, E, levels=np.unique(levels), colors=LIGHT_GREY, linewidths=0.7,
               linestyles="solid")  # fmt: skip
    if star:
        ax.plot(*problem.theta_star, marker="*", color=BLACK, markersize=12, linestyle="none",
                zorder=5, label=r"minimiser $\theta^*$ of $E$", gid="minimiser")  # fmt: skip
    ax.set_xlim(problem.extent[:2])
    ax.set_ylim(problem.extent[2:])
    ax.set_aspect("equal")  # one unit of w as long as one unit of b: angles are true
    ax.set_xlabel("$w$")
    ax.set_ylabel("$b$")


def draw_three_answers(fig, num_steps, *, problem, lr=0.1, seed=0):
    r"""Paths of the three candidate answers on the contours of :math:`E` (left), cost (right).

    Each method has its colour, line style and end marker (:data:`style.METHODS
    <mlcore.figures.style.METHODS>`), the same in both panels and in the legend below
    them.  Where two paths coincide (averaging the weights after one step *is* a step
    of gradient descent) a note says so.

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
    style = {  # drawn in this order: the dotted average over the solid GD shows both
        "gd": ("gd", "average the gradients (GD)", 2.4),
        "average_at_end": ("average", "GD per example, average the weights", 2.0),
        "sgd": ("sgd", "one example at a time (SGD)", 1.3),
    }
    ax, ax2 = fig.subplots(1, 2)
    _contours(ax, problem)
    ax.plot(*_flatten(problem.params), "o", color=BLACK, ms=4, gid="start")
    steps = np.arange(num_steps + 1)
    for key in style:
        path = runs[key]
        method, label, lw = style[key]
        m = METHODS[method]
        ax.plot(*path.T, color=m["color"], linestyle=m["linestyle"], lw=lw, gid=f"{key}-path")
        ax.plot(*path[-1], marker=m["marker"], color=m["color"], ms=7, mec=BLACK, mew=0.6,
                linestyle="none", zorder=4, gid=f"{key}-end")  # fmt: skip
        ax2.semilogy(steps, line_cost(path, problem.X, problem.y), color=m["color"],
                     linestyle=m["linestyle"], lw=lw, marker=m["marker"], markevery=[num_steps],
                     ms=7, mec=BLACK, mew=0.6, label=label, gid=f"{key}-cost")  # fmt: skip
    if np.allclose(runs["gd"], runs["average_at_end"], rtol=1e-12, atol=1e-12):
        note = (
            "after one step, averaging the weights\nis a step of GD: the two paths\n"
            "(and their costs) coincide"
        )
        ax2.text(0.5, 0.5, note, transform=ax2.transAxes, ha="center", va="center",
                 gid="coincide-note", **NOTE)  # fmt: skip
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, label="minimum of $E$", gid="minimum-cost", **MINIMUM)
    ax.set_title(f"after {_plural(num_steps, 'step')}")
    ax2.set_xlabel("steps")
    ax2.set_ylabel("cost $E$ on the whole set")
    _integer_ticks(ax2.xaxis)
    fig.legend(*ax2.get_legend_handles_labels(), loc="outside lower center", ncols=2)


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
        ax.plot(w, y_n - x_n * w, color=GREEN, linestyle="-", lw=0.9,
                label="$w x_n + b = y_n$, one per example" if n == 0 else None,
                gid="example-minimisers")  # fmt: skip
        ax.plot(*np.column_stack([theta0, limits[n]]), ":", color=VERMILLION, lw=1.0,
                label="GD on one example" if n == 0 else None, gid="to-limit")  # fmt: skip
    ax.plot(*limits.T, "o", color=VERMILLION, ms=5, mec=BLACK, mew=0.4,
            label="end of GD on one example", gid="limits")  # fmt: skip
    ax.plot(*limits.mean(axis=0), "X", color=PURPLE, ms=11, mec=BLACK, mew=0.7, linestyle="none",
            zorder=4, label="average of those ends", gid="average-of-limits")  # fmt: skip
    ax.plot(*theta0, "o", color=BLACK, ms=5, label=r"start $\theta_0$", gid="start")
    handles, labels = ax.get_legend_handles_labels()
    first = labels.index(r"minimiser $\theta^*$ of $E$")  # the star: last in the legend
    order = [i for i in range(len(labels)) if i != first] + [first]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left",
              bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0, handlelength=2.0)  # fmt: skip


def draw_average_weights(fig, local_steps, lr, *, problem, budget=60):
    r"""Contours with GD and FedAvg paths (left) and their cost per gradient evaluation (right).

    FedAvg, "average the weights every :math:`k` steps", is drawn and named alike in both
    panels; with :math:`k = 1` it is gradient descent, and a note says that the two paths
    coincide.

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
    gd, avg = METHODS["gd"], METHODS["average"]
    gd_label = "GD: average the gradients"
    fed_label = "FedAvg: average the weights every $k$ steps"
    ax, ax2 = fig.subplots(1, 2)
    _contours(ax, problem)
    ax.plot(*runs["gd"].T, color=gd["color"], linestyle=gd["linestyle"], lw=2.4, label=gd_label,
            gid="gd-path")  # fmt: skip
    ax.plot(*runs["fedavg"].T, color=avg["color"], linestyle=avg["linestyle"], lw=1.5,
            marker=avg["marker"], ms=3.5, label=fed_label, gid="fedavg-path")  # fmt: skip
    ax.plot(*limits.mean(axis=0), marker="X", color=PURPLE, ms=10, mec=BLACK, mew=0.7,
            linestyle="none", label=r"average of one-example limits ($k \to \infty$)",
            gid="average-of-limits")  # fmt: skip
    if local_steps == 1:
        note = (
            "$k = 1$: averaging the weights\nafter every step is GD, so\n"
            "the dots sit on the GD path"
        )
        ax2.text(0.97, 0.97, note, transform=ax2.transAxes, ha="right", va="top",
                 gid="coincide-note", **NOTE)  # fmt: skip
    ax.set_title(f"$k = {local_steps}$, $\\eta = {lr:g}$")
    evals = np.arange(budget + 1)
    ax2.semilogy(evals, runs["gd_cost"], color=gd["color"], linestyle=gd["linestyle"], lw=2.4,
                 label=gd_label, gid="gd-cost")  # fmt: skip
    ax2.semilogy(evals[::local_steps], runs["fedavg_cost"], color=avg["color"],
                 linestyle=avg["linestyle"], lw=1.5, marker=avg["marker"], ms=3.5, label=fed_label,
                 gid="fedavg-cost")  # fmt: skip
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
    ax2.axhline(E_star, label="minimum $E^*$ of $E$", gid="minimum-cost", **MINIMUM)
    ax2.set_xlabel("gradient evaluations per example")
    ax2.set_ylabel("cost $E$ on the whole set")
    _integer_ticks(ax2.xaxis)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(handles[1:] + h2[-1:], labels[1:] + l2[-1:], loc="outside lower center", ncols=2)


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
    ax1.plot(ts, path, "o-", color=BLUE, ms=3.5, label="cost on the segment", gid="segment-cost")
    E_zero = reduce(squared_error(np.zeros(np.shape(y)), y))  # the cost of predicting 0
    ax1.axhline(E_zero, label="predict 0", gid="zero-prediction-cost", **MINIMUM)
    ax1.set_xlabel(r"$t$ in $(1 - t)\,\theta_A + t\,\theta_B$")
    ax1.set_ylabel("cost $E$")
    ax1.legend()
    ax2.plot(X, y, "o", color=GREY, ms=3, label="data", gid="data")
    ax2.plot(X, predict(net_a, X, activations), color=BLUE, linestyle="-", label="A (= B)",
             gid="net-a")  # fmt: skip
    ax2.plot(X, predict(average_params([net_a, net_b]), X, activations), color=VERMILLION,
             linestyle="--", label="average", gid="midpoint")  # fmt: skip
    ax2.set_xlabel("$x$")
    ax2.legend()


def draw_batch_sizes(fig, batch_size, lr, num_epochs, shuffle, *, problem, seed=0):
    r"""One minibatch-SGD run on the line: path on the contours and cost per update.

    The run is drawn as the method its batch size makes (:data:`style.METHODS
    <mlcore.figures.style.METHODS>`: GD for :math:`B = N`, SGD for :math:`B = 1`,
    minibatch otherwise), one dot per update, a square at the end of every epoch; the
    legend is the same in every frame.

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
    method = _method(batch_size, N)
    m = METHODS[method]
    ax, ax2 = fig.subplots(1, 2)
    _contours(ax, problem)
    # one label for every frame, so that the legend does not move when B does
    ax.plot(*traj.T, color=m["color"], linestyle=m["linestyle"], lw=1.3, marker="o", ms=2.5,
            label="the run, one dot per update", gid="path")  # fmt: skip
    ends = traj[:: hist.steps_per_epoch]
    ax.plot(*ends.T, "s", color=GREEN, ms=6, mec=BLACK, mew=0.6, linestyle="none", zorder=4,
            label="end of an epoch", gid="epoch-ends")  # fmt: skip
    per = hist.steps_per_epoch
    ax.set_title(f"$B = {batch_size}$ of $N = {N}$: {_plural(per, 'update')} per epoch")
    seen = examples_seen(N, batch_size, num_epochs)
    ax2.semilogy(seen / N, cost, color=m["color"], linestyle=m["linestyle"], lw=1.3, gid="cost")
    E_star = line_cost(problem.theta_star, X, y)
    ax2.axhline(E_star, label="minimum of $E$", gid="minimum-cost", **MINIMUM)
    ax2.set_xlabel("epochs (examples seen / $N$)")
    ax2.set_ylabel("cost $E$ on the whole set")
    ax2.set_ylim(E_star * 0.8, max(cost[0], E_star) * 1.5)
    ax2.set_title(f"$\\eta = {lr:g}$, {'shuffled' if shuffle else 'fixed order'}")
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(handles[1:] + h2, labels[1:] + l2, loc="outside lower center", ncols=3)


def draw_same_budget(fig, *, problem, runs):
    r"""Paths on the contours, cost per epoch and cost per update, for several batch sizes.

    Each run is drawn as its method (:data:`style.METHODS <mlcore.figures.style.METHODS>`),
    alike in the three panels; one legend under them names the runs.

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
    ax, ax2, ax3 = fig.subplots(1, 3)
    _contours(ax, problem)
    E_star = line_cost(problem.theta_star, problem.X, problem.y)
    for B, (traj, costs, seen) in runs.items():
        method = _method(B, N)
        name = {"gd": "GD", "sgd": "SGD", "minibatch": "minibatch"}[method]
        label = f"{name}, $B = {B}$"
        kw = {"color": METHODS[method]["color"], "linestyle": METHODS[method]["linestyle"]}
        lw = 1.8 if method == "gd" else 1.1
        ax.plot(*traj.T, lw=lw, label=label, **kw)
        ax2.semilogy(seen / N, costs - E_star, lw=lw, label=label, **kw)
        ax3.semilogy(np.arange(len(costs)), costs - E_star, lw=lw, label=label, **kw)
    ax2.set_xlabel("epochs (examples seen / $N$)")
    ax2.set_ylabel("excess cost $E - E^*$")
    ax3.set_xlabel("updates")
    ax3.set_xscale("log")
    ax2.set_title("same gradient budget")
    ax3.set_title("per update")
    handles, labels = ax2.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(runs))


def draw_minibatch_cloud(fig, batch_size, *, G, num_draws=400, seed=0, lim=None):
    r"""The cloud of minibatch gradients around the full gradient, with the predicted spread.

    Draws :math:`D` minibatch means :math:`g_B` (two coordinates), the full
    gradient :math:`\bar g`, and the ellipse of two standard deviations of the
    predicted covariance :math:`\frac{\Sigma}{B}\frac{N-B}{N-1}`.  At :math:`B = N`
    every minibatch is the whole set: the measured trace is rounding noise and is
    printed as 0, and a note says why the cloud is one point.

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
    ax.plot(G[:, 0], G[:, 1], "o", color=GREY, ms=3.5, mfc="none", mew=0.8,
            label="one example $g_n$", gid="examples")  # fmt: skip
    ax.plot(S[:, 0], S[:, 1], ".", color=BLUE, ms=3, alpha=0.5, label="minibatch mean $g_B$",
            gid="minibatch-means")  # fmt: skip
    vals, vecs = np.linalg.eigh(pred)
    t = np.linspace(0, 2 * np.pi, 100)
    ell = (vecs * (2 * np.sqrt(np.maximum(vals, 0)))) @ np.vstack([np.cos(t), np.sin(t)])
    ax.plot(g_bar[0] + ell[0], g_bar[1] + ell[1], color=VERMILLION, lw=1.8,
            label="predicted $2\\sigma$ ellipse", gid="predicted-ellipse")  # fmt: skip
    ax.plot(*g_bar, "*", color=BLACK, ms=12, label="full gradient $\\bar g$", gid="full-gradient")
    measured = covariance_trace(S)
    # below this the measured spread is rounding error (every g_B equals g_bar)
    noise = 1e-9 * max(float(np.trace(np.atleast_2d(np.cov(G.T, bias=True)))), 1e-300)
    shown = "0" if abs(measured) <= noise else f"{measured:.3g}"
    ax.set_title(f"$B = {batch_size}$ of {N}: tr Cov measured {shown}, "
                 f"predicted {np.trace(pred):.3g}")  # fmt: skip
    if batch_size >= N:
        ax.text(1.03, 0.0, "$B = N$: every minibatch\nis the whole set, so\nevery $g_B = \\bar g$",
                transform=ax.transAxes, ha="left", va="bottom", gid="full-batch-note")  # fmt: skip
    if lim is not None:
        ax.set_xlim(lim[:2])
        ax.set_ylim(lim[2:])
    ax.set_xlabel(r"$\partial E / \partial w$")
    ax.set_ylabel(r"$\partial E / \partial b$")
    ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0.0, markerscale=1.4)


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
    ax.loglog(B, noise["pred_with"], "-", color=ORANGE, label=r"$\mathrm{tr}\,\Sigma / B$",
              gid="predicted-with")  # fmt: skip
    ax.loglog(B, noise["with"], "o", color=ORANGE, ms=6, mfc="none", mew=1.3,
              label="measured, with replacement", gid="measured-with")  # fmt: skip
    ax.loglog(B[keep], noise["pred_without"][keep], "--", color=BLUE,
              label=r"$\frac{\mathrm{tr}\,\Sigma}{B}\,\frac{N-B}{N-1}$",
              gid="predicted-without")  # fmt: skip
    ax.loglog(B[keep], noise["without"][keep], "s", color=BLUE, ms=5,
              label="measured, without replacement", gid="measured-without")  # fmt: skip
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel(r"$\mathrm{tr}\,\mathrm{Cov}[g_B]$")
    ax.legend(loc="lower left")


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
    mean, total = series(0), series(1)
    mean_label = r"mean reduction, $\eta$ fixed"
    sum_label = r"sum reduction, $\eta$ fixed (= mean with $\eta B$)"
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(Bs, np.full(len(Bs), lr), label=mean_label, gid="lr-mean", **mean)
    ax1.plot(Bs, lr * Bs, label=sum_label, gid="lr-sum", **total)
    ax1.set_ylabel("effective learning rate")
    runs = ((final_mean, mean_label, mean, "final-mean"),
            (final_sum, sum_label, total, "final-sum"))  # fmt: skip
    for values, label, kw, gid in runs:
        ax2.plot(Bs, np.minimum(np.asarray(values) - E_star, cap), label=label, gid=gid, **kw)
    ax2.axhline(cap, color=BLACK, lw=0.8, ls=":", gid="cap")
    ax2.text(Bs[0], cap * 1.6, "diverged", fontsize=9, va="bottom", gid="diverged")
    ax2.set_ylabel("excess cost after 5 epochs")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$")
    ax2.set_ylim(top=cap * 30)  # room for the word above the line
    fig.legend(*ax2.get_legend_handles_labels(), loc="outside lower center", ncols=2)
