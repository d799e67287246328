"""Simulations and figure builders of Part II (mlcore.explorables)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import mlcore
from mlcore import explorables as ex
from mlcore.interactive import render_png


@pytest.fixture(scope="module")
def problem():
    return ex.line_problem(np.random.default_rng(0), num_examples=8, grid=20)


def test_linear_cost_matches_mlcore_cost(problem):
    thetas = np.array([[0.3, -0.2], [1.0, 2.0]])
    for theta in thetas:
        p = [{"W": theta[None, :1], "b": theta[1:]}]
        expected = mlcore.cost(p, problem.X, problem.y, activations="identity")
        assert np.isclose(ex.linear_cost(theta, problem.X, problem.y), expected)
    assert ex.linear_cost(thetas, problem.X, problem.y).shape == (2,)


def test_theta_star_is_the_minimiser(problem):
    g = mlcore.gradient(
        [{"W": problem.theta_star[None, :1], "b": problem.theta_star[1:]}],
        problem.X, problem.y, "identity",
    )  # fmt: skip
    assert np.allclose(mlcore.flatten_params(g), 0, atol=1e-10)


def test_per_example_limits_are_where_long_gd_ends(problem):
    limits = ex.per_example_limits(problem.params, problem.X, problem.y)
    for n in (0, 5):
        p, _ = mlcore.train(problem.params, problem.X[n : n + 1], problem.y[n : n + 1],
                            activations="identity", lr=0.1, num_epochs=3000, shuffle="never",
                            track_epoch_loss=False)  # fmt: skip
        assert np.allclose(mlcore.flatten_params(p), limits[n], atol=1e-8)
    # each limit fits its own example exactly
    fit = limits[:, 0] * problem.X[:, 0] + limits[:, 1]
    assert np.allclose(fit, problem.y[:, 0])


def test_fedavg_with_one_local_step_is_gd(problem):
    runs = ex.fedavg_and_gd(problem, lr=0.1, local_steps=1, budget=10)
    assert np.allclose(runs["gd"], runs["fedavg"], atol=1e-12)
    runs5 = ex.fedavg_and_gd(problem, lr=0.1, local_steps=5, budget=10)
    assert runs5["fedavg"].shape == (3, 2)
    assert not np.allclose(runs5["fedavg"][-1], runs5["gd"][-1])
    with pytest.raises(ValueError, match="multiple"):
        ex.fedavg_and_gd(problem, lr=0.1, local_steps=3, budget=10)


def test_permute_hidden_keeps_the_function():
    rng = np.random.default_rng(1)
    params = mlcore.init_params([3, 5, 2], rng)
    X = rng.standard_normal((7, 3))
    perm = rng.permutation(5)
    q = ex.permute_hidden(params, perm)
    assert np.allclose(mlcore.predict(params, X), mlcore.predict(q, X))
    assert not np.allclose(q[0]["W"], params[0]["W"])
    with pytest.raises(ValueError, match="permutation"):
        ex.permute_hidden(params, [0, 0, 1, 2, 3])


def test_minibatch_means_use_distinct_rows_and_are_unbiased():
    rng = np.random.default_rng(2)
    G = np.eye(6)  # row n picks coordinate n: a batch mean shows which rows it used
    S = ex.minibatch_means(G, 3, 500, rng)
    assert np.allclose(S.sum(axis=1), 1.0)
    assert np.allclose(np.sort(S, axis=1)[:, -3:], 1 / 3), "rows repeated within a batch"
    assert np.allclose(ex.minibatch_means(G, 6, 3, rng), G.mean(axis=0))
    assert np.allclose(S.mean(axis=0), G.mean(axis=0), atol=0.05)


def test_noise_matches_the_prediction():
    rng = np.random.default_rng(3)
    G = rng.standard_normal((50, 4)) + np.array([1.0, 0, 0, 0])
    noise = ex.noise_vs_batch_size(G, [1, 5, 25, 50], num_draws=4000, rng=rng)
    keep = noise["pred_without"] > 0
    assert np.allclose(noise["without"][keep], noise["pred_without"][keep], rtol=0.1)
    assert np.allclose(noise["with"], noise["pred_with"], rtol=0.1)
    assert noise["without"][-1] < 1e-20
    assert noise["mean_error"] < 0.05


def test_batch_gradients_size_weighted_mean_is_the_full_gradient(problem):
    grads, sizes = ex.batch_gradients(problem.params, problem.X, problem.y, 3)
    assert sizes.tolist() == [3, 3, 2]
    full = mlcore.flatten_params(mlcore.gradient(problem.params, problem.X, problem.y, "identity"))
    assert np.allclose(sizes @ grads / sizes.sum(), full)
    assert not np.allclose(grads.mean(axis=0), full)


def test_sum_reduction_is_mean_with_scaled_lr(problem):
    Bs = [1, 3, 8]
    s = ex.batch_size_sweep(problem, Bs, lr=0.02, reduction="sum")
    m = ex.batch_size_sweep(problem, Bs, lr=0.02, reduction="mean", scale_lr=True)
    assert np.allclose(s, m, rtol=1e-9)
    assert np.isinf(ex.batch_size_sweep(problem, [8], lr=5.0, reduction="sum")).all()


def test_same_budget_runs_count_gradients(problem):
    runs = ex.same_budget_runs(problem, (8, 3, 1), lr=0.1, num_epochs=2,
                               rng=np.random.default_rng(0))  # fmt: skip
    for B, (traj, cost, seen) in runs.items():
        assert seen[-1] == 16
        assert len(traj) == len(cost) == len(seen) == 2 * int(np.ceil(8 / B)) + 1


@pytest.mark.parametrize(
    ("draw", "values"),
    [
        ("draw_average_weights", {"local_steps": 5, "lr": 0.1}),
        ("draw_batch_sizes", {"batch_size": 3, "lr": 0.1, "num_epochs": 2, "shuffle": True}),
        ("draw_per_example_limits", {}),
    ],
)
def test_line_figures_draw(problem, draw, values):
    png = render_png(partial(getattr(ex, draw), problem=problem), values, dpi=30)
    assert png.startswith(b"\x89PNG")


def test_noise_figures_draw():
    rng = np.random.default_rng(4)
    G = rng.standard_normal((10, 2))
    png = render_png(
        partial(ex.draw_minibatch_cloud, G=G, num_draws=20), {"batch_size": 10}, dpi=30
    )
    assert png.startswith(b"\x89PNG")
    noise = ex.noise_vs_batch_size(G, [1, 2, 10], num_draws=20, rng=rng)
    assert render_png(partial(ex.draw_noise_vs_batch_size, noise=noise), {}, dpi=30)


def test_three_answers_one_step_agree_and_many_steps_split():
    """One step: averaging the weights equals averaging the gradients; later they part."""
    problem = ex.line_problem(np.random.default_rng(7), num_examples=8)
    one = ex.three_answers(problem, lr=0.1, num_steps=1, rng=np.random.default_rng(0))
    assert all(path.shape == (2, 2) for path in one.values())
    np.testing.assert_allclose(one["average_at_end"], one["gd"], atol=1e-12)
    many = ex.three_answers(problem, lr=0.1, num_steps=300, rng=np.random.default_rng(0))
    np.testing.assert_allclose(many["gd"][-1], problem.theta_star, atol=1e-3)
    cost = ex.linear_cost(many["average_at_end"][-1], problem.X, problem.y)
    assert cost > 10 * ex.linear_cost(problem.theta_star, problem.X, problem.y)


def test_three_answers_figure_draws_the_three_paths(problem):
    from matplotlib.figure import Figure

    fig = Figure()
    ex.draw_three_answers(fig, 10, problem=problem, lr=0.1)
    ax, ax2 = fig.axes
    runs = ex.three_answers(problem, lr=0.1, num_steps=10, rng=np.random.default_rng(0))
    drawn = [line.get_xydata() for line in ax.lines if len(line.get_xydata()) == 11]
    assert len(drawn) == 3
    for path, expected in zip(drawn, runs.values(), strict=True):
        np.testing.assert_allclose(path, expected)
    assert len(ax2.lines) == 4  # three cost curves and the minimum


def test_effective_lr_figure_caps_diverged_runs():
    from matplotlib.figure import Figure

    fig = Figure()
    Bs = [1, 2, 4]
    ex.draw_effective_lr(fig, Bs, 0.1, [0.5, 0.6, 0.7], [0.5, 2.0, np.inf], 0.25, cap=100.0)
    ax1, ax2 = fig.axes
    np.testing.assert_allclose(ax1.lines[1].get_ydata(), [0.1, 0.2, 0.4])  # sum: lr * B
    np.testing.assert_allclose(ax2.lines[1].get_ydata(), [0.25, 1.75, 100.0])


def test_weight_interpolation_figure_ends_at_both_networks():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(5)
    X = np.linspace(-1, 1, 7).reshape(-1, 1)
    y = np.sin(X)
    net_a = mlcore.init_params([1, 4, 1], rng)
    net_b = ex.permute_hidden(net_a, rng.permutation(4))
    fig = Figure()
    ex.draw_weight_interpolation(fig, net_a, net_b, X, y)
    path = fig.axes[0].lines[0].get_ydata()
    assert path[0] == pytest.approx(mlcore.cost(net_a, X, y))
    assert path[-1] == pytest.approx(mlcore.cost(net_b, X, y))
