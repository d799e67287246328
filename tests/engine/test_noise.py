"""mlcore.noise: minibatch gradient noise, measured and predicted."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc
from mlcore import noise


def test_minibatch_means_use_distinct_rows_and_are_unbiased():
    rng = np.random.default_rng(2)
    G = np.eye(6)  # row n picks coordinate n: a batch mean shows which rows it used
    S = noise.minibatch_means(G, 3, 500, rng)
    assert np.allclose(S.sum(axis=1), 1.0)
    assert np.allclose(np.sort(S, axis=1)[:, -3:], 1 / 3), "rows repeated within a batch"
    assert np.allclose(noise.minibatch_means(G, 6, 3, rng), G.mean(axis=0))
    assert np.allclose(S.mean(axis=0), G.mean(axis=0), atol=0.05)


def test_noise_matches_the_prediction():
    rng = np.random.default_rng(3)
    G = rng.standard_normal((50, 4)) + np.array([1.0, 0, 0, 0])
    out = noise.noise_vs_batch_size(G, [1, 5, 25, 50], num_draws=4000, rng=rng)
    keep = out["pred_without"] > 0
    assert np.allclose(out["without"][keep], out["pred_without"][keep], rtol=0.1)
    assert np.allclose(out["with"], out["pred_with"], rtol=0.1)
    assert out["without"][-1] < 1e-20
    assert out["mean_error"] < 0.05


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_gradients_of_a_network_match_the_prediction(replace):
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(60, rng)
    params = mc.init_params([2, 4, 2], rng)
    kw = dict(activations="tanh", loss="softmax_cross_entropy")
    G = mc.per_example_gradients(params, X, y, flat=True, **kw)
    D, B = 3000, 10
    if replace:
        S = G[rng.integers(0, 60, size=(D, B))].mean(axis=1)
    else:
        S = noise.minibatch_means(G, B, D, rng)
    predicted = noise.predicted_minibatch_trace(
        noise.gradient_noise_trace(params, X, y, **kw), 60, B, replace=replace
    )
    # unbiased: the mean of D draws is within a few standard errors of the full gradient
    g_bar = mc.flatten_params(mc.gradient(params, X, y, **kw))
    assert np.linalg.norm(S.mean(axis=0) - g_bar) < 5 * np.sqrt(predicted / D)
    assert noise.covariance_trace(S) == pytest.approx(predicted, rel=0.1)


def test_noise_trace_identities():
    rng = np.random.default_rng(0)
    X, y = mc.data.make_spirals(30, rng)
    params = mc.init_params([2, 5, 2], rng)
    kw = dict(activations="relu", loss="softmax_cross_entropy")
    G = mc.per_example_gradients(params, X, y, flat=True, **kw)
    Sigma = noise.predicted_minibatch_covariance(G, 1)  # Cov of one random example = Sigma
    assert Sigma.shape == (mc.num_params(params),) * 2
    np.testing.assert_allclose(Sigma, Sigma.T)
    np.testing.assert_allclose(Sigma, np.cov(G, rowvar=False, ddof=0), atol=1e-15)
    t = noise.gradient_noise_trace(params, X, y, **kw)
    assert t == pytest.approx(np.trace(Sigma), rel=1e-10)
    # without replacement the minibatch noise vanishes at B = N; B = 1 gives tr(Sigma)
    assert noise.predicted_minibatch_trace(t, 30, 30) == 0.0
    assert noise.predicted_minibatch_trace(t, 30, 1) == pytest.approx(t)
    assert np.abs(noise.predicted_minibatch_covariance(G, 30)).max() == 0.0
    assert noise.covariance_trace(noise.minibatch_means(G, 30, 5, rng)) < 1e-25
    np.testing.assert_allclose(
        noise.predicted_minibatch_trace(t, 30, np.array([1, 2, 30]), replace=True),
        t / np.array([1, 2, 30]),
    )


def test_exact_minibatch_covariance_by_enumeration():
    """Exact check of tr Cov[g_B] = tr(Sigma)/B (N-B)/(N-1) over all subsets of size B."""
    from itertools import combinations

    rng = np.random.default_rng(2)
    X, y, _ = mc.data.make_linear_regression(7, rng, num_features=2)
    params = mc.init_params([2, 3, 1], rng)
    G = mc.per_example_gradients(params, X, y, flat=True)
    t = noise.gradient_noise_trace(params, X, y)
    for B in (1, 3, 7):
        gB = np.array([G[list(s)].mean(axis=0) for s in combinations(range(7), B)])
        tr = ((gB - gB.mean(axis=0)) ** 2).sum(axis=1).mean()
        assert tr == pytest.approx(noise.predicted_minibatch_trace(t, 7, B), rel=1e-9, abs=1e-20)


def test_covariance_trace_is_the_trace_of_numpys_covariance():
    S = np.random.default_rng(8).normal(size=(50, 4))
    assert noise.covariance_trace(S) == pytest.approx(np.trace(np.cov(S, rowvar=False)))
    assert noise.covariance_trace(S, ddof=0) == pytest.approx(
        np.trace(np.cov(S, rowvar=False, bias=True))
    )
    with pytest.raises(ValueError, match="samples must have shape"):
        noise.covariance_trace(S[:1])
