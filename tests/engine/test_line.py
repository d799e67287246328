"""mlcore.line: the line's cost on many points, the shared problem and its simulations."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore
import mlcore as mc
from mlcore import line


def test_linear_cost_matches_mlcore_cost(problem):
    thetas = np.array([[0.3, -0.2], [1.0, 2.0]])
    for theta in thetas:
        p = [{"W": theta[None, :1], "b": theta[1:]}]
        expected = mlcore.cost(p, problem.X, problem.y, activations="identity")
        assert np.isclose(line.line_cost(theta, problem.X, problem.y), expected)
    assert line.line_cost(thetas, problem.X, problem.y).shape == (2,)


def test_theta_star_is_the_minimiser(problem):
    g = mlcore.gradient(
        [{"W": problem.theta_star[None, :1], "b": problem.theta_star[1:]}],
        problem.X, problem.y, "identity",
    )  # fmt: skip
    assert np.allclose(mlcore.flatten_params(g), 0, atol=1e-10)


def test_per_example_limits_are_where_long_gd_ends(problem):
    limits = line.per_example_limits(problem.params, problem.X, problem.y)
    for n in (0, 5):
        p, _ = mlcore.train(problem.params, problem.X[n : n + 1], problem.y[n : n + 1],
                            activations="identity", lr=0.1, num_epochs=3000, shuffle="never",
                            track_epoch_loss=False)  # fmt: skip
        assert np.allclose(mlcore.flatten_params(p), limits[n], atol=1e-8)
    # each limit fits its own example exactly
    fit = limits[:, 0] * problem.X[:, 0] + limits[:, 1]
    assert np.allclose(fit, problem.y[:, 0])


def test_fedavg_with_one_local_step_is_gd(problem):
    runs = line.fedavg_and_gd(problem, lr=0.1, local_steps=1, budget=10)
    assert np.allclose(runs["gd"], runs["fedavg"], atol=1e-12)
    runs5 = line.fedavg_and_gd(problem, lr=0.1, local_steps=5, budget=10)
    assert runs5["fedavg"].shape == (3, 2)
    assert not np.allclose(runs5["fedavg"][-1], runs5["gd"][-1])
    with pytest.raises(ValueError, match="multiple"):
        line.fedavg_and_gd(problem, lr=0.1, local_steps=3, budget=10)


def test_sum_reduction_is_mean_with_scaled_lr(problem):
    Bs = [1, 3, 8]  # 8 = 3 + 3 + 2: a partial last batch at B = 3
    s = line.batch_size_sweep(problem, Bs, lr=0.02, reduction="sum")
    w = line.batch_size_sweep(problem, Bs, lr=0.02, reduction="mean", scale_lr=True,
                              last_batch="weighted")  # fmt: skip
    k = line.batch_size_sweep(problem, Bs, lr=0.02, reduction="mean", scale_lr=True)
    assert np.allclose(s, w, rtol=1e-9)
    assert np.allclose(s[[0, 2]], k[[0, 2]], rtol=1e-9) and not np.isclose(s[1], k[1])


def test_sweep_marks_overflowing_runs_and_keeps_finite_ones(problem):
    diverged = line.batch_size_sweep(problem, [8], lr=5.0, reduction="sum", num_epochs=400)
    assert np.isinf(diverged).all()
    growing = line.batch_size_sweep(problem, [8], lr=5.0, reduction="sum", num_epochs=2)
    assert np.isfinite(growing).all() and growing[0] > 1e3


def test_same_budget_runs_count_gradients(problem):
    runs = line.same_budget_runs(problem, (8, 3, 1), lr=0.1, num_epochs=2,
                               rng=np.random.default_rng(0))  # fmt: skip
    for B, (traj, cost, seen) in runs.items():
        assert seen[-1] == 16
        assert len(traj) == len(cost) == len(seen) == 2 * int(np.ceil(8 / B)) + 1


def test_three_answers_one_step_agree_and_many_steps_split():
    """One step: averaging the weights equals averaging the gradients; later they part."""
    problem = line.line_problem(np.random.default_rng(7), num_examples=8)
    one = line.three_answers(problem, lr=0.1, num_steps=1, rng=np.random.default_rng(0))
    assert all(path.shape == (2, 2) for path in one.values())
    np.testing.assert_allclose(one["average_at_end"], one["gd"], atol=1e-12)
    many = line.three_answers(problem, lr=0.1, num_steps=300, rng=np.random.default_rng(0))
    np.testing.assert_allclose(many["gd"][-1], problem.theta_star, atol=1e-3)
    cost = line.line_cost(many["average_at_end"][-1], problem.X, problem.y)
    assert cost > 10 * line.line_cost(problem.theta_star, problem.X, problem.y)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_line_cost_equals_the_network_cost_at_every_point(reduction):
    X, y, _ = mc.make_line(9, np.random.default_rng(3))
    thetas = np.random.default_rng(4).normal(size=(3, 5, 2))
    E = mc.line.line_cost(thetas, X, y, reduction=reduction)
    assert E.shape == (3, 5)
    for idx in np.ndindex(3, 5):
        w, b = thetas[idx]
        params = [{"W": np.array([[w]]), "b": np.array([b])}]
        expected = mc.cost(params, X, y, activations="identity", reduction=reduction)
        assert E[idx] == pytest.approx(expected, rel=1e-12)
    assert isinstance(mc.line.line_cost(thetas[0, 0], X, y), float)


def test_line_cost_rejects_bad_shapes():
    X, y, _ = mc.make_line(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="thetas must have shape"):
        mc.line.line_cost([1.0, 2.0, 3.0], X, y)
    with pytest.raises(ValueError, match="y must have 4 entries"):
        mc.line.line_cost([1.0, 2.0], X, y[:-1])
    with pytest.raises(ValueError, match="reduction"):
        mc.line.line_cost([1.0, 2.0], X, y, reduction="median")


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_linear_cost_grid_matches_mlcore_cost(line_data, reduction):
    X, y = line_data
    w_grid, b_grid = np.array([-1.0, 0.5, 2.0]), np.array([-0.5, 1.5])
    E = line.line_cost_grid(X, y, w_grid, b_grid, reduction=reduction)
    assert E.shape == (2, 3)
    for i, b in enumerate(b_grid):
        for j, w in enumerate(w_grid):
            p = [{"W": np.array([[w]]), "b": np.array([b])}]
            expected = mlcore.cost(p, X, y, activations="identity", reduction=reduction)
            assert np.isclose(E[i, j], expected)


def test_linear_cost_grid_rejects_bad_input(line_data):
    X, y = line_data
    with pytest.raises(ValueError, match="reduction"):
        line.line_cost_grid(X, y, [0.0], [0.0], reduction="median")
    with pytest.raises(ValueError, match="X must have shape"):
        line.line_cost_grid(np.hstack([X, X]), y, [0.0], [0.0])
    with pytest.raises(ValueError, match="y must have"):
        line.line_cost_grid(X, y[:-1], [0.0], [0.0])
