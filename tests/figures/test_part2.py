"""Simulations of the line and the noise chapters, and the frames of Part II."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import mlcore
from mlcore import line, noise
from mlcore.figures import part2
from mlcore.figures.interactive import render_png
from mlcore.params import permute_hidden


@pytest.mark.parametrize(
    ("draw", "values"),
    [
        ("draw_average_weights", {"local_steps": 5, "lr": 0.1}),
        ("draw_batch_sizes", {"batch_size": 3, "lr": 0.1, "num_epochs": 2, "shuffle": True}),
        ("draw_per_example_limits", {}),
    ],
)
def test_line_figures_draw(problem, draw, values):
    png = render_png(partial(getattr(part2, draw), problem=problem), values, dpi=30)
    assert png.startswith(b"\x89PNG")


def test_noise_figures_draw():
    rng = np.random.default_rng(4)
    G = rng.standard_normal((10, 2))
    png = render_png(
        partial(part2.draw_minibatch_cloud, G=G, num_draws=20), {"batch_size": 10}, dpi=30
    )
    assert png.startswith(b"\x89PNG")
    out = noise.noise_vs_batch_size(G, [1, 2, 10], num_draws=20, rng=rng)
    assert render_png(partial(part2.draw_noise_vs_batch_size, noise=out), {}, dpi=30)


def test_three_answers_figure_draws_the_three_paths(problem):
    from matplotlib.figure import Figure

    fig = Figure()
    part2.draw_three_answers(fig, 10, problem=problem, lr=0.1)
    ax, ax2 = fig.axes
    runs = line.three_answers(problem, lr=0.1, num_steps=10, rng=np.random.default_rng(0))
    drawn = [line.get_xydata() for line in ax.lines if len(line.get_xydata()) == 11]
    assert len(drawn) == 3
    for path, expected in zip(drawn, runs.values(), strict=True):
        np.testing.assert_allclose(path, expected)
    assert len(ax2.lines) == 4  # three cost curves and the minimum


def test_effective_lr_figure_caps_diverged_runs():
    from matplotlib.figure import Figure

    fig = Figure()
    Bs = [1, 2, 4]
    part2.draw_effective_lr(fig, Bs, 0.1, [0.5, 0.6, 0.7], [0.5, 2.0, np.inf], 0.25, cap=100.0)
    ax1, ax2 = fig.axes
    np.testing.assert_allclose(ax1.lines[1].get_ydata(), [0.1, 0.2, 0.4])  # sum: lr * B
    np.testing.assert_allclose(ax2.lines[1].get_ydata(), [0.25, 1.75, 100.0])


def test_weight_interpolation_figure_ends_at_both_networks():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(5)
    X = np.linspace(-1, 1, 7).reshape(-1, 1)
    y = np.sin(X)
    net_a = mlcore.init_params([1, 4, 1], rng)
    net_b = permute_hidden(net_a, rng.permutation(4))
    fig = Figure()
    part2.draw_weight_interpolation(fig, net_a, net_b, X, y)
    path = fig.axes[0].lines[0].get_ydata()
    assert path[0] == pytest.approx(mlcore.cost(net_a, X, y))
    assert path[-1] == pytest.approx(mlcore.cost(net_b, X, y))
