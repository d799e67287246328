"""The figures of the batch-size, learning-rate and update-rule chapters draw what they claim.

Every test reads the plotted data back from the matplotlib artists (mesh values, texts,
line and marker coordinates) and compares it with an independent computation: separate
training runs of :func:`mlcore.sweeps.batch_lr_sweep`, or update rules written out here.
"""

from __future__ import annotations

import numpy as np
import pytest
from _book import assert_fits_the_book, book_figure
from matplotlib.collections import QuadMesh

import mlcore as mc
from mlcore.budgets import sweep_by_epoch
from mlcore.figures import hyperparams as hp
from mlcore.sweeps import batch_lr_sweep

CLASSIFY = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(48, rng)
    Xv, yv = mc.make_moons(30, rng)
    params = mc.init_params([2, 8, 8, 2], rng)
    kw = dict(batch_sizes=[1, 4, 16, 48], lrs=[0.05, 0.4, 3.2, 25.6], validation=(Xv, yv),
              **CLASSIFY)  # fmt: skip
    return params, X, y, kw, sweep_by_epoch(params, X, y, num_epochs=3, **kw)


def _independent(grid, epochs):
    """The grid after ``epochs`` from separate runs, and its unstable cells."""
    params, X, y, kw, _ = grid
    runs = batch_lr_sweep(params, X, y, num_epochs=epochs, **kw)
    unstable = runs.diverged | (runs.train_loss > runs.initial_loss)
    return runs, unstable


def _texts_by_cell(ax, lrs, Bs):
    cells = {}
    for t in ax.texts:
        x, y = t.get_position()
        i = int(np.argmin(np.abs(np.log(np.asarray(Bs, float) / y))))
        j = int(np.argmin(np.abs(np.log(np.asarray(lrs, float) / x))))
        assert np.isclose(x, lrs[j]) and np.isclose(y, Bs[i]), "a text off the cell centres"
        cells[i, j] = t.get_text()
    return cells


@pytest.mark.parametrize("epochs", [1, 3])
@pytest.mark.parametrize("metric", ["validation accuracy", "training cost"])
def test_map_draws_the_runs_of_that_budget(grid, epochs, metric):
    runs, unstable = _independent(grid, epochs)
    assert unstable.any() and (~unstable).any(), "the test grid must have both kinds of cells"
    values = runs.val_accuracy if metric == "validation accuracy" else runs.train_loss
    fig = book_figure("draw_batch_lr_map")
    ax = hp.draw_batch_lr_map(fig, epochs, metric, sweep=grid[4])
    Bs, lrs = grid[3]["batch_sizes"], grid[3]["lrs"]
    # the colours: one mesh cell per run, masked where unstable
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    shown = mesh.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), unstable)
    np.testing.assert_allclose(shown.data[~unstable], values[~unstable])
    # the texts: a cross on every unstable cell, the value on the others
    texts = _texts_by_cell(ax, lrs, Bs)
    assert set(texts) == {(i, j) for i in range(len(Bs)) for j in range(len(lrs))}
    for (i, j), text in texts.items():
        if unstable[i, j]:
            assert text == hp.UNSTABLE
        else:
            assert float("0" + text if text.startswith(".") else text) == pytest.approx(
                values[i, j], abs=0.01 if values[i, j] < 1 else 0.1, rel=0.05
            )
    # the staircase: in each row, a vertical edge just before the first unstable rate
    staircase, box, diagonal = ax.lines[:3]
    xs = staircase.get_xdata()[::2]
    for i, row in enumerate(unstable):
        k = int(np.argmax(row)) if row.any() else len(lrs)
        if 0 < k < len(lrs):
            assert xs[i] == pytest.approx(np.sqrt(lrs[k - 1] * lrs[k]))
        else:  # before the first or after the last rate: half a step beyond it
            assert xs[i] == pytest.approx(lrs[0] / 2.828427 if k == 0 else lrs[-1] * 2.828427)
    # the best run is outlined, and the dashed diagonal keeps its eta / B
    masked = np.where(unstable, np.nan, values)
    pick = np.nanargmax if metric == "validation accuracy" else np.nanargmin
    i, j = np.unravel_index(pick(masked), masked.shape)
    bx, by = box.get_xdata(), box.get_ydata()
    assert bx.min() < lrs[j] < bx.max() and by.min() < Bs[i] < by.max()
    assert bx.max() / bx.min() == pytest.approx(np.sqrt(lrs[1] / lrs[0]) ** 2)
    np.testing.assert_allclose(diagonal.get_xdata() / diagonal.get_ydata(), lrs[j] / Bs[i])
    assert f"{masked[i, j]:.3f}" in ax.get_title()


def test_map_rejects_an_unknown_metric_and_marks_a_ceiling(grid):
    with pytest.raises(ValueError, match="metric"):
        hp.draw_batch_lr_map(book_figure("draw_batch_lr_map"), 1, "test accuracy", sweep=grid[4])
    ax = hp.draw_batch_lr_map(book_figure("draw_batch_lr_map"), 1, sweep=grid[4], ceiling=1.23)
    assert [tuple(line.get_xdata()) for line in ax.lines if line.get_linestyle() == ":"] == [
        (1.23, 1.23)
    ]
    assert_fits_the_book(ax.figure)


def test_text_is_at_least_9_points(grid):
    fig = book_figure("draw_batch_lr_map")
    ax = hp.draw_batch_lr_map(fig, 3, sweep=grid[4])
    sizes = [t.get_fontsize() for t in ax.texts] + [ax.title.get_fontsize()]
    sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(sizes) >= 9


def test_stability_edge_draws_the_given_edges():
    Bs = np.array([1, 4, 16, 64])
    lo = np.array([0.05, 0.2, 0.8, 3.2])
    hi = np.array([0.2, 0.8, 3.2, np.inf])  # the last row: every rate stable
    fig = book_figure("draw_stability_edge")
    ax = hp.draw_stability_edge(fig, batch_sizes=Bs, last_stable=lo, first_unstable=hi,
                                ceiling=1.2, noise_scale=30.0)  # fmt: skip
    (bars,) = ax.collections
    segments = np.array([s[:, 1] for s in bars.get_segments()])
    np.testing.assert_allclose(segments, np.column_stack([lo[:3], hi[:3]]))
    by_label = {line.get_label(): line for line in ax.lines}
    np.testing.assert_allclose(by_label["last stable rate"].get_ydata(), lo[:3])
    np.testing.assert_allclose(by_label["first unstable rate"].get_ydata(), hi[:3])
    above = [line for label, line in by_label.items() if label.startswith("every rate stable")]
    np.testing.assert_allclose(above[0].get_xydata(), [[64, 3.2]])
    scaling = [line for label, line in by_label.items() if "linear scaling" in label][0]
    np.testing.assert_allclose(scaling.get_ydata(), 0.05 * Bs)  # slope 1 through B = 1
    ceiling = [line for label, line in by_label.items() if "lambda" in label][0]
    np.testing.assert_allclose(ceiling.get_ydata(), [1.2, 1.2])
    noise = [line for label, line in by_label.items() if "noise" in label][0]
    np.testing.assert_allclose(noise.get_xdata(), [30.0, 30.0])
    assert_fits_the_book(fig)


def test_lr_sweeps_draw_the_accuracy_of_each_rule(grid):
    params, X, y, kw, _ = grid
    lrs = [0.01, 0.1, 1.0, 10.0, 100.0]
    accuracy, unstable = {}, {}
    for name, rule in (("SGD", mc.SGD), ("Adam", mc.Adam)):
        runs = batch_lr_sweep(params, X, y, batch_sizes=[8], lrs=lrs, num_epochs=2, optimizer=rule,
                              validation=kw["validation"], **CLASSIFY)  # fmt: skip
        accuracy[name] = runs.val_accuracy[0]
        unstable[name] = (runs.diverged | (runs.train_loss > runs.initial_loss))[0]
    assert any(u.any() for u in unstable.values())
    fig = book_figure("draw_lr_sweeps")
    ax = hp.draw_lr_sweeps(fig, lrs=lrs, accuracy=accuracy, unstable=unstable)
    curves = [line for line in ax.lines if line.get_label() in accuracy]
    assert [line.get_label() for line in curves] == ["SGD", "Adam"]
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    for curve, cross, name in zip(curves, crosses, accuracy, strict=True):
        np.testing.assert_allclose(curve.get_xdata(), lrs)
        np.testing.assert_allclose(curve.get_ydata(), accuracy[name])
        np.testing.assert_allclose(cross.get_xdata(), np.array(lrs)[unstable[name]])
    # markers and line styles differ, not only colours
    assert len({(c.get_marker(), c.get_linestyle()) for c in curves}) == len(curves)
    (band,) = ax.patches
    assert band.get_x() == pytest.approx(1e-3) and band.get_x() + band.get_width() == pytest.approx(
        1e-2
    )
    assert_fits_the_book(fig)


def test_step_comparison_draws_one_step_against_averaged_steps():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3))
    y = rng.integers(0, 2, 12)
    params = mc.init_params([3, 4, 2], rng)
    theta = mc.flatten_params(params)
    G = mc.per_example_gradients(params, X, y, **CLASSIFY, flat=True)
    g = G.mean(axis=0)
    eta, eps = 0.01, 1e-8
    # the first steps written out by hand: SGD, and Adam with m_hat = g, v_hat = g^2
    sgd = (-eta * g, (-eta * G).mean(axis=0))
    adam = (-eta * g / (np.abs(g) + eps), (-eta * G / (np.abs(G) + eps)).mean(axis=0))

    def first_step(rule, grad):
        p = mc.unflatten_params(theta, params)
        rule.step(p, mc.unflatten_params(grad, params), eta, rule.init(p))
        return mc.flatten_params(p) - theta

    steps = {
        name: (first_step(rule(), g), np.mean([first_step(rule(), gn) for gn in G], axis=0))
        for name, rule in (("SGD", mc.SGD), ("Adam", mc.Adam))
    }
    fig = book_figure("draw_step_comparison")
    axes = hp.draw_step_comparison(fig, steps=steps, lr_units={"SGD": eta, "Adam": eta})
    for ax, expected in zip(axes, (sgd, adam), strict=True):
        assert ax.get_aspect() == 1.0
        diagonal, points = ax.lines[:2]
        np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
        np.testing.assert_allclose(points.get_xdata(), expected[0] / eta, atol=1e-6)
        np.testing.assert_allclose(points.get_ydata(), expected[1] / eta, atol=1e-6)
    sgd_points = axes[0].lines[1]
    np.testing.assert_allclose(sgd_points.get_xdata(), sgd_points.get_ydata(), atol=1e-12)
    assert not np.allclose(axes[1].lines[1].get_xdata(), axes[1].lines[1].get_ydata())
    assert_fits_the_book(fig)


def test_helpers():
    np.testing.assert_allclose(hp.geometric_edges([1, 4, 16]), [0.5, 2, 8, 32])
    with pytest.raises(ValueError):
        hp.geometric_edges([1])
    assert [hp.format_lr(v) for v in (4.0, 1.0, 0.25, 0.0625, 1 / 256)] == [
        "4", "1", "0.25", "0.062", "0.004",
    ]  # fmt: skip
