"""Tests of mlcore.figures: the Part I figure builders draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlcore  # noqa: E402
from mlcore.figures import part1 as figures  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_example_gradients_draws_one_arrow_per_example(line_data):
    X, y = line_data
    params = [{"W": np.array([[0.5]]), "b": np.array([0.5])}]
    pe = mlcore.per_example_gradients(params, X, y, activations="identity")
    G = np.column_stack([pe[0]["W"][:, 0, 0], pe[0]["b"][:, 0]])
    fig = figures.plot_example_gradients(X, y, (0.5, 0.5), G, G.mean(axis=0), minimum=(2, -1))
    assert len(fig.axes) == 2
    quivers = [c for c in fig.axes[1].collections if isinstance(c, matplotlib.quiver.Quiver)]
    assert [q.N for q in quivers] == [len(X), 1]
    # the thick arrow is the mean of the thin ones
    assert np.allclose(quivers[1].U, quivers[0].U.mean()) and np.allclose(
        quivers[1].V, quivers[0].V.mean()
    )
    with pytest.raises(ValueError, match="per_example"):
        figures.plot_example_gradients(X, y, (0, 0), G[:-1])


def test_tangents_one_panel_each():
    w = np.linspace(-1, 1, 11)
    panel = dict(w=w, E=w**2, w0=0.0, E0=0.0, slope=0.0, title="t")
    fig = figures.plot_tangents([panel, panel])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError):
        figures.plot_tangents([])


def test_backprop_flow_labels_every_layer():
    fig = figures.plot_backprop_flow((3, 5, 4, 2))
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for l in (1, 2, 3):  # noqa: E741
        assert f"\\delta^{{({l})}}" in texts
    assert "(5, 3)" in texts and "(2, 4)" in texts
    with pytest.raises(ValueError):
        figures.plot_backprop_flow((3,))


def test_gradient_check_scatter_and_bars():
    rng = np.random.default_rng(1)
    params = mlcore.init_params((2, 3, 1), rng)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    res = mlcore.gradient_check(params, X, Y)
    fig = figures.plot_gradient_check(res.analytic, res.numeric, res.errors)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].collections) == 2  # one scatter per layer
    assert len(figures.plot_gradient_check(res.analytic, res.numeric).axes) == 1
    with pytest.raises(ValueError):
        figures.plot_gradient_check(res.analytic, res.numeric[:1])


def test_outer_products_panels_sum_to_matrix_product():
    rng = np.random.default_rng(2)
    Delta, X = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    fig = figures.plot_outer_products(Delta, X, max_examples=3)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4
    assert np.allclose(sum(images[:3]), images[3])
    assert np.allclose(images[3], Delta[:3].T @ X[:3])
    with pytest.raises(ValueError):
        figures.plot_outer_products(Delta, X[:-1])


def test_timings_plot_and_shape_check():
    fig = figures.plot_timings([1, 10], [1e-3, 1e-2], [1e-4, 2e-4])
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError):
        figures.plot_timings([1, 10], [1e-3], [1e-4, 2e-4])
