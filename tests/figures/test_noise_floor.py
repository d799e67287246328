"""The figures of the noise-floor and accumulation chapters draw what the engine computed.

Every test trains or differentiates a tiny network with the engine, hands the results to
a builder, then reads the drawn data back from the matplotlib artists and compares it
with a computation of its own (schedules and floors from their formulas, weights from
the sizes of the micro-batches).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from _book import assert_fits_the_book, book_figure
from matplotlib.colors import to_hex

import mlcore
from mlcore import schedules
from mlcore.accumulation import accumulated_gradient
from mlcore.figures import noise_floor as figs
from mlcore.figures.interactive import render_png

NET = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def moons():
    X, y = mlcore.make_moons(40, np.random.default_rng(0), noise=0.3)
    params = mlcore.init_params([2, 6, 2], np.random.default_rng(1))
    return X, y, params


def _run(moons, lr, epochs=6, batch_size=8, **kw):
    X, y, params = moons
    return mlcore.train(params, X, y, **NET, lr=lr, num_epochs=epochs, batch_size=batch_size,
                        rng=np.random.default_rng(2), **kw)  # fmt: skip


def _style(line):
    return to_hex(line.get_color()), line.get_linestyle()


def test_constant_rate_draws_costs_and_excess_costs(moons):
    clean = {f"lr {lr}": _run(moons, lr)[1].epoch_loss for lr in (0.1, 0.5)}
    ambiguous = {"lr 0.5": _run(moons, 0.5, batch_size=4)[1].epoch_loss}
    bound = 0.05
    fig = book_figure("draw_constant_rate")
    figs.draw_constant_rate(fig, clean=clean, ambiguous=ambiguous, bound=bound)
    ax1, ax2 = fig.axes
    assert [line.get_label() for line in ax1.lines] == list(clean)
    for line, y in zip(ax1.lines, clean.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(y)))
        np.testing.assert_allclose(line.get_ydata(), y)
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), ambiguous["lr 0.5"] - bound)
    assert ax1.get_yscale() == ax2.get_yscale() == "log"
    # two lines of one panel never differ by colour alone
    assert _style(ax1.lines[0])[1] != _style(ax1.lines[1])[1]
    assert_fits_the_book(fig)


def test_remedies_schedules_and_curves(moons):
    X, y, _ = moons
    steps, epochs = math.ceil(len(X) / 8), 6
    T = steps * epochs
    rates = {
        "constant": 0.5,
        "step decay": schedules.step_decay(0.5, every=T // 2, factor=0.1),
        "cosine": schedules.cosine(0.5, total_steps=T),
    }
    runs = {name: _run(moons, lr)[1].epoch_loss for name, lr in rates.items()}
    h_avg = _run(moons, 0.5, average=mlcore.IterateAverage("polyak", start=T // 2))[1]
    ambiguous = runs | {"Polyak average": h_avg.averaged_epoch_loss}
    clean = {"constant": runs["constant"], "cosine": runs["cosine"]}
    bound = 0.01
    fig = book_figure("draw_remedies")
    figs.draw_remedies(fig, schedules=rates, steps_per_epoch=steps, num_epochs=epochs,
                       ambiguous=ambiguous, bound=bound, clean=clean)  # fmt: skip
    ax0, ax1, ax2 = fig.axes
    # left: each schedule evaluated at every step, from its formula
    t = np.arange(T)
    expected = {
        "constant": np.full(T, 0.5),
        "step decay": 0.5 * 0.1 ** (t // (T // 2)),
        "cosine": 0.5 * 0.5 * (1 + np.cos(np.pi * t / T)),
    }
    for line in ax0.lines:
        np.testing.assert_allclose(line.get_xdata(), t / steps)
        np.testing.assert_allclose(line.get_ydata(), expected[line.get_label()], atol=1e-15)
    # middle: excess costs; right: costs
    for line in ax1.lines:
        np.testing.assert_allclose(line.get_ydata(), ambiguous[line.get_label()] - bound)
    for line in ax2.lines:
        np.testing.assert_allclose(line.get_ydata(), clean[line.get_label()])
    # a label looks the same in every panel; one legend, below, with every label
    styles = {line.get_label(): _style(line) for line in ax1.lines}
    for line in [*ax0.lines, *ax2.lines]:
        assert _style(line) == styles[line.get_label()]
    assert len(set(styles.values())) == len(styles)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(ambiguous)
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert_fits_the_book(fig)


def test_floor_frame_and_heights(moons):
    X, y, _ = moons
    start, _ = _run(moons, 0.5, epochs=4)
    lrs = (0.05, 0.2, 0.8)
    ambiguous = {lr: _run(moons, lr, epochs=5, batch_size=4)[1].epoch_loss for lr in lrs}
    clean = {lr: _run(moons, lr, epochs=5)[1].epoch_loss for lr in lrs}
    bound, last = 0.02, 3
    heights = figs.floor_heights(ambiguous, bound, last)
    np.testing.assert_allclose(heights, [np.mean(ambiguous[lr][-last:]) - bound for lr in lrs])
    fig = book_figure("draw_floor")
    figs.draw_floor(fig, 0.2, ambiguous=ambiguous, bound=bound, clean=clean, last=last,
                    start_ambiguous=1.0, start_clean=0.5)  # fmt: skip
    ax1, ax2 = fig.axes
    thick = [line for line in ax1.lines if line.get_label() == "$\\eta = 0.2$"]
    np.testing.assert_allclose(thick[0].get_ydata(), ambiguous[0.2] - bound)
    grey = [line for line in ax1.lines if line.get_label().startswith("_")]
    assert len([g for g in grey if len(g.get_ydata()) == 6]) == len(lrs) - 1
    floors = [line for line in ax2.lines if len(line.get_xdata()) == len(lrs)]
    np.testing.assert_allclose(floors[0].get_xdata(), lrs)
    np.testing.assert_allclose(floors[0].get_ydata(), heights)
    np.testing.assert_allclose(floors[1].get_ydata(), [np.mean(clean[lr][-last:]) for lr in lrs])
    marker = [line for line in ax2.lines if np.allclose(line.get_xdata(), 0.2)]
    assert marker, "the chosen rate is marked"
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["0.05", "0.2", "0.8"]
    # the explorable's frames render
    png = render_png(
        partial(figs.draw_floor, ambiguous=ambiguous, bound=bound, clean=clean, last=last,
                start_ambiguous=1.0, start_clean=0.5),
        {"lr": 0.8}, dpi=30,
    )  # fmt: skip
    assert png.startswith(b"\x89PNG")
    assert_fits_the_book(fig)


def test_example_weights_of_the_two_divisions():
    B, m = 10, 4  # micro-batches of 4, 4, 2
    probe = [{"W": np.zeros((1, B)), "b": np.zeros(1)}]
    weights = {
        by: accumulated_gradient(probe, np.eye(B), -np.ones((B, 1)), m, "identity",
                                 "squared_error", divide_by=by)[0]["W"][0]
        for by in ("examples", "micro_batches")
    }  # fmt: skip
    sizes = [4, 4, 2]
    fig = book_figure("draw_example_weights")
    figs.draw_example_weights(fig, weights=weights, sizes=sizes)
    (ax,) = fig.axes
    right, wrong = ax.lines[:2]
    np.testing.assert_array_equal(right.get_xdata(), np.arange(1, B + 1))
    np.testing.assert_allclose(right.get_ydata(), np.full(B, 1 / B))
    J = len(sizes)  # the wrong division: 1 / (J m_j) for an example of micro-batch j
    np.testing.assert_allclose(wrong.get_ydata(), np.repeat([1 / (J * s) for s in sizes], sizes))
    edges = sorted(line.get_xdata()[0] for line in ax.lines[2:])
    assert edges == [4.5, 8.5]
    assert_fits_the_book(fig)


def test_trajectory_gaps(moons):
    X, y, params = moons
    _, h = _run(moons, 0.5, epochs=2, record="step")
    _, h2 = _run(moons, 0.45, epochs=2, record="step")
    gap = np.abs(h2.trajectory - h.trajectory).max(axis=1)
    same = np.zeros(len(gap))
    eps = np.finfo(np.float64).eps
    fig = book_figure("draw_trajectory_gaps")
    figs.draw_trajectory_gaps(fig, gaps={"other rate": gap, "same": same}, eps=eps)
    (ax,) = fig.axes
    other, zero, ref = ax.lines
    np.testing.assert_array_equal(other.get_xdata(), np.arange(1, len(gap)))
    np.testing.assert_allclose(other.get_ydata(), gap[1:])
    np.testing.assert_allclose(zero.get_ydata(), eps / 10)  # zeros drawn at eps / 10
    np.testing.assert_allclose(ref.get_ydata(), eps)
    assert ax.get_yscale() == "log"
    assert_fits_the_book(fig)
