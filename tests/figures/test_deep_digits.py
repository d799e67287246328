"""Figures of the deep-digits and shuffling chapters draw exactly what the engine computed.

Each test trains a small network with the engine, hands the numbers to a builder, reads
the drawn data back from the matplotlib artists (lines, bars, spans, texts) and compares
it with an independent computation.
"""

from __future__ import annotations

import numpy as np
import pytest
from _book import assert_fits_the_book, book_figure
from matplotlib.text import Text

import mlcore as mc
from mlcore.figures import deep_digits as figs
from mlcore.figures.interactive import render_png

KW = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def moons():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(60, rng)
    Xv, yv = mc.make_moons(30, rng)
    return mc.init_params([2, 8, 2], rng), X, y, Xv, yv


@pytest.fixture(scope="module")
def runs(moons):
    params, X, y, Xv, yv = moons
    out = {}
    for label, B, lr in (("GD", 60, 1.0), ("B = 8", 8, 0.3)):
        _, h = mc.train(params, X, y, lr=lr, num_epochs=12, batch_size=B, validation=(Xv, yv),
                        record="epoch", rng=np.random.default_rng(1), **KW)  # fmt: skip
        out[label] = h
    return out


def val_accuracy(params, h, Xv, yv):
    """Accuracy after each epoch, from the recorded parameters, computed by hand."""
    accs = []
    for theta in h.trajectory:
        p = mc.unflatten_params(theta, params)
        a = np.tanh(Xv @ p[0]["W"].T + p[0]["b"])
        logits = a @ p[1]["W"].T + p[1]["b"]
        accs.append(np.mean(logits.argmax(axis=1) == yv))
    return np.array(accs)


def assert_readable(fig):
    """Every piece of text is at least 9 pt; at its book size nothing breaks the style."""
    assert_fits_the_book(fig)
    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    assert texts
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 9]
    assert not small, small


def test_epoch_curves_are_the_validation_losses_and_accuracies(moons, runs):
    params, _, _, Xv, yv = moons
    curves = {
        label: {"val_loss": h.val_loss, "val_accuracy": val_accuracy(params, h, Xv, yv)}
        for label, h in runs.items()
    }
    fig = figs.draw_epoch_curves(book_figure("draw_epoch_curves"), curves)
    ax1, ax2 = fig.axes
    assert ax1.get_xscale() == "log" and ax1.get_yscale() == "log"
    for line, (label, h) in zip(ax1.lines, runs.items(), strict=True):
        assert line.get_label() == label
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 13))
        np.testing.assert_allclose(line.get_ydata(), h.val_loss[1:])
    for line, (_, h) in zip(ax2.lines, runs.items(), strict=True):
        acc = [mc.accuracy(mc.unflatten_params(t, params), Xv, yv) for t in h.trajectory]
        np.testing.assert_allclose(line.get_ydata(), 100 * np.array(acc[1:]))
    styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in ax1.lines}
    assert len(styles) == 2 and len({s[1] for s in styles}) == 2  # not by colour alone
    assert_readable(fig)


def test_clock_curves_put_each_epoch_at_its_measured_time(runs):
    seconds = {"GD": 0.002, "B = 8": 0.005}
    fig = figs.draw_clock_curves(
        book_figure("draw_clock_curves"),
        {k: {"val_loss": h.val_loss} for k, h in runs.items()},
        seconds,
    )
    (ax,) = fig.axes
    for line, (label, h) in zip(ax.lines, runs.items(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), seconds[label] * np.arange(1, 13))
        np.testing.assert_allclose(line.get_ydata(), h.val_loss[1:])
    assert_readable(fig)


def test_settling_marks_the_band_the_settled_epoch_and_the_early_stop(moons):
    params, X, y, Xv, yv = moons
    _, h = mc.train(params, X, y, lr=0.1, num_epochs=40, batch_size=8, validation=(Xv, yv),
                    rng=np.random.default_rng(1), **KW)  # fmt: skip
    _, hp = mc.train(params, X, y, lr=0.1, num_epochs=40, batch_size=8, validation=(Xv, yv),
                     patience=2, rng=np.random.default_rng(1), **KW)  # fmt: skip
    assert hp.stopped_early
    val = h.val_loss
    tol = 0.5
    # the settled epoch, by a direct scan: the first e with every later loss in the band
    e_tol = next(e for e in range(len(val)) if np.all(val[e:] <= (1 + tol) * val.min()))
    last = len(hp.val_loss) - 1
    fig = figs.draw_settling(
        book_figure("draw_settling"),
        tol,
        2,
        val_loss=val,
        settled={tol: e_tol},
        stops={2: (hp.best_epoch, last)},
    )
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.lines[0].get_ydata(), val)
    span = [p for p in ax.patches if p.get_height() > 0][0]
    assert span.get_y() == pytest.approx(val.min())
    assert span.get_y() + span.get_height() == pytest.approx((1 + tol) * val.min())
    verticals = [tuple(line.get_xdata()) for line in ax.lines if len(set(line.get_xdata())) == 1]
    assert (e_tol, e_tol) in verticals
    star = [line for line in ax.lines if line.get_marker() == "*"][0]
    assert tuple(star.get_xydata()[0]) == pytest.approx((hp.best_epoch, val[hp.best_epoch]))
    assert (last, last) in verticals
    assert f"epoch {e_tol}" in ax.get_title()
    assert_readable(fig)


def test_order_curves_are_the_losses_of_each_order(moons):
    params, X, y, Xv, yv = moons
    order = np.argsort(y, kind="stable")
    curves = {}
    for shuffle in ("never", "every_epoch"):
        _, h = mc.train(params, X[order], y[order], lr=0.3, num_epochs=5, batch_size=8,
                        shuffle=shuffle, validation=(Xv, yv), rng=np.random.default_rng(0),
                        **KW)  # fmt: skip
        curves[shuffle] = {"train_loss": h.epoch_loss, "val_loss": h.val_loss}
    fig = figs.draw_order_curves(book_figure("draw_order_curves"), curves)
    ax1, ax2 = fig.axes
    for key, ax in (("train_loss", ax1), ("val_loss", ax2)):
        for line, c in zip(ax.lines, curves.values(), strict=True):
            np.testing.assert_allclose(line.get_ydata(), c[key])
    assert_readable(fig)


def test_predicted_classes_are_counted_from_the_recorded_steps(moons):
    params, X, y, Xv, yv = moons
    order = np.argsort(y, kind="stable")
    _, h = mc.train(params, X[order], y[order], lr=0.3, num_epochs=1, batch_size=8,
                    shuffle="never", record="step", **KW)  # fmt: skip
    counts = []
    for theta in h.trajectory:  # predictions counted by hand
        predicted = mc.predict(mc.unflatten_params(theta, params), Xv).argmax(axis=1)
        counts.append([np.sum(predicted == k) for k in range(2)])
    counts = {"sorted": np.array(counts)}
    digits = [", ".join(map(str, np.unique(y[order][k : k + 8]))) for k in range(0, 60, 8)]
    true = np.bincount(yv)
    fig = figs.draw_predicted_classes(
        book_figure("draw_predicted_classes"),
        4,
        counts=counts,
        true_counts=true,
        batch_classes=digits,
        num_steps=8,
    )
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.containers[0]]
    np.testing.assert_array_equal(heights, counts["sorted"][4])
    truth = [line for line in ax.lines if line.get_marker() == "_"][0]
    np.testing.assert_array_equal(truth.get_ydata(), true)
    assert ax.get_title().endswith(f"{digits[3]})")
    assert_readable(fig)


def test_class_accuracy_bars(moons):
    params, X, y, Xv, yv = moons
    p, _ = mc.train(params, X, y, lr=0.3, num_epochs=5, batch_size=8, **KW)
    predicted = mc.predict(p, Xv).argmax(axis=1)
    acc = np.array([np.mean(predicted[yv == k] == k) for k in range(2)])
    fig = figs.draw_class_accuracy(
        book_figure("draw_class_accuracy"), {"run": acc, "start": np.array([0.5, 0.25])}
    )
    (ax,) = fig.axes
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], 100 * acc)
    np.testing.assert_allclose([b.get_height() for b in ax.containers[1]], [50, 25])
    assert ax.containers[0][0].get_hatch() != ax.containers[1][0].get_hatch()
    assert_readable(fig)


def test_frames_render(moons, runs):
    h = runs["B = 8"]
    values = dict(tolerance=0.1, patience=3, val_loss=h.val_loss, settled={0.1: 5})
    values["stops"] = {3: (6, 9)}
    png = render_png(figs.draw_settling, values, dpi=30)
    assert png.startswith(b"\x89PNG")
