"""The figures of the input-gradient chapter draw what the engine computed.

A small network on 8x8 inputs gives input gradients, attacked images and accuracies; each
builder draws them and the test reads the images and lines back from the artists (by
``gid``) and compares them with a computation of its own.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from _readback import all_gid, labelled, numbers, one_gid, xy
from matplotlib.figure import Figure

import mlcore
from mlcore import inputs
from mlcore.figures import input_gradients as figs
from mlcore.figures.interactive import render_png

NET = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    params = mlcore.init_params((64, 12, 10), rng)
    grey = rng.integers(0, 17, size=(5, 64)).astype(float)
    X = (grey - 8.0) / 4.0
    labels = np.arange(5)
    return params, grey, X, labels


def _shown(fig, gid):
    return np.asarray(one_gid(fig, gid).get_array(), dtype=float).ravel()


def test_saliency_draws_digits_and_maps_scaled_to_their_maximum(case):
    params, grey, X, labels = case
    G_loss = np.abs(mlcore.input_gradient(params, X, labels, **NET))
    G_score = np.abs(inputs.class_score_gradient(params, X, labels)[1])
    fig = Figure(figsize=(5.6, 3.6), layout="constrained")
    figs.draw_saliency(fig, grey, [G_loss, G_score], titles=[f"{d}" for d in labels],
                       map_labels=["loss", "score"])  # fmt: skip
    for i in range(5):
        np.testing.assert_array_equal(_shown(fig, f"digit-{i}"), grey[i])
        np.testing.assert_allclose(_shown(fig, f"map-0-{i}"), G_loss[i] / G_loss[i].max())
        np.testing.assert_allclose(_shown(fig, f"map-1-{i}"), G_score[i] / G_score[i].max())
        assert one_gid(fig, f"digit-{i}").get_clim() == (0.0, 16.0)
    assert [ax.get_ylabel() for ax in fig.axes[::5]] == ["digit", "loss", "score"]
    with pytest.raises(ValueError, match="non-negative"):
        figs.draw_saliency(Figure(), grey, [-G_loss], titles=list("abcde"), map_labels=["x"])


def test_attack_accuracy_draws_the_measured_curves(case):
    params, _, X, labels = case
    eps = np.linspace(0.0, 1.0, 11)
    acc = [mlcore.accuracy(params, inputs.fgsm(params, X, labels, e, **NET), labels)
           for e in eps]  # fmt: skip
    signs = np.random.default_rng(1).choice([-1.0, 1.0], size=X.shape)
    acc_random = [mlcore.accuracy(params, X + e * signs, labels) for e in eps]
    fig = Figure(figsize=(6.0, 3.2), layout="constrained")
    figs.draw_attack_accuracy(fig, eps, acc, acc_random, median_eps=0.345, unit="std")
    np.testing.assert_allclose(
        xy(one_gid(fig, "attack")), np.column_stack([eps, 100 * np.array(acc)])
    )
    np.testing.assert_allclose(
        xy(one_gid(fig, "random")), np.column_stack([eps, 100 * np.array(acc_random)])
    )
    median = one_gid(fig, "median-eps")
    assert np.allclose(median.get_xdata(), 0.345)
    ax = fig.axes[0]
    assert numbers(labelled(ax, median.get_label()).get_label()) == [0.345]
    assert ax.get_xlabel() == "ε (std)"
    # the two curves differ by line style and marker, not by colour alone
    a, r = one_gid(fig, "attack"), one_gid(fig, "random")
    assert a.get_linestyle() != r.get_linestyle() and a.get_marker() != r.get_marker()


def test_attack_frame_shows_the_attacked_digits_and_predictions(case):
    params, grey, X, labels = case
    eps_values = (0.0, 0.5)
    attacked = {e: 4.0 * inputs.fgsm(params, X, labels, e, **NET) + 8.0 for e in eps_values}
    predicted = {e: mlcore.predict(params, (attacked[e] - 8.0) / 4.0).argmax(axis=1)
                 for e in eps_values}  # fmt: skip
    for e in eps_values:
        fig = Figure(figsize=(5.0, 2.4), layout="constrained")
        figs.draw_attack(fig, e, digits=grey, attacked=attacked, predicted=predicted,
                         labels=labels)  # fmt: skip
        axes = fig.axes
        for i in range(5):
            np.testing.assert_array_equal(_shown(fig, f"clean-{i}"), grey[i])
            np.testing.assert_allclose(_shown(fig, f"attacked-{i}"), attacked[e][i])
            title = axes[5 + i].get_title()
            assert numbers(title)[0] == predicted[e][i]
            assert ("✗" in title) == (predicted[e][i] != labels[i])
        assert numbers(axes[5].get_ylabel()) == [e]
    # a frame renders, at the size the chapter gives it
    png = render_png(partial(figs.draw_attack, digits=grey, attacked=attacked,
                             predicted=predicted, labels=labels), {"eps": 0.5}, figsize=(5.0, 2.4),
                     dpi=80)  # fmt: skip
    assert png.startswith(b"\x89PNG")


def test_digit_grid_and_style_rows(case):
    params, grey, X, labels = case
    classes = np.arange(10)
    X_dream, _ = inputs.optimise_inputs(
        lambda A: inputs.class_objective(params, A, classes, 0.01), np.zeros((10, 64)),
        lr=0.1, num_steps=5, maximise=True,
    )  # fmt: skip
    images = 4.0 * X_dream + 8.0
    fig = Figure(figsize=(6.0, 2.6), layout="constrained")
    figs.draw_digits(fig, images, titles=[f"{c}" for c in classes], ncols=5)
    for i in range(10):
        np.testing.assert_allclose(_shown(fig, f"digit-{i}"), images[i])
    assert [numbers(ax.get_title())[0] for ax in fig.axes] == list(range(10))
    fig = Figure(figsize=(6.0, 2.6), layout="constrained")
    figs.draw_digits(fig, images[:7], titles=["t"] * 7, ncols=5)
    assert len(all_gid(fig, "digit-6")) == 1 and not fig.axes[7].axison
    rows = [(grey[0], grey[1], grey[2]), (grey[3], grey[4], grey[0])]
    fig = Figure(figsize=(3.6, 2.9), layout="constrained")
    figs.draw_style(fig, rows)
    for r, row in enumerate(rows):
        for name, image in zip(("content", "style", "result"), row, strict=True):
            np.testing.assert_array_equal(_shown(fig, f"{name}-{r}"), image)
