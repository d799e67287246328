"""The figures of the per-example and private-training chapters draw what the engine computed.

Each test computes per-example gradient norms (or trains with DP-SGD) on a small network,
hands them to a builder, reads the drawn data back and compares it with a computation of
its own: the flipped examples among the top k counted by a loop, the histograms by
``numpy.histogram``, the clipped fraction from the norms and C.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _readback import numbers, one_gid, xy
from matplotlib.figure import Figure

import mlcore
from mlcore import privacy
from mlcore.figures import per_example as figs
from mlcore.figures import style

NET = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def flipped_moons():
    rng = np.random.default_rng(0)
    X, y = mlcore.make_moons(60, rng, noise=0.2)
    flipped = np.zeros(len(y), bool)
    flipped[rng.choice(len(y), 6, replace=False)] = True
    y_noisy = np.where(flipped, 1 - y, y)
    params = mlcore.init_params([2, 8, 2], np.random.default_rng(1))
    p, _ = mlcore.train(params, X, y_noisy, **NET, lr=0.5, num_epochs=20, batch_size=10,
                        rng=np.random.default_rng(2))  # fmt: skip
    norms = mlcore.per_example_gradient_norms(p, X, y_noisy, **NET)
    losses = -np.log(mlcore.losses.softmax(mlcore.predict(p, X))[np.arange(len(y)), y_noisy])
    return norms, losses, flipped


def test_recall_at_k_counts_the_flipped_among_the_top_k(flipped_moons):
    norms, _, flipped = flipped_moons
    recall = figs.recall_at_k(norms, flipped)
    order = sorted(range(len(norms)), key=lambda n: -norms[n])
    for k in range(len(norms) + 1):
        found = sum(flipped[n] for n in order[:k])
        assert recall[k] == pytest.approx(found / flipped.sum())
    assert recall[-1] == 1.0


def test_mislabel_ranking_draws_recall_chance_and_histograms(flipped_moons):
    norms, losses, flipped = flipped_moons
    fig = Figure(figsize=(7.0, 3.0))
    scores = {"gradient norm": norms, "loss": losses}
    figs.draw_mislabel_ranking(fig, scores=scores, flipped=flipped, hist_score="gradient norm")
    ax1, ax2 = fig.axes
    m, N = int(flipped.sum()), len(flipped)
    for i, score in enumerate(scores.values()):
        line = xy(one_gid(ax1, f"recall-{i}"))
        np.testing.assert_array_equal(line[:, 0], np.arange(3 * m + 1))
        np.testing.assert_allclose(line[:, 1], figs.recall_at_k(score, flipped)[: 3 * m + 1])
    np.testing.assert_allclose(xy(one_gid(ax1, "recall-chance"))[:, 1], np.arange(3 * m + 1) / N)
    best = xy(one_gid(ax1, "recall-best"))[:, 1]
    assert best[m] == 1.0 and best[m // 2] == pytest.approx((m // 2) / m)
    assert one_gid(ax1, "n-flipped").get_xdata()[0] == m
    assert numbers(ax1.get_title()) == [m, N]
    bins = np.geomspace(norms.min(), norms.max(), 31)
    for gid, mask in (("hist-clean", ~flipped), ("hist-flipped", flipped)):
        (patch,) = [p for p in ax2.patches if p.get_gid() == gid]
        heights, _ = np.histogram(norms[mask], bins=bins)
        heights = heights / mask.sum()
        # a step outline: each bin's height appears as the y of its two corners
        ys = patch.get_path().vertices[:, 1]
        assert set(np.round(heights, 9)) <= set(np.round(ys, 9))
    assert ax2.get_xscale() == "log"
    assert style.problems(fig) == []


@pytest.fixture(scope="module")
def private_runs():
    rng = np.random.default_rng(0)
    X, y = mlcore.make_moons(40, rng, noise=0.2)
    params = mlcore.init_params([2, 6, 2], np.random.default_rng(1))
    runs = {}
    for C in (0.1, 1.0):
        for sigma in (0.0, 1.0):
            p, h = privacy.dp_sgd(params, X, y, **NET, lr=0.5, num_epochs=4, sampling_rate=0.25,
                                  clip_norm=C, noise_multiplier=sigma,
                                  rng=np.random.default_rng(3), validation=(X, y))  # fmt: skip
            norms = mlcore.per_example_gradient_norms(p, X, y, **NET)
            runs[(C, sigma)] = {"val_accuracy": h.val_accuracy, "norms": norms}
    reference = [mlcore.accuracy(params, X, y)] + [0.9] * 4
    epsilons = {s: privacy.epsilon(s, 0.25, 16, 1e-5) if s else math.inf for s in (0.0, 1.0)}
    return runs, reference, epsilons


@pytest.mark.parametrize("C,sigma", [(0.1, 1.0), (1.0, 0.0)])
def test_private_run_draws_the_accuracy_the_norms_and_the_clip(private_runs, C, sigma):
    runs, reference, epsilons = private_runs
    fig = Figure(figsize=(7.0, 3.0))
    figs.draw_private_run(fig, C, sigma, runs=runs, reference=reference, epsilons=epsilons)
    ax1, ax2 = fig.axes
    run = runs[(C, sigma)]
    np.testing.assert_allclose(xy(one_gid(ax1, "accuracy"))[:, 1], run["val_accuracy"])
    np.testing.assert_allclose(xy(one_gid(ax1, "reference"))[:, 1], reference)
    title = numbers(ax1.get_title())
    assert title[:2] == [C, sigma]
    if sigma:
        assert title[2] == pytest.approx(epsilons[sigma], abs=0.05)
    else:
        assert "infty" in ax1.get_title()
    assert one_gid(ax2, "clip-norm").get_xdata()[0] == C
    everything = np.concatenate([r["norms"] for r in runs.values()])
    counts, _ = np.histogram(
        run["norms"], bins=np.geomspace(everything.min(), everything.max(), 31)
    )
    bars = [p for p in ax2.patches if p.get_gid() == "norms"]
    np.testing.assert_allclose([b.get_height() for b in bars], counts)
    assert numbers(ax2.get_title()) == [round(100 * np.mean(run["norms"] > C))]
    assert style.problems(fig) == []
