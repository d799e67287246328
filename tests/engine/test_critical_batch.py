"""mlcore.critical_batch: noise scale, steps to a target cost, the S-E trade-off."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcore as mc
from mlcore import critical_batch as cb
from mlcore.noise import covariance_trace

CLASSIFY = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def moons():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(60, rng)
    return mc.init_params([2, 6, 2], rng), X, y


# ----------------------------------------------------------------------- noise scale
def test_noise_scale_equals_the_materialised_per_example_gradients(moons):
    params, X, y = moons
    G = mc.per_example_gradients(params, X, y, flat=True, **CLASSIFY)  # (N, P)
    trace = covariance_trace(G, ddof=0)  # (1/N) sum ||g_n - G||^2
    g = G.mean(axis=0)
    got = cb.noise_scale(params, X, y, **CLASSIFY)
    assert got.trace == pytest.approx(trace, rel=1e-10)
    assert got.grad_sq == pytest.approx(g @ g, rel=1e-10)
    assert got.b_simple == pytest.approx(trace / (g @ g), rel=1e-10)


def test_noise_scale_along_a_run_is_noise_scale_at_each_point(moons):
    params, X, y = moons
    _, h = mc.train(params, X, y, lr=0.5, num_epochs=3, batch_size=10, record="epoch",
                    rng=np.random.default_rng(1), **CLASSIFY)  # fmt: skip
    costs, along = cb.noise_scale_along(h.trajectory, params, X, y, **CLASSIFY)
    np.testing.assert_allclose(costs, h.epoch_loss, rtol=1e-12)
    for e, theta in enumerate(h.trajectory):
        at = cb.noise_scale(mc.unflatten_params(theta, params), X, y, **CLASSIFY)
        assert along.b_simple[e] == pytest.approx(at.b_simple, rel=1e-12)
        assert along.trace[e] == pytest.approx(at.trace, rel=1e-12)


def test_smoothing_divides_the_moving_sums_of_the_two_parts():
    rng = np.random.default_rng(3)
    along = cb.NoiseScale(rng.uniform(1, 2, 9), rng.uniform(0.1, 1, 9), np.zeros(9))
    got = cb.smoothed_noise_scale(along, 2)
    for t in range(9):
        w = slice(max(t - 2, 0), t + 3)
        assert got[t] == pytest.approx(along.trace[w].sum() / along.grad_sq[w].sum())
    np.testing.assert_allclose(cb.smoothed_noise_scale(along, 0), along.trace / along.grad_sq)


def test_two_batch_estimate_removes_the_bias_of_small_batches():
    grad_sq, trace, b, B = 0.5, 20.0, 4, 64
    # exact expectations E||g_b||^2 = ||G||^2 + tr Sigma / b give the exact answer
    exact = cb.noise_scale_from_batches([grad_sq + trace / b], [grad_sq + trace / B], b, B)
    assert exact.grad_sq == pytest.approx(grad_sq) and exact.trace == pytest.approx(trace)
    assert exact.b_simple == pytest.approx(trace / grad_sq)
    # random batches (with replacement) of per-example vectors with a known G and Sigma
    rng = np.random.default_rng(0)
    G = rng.standard_normal((500, 3)) + np.array([0.3, 0.0, 0.0])
    true = covariance_trace(G, ddof=0) / (G.mean(axis=0) @ G.mean(axis=0))

    def sq(size, draws=20000):
        means = G[rng.integers(0, len(G), size=(draws, size))].mean(axis=1)
        return np.einsum("dp,dp->d", means, means)

    small, big = sq(2), sq(32)
    naive = covariance_trace(G, ddof=0) / small.mean()  # ||g_b||^2 in place of ||G||^2
    est = cb.noise_scale_from_batches(small, big, 2, 32)
    assert naive < 2 < true  # the naive ratio cannot exceed b
    assert est.b_simple == pytest.approx(true, rel=0.15)


# ------------------------------------------------------------------ steps to a target
def test_the_run_is_the_run_of_train(moons):
    params, X, y = moons
    kw = dict(batch_size=7, lr=0.3, **CLASSIFY)  # 7 does not divide 60: a last partial batch
    p_train, h = mc.train(params, X, y, num_epochs=3, rng=np.random.default_rng(4), **kw)
    reach = cb.steps_to_target(params, X, y, target=-1.0, max_steps=3 * h.steps_per_epoch,
                               rng=np.random.default_rng(4), **kw)  # fmt: skip
    assert not reach.reached and reach.steps == -1
    assert reach.checked[-1] == 3 * h.steps_per_epoch
    for a, b in zip(reach.params, p_train, strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
        np.testing.assert_array_equal(a["b"], b["b"])
    assert reach.costs[-1] == pytest.approx(h.epoch_loss[-1], rel=1e-12)
    assert mc.cost(params, X, y, **CLASSIFY) == reach.costs[0]  # the start is not modified


@pytest.mark.parametrize("resolution", [0.0, 0.1])
def test_steps_are_the_first_step_below_the_target(moons, resolution):
    params, X, y = moons
    kw = dict(batch_size=5, lr=0.2, **CLASSIFY)
    _, h = mc.train(params, X, y, num_epochs=12, rng=np.random.default_rng(2), record="step", **kw)
    costs = np.array([mc.cost(mc.unflatten_params(t, params), X, y, **CLASSIFY)
                      for t in h.trajectory])  # fmt: skip
    target = costs[: len(costs) // 2].min()  # first met late in the first half
    first = int(np.argmax(costs <= target))  # the first step at or below the target
    reach = cb.steps_to_target(params, X, y, target=target, max_steps=len(costs) - 1,
                               rng=np.random.default_rng(2), resolution=resolution,
                               **kw)  # fmt: skip
    assert reach.reached and costs[reach.steps] <= target
    np.testing.assert_allclose(reach.costs, costs[reach.checked], rtol=1e-12)
    if resolution == 0:
        assert reach.steps == first
        np.testing.assert_array_equal(reach.checked, np.arange(first + 1))
    else:  # checks at t_{k+1} = max(t_k + 1, ceil(1.1 t_k)); the first one at the target
        schedule = [0]
        while schedule[-1] < len(costs) - 1:
            t = schedule[-1]
            schedule.append(min(max(t + 1, math.ceil(1.1 * t)), len(costs) - 1))
        hit = next(k for k, t in enumerate(schedule) if costs[t] <= target)
        assert reach.steps == schedule[hit] >= first
        np.testing.assert_array_equal(reach.checked, schedule[: hit + 1])
        assert first > 40 and len(reach.checked) < first  # fewer checks than steps
    assert reach.steps_to(target) == reach.steps
    assert reach.steps_to(costs[0] + 1) == 0 and reach.steps_to(-1.0) == -1


def test_a_steadily_falling_cost_is_met_within_the_resolution(moons):
    params, X, y = moons
    kw = dict(batch_size=60, lr=0.05, **CLASSIFY)  # gradient descent, small steps
    _, h = mc.train(params, X, y, num_epochs=300, rng=np.random.default_rng(0), **kw)
    assert (np.diff(h.epoch_loss) < 0).all()
    target = h.epoch_loss[237]
    reach = cb.steps_to_target(params, X, y, target=target, max_steps=300, resolution=0.05,
                               rng=np.random.default_rng(0), **kw)  # fmt: skip
    assert 237 <= reach.steps < 1.05 * 237 + 1 and len(reach.checked) < 237 / 2


def test_a_target_already_met_takes_no_step(moons):
    params, X, y = moons
    start = mc.cost(params, X, y, **CLASSIFY)
    reach = cb.steps_to_target(params, X, y, batch_size=4, lr=0.1, target=start, max_steps=5,
                               rng=np.random.default_rng(0), **CLASSIFY)  # fmt: skip
    assert reach.reached and reach.steps == 0 and list(reach.checked) == [0]


def test_divergence_ends_the_run_unreached():
    rng = np.random.default_rng(1)
    X, y, _ = mc.make_line(30, rng)
    params = mc.init_params([1, 1], rng)
    reach = cb.steps_to_target(params, X, y, batch_size=30, lr=50.0, target=1e-6,
                               max_steps=10_000, rng=rng, activations="identity")  # fmt: skip
    assert not reach.reached and not np.isfinite(reach.costs[-1])
    assert reach.checked[-1] < 10_000


def test_tuning_brackets_the_best_rate_of_the_ladder(moons):
    params, X, y = moons
    targets = [0.4, 0.3]
    tuned = cb.tune_steps_to_target(params, X, y, batch_size=10, lr_start=0.05, targets=targets,
                                    max_steps=3000, seed=1, **CLASSIFY)  # fmt: skip
    np.testing.assert_allclose(tuned.targets, [0.4, 0.3])
    assert (np.diff(tuned.lrs) > 0).all()
    np.testing.assert_allclose(tuned.lrs[1:] / tuned.lrs[:-1], 2.0)
    best = tuned.best()
    for k, i in enumerate(best):
        assert 0 < i < len(tuned.lrs) - 1, "best rate at an end of the ladder"
        S = np.where(tuned.steps[:, k] >= 0, tuned.steps[:, k], np.inf)
        assert S[i] == S.min() and S[i - 1] >= S[i] and S[i + 1] >= S[i]
        # the same run again, on its own, to that target
        alone = cb.steps_to_target(params, X, y, batch_size=10, lr=float(tuned.lrs[i]),
                                   target=targets[k], max_steps=3000,
                                   rng=np.random.default_rng(1), **CLASSIFY)  # fmt: skip
        assert alone.steps == tuned.steps[i, k]
    assert len(tuned.lrs) >= 4  # lr_start = 0.05 is too small: the ladder moved up


# --------------------------------------------------------------------- the trade-off
def test_fit_recovers_a_known_tradeoff():
    B = 2.0 ** np.arange(3, 11)
    truth = cb.Tradeoff(20.0, 2000.0, 100.0)
    S = truth.steps(B)
    fit = cb.fit_tradeoff(B, S)
    assert fit.s_min == pytest.approx(20.0) and fit.e_min == pytest.approx(2000.0)
    assert fit.b_crit == pytest.approx(100.0)
    # the hyperbola of the paper holds at every point
    E = B * S
    np.testing.assert_allclose((S / fit.s_min - 1) * (E / fit.e_min - 1), 1.0)
    np.testing.assert_allclose(fit.examples(B), E)
    # +-5 % multiplicative noise: the fit stays close
    noisy = S * np.exp(np.random.default_rng(0).uniform(-0.05, 0.05, size=B.size))
    rough = cb.fit_tradeoff(B, noisy)
    assert rough.b_crit == pytest.approx(100.0, rel=0.2)


def test_fit_of_perfect_scaling_has_no_critical_batch():
    B = np.array([1.0, 2.0, 4.0, 8.0])
    fit = cb.fit_tradeoff(B, 800.0 / B)  # S halves with every doubling: S_min = 0
    assert fit.s_min == 0.0 and fit.e_min == pytest.approx(800.0) and math.isinf(fit.b_crit)
    flat = cb.fit_tradeoff(B, np.full(4, 30.0))  # no gain at all: E_min = 0
    assert flat.e_min == 0.0 and flat.s_min == pytest.approx(30.0) and flat.b_crit == 0.0


# --------------------------------------------------------------------------- errors
P = mc.init_params([2, 3, 2], np.random.default_rng(0))
XE = np.zeros((6, 2))
YE = np.array([0, 1, 0, 1, 0, 1])
RUN = dict(batch_size=2, lr=0.1, target=0.1, max_steps=3, rng=np.random.default_rng(0),
           **CLASSIFY)  # fmt: skip


def _run(**kw):
    return cb.steps_to_target(P, XE, YE, **(RUN | kw))


CASES = [
    (lambda: cb.fit_tradeoff([8, 16], [10.0]), ValueError, r"must be 1-D of one length"),
    (lambda: cb.fit_tradeoff([8, 16], [10.0, -1]), ValueError, r"must be > 0 \(drop the runs"),
    (lambda: cb.fit_tradeoff([8, 8], [10.0, 9.0]), ValueError, r"two different batch sizes"),
    (lambda: cb.fit_tradeoff([8, 16], [10.0, np.nan]), ValueError, r"steps must be finite"),
    (lambda: _run(batch_size=7), ValueError, r"batch_size must be >= 1 and <= 6; got 7"),
    (lambda: _run(lr=0.0), ValueError, r"lr must be > 0"),
    (lambda: _run(max_steps=0), ValueError, r"max_steps must be >= 1"),
    (lambda: _run(resolution=-0.1), ValueError, r"resolution must be >= 0"),
    (lambda: _run(rng=0), TypeError, r"rng must be a numpy.random.Generator"),
    (lambda: cb.smoothed_noise_scale(cb.NoiseScale(np.ones(3), np.ones(2), 0.0), 1), ValueError,
     r"along must hold two arrays of one shape"),
    (lambda: cb.smoothed_noise_scale(cb.NoiseScale(np.ones(3), np.ones(3), 0.0), -1), ValueError,
     r"half_width must be >= 0"),
    (lambda: cb.noise_scale_from_batches([1.0], [0.5], 8, 8), ValueError, r"b_big must be >= 9"),
    (lambda: cb.noise_scale_from_batches([], [0.5], 2, 8), ValueError, r"sq_small must be a non"),
    (lambda: cb.noise_scale_along(np.zeros((2, 5)), P, XE, YE, **CLASSIFY), ValueError,
     r"trajectory must have shape \(T, 17\)"),
    (lambda: cb.tune_steps_to_target(P, XE, YE, batch_size=2, lr_start=0.1, targets=[0.1],
                                     max_steps=3, seed=0, factor=1.0), ValueError,
     r"factor must be > 1"),
    (lambda: cb.tune_steps_to_target(P, XE, YE, batch_size=2, lr_start=0.1, targets=[],
                                     max_steps=3, seed=0), ValueError, r"targets must hold"),
]  # fmt: skip


@pytest.mark.parametrize("fn,exc,pattern", CASES, ids=range(len(CASES)))
def test_bad_input_raises_clear_error(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()
