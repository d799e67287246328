"""The frames of Part II's explorables show what the engine computes.

Every test draws a frame on a bare :class:`matplotlib.figure.Figure`, reads the plotted
numbers back (:mod:`_readback`) and compares them with the engine, computed here on its
own: gradient descent step by step with :func:`mlcore.gradient`, :func:`mlcore.train`,
:func:`mlcore.federated_averaging`, :func:`mlcore.cost`, per-example gradients, and the
minibatch covariance from all minibatches at once.  Where a path is random (SGD, shuffled
minibatches) every drawn step is identified as the step of one batch of examples, so the
test does not depend on how the engine draws its random numbers.
"""

from __future__ import annotations

import inspect
import itertools
from functools import partial

import numpy as np
import pytest
from _readback import (
    all_gid,
    colour,
    contour_vertices,
    labelled,
    mahalanobis_sq,
    numbers,
    one_gid,
    same_colour,
    xy,
)
from matplotlib.figure import Figure

import mlcore
from mlcore import line, noise
from mlcore.data import least_squares
from mlcore.figures import part2
from mlcore.figures.interactive import render_png
from mlcore.params import permute_hidden


def line_params(theta):
    """The parameters of the line w x + b at theta = (w, b)."""
    return [{"W": np.array([[theta[0]]]), "b": np.array([theta[1]])}]


def grad(theta, X, y):
    """Gradient of the mean cost of the line at theta, by the engine."""
    return mlcore.flatten_params(mlcore.gradient(line_params(theta), X, y, "identity"))


def cost(theta, X, y):
    return mlcore.cost(line_params(theta), X, y, "identity")


def costs(path, X, y):
    return np.array([cost(theta, X, y) for theta in path])


def gd_path(X, y, theta0, lr, steps):
    r"""Gradient descent on the mean cost, :math:`\theta \leftarrow \theta - \eta \nabla E`."""
    path = [np.asarray(theta0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1], X, y))
    return np.array(path)


def minimum_cost(problem):
    return mlcore.cost(least_squares(problem.X, problem.y), problem.X, problem.y, "identity")


def epoch_sizes(N, B):
    """Batch sizes of one epoch: full batches, then the rest (a full step, train's default)."""
    return [B] * (N // B) + ([N % B] if N % B else [])


def batches_of(path, X, y, lr, sizes):
    """The examples behind every drawn step: step t must be -lr times the mean gradient,
    at path[t], of exactly one set of ``sizes[t]`` examples.  Returns those sets."""
    N = len(X)
    assert len(path) == len(sizes) + 1, f"{len(path) - 1} steps drawn, {len(sizes)} expected"
    found = []
    for t, size in enumerate(sizes):
        G = mlcore.per_example_gradients(line_params(path[t]), X, y, "identity", flat=True)
        match = [
            S
            for S in itertools.combinations(range(N), size)
            if np.allclose(
                path[t] - lr * G[list(S)].mean(axis=0), path[t + 1], rtol=1e-10, atol=1e-12
            )
        ]
        assert len(match) == 1, f"step {t} is not one minibatch step of {size} examples"
        found.append(match[0])
    return found


def assert_epochs_partition(batches, N, per_epoch):
    """Every epoch uses every example exactly once."""
    for e in range(0, len(batches) - per_epoch + 1, per_epoch):
        used = sorted(n for S in batches[e : e + per_epoch] for n in S)
        assert used == list(range(N)), f"epoch {e // per_epoch} does not use every example once"


# ------------------------------------------------------------ contours shared by the line
LINE_FRAMES = [
    ("draw_three_answers", {"num_steps": 3}),
    ("draw_per_example_limits", {}),
    ("draw_average_weights", {"local_steps": 5, "lr": 0.1}),
    ("draw_batch_sizes", {"batch_size": 3, "lr": 0.1, "num_epochs": 2, "shuffle": True}),
]


@pytest.mark.parametrize(("draw", "values"), LINE_FRAMES, ids=[d for d, _ in LINE_FRAMES])
def test_line_frames_draw_the_cost_and_its_minimiser(problem, draw, values):
    fig = Figure()
    getattr(part2, draw)(fig, problem=problem, **values)
    star = one_gid(fig, "minimiser")
    ax = star.axes
    theta_star = xy(star)[0]
    np.testing.assert_allclose(grad(theta_star, problem.X, problem.y), 0, atol=1e-12)
    assert (*ax.get_xlim(), *ax.get_ylim()) == pytest.approx(problem.extent)
    # every vertex of a contour line has its level's cost, up to linear interpolation
    # of a quadratic along a grid edge of width h (error <= h^2/8 E'')
    Wg, Bg, _ = problem.grid
    h_w, h_b = Wg[0, 1] - Wg[0, 0], Bg[1, 0] - Bg[0, 0]
    tol = 1.01 * max(h_w**2 * np.mean(problem.X**2), h_b**2) / 8
    contours = contour_vertices(ax)
    assert len(contours) >= 8
    for level, vertices in contours:
        E = line.line_cost(vertices, problem.X, problem.y)
        assert np.abs(E - level).max() <= tol, f"contour {level:.4g} is not a level set of E"


def test_frames_render_as_png(problem):
    png = render_png(partial(part2.draw_per_example_limits, problem=problem), {}, dpi=30)
    assert png.startswith(b"\x89PNG")


# --------------------------------------------------------------------- draw_three_answers
WHAT_EACH_ANSWER_SAYS = {
    "gd": "average the gradients",
    "average_at_end": "average the weights",
    "sgd": "one example at a time",
}


@pytest.mark.parametrize("num_steps", [1, 20])
def test_three_answers_paths_are_the_three_procedures(problem, num_steps):
    X, y = problem.X, problem.y
    N, T, lr, seed = len(X), num_steps, 0.1, 0
    theta0 = mlcore.flatten_params(problem.params)
    fig = Figure()
    part2.draw_three_answers(fig, T, problem=problem, lr=lr, seed=seed)

    gd = gd_path(X, y, theta0, lr, T)
    alone = [gd_path(X[n : n + 1], y[n : n + 1], theta0, lr, T) for n in range(N)]
    averaged = np.array(
        [
            mlcore.flatten_params(mlcore.average_params([line_params(p[t]) for p in alone]))
            for t in range(T + 1)
        ]
    )
    paths = {"gd": gd, "average_at_end": averaged, "sgd": xy(one_gid(fig, "sgd-path"))}
    np.testing.assert_allclose(xy(one_gid(fig, "gd-path")), gd, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        xy(one_gid(fig, "average_at_end-path")), averaged, rtol=1e-10, atol=1e-12
    )
    # SGD: every step is one example's gradient step, each epoch a fresh order of all of them
    sgd = paths["sgd"]
    np.testing.assert_allclose(sgd[0], theta0)
    order = batches_of(sgd, X, y, lr, [1] * T)
    assert_epochs_partition(order, N, N)
    if T >= 2 * N:
        assert order[:N] != order[N : 2 * N], "the order is drawn again every epoch"
    _, hist = mlcore.train(
        problem.params,
        X,
        y,
        activations="identity",
        lr=lr,
        batch_size=1,
        rng=np.random.default_rng(seed),
        num_epochs=-(-T // N),
        record="step",
        track_epoch_loss=False,
    )
    np.testing.assert_allclose(sgd, hist.trajectory[: T + 1], rtol=1e-12)

    np.testing.assert_allclose(xy(one_gid(fig, "start")), [theta0])
    E_star = minimum_cost(problem)
    for key, path in paths.items():
        drawn, end, curve = (one_gid(fig, f"{key}-{part}") for part in ("path", "end", "cost"))
        np.testing.assert_allclose(xy(end), path[-1:], rtol=1e-12)
        np.testing.assert_allclose(
            xy(curve), np.column_stack([np.arange(T + 1), costs(path, X, y)]), rtol=1e-10
        )
        assert WHAT_EACH_ANSWER_SAYS[key] in curve.get_label().lower()
        assert same_colour(drawn, curve) and same_colour(drawn, end)
    assert len({colour(one_gid(fig, f"{key}-path")) for key in paths}) == 3
    assert xy(one_gid(fig, "minimum-cost"))[0, 1] == pytest.approx(E_star, rel=1e-12)
    assert one_gid(fig, "gd-cost").axes.get_yscale() == "log"
    title = one_gid(fig, "gd-path").axes.get_title()
    assert numbers(title) == [T] and title.endswith("1 step" if T == 1 else f"{T} steps")
    # after one step the average of the weights is the GD step: the figure says so
    assert len(all_gid(fig, "coincide-note")) == (T == 1)
    ax2 = one_gid(fig, "gd-cost").axes
    ax2.figure.draw_without_rendering()
    ticks = [t for t in ax2.get_xticks() if ax2.get_xlim()[0] <= t <= ax2.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), "steps are whole numbers"


# ---------------------------------------------------------------- draw_per_example_limits
def test_per_example_limits_are_where_one_example_gd_ends(problem):
    X, y = problem.X, problem.y
    N = len(X)
    theta0 = mlcore.flatten_params(problem.params)
    fig = Figure()
    part2.draw_per_example_limits(fig, problem=problem)

    limits = xy(one_gid(fig, "limits"))
    assert limits.shape == (N, 2)
    G0 = mlcore.per_example_gradients(problem.params, X, y, "identity", flat=True)
    for n in range(N):
        mine = slice(n, n + 1)
        assert cost(limits[n], X[mine], y[mine]) < 1e-20, "fits its own example exactly"
        d = limits[n] - theta0  # reached along that example's gradient only
        assert abs(d[0] * G0[n, 1] - d[1] * G0[n, 0]) < 1e-12 * np.linalg.norm(G0[n])
        p, _ = mlcore.train(
            problem.params,
            X[mine],
            y[mine],
            activations="identity",
            lr=0.1,
            num_epochs=1000,
            shuffle="never",
            track_epoch_loss=False,
        )
        np.testing.assert_allclose(limits[n], mlcore.flatten_params(p), atol=1e-10)
        # the example's line of minimisers, across the window
        ends = xy(all_gid(fig, "example-minimisers")[n])
        np.testing.assert_allclose(ends[:, 0], problem.extent[:2])
        np.testing.assert_allclose(ends[:, 0] * X[n, 0] + ends[:, 1], y[n, 0])
        np.testing.assert_allclose(xy(all_gid(fig, "to-limit")[n]), [theta0, limits[n]])
    # their average is what averaging the weights of the N long runs gives
    _, avg = mlcore.federated_averaging(
        problem.params, X, y, activations="identity", lr=0.1, local_steps=1000, rounds=1
    )
    np.testing.assert_allclose(
        xy(one_gid(fig, "average-of-limits")), avg.trajectory[-1:], atol=1e-10
    )
    np.testing.assert_allclose(xy(one_gid(fig, "start")), [theta0])
    legend = [t.get_text() for t in one_gid(fig, "limits").axes.get_legend().get_texts()]
    assert one_gid(fig, "limits").get_label() in legend
    assert one_gid(fig, "average-of-limits").get_label() in legend


# ------------------------------------------------------------------- draw_average_weights
@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_average_weights_paths_are_gd_and_fedavg(problem, k):
    X, y = problem.X, problem.y
    lr, budget = 0.15, 20
    theta0 = mlcore.flatten_params(problem.params)
    fig = Figure()
    part2.draw_average_weights(fig, k, lr, problem=problem, budget=budget)

    gd = gd_path(X, y, theta0, lr, budget)
    _, fed = mlcore.federated_averaging(
        problem.params, X, y, activations="identity", lr=lr, local_steps=k, rounds=budget // k
    )
    gd_line, fed_line = one_gid(fig, "gd-path"), one_gid(fig, "fedavg-path")
    np.testing.assert_allclose(xy(gd_line), gd, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xy(fed_line), fed.trajectory, rtol=1e-10, atol=1e-12)
    if k == 1:  # one local step per round is gradient descent
        np.testing.assert_allclose(xy(fed_line), xy(gd_line), atol=1e-12)
    else:  # the two paths are far enough apart that drawing one for the other shows
        assert np.linalg.norm(fed.trajectory[-1] - gd[-1]) > 1e-2

    gd_cost, fed_cost = one_gid(fig, "gd-cost"), one_gid(fig, "fedavg-cost")
    np.testing.assert_allclose(
        xy(gd_cost), np.column_stack([np.arange(budget + 1), costs(gd, X, y)]), rtol=1e-10
    )
    np.testing.assert_allclose(
        xy(fed_cost), np.column_stack([np.arange(0, budget + 1, k), fed.round_loss]), rtol=1e-10
    )
    assert gd_cost.axes.get_yscale() == "log"
    assert xy(one_gid(fig, "minimum-cost"))[0, 1] == pytest.approx(minimum_cost(problem))
    assert same_colour(gd_line, gd_cost) and same_colour(fed_line, fed_cost)
    assert not same_colour(gd_line, fed_line)
    assert "GD" in gd_line.get_label() and gd_line.get_label() == gd_cost.get_label()
    # one name for FedAvg in both panels, which says what it does; the title gives k
    assert fed_line.get_label() == fed_cost.get_label()
    assert "FedAvg" in fed_cost.get_label() and "average the weights" in fed_cost.get_label()
    assert numbers(fed_line.get_label()) == []
    assert numbers(gd_line.axes.get_title()) == [k, lr]
    notes = all_gid(fig, "coincide-note")  # k = 1 says that the paths coincide, others not
    assert len(notes) == (k == 1) and all("is GD" in t.get_text() for t in notes)
    _, long = mlcore.federated_averaging(
        problem.params, X, y, activations="identity", lr=0.1, local_steps=1000, rounds=1
    )
    np.testing.assert_allclose(
        xy(one_gid(fig, "average-of-limits")), long.trajectory[-1:], atol=1e-10
    )


# -------------------------------------------------------------- draw_weight_interpolation
def small_nets():
    rng = np.random.default_rng(5)
    X = np.linspace(-1, 1, 9).reshape(-1, 1)
    return rng, X, np.sin(2 * X), mlcore.init_params([1, 4, 1], rng)


def test_weight_interpolation_is_the_cost_along_the_segment():
    rng, X, y, net_a = small_nets()
    net_b = mlcore.init_params([1, 4, 1], rng)  # unrelated, so the direction of t shows
    fig = Figure()
    part2.draw_weight_interpolation(fig, net_a, net_b, X, y)
    ta, tb = mlcore.flatten_params(net_a), mlcore.flatten_params(net_b)

    def on_segment(t):
        return mlcore.unflatten_params((1 - t) * ta + t * tb, net_a)

    segment = xy(one_gid(fig, "segment-cost"))
    np.testing.assert_allclose(segment[:, 0], np.linspace(0, 1, 21))
    expected = [mlcore.cost(on_segment(t), X, y, "tanh") for t in segment[:, 0]]
    np.testing.assert_allclose(segment[:, 1], expected, rtol=1e-12)
    assert segment[0, 1] != pytest.approx(segment[-1, 1])
    # predicting 0 everywhere: the network with all parameters 0 (tanh(0) = 0)
    zero = mlcore.cost(mlcore.zeros_like_params(net_a), X, y, "tanh")
    np.testing.assert_allclose(xy(one_gid(fig, "zero-prediction-cost"))[:, 1], zero, rtol=1e-12)
    np.testing.assert_allclose(xy(one_gid(fig, "data")), np.column_stack([X, y]))
    np.testing.assert_allclose(
        xy(one_gid(fig, "net-a")), np.column_stack([X, mlcore.predict(net_a, X)])
    )
    np.testing.assert_allclose(
        xy(one_gid(fig, "midpoint")), np.column_stack([X, mlcore.predict(on_segment(0.5), X)])
    )


def test_weight_interpolation_of_a_permuted_copy_shows_one_function():
    """The label "A (= B)": B, A with its hidden units permuted, computes the same function."""
    rng, X, y, net_a = small_nets()
    net_b = permute_hidden(net_a, rng.permutation(4))
    fig = Figure()
    part2.draw_weight_interpolation(fig, net_a, net_b, X, y)
    curve = one_gid(fig, "net-a")
    assert "B" in curve.get_label()
    np.testing.assert_allclose(xy(curve)[:, 1:], mlcore.predict(net_b, X))
    segment = xy(one_gid(fig, "segment-cost"))
    assert segment[0, 1] == pytest.approx(segment[-1, 1], rel=1e-12)


# ----------------------------------------------------------------------- draw_batch_sizes
@pytest.mark.parametrize(("B", "shuffle"), [(1, True), (3, True), (3, False), (8, False)])
def test_batch_sizes_path_title_and_cost(problem, B, shuffle):
    X, y = problem.X, problem.y
    N, lr, epochs, seed = len(X), 0.1, 2, 3
    sizes = epoch_sizes(N, B)
    K = len(sizes)  # updates per epoch
    fig = Figure()
    part2.draw_batch_sizes(fig, B, lr, epochs, shuffle, problem=problem, seed=seed)

    path_line = one_gid(fig, "path")
    path = xy(path_line)
    np.testing.assert_allclose(path[0], mlcore.flatten_params(problem.params))
    batches = batches_of(path, X, y, lr, sizes * epochs)
    assert_epochs_partition(batches, N, K)
    if not shuffle:  # consecutive rows, in the data's order
        starts = np.cumsum([0, *sizes])
        expected = [tuple(range(a, b)) for a, b in itertools.pairwise(starts)]
        assert batches == expected * epochs
    _, hist = mlcore.train(
        problem.params,
        X,
        y,
        activations="identity",
        lr=lr,
        num_epochs=epochs,
        batch_size=B,
        shuffle="every_epoch" if shuffle else "never",
        rng=np.random.default_rng(seed),
        record="step",
    )
    np.testing.assert_allclose(path, hist.trajectory, rtol=1e-12)
    np.testing.assert_allclose(xy(one_gid(fig, "epoch-ends")), path[::K])
    assert len(path[::K]) == epochs + 1
    title = path_line.axes.get_title()
    assert numbers(title) == [B, N, K]
    assert ("1 update per epoch" if K == 1 else f"{K} updates per epoch") in title

    curve = one_gid(fig, "cost")
    seen = np.cumsum([0] + sizes * epochs)
    np.testing.assert_allclose(
        xy(curve), np.column_stack([seen / N, costs(path, X, y)]), rtol=1e-10
    )
    assert xy(curve)[-1, 0] == epochs
    assert curve.axes.get_yscale() == "log"
    assert xy(one_gid(fig, "minimum-cost"))[0, 1] == pytest.approx(minimum_cost(problem))
    title = curve.axes.get_title()
    assert numbers(title) == [lr]
    assert ("shuffled" if shuffle else "fixed order") in title


# ----------------------------------------------------------------------- draw_same_budget
def test_same_budget_paths_and_costs_per_epoch_and_per_update(problem):
    X, y = problem.X, problem.y
    N, lr, epochs = len(X), 0.1, 3
    runs = line.same_budget_runs(
        problem, (8, 3, 1), lr=lr, num_epochs=epochs, rng=np.random.default_rng(0)
    )
    fig = Figure()
    part2.draw_same_budget(fig, problem=problem, runs=runs)
    ax, ax2, ax3 = fig.axes
    E_star = minimum_cost(problem)
    names = {8: "GD", 3: "minibatch", 1: "SGD"}
    drawn_colours = set()
    for B, name in names.items():
        label = f"{name}, $B = {B}$"
        path_line, per_epoch, per_update = (labelled(a, label) for a in (ax, ax2, ax3))
        path = xy(path_line)
        sizes = epoch_sizes(N, B)
        np.testing.assert_allclose(path[0], mlcore.flatten_params(problem.params))
        assert_epochs_partition(batches_of(path, X, y, lr, sizes * epochs), N, len(sizes))
        excess = costs(path, X, y) - E_star
        seen = np.cumsum([0] + sizes * epochs)
        np.testing.assert_allclose(
            xy(per_epoch), np.column_stack([seen / N, excess]), rtol=1e-8, atol=1e-14
        )
        assert xy(per_epoch)[-1, 0] == epochs, "every run sees the same number of examples"
        np.testing.assert_allclose(
            xy(per_update), np.column_stack([np.arange(len(path)), excess]), rtol=1e-8, atol=1e-14
        )
        assert same_colour(path_line, per_epoch) and same_colour(path_line, per_update)
        drawn_colours.add(colour(path_line))
    assert len(drawn_colours) == len(names)
    assert ax2.get_yscale() == ax3.get_yscale() == ax3.get_xscale() == "log"
    assert "epochs" in ax2.get_xlabel() and "updates" in ax3.get_xlabel()
    assert "E^*" in ax2.get_ylabel()


# ------------------------------------------------------------------- draw_minibatch_cloud
@pytest.fixture(scope="module")
def line_gradients(problem):
    """Per-example gradients g_n of the line at its start, one row each (N = 8, P = 2)."""
    return mlcore.per_example_gradients(problem.params, problem.X, problem.y, "identity", flat=True)


def all_minibatch_means(G, B):
    """The mean gradient of every set of B distinct examples."""
    return np.array([G[list(S)].mean(axis=0) for S in itertools.combinations(range(len(G)), B)])


@pytest.mark.parametrize("B", [2, 5])
def test_minibatch_cloud_points_and_predicted_ellipse(problem, line_gradients, B):
    G = line_gradients
    N, D = len(G), 2000
    fig = Figure()
    part2.draw_minibatch_cloud(fig, B, G=G, num_draws=D, seed=1)
    np.testing.assert_allclose(xy(one_gid(fig, "examples")), G)
    g_bar = grad(mlcore.flatten_params(problem.params), problem.X, problem.y)
    np.testing.assert_allclose(xy(one_gid(fig, "full-gradient")), [g_bar], atol=1e-12)

    cloud = xy(one_gid(fig, "minibatch-means"))
    assert cloud.shape == (D, 2)
    every = all_minibatch_means(G, B)
    gap = np.linalg.norm(cloud[:, None, :] - every[None, :, :], axis=2).min(axis=1)
    assert gap.max() < 1e-12, "each point is the mean gradient of B distinct examples"

    # the covariance of g_B over all equally likely minibatches, and its formula
    C = np.cov(every.T, bias=True)
    Sigma = np.cov(G.T, bias=True)
    np.testing.assert_allclose(C, Sigma / B * (N - B) / (N - 1), rtol=1e-10)
    ellipse = xy(one_gid(fig, "predicted-ellipse"))
    np.testing.assert_allclose(mahalanobis_sq(ellipse, g_bar, C), 4.0, rtol=1e-9)  # 2 sigma
    u = np.linalg.solve(np.linalg.cholesky(C), (ellipse - g_bar).T)
    angles = np.sort(np.arctan2(u[1], u[0]))
    assert np.diff(np.r_[angles, angles[0] + 2 * np.pi]).max() < 0.2, "all the way round"
    # the cloud drawn has that spread
    measured = np.cov(cloud.T)
    assert np.linalg.norm(measured - C) < 0.1 * np.linalg.norm(C)
    title = numbers(cloud_axes_title(fig))
    assert title[:2] == [B, N]
    assert title[2] == pytest.approx(np.trace(measured), rel=5e-3)
    assert title[3] == pytest.approx(np.trace(C), rel=5e-3)


def cloud_axes_title(fig):
    return one_gid(fig, "minibatch-means").axes.get_title()


def test_minibatch_cloud_at_the_full_batch_is_one_point(problem, line_gradients):
    G = line_gradients
    N = len(G)
    lim = (-3.0, 3.0, -2.0, 2.0)
    fig = Figure()
    part2.draw_minibatch_cloud(fig, N, G=G, num_draws=50, seed=0, lim=lim)
    g_bar = grad(mlcore.flatten_params(problem.params), problem.X, problem.y)
    np.testing.assert_allclose(
        xy(one_gid(fig, "minibatch-means")), np.tile(g_bar, (50, 1)), atol=1e-12
    )
    np.testing.assert_allclose(
        xy(one_gid(fig, "predicted-ellipse")), np.tile(g_bar, (100, 1)), atol=1e-12
    )
    title = numbers(cloud_axes_title(fig))
    assert title[:2] == [N, N] and title[2] == 0 and title[3] == 0  # rounding noise shows as 0
    assert "whole set" in one_gid(fig, "full-batch-note").get_text()
    ax = one_gid(fig, "minibatch-means").axes
    assert (*ax.get_xlim(), *ax.get_ylim()) == lim


# --------------------------------------------------------------- draw_noise_vs_batch_size
def test_noise_vs_batch_size_predictions_and_measurements(line_gradients):
    G = line_gradients
    N = len(G)
    Bs = np.array([1, 2, 4, 8])
    out = noise.noise_vs_batch_size(G, Bs, num_draws=3000, rng=np.random.default_rng(2))
    fig = Figure()
    part2.draw_noise_vs_batch_size(fig, noise=out)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    tr_sigma = np.trace(np.cov(G.T, bias=True))
    with_replacement = tr_sigma / Bs
    partial_B = Bs[Bs < N]  # without replacement the noise is 0 at B = N: not on a log axis
    without = tr_sigma / partial_B * (N - partial_B) / (N - 1)

    pred_with, pred_without = one_gid(fig, "predicted-with"), one_gid(fig, "predicted-without")
    np.testing.assert_allclose(xy(pred_with), np.column_stack([Bs, with_replacement]), rtol=1e-10)
    np.testing.assert_allclose(xy(pred_without), np.column_stack([partial_B, without]), rtol=1e-10)
    assert "N-B" in pred_without.get_label() and "N-B" not in pred_with.get_label()
    meas_with, meas_without = one_gid(fig, "measured-with"), one_gid(fig, "measured-without")
    np.testing.assert_allclose(xy(meas_with), np.column_stack([Bs, out["with"]]))
    np.testing.assert_allclose(
        xy(meas_without), np.column_stack([partial_B, out["without"][Bs < N]])
    )
    # the measured traces agree with the prediction of their own kind of sampling
    np.testing.assert_allclose(xy(meas_with)[:, 1], with_replacement, rtol=0.08)
    np.testing.assert_allclose(xy(meas_without)[:, 1], without, rtol=0.08)
    assert "without" in meas_without.get_label() and "without" not in meas_with.get_label()
    assert same_colour(pred_with, meas_with) and same_colour(pred_without, meas_without)
    assert not same_colour(pred_with, pred_without)


# ---------------------------------------------------------------------- draw_effective_lr
def test_effective_lr_is_the_measured_step_and_excess_cost_is_capped(problem):
    X, y = problem.X, problem.y
    Bs, lr, cap = [1, 2, 4, 8], 0.5, 100.0
    final_mean = line.batch_size_sweep(problem, Bs, lr=lr, reduction="mean")
    final_sum = line.batch_size_sweep(problem, Bs, lr=lr, reduction="sum")
    E_star = minimum_cost(problem)
    fig = Figure()
    part2.draw_effective_lr(fig, Bs, lr, final_mean, final_sum, E_star, cap=cap)

    def first_step(B, reduction, eta):
        _, h = mlcore.train(
            problem.params,
            X,
            y,
            activations="identity",
            lr=eta,
            reduction=reduction,
            batch_size=B,
            num_epochs=1,
            shuffle="never",
            record="step",
            track_epoch_loss=False,
        )
        return h.trajectory[1] - h.trajectory[0]

    def excess_after_5_epochs(B, reduction, eta):
        with np.errstate(all="ignore"):
            p, h = mlcore.train(
                problem.params,
                X,
                y,
                activations="identity",
                lr=eta,
                reduction=reduction,
                batch_size=B,
                num_epochs=5,
                shuffle="never",
                on_divergence="stop",
            )
            E = mlcore.cost(p, X, y, "identity", check=False)
        return np.inf if h.diverged or not np.isfinite(E) else E - E_star

    # effective learning rate: the first step divided by the first batch's mean gradient
    theta0 = mlcore.flatten_params(problem.params)
    for gid, reduction in (("lr-mean", "mean"), ("lr-sum", "sum")):
        drawn = xy(one_gid(fig, gid))
        np.testing.assert_allclose(drawn[:, 0], Bs)
        for (B, eta), g in zip(drawn, (grad(theta0, X[:B], y[:B]) for B in Bs), strict=True):
            np.testing.assert_allclose(-first_step(int(B), reduction, lr) / g, eta, rtol=1e-10)
    # excess cost after 5 epochs, at the cap if larger (or diverged)
    with_mean = [min(excess_after_5_epochs(B, "mean", lr), cap) for B in Bs]
    np.testing.assert_allclose(
        xy(one_gid(fig, "final-mean")), np.column_stack([Bs, with_mean]), rtol=1e-9
    )
    mean_with_eta_B = [min(excess_after_5_epochs(B, "mean", lr * B), cap) for B in Bs]
    with_sum = [min(excess_after_5_epochs(B, "sum", lr), cap) for B in Bs]
    drawn_sum = xy(one_gid(fig, "final-sum"))
    np.testing.assert_allclose(drawn_sum, np.column_stack([Bs, with_sum]), rtol=1e-9)
    np.testing.assert_allclose(drawn_sum[:, 1], mean_with_eta_B, rtol=1e-9)  # the label's "="
    assert (drawn_sum[:, 1] == cap).any() and (drawn_sum[:, 1] < cap).any()
    # a run that diverged (its cost is inf) is drawn at the cap too
    fig_inf = Figure()
    part2.draw_effective_lr(fig_inf, Bs, lr, final_mean, [*final_sum[:-1], np.inf], E_star,
                            cap=cap)  # fmt: skip
    assert xy(one_gid(fig_inf, "final-sum"))[-1, 1] == cap

    assert xy(one_gid(fig, "cap"))[0, 1] == cap
    text = one_gid(fig, "diverged")
    assert text.get_text() == "diverged" and text.get_position()[1] > cap
    ax1, ax2 = fig.axes
    default = inspect.signature(line.batch_size_sweep).parameters["num_epochs"].default
    assert numbers(ax2.get_ylabel()) == [default]
    for ax in (ax1, ax2):
        assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "sum" in one_gid(fig, "lr-sum").get_label()
    assert "sum" in one_gid(fig, "final-sum").get_label()
