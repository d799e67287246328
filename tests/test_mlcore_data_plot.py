"""Data sets (seeded, shapes, known answers) and plot helpers (they draw what they say)."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc


def test_make_line_known_answer_and_reproducible():
    X, y, true = mc.make_line(500, np.random.default_rng(0), w=2.0, b=-1.0, noise=0.1)
    X2, y2, _ = mc.make_line(500, np.random.default_rng(0), w=2.0, b=-1.0, noise=0.1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.shape == (500, 1) and y.shape == (500, 1)
    ls = mc.least_squares(X, y)
    assert ls[0]["W"][0, 0] == pytest.approx(2.0, abs=0.05)
    assert ls[0]["b"][0] == pytest.approx(-1.0, abs=0.05)
    assert true[0]["W"].shape == (1, 1) and true[0]["b"].shape == (1,)


def test_least_squares_is_the_minimum_of_the_cost():
    X, y, _ = mc.make_linear_regression(50, np.random.default_rng(1), num_features=2, noise=0.5)
    ls = mc.least_squares(X, y)
    g = mc.gradient(ls, X, y, "identity")
    assert np.abs(mc.flatten_params(g)).max() < 1e-10  # gradient vanishes at the minimum


def test_linear_regression_given_weights():
    X, y, true = mc.make_linear_regression(20, np.random.default_rng(2), num_features=3,
                                           noise=0.0, W=[1.0, -2.0, 0.5], b=3.0)  # fmt: skip
    np.testing.assert_allclose(y, X @ np.array([[1.0, -2.0, 0.5]]).T + 3.0)
    np.testing.assert_allclose(mc.predict(true, X, "identity"), y)


@pytest.mark.parametrize("maker", [mc.make_moons, mc.make_spirals])
def test_classification_sets(maker):
    X, y = maker(101, np.random.default_rng(3))
    assert X.shape == (101, 2) and y.shape == (101,) and y.dtype.kind == "i"
    assert set(np.unique(y)) == {0, 1}
    X2, y2 = maker(101, np.random.default_rng(3))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_digits_split_and_standardisation():
    Xtr, Xte, ytr, yte = mc.load_digits(np.random.default_rng(0))
    assert Xtr.shape == (1438, 64) and Xte.shape == (359, 64)
    assert ytr.shape == (1438,) and set(np.unique(ytr)) == set(range(10))
    np.testing.assert_allclose(Xtr.mean(axis=0), 0.0, atol=1e-12)
    std = Xtr.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    a = mc.load_digits(np.random.default_rng(0), scale="unit", dtype=np.float32)
    assert a[0].dtype == np.float32 and a[0].min() >= 0 and a[0].max() <= 1
    b = mc.load_digits(np.random.default_rng(1))
    assert not np.array_equal(b[2], ytr)  # another seed, another split


def test_split_indices_partition():
    parts = mc.split_indices(10, 3, np.random.default_rng(0))
    assert sorted(len(p) for p in parts) == [3, 3, 4]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(10))


# ----------------------------------------------------------------------------- plots
@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_loss_returns_axes_with_data(plt):
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_line(30, rng)
    p = mc.init_params([1, 1], rng)
    _, hist = mc.train(p, X, y, activations="identity", lr=0.1, num_epochs=5, batch_size=10,
                       rng=rng)  # fmt: skip
    _, ax = plt.subplots()
    out = mc.plot_loss(hist, ax, label="SGD")
    assert out is ax
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), hist.step_loss)
    out2 = mc.plot_loss(hist, per="epoch", logy=True)
    np.testing.assert_array_equal(out2.lines[0].get_xdata(), np.arange(6))
    assert out2.get_yscale() == "log"


def test_cost_surface_matches_cost_and_contour_plot(plt):
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_line(20, rng)
    p = mc.init_params([1, 1], rng)
    T0, T1, E = mc.cost_surface(p, X, y, [0.0, 1.0, 2.0], [-1.0, 0.0])
    assert E.shape == (2, 3)
    q = [{"W": np.array([[2.0]]), "b": np.array([-1.0])}]
    assert E[0, 2] == pytest.approx(mc.cost(q, X, y, "identity"))
    ax = mc.plot_cost_contour(p, X, y, (0, 4), (-3, 1), num=15)
    assert len(ax.collections) > 0 and ax.get_xlabel() == "$w$"
    _, hist = mc.train(p, X, y, activations="identity", lr=0.1, num_epochs=10, shuffle="never",
                       record="epoch")  # fmt: skip
    mc.plot_trajectory(hist.trajectory, ax, label="GD")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), hist.trajectory[:, 0])


def test_gradient_arrows(plt):
    G = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])
    ax = mc.plot_gradient_arrows(G, origin=(0.5, 0.5), scale=0.1)
    per, mean = ax.collections
    np.testing.assert_allclose(per.U, -0.1 * G[:, 0])
    np.testing.assert_allclose([mean.U[0], mean.V[0]], -0.1 * G.mean(axis=0))
    with pytest.raises(ValueError, match="gradients must have shape"):
        mc.plot_gradient_arrows(np.zeros((3, 3)))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_line_cost_equals_the_network_cost_at_every_point(reduction):
    X, y, _ = mc.make_line(9, np.random.default_rng(3))
    thetas = np.random.default_rng(4).normal(size=(3, 5, 2))
    E = mc.line_cost(thetas, X, y, reduction=reduction)
    assert E.shape == (3, 5)
    for idx in np.ndindex(3, 5):
        w, b = thetas[idx]
        params = [{"W": np.array([[w]]), "b": np.array([b])}]
        expected = mc.cost(params, X, y, activations="identity", reduction=reduction)
        assert E[idx] == pytest.approx(expected, rel=1e-12)
    assert isinstance(mc.line_cost(thetas[0, 0], X, y), float)


def test_line_cost_rejects_bad_shapes():
    X, y, _ = mc.make_line(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="thetas must have shape"):
        mc.line_cost([1.0, 2.0, 3.0], X, y)
    with pytest.raises(ValueError, match="y must have 4 entries"):
        mc.line_cost([1.0, 2.0], X, y[:-1])
    with pytest.raises(ValueError, match="reduction"):
        mc.line_cost([1.0, 2.0], X, y, reduction="median")
