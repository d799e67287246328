"""The training loop, weight averaging and minibatch statistics."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import make_case, tree_allclose

import mlcore as mc


def manual_sgd(params, X, Y, acts, loss, reduction, lr, num_epochs, schedule, momentum=0.0):
    """Reference loop written from the definitions (no shuffling)."""
    p = mc.copy_params(params)
    v = mc.zeros_like_params(params)
    for _ in range(num_epochs):
        for start, stop, s in schedule:
            # s * sum of per-example gradients
            g = mc.gradient(p, X[start:stop], Y[start:stop], acts, loss, "sum")
            g = [{k: s * gl[k] for k in ("W", "b")} for gl in g]
            mc.sgd_update(p, g, lr, velocity=v, momentum=momentum)
    return p


@pytest.mark.parametrize("last_batch", ["drop", "mean", "weighted"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_train_matches_reference_loop(last_batch, reduction):
    params, X, Y, acts = make_case((3, 5, 2), "tanh", "squared_error", batch=17)
    lr = 0.05 if reduction == "mean" else 0.01
    sched = mc.batch_schedule(17, 5, last_batch, reduction)
    expected = manual_sgd(params, X, Y, acts, "squared_error", reduction, lr, 3, sched)
    trained, hist = mc.train(params, X, Y, activations=acts, reduction=reduction, lr=lr,
                             num_epochs=3, batch_size=5, shuffle="never",
                             last_batch=last_batch)  # fmt: skip
    tree_allclose(trained, expected, rtol=1e-12, atol=1e-14)
    assert hist.step_loss.shape == (3 * len(sched),)
    assert hist.epoch_loss.shape == (4,)


def test_momentum_matches_reference_loop():
    params, X, Y, acts = make_case((3, 5, 2), "relu", "softmax_cross_entropy", batch=12)
    sched = mc.batch_schedule(12, 4)
    Y1 = mc.one_hot(Y, 2)
    expected = manual_sgd(params, X, Y1, acts, "softmax_cross_entropy", "mean", 0.1, 2, sched,
                          momentum=0.9)  # fmt: skip
    trained, _ = mc.train(params, X, Y, activations=acts, loss="softmax_cross_entropy",
                          lr=0.1, num_epochs=2, batch_size=4, shuffle="never",
                          momentum=0.9)  # fmt: skip
    tree_allclose(trained, expected, rtol=1e-12, atol=1e-14)


def test_sgd_batch_size_one_visits_examples_in_order_without_shuffle():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=6)
    p = mc.copy_params(params)
    for n in range(6):
        mc.sgd_update(p, mc.gradient(p, X[n : n + 1], Y[n : n + 1], acts), 0.1)
    trained, hist = mc.train(params, X, Y, activations=acts, lr=0.1, num_epochs=1,
                             batch_size=1, shuffle="never", record="step")  # fmt: skip
    tree_allclose(trained, p, rtol=1e-12)
    assert hist.trajectory.shape == (7, mc.num_params(params))
    np.testing.assert_array_equal(hist.trajectory[0], mc.flatten_params(params))
    np.testing.assert_allclose(hist.trajectory[-1], mc.flatten_params(p), rtol=1e-12)


def test_shuffle_modes_are_reproducible_and_differ():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=12)
    kw = dict(activations=acts, lr=0.1, num_epochs=3, batch_size=3)
    a, _ = mc.train(params, X, Y, shuffle="every_epoch", rng=np.random.default_rng(7), **kw)
    b, _ = mc.train(params, X, Y, shuffle="every_epoch", rng=np.random.default_rng(7), **kw)
    c, _ = mc.train(params, X, Y, shuffle="once", rng=np.random.default_rng(7), **kw)
    d, _ = mc.train(params, X, Y, shuffle="never", **kw)
    tree_allclose(a, b, rtol=0, atol=0)
    fa, fc, fd = (mc.flatten_params(p) for p in (a, c, d))
    assert np.abs(fa - fc).max() > 1e-8 and np.abs(fc - fd).max() > 1e-8
    # the input parameters are not modified
    tree_allclose(params, make_case((2, 3, 1), "tanh", "squared_error", batch=12)[0], rtol=0)


def test_once_shuffle_uses_a_single_permutation():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=8)
    order = np.random.default_rng(3).permutation(8)
    expected, _ = mc.train(params, X[order], Y[order], activations=acts, lr=0.1, num_epochs=3,
                           batch_size=2, shuffle="never")  # fmt: skip
    got, _ = mc.train(params, X, Y, activations=acts, lr=0.1, num_epochs=3, batch_size=2,
                      shuffle="once", rng=np.random.default_rng(3))  # fmt: skip
    tree_allclose(got, expected, rtol=1e-13)


def test_history_records_epochs():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=10)
    trained, hist = mc.train(params, X, Y, activations=acts, lr=0.1, num_epochs=4,
                             batch_size=10, record="epoch", shuffle="never")  # fmt: skip
    assert hist.trajectory.shape == (5, mc.num_params(params))
    assert hist.epoch_loss[0] == pytest.approx(mc.cost(params, X, Y, acts))
    assert hist.epoch_loss[-1] == pytest.approx(mc.cost(trained, X, Y, acts))
    # full-batch GD with a small step decreases the cost
    assert np.all(np.diff(hist.epoch_loss) < 0)
    _, h2 = mc.train(params, X, Y, activations=acts, lr=0.1, num_epochs=2, shuffle="never",
                     track_epoch_loss=False)  # fmt: skip
    assert h2.epoch_loss.size == 0 and h2.trajectory is None


def test_digits_minibatch_sgd_reaches_093():
    rng = np.random.default_rng(0)
    Xtr, Xte, ytr, yte = mc.load_digits(rng)
    params = mc.init_params([64, 64, 10], rng)
    trained, hist = mc.train(params, Xtr, ytr, activations="tanh",
                             loss="softmax_cross_entropy", lr=0.1, num_epochs=10,
                             batch_size=32, rng=rng)  # fmt: skip
    assert mc.accuracy(trained, Xte, yte) >= 0.93
    assert hist.epoch_loss[-1] < 0.2 * hist.epoch_loss[0]


def test_float32_training_runs_in_float32():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(200, rng)
    p32 = mc.init_params([2, 16, 2], rng, dtype=np.float32)
    trained, hist = mc.train(p32, X, y, activations="tanh", loss="softmax_cross_entropy",
                             lr=0.5, num_epochs=30, batch_size=20, rng=rng)  # fmt: skip
    assert all(p["W"].dtype == np.float32 and p["b"].dtype == np.float32 for p in trained)
    assert mc.accuracy(trained, X, y) > 0.85


def test_federated_rounds_reduce_cost():
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_linear_regression(40, rng, num_features=2)
    params = mc.init_params([2, 1], rng, init="zeros")
    avg, hist = mc.average_weights(params, X, y, activations="identity", lr=0.1,
                                   local_steps=3, num_subsets=4, rounds=5, rng=rng)  # fmt: skip
    assert hist.round_loss.shape == (6,) and hist.trajectory.shape == (6, 3)
    assert hist.round_loss[-1] < 0.5 * hist.round_loss[0]
    avg2 = mc.average_params([params, avg], weights=[1, 3])
    np.testing.assert_allclose(mc.flatten_params(avg2), 0.75 * mc.flatten_params(avg))


def test_weight_averaging_one_step_equals_train_gd_epoch_linear_model():
    """One example per copy, one local step: the same as one full-batch epoch of train()."""
    rng = np.random.default_rng(1)
    X, y, _ = mc.make_line(8, rng)
    params = mc.init_params([1, 1], rng, init="zeros")
    avg, _ = mc.average_weights(params, X, y, activations="identity", lr=0.1, local_steps=1)
    gd, _ = mc.train(params, X, y, activations="identity", lr=0.1, num_epochs=1,
                     shuffle="never")  # fmt: skip
    tree_allclose(avg, gd, rtol=1e-12)


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_stats_match_prediction(replace):
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(60, rng)
    params = mc.init_params([2, 4, 2], rng)
    st = mc.minibatch_gradient_stats(params, X, y, activations="tanh",
                                     loss="softmax_cross_entropy", batch_size=10,
                                     num_draws=3000, rng=rng, replace=replace)  # fmt: skip
    # unbiased: the mean of minibatch gradients approaches the full gradient
    se = np.sqrt(st.predicted_cov_trace / 3000)
    assert np.linalg.norm(st.mean - st.full_gradient) < 5 * se
    assert st.cov_trace == pytest.approx(st.predicted_cov_trace, rel=0.1)


def test_noise_trace_identities():
    rng = np.random.default_rng(0)
    X, y = mc.make_spirals(30, rng)
    params = mc.init_params([2, 5, 2], rng)
    kw = dict(activations="relu", loss="softmax_cross_entropy")
    Sigma = mc.per_example_gradient_covariance(params, X, y, **kw)
    assert Sigma.shape == (mc.num_params(params),) * 2
    np.testing.assert_allclose(Sigma, Sigma.T)
    t = mc.gradient_noise_trace(params, X, y, **kw)
    assert t == pytest.approx(np.trace(Sigma), rel=1e-10)
    # without replacement the minibatch noise vanishes at B = N; B = 1 gives tr(Sigma)
    assert mc.predicted_minibatch_trace(t, 30, 30) == 0.0
    assert mc.predicted_minibatch_trace(t, 30, 1) == pytest.approx(t)
    st = mc.minibatch_gradient_stats(params, X, y, batch_size=30, num_draws=5, rng=rng, **kw)
    assert st.cov_trace < 1e-25 and st.predicted_cov_trace == 0.0
    np.testing.assert_allclose(
        mc.predicted_minibatch_trace(t, 30, np.array([1, 2, 30]), replace=True),
        t / np.array([1, 2, 30]),
    )


def test_exact_minibatch_covariance_by_enumeration():
    """Exact check of tr Cov[g_B] = tr(Sigma)/B (N-B)/(N-1) over all subsets of size B."""
    from itertools import combinations

    rng = np.random.default_rng(2)
    X, y, _ = mc.make_linear_regression(7, rng, num_features=2)
    params = mc.init_params([2, 3, 1], rng)
    G = mc.per_example_gradient_matrix(params, X, y)
    t = mc.gradient_noise_trace(params, X, y)
    for B in (1, 3, 7):
        gB = np.array([G[list(s)].mean(axis=0) for s in combinations(range(7), B)])
        tr = ((gB - gB.mean(axis=0)) ** 2).sum(axis=1).mean()
        assert tr == pytest.approx(mc.predicted_minibatch_trace(t, 7, B), rel=1e-9, abs=1e-20)


def test_covariance_trace_is_the_trace_of_numpys_covariance():
    S = np.random.default_rng(8).normal(size=(50, 4))
    assert mc.covariance_trace(S) == pytest.approx(np.trace(np.cov(S, rowvar=False)))
    assert mc.covariance_trace(S, ddof=0) == pytest.approx(
        np.trace(np.cov(S, rowvar=False, bias=True))
    )
    with pytest.raises(ValueError, match="samples must have shape"):
        mc.covariance_trace(S[:1])
