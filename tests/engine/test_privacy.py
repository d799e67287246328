"""mlcore.privacy: clipping, the noisy clipped mean, DP-SGD and the accountant's epsilon.

Every result is compared with an independent computation: per-example gradients
materialised one example at a time and clipped by hand, the ordinary mean gradient in the
limits sigma = 0 and C = inf, the noise's sample statistics, a DP-SGD step written out,
and the value Abadi et al. (2016) report for their moments accountant.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcore as mc
from mlcore import privacy

KW = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(12, rng)
    return mc.init_params([2, 5, 4, 3], rng), X, y % 3


def _loop_gradients(params, X, y):
    """Per-example gradients one example at a time (no per_example module involved)."""
    return np.array(
        [mc.flatten_params(mc.gradient(params, X[n : n + 1], y[n : n + 1], **KW))
         for n in range(len(X))]
    )  # fmt: skip


def test_clip_factors_and_rows_bound_every_norm_and_keep_directions():
    G = np.random.default_rng(1).standard_normal((7, 5)) * np.arange(1, 8)[:, None]
    norms = np.linalg.norm(G, axis=1)
    C = 4.0
    clipped = privacy.clip_rows(G, C)
    new = np.linalg.norm(clipped, axis=1)
    np.testing.assert_allclose(new, np.minimum(norms, C), rtol=1e-12)
    unit = G / norms[:, None]
    np.testing.assert_allclose(clipped / new[:, None], unit, rtol=1e-12)
    np.testing.assert_allclose(privacy.clip_factors(norms, C), np.minimum(1, C / norms))
    np.testing.assert_array_equal(privacy.clip_rows(G, math.inf), G)
    assert privacy.clip_factors(np.array([0.0, 2.0]), 1.0).tolist() == [1.0, 0.5]


@pytest.mark.parametrize("C", [0.05, 0.3, math.inf])
def test_clipped_sum_without_materialising_equals_the_materialised_clip(data, C):
    params, X, y = data
    G = _loop_gradients(params, X, y)
    grads, norms = privacy.clipped_gradient_sum(params, X, y, **KW, clip_norm=C)
    np.testing.assert_allclose(norms, np.linalg.norm(G, axis=1), rtol=1e-10)
    want = privacy.clip_rows(G, C).sum(axis=0)
    np.testing.assert_allclose(mc.flatten_params(grads), want, rtol=1e-10, atol=1e-14)
    if C < 0.3:  # every example clipped: the sum has norm <= B C
        assert (norms > C).all()
        assert np.linalg.norm(want) <= len(X) * C + 1e-12


def test_no_noise_and_no_clipping_is_the_ordinary_mean_gradient(data):
    params, X, y = data
    g = privacy.noisy_clipped_mean(params, X, y, **KW, clip_norm=math.inf, noise_multiplier=0.0,
                                   expected_batch_size=len(X),
                                   rng=np.random.default_rng(0))  # fmt: skip
    np.testing.assert_allclose(
        mc.flatten_params(g), mc.flatten_params(mc.gradient(params, X, y, **KW)), rtol=1e-10
    )
    # sigma = 0 with a finite C: the mean of the clipped gradients, no noise
    g = privacy.noisy_clipped_mean(params, X, y, **KW, clip_norm=0.1, noise_multiplier=0.0,
                                   expected_batch_size=len(X),
                                   rng=np.random.default_rng(0))  # fmt: skip
    want = privacy.clip_rows(_loop_gradients(params, X, y), 0.1).mean(axis=0)
    np.testing.assert_allclose(mc.flatten_params(g), want, rtol=1e-10)


def test_the_noise_has_mean_zero_and_standard_deviation_sigma_c_over_the_size(data):
    params, X, y = data
    C, sigma, size = 0.5, 2.0, 4.0
    grads, _ = privacy.clipped_gradient_sum(params, X, y, **KW, clip_norm=C)
    exact = mc.flatten_params(grads) / size
    rng = np.random.default_rng(7)
    draws = np.array([
        mc.flatten_params(privacy.noisy_clipped_mean(
            params, X, y, **KW, clip_norm=C, noise_multiplier=sigma, expected_batch_size=size,
            rng=rng)) - exact
        for _ in range(400)
    ])  # fmt: skip
    noise = draws.ravel()  # 400 draws x 43 parameters, independent N(0, (sigma C / size)^2)
    std = sigma * C / size
    n = noise.size
    assert abs(noise.mean()) < 5 * std / math.sqrt(n)
    assert abs(noise.std() / std - 1) < 5 / math.sqrt(2 * n)
    # independent coordinates: the sample correlation of two parameters is near 0
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 5 / math.sqrt(400)


def test_dp_sgd_equals_the_written_out_rule(data):
    params, X, y = data
    q, C, sigma, lr, epochs = 0.4, 0.2, 1.3, 0.5, 2
    p, h = privacy.dp_sgd(params, X, y, **KW, lr=lr, num_epochs=epochs, sampling_rate=q,
                          clip_norm=C, noise_multiplier=sigma,
                          rng=np.random.default_rng(3), validation=(X, y))  # fmt: skip
    rng = np.random.default_rng(3)
    ref = mc.params.copy_params(params)
    K = math.ceil(1 / q)
    sizes = []
    for _ in range(epochs * K):
        idx = np.flatnonzero(rng.random(len(X)) < q)
        sizes.append(len(idx))
        G = _loop_gradients(ref, X[idx], y[idx]) if len(idx) else np.zeros((0, 43))
        total = privacy.clip_rows(G, C).sum(axis=0) if len(idx) else np.zeros(43)
        noise = np.concatenate([rng.standard_normal(a.shape).ravel()
                                for layer in ref for a in (layer["W"], layer["b"])])  # fmt: skip
        g = (total + sigma * C * noise) / (q * len(X))
        mc.optim.sgd_step(ref, mc.unflatten_params(g, ref), lr)
    np.testing.assert_allclose(mc.flatten_params(p), mc.flatten_params(ref), rtol=1e-10)
    assert h.batch_sizes.tolist() == sizes and h.steps_per_epoch == K
    assert len(h.epoch_loss) == len(h.val_accuracy) == epochs + 1
    assert h.val_accuracy[-1] == mc.accuracy(p, X, y)


def test_dp_sgd_without_noise_or_clipping_on_every_example_is_gradient_descent(data):
    params, X, y = data
    p, h = privacy.dp_sgd(params, X, y, **KW, lr=0.3, num_epochs=3, sampling_rate=1.0,
                          clip_norm=math.inf, noise_multiplier=0.0,
                          rng=np.random.default_rng(0))  # fmt: skip
    p_gd, _ = mc.train(params, X, y, **KW, lr=0.3, num_epochs=3)
    np.testing.assert_allclose(mc.flatten_params(p), mc.flatten_params(p_gd), rtol=1e-10)
    assert (h.batch_sizes == len(X)).all() and (h.clipped_fraction == 0).all()


def test_epsilon_from_the_accountant():
    # Abadi et al. (2016), section 3.1: q = 0.01, sigma = 4, T = 10 000, delta = 1e-5 give
    # epsilon ~ 1.26 with their moments accountant; RDP over more orders is at least as tight.
    eps = privacy.epsilon(4.0, 0.01, 10_000, 1e-5)
    assert 0.9 < eps <= 1.26
    assert privacy.epsilon(4.0, 0.01, 10_000, 1e-5, accountant="pld") <= eps
    # more noise, fewer steps, a larger delta: a smaller epsilon
    assert privacy.epsilon(8.0, 0.01, 10_000, 1e-5) < eps
    assert privacy.epsilon(4.0, 0.01, 1_000, 1e-5) < eps
    assert privacy.epsilon(4.0, 0.01, 10_000, 1e-3) < eps
    assert privacy.epsilon(0.0, 0.01, 10, 1e-5) == math.inf


@pytest.mark.parametrize(
    "call,exc,pattern",
    [
        (lambda: privacy.clip_rows(np.ones((2, 3)), 0.0), ValueError, r"clip_norm must be > 0"),
        (lambda: privacy.clip_rows(np.ones((2, 3)), -1), ValueError, r"clip_norm must be > 0"),
        (lambda: privacy.clip_rows(np.ones((2, 3)), "1"), TypeError, r"clip_norm must be a real"),
        (lambda: privacy.clip_factors([-1.0], 1.0), ValueError, r"norms must be .* >= 0"),
        (lambda: privacy.epsilon(-1.0, 0.1, 10, 1e-5), ValueError,
         r"noise_multiplier must be >= 0"),
        (lambda: privacy.epsilon(1.0, 1.5, 10, 1e-5), ValueError, r"sampling_rate must be in"),
        (lambda: privacy.epsilon(1.0, 0.1, 10, 1.0), ValueError, r"delta must be < 1.0"),
        (lambda: privacy.epsilon(1.0, 0.1, 0, 1e-5), ValueError, r"num_steps must be >= 1"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_clear_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_bad_noise_and_clip_in_training_raise_clear_errors(data):
    params, X, y = data
    common = dict(**KW, lr=0.1, num_epochs=1, sampling_rate=0.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"needs a finite clip_norm"):
        privacy.dp_sgd(params, X, y, clip_norm=math.inf, noise_multiplier=1.0, **common)
    with pytest.raises(ValueError, match=r"noise_multiplier must be finite"):
        privacy.dp_sgd(params, X, y, clip_norm=1.0, noise_multiplier=math.inf, **common)
    with pytest.raises(ValueError, match=r"noise_multiplier must be >= 0"):
        privacy.noisy_clipped_mean(params, X, y, **KW, clip_norm=1.0, noise_multiplier=-0.5,
                                   expected_batch_size=4, rng=np.random.default_rng(0))  # fmt: skip
    with pytest.raises(ValueError, match=r"expected_batch_size must be > 0"):
        privacy.noisy_clipped_mean(params, X, y, **KW, clip_norm=1.0, noise_multiplier=1.0,
                                   expected_batch_size=0, rng=np.random.default_rng(0))  # fmt: skip
    with pytest.raises(ValueError, match=r"sampling_rate must be in"):
        privacy.dp_sgd(params, X, y, clip_norm=1.0, noise_multiplier=1.0,
                       **{**common, "sampling_rate": 2.0})  # fmt: skip
