"""Property-based tests (hypothesis) over random shapes, depths and batch sizes."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mlcore as mc

# derandomize: the same examples on every run, so CI cannot flake (a local run with 10x
# max_examples and random exploration passed as well)
FAST = settings(max_examples=40, deadline=None, derandomize=True)

sizes_st = st.lists(st.integers(1, 5), min_size=2, max_size=4)  # depth 1..3
act_st = st.sampled_from(sorted(mc.activations.ACTIVATIONS))
loss_st = st.sampled_from(sorted(mc.losses.LOSSES))


def build(sizes, act, loss, batch, seed):
    rng = np.random.default_rng(seed)
    if loss == "softmax_cross_entropy" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    params = mc.init_params(sizes, rng)
    for p in params:
        p["b"][:] = 0.1 * rng.standard_normal(p["b"].shape)
    L = len(sizes) - 1
    acts = (act,) * (L - 1) + ((act if loss == "squared_error" else "identity"),)
    X = rng.standard_normal((batch, sizes[0]))
    if loss == "squared_error":
        Y = rng.standard_normal((batch, sizes[-1]))
    else:
        Y = rng.integers(0, sizes[-1], batch)
    return params, X, Y, acts


@FAST
@given(sizes_st, act_st, loss_st, st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_per_example_gradients_average_to_batch_gradient(sizes, act, loss, batch, seed):
    params, X, Y, acts = build(sizes, act, loss, batch, seed)
    per = mc.per_example_gradients(params, X, Y, acts, loss)
    g_mean = mc.gradient(params, X, Y, acts, loss, "mean")
    g_sum = mc.gradient(params, X, Y, acts, loss, "sum")
    for pe, gm, gs, p in zip(per, g_mean, g_sum, params, strict=True):
        for key in ("W", "b"):
            assert pe[key].shape == (batch, *p[key].shape)
            assert gm[key].shape == p[key].shape
            np.testing.assert_allclose(pe[key].mean(axis=0), gm[key], rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(gs[key], batch * gm[key], rtol=1e-10, atol=1e-13)
    G = mc.per_example_gradients(params, X, Y, acts, loss, flat=True)
    norms = mc.per_example_gradient_norms(params, X, Y, acts, loss)
    np.testing.assert_allclose(norms, np.linalg.norm(G, axis=1), rtol=1e-10, atol=1e-13)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sizes_st, act_st, loss_st, st.integers(1, 5), st.sampled_from(mc.losses.REDUCTIONS),
       st.integers(0, 2**32 - 1))  # fmt: skip
def test_gradient_check_random_networks(sizes, act, loss, batch, reduction, seed):
    params, X, Y, acts = build(sizes, act, loss, batch, seed)
    if act == "relu":  # central differences are invalid within eps of a kink z = 0
        _, cache = mc.forward(params, X, acts)
        relu_z = [np.abs(z).min() for z, a in zip(cache.z, acts, strict=True) if a == "relu"]
        assume(min(relu_z, default=np.inf) > 1e-4)
    result = mc.gradient_check(params, X, Y, acts, loss, reduction)
    # relative error alone is meaningless for arrays whose gradient is ~1e-5 (narrow sigmoid
    # bottlenecks): central differences have an absolute rounding error ~1e-10, hence the atol
    for ga, gn in zip(result.analytic, result.numeric, strict=True):
        for key in ("W", "b"):
            np.testing.assert_allclose(ga[key], gn[key], rtol=1e-6, atol=1e-8)


@FAST
@given(st.integers(1, 60), st.data())
def test_batch_schedule_covers_each_example_once(N, data):
    b = data.draw(st.integers(1, N))
    reduction = data.draw(st.sampled_from(mc.losses.REDUCTIONS))
    s_full = 1 / b if reduction == "mean" else 1.0
    for mode in ("drop", "keep", "weighted"):
        sched = mc.batch_schedule(N, b, mode, reduction)
        covered = np.concatenate([np.arange(s.start, s.stop) for s in sched])
        expected = N - N % b if mode == "drop" else N
        np.testing.assert_array_equal(covered, np.arange(expected))
        assert all(s.stop - s.start == b for s in sched[: N // b])
        if mode == "weighted":  # every example carries the same weight s_full
            assert all(s.scale == s_full for s in sched)
        if mode == "keep" and N % b:  # the reduction of the r examples present
            assert sched[-1].scale == (1 / (N % b) if reduction == "mean" else 1.0)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(2, 30), st.data(), st.integers(0, 2**32 - 1))
def test_train_step_count_and_finiteness(N, data, seed):
    b = data.draw(st.integers(1, N))
    mode = data.draw(st.sampled_from(["drop", "keep", "weighted"]))
    shuffle = data.draw(st.sampled_from(["every_epoch", "once", "never"]))
    epochs = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(seed)
    X, y, _ = mc.data.make_linear_regression(N, rng, num_features=2)
    params = mc.init_params([2, 3, 1], rng)
    trained, hist = mc.train(params, X, y, lr=0.05, num_epochs=epochs, batch_size=b,
                             last_batch=mode, shuffle=shuffle, rng=rng,
                             record="step")  # fmt: skip
    steps = len(mc.batch_schedule(N, b, mode))
    assert hist.steps_per_epoch == steps and hist.step_loss.shape == (epochs * steps,)
    assert hist.trajectory.shape == (epochs * steps + 1, mc.num_params(params))
    assert np.isfinite(mc.flatten_params(trained)).all()


@FAST
@given(sizes_st, st.integers(0, 2**32 - 1))
def test_flatten_roundtrip(sizes, seed):
    params = mc.init_params(sizes, np.random.default_rng(seed))
    theta = mc.flatten_params(params)
    assert theta.shape == (mc.num_params(params),)
    np.testing.assert_array_equal(mc.flatten_params(mc.unflatten_params(theta, params)), theta)


@FAST
@given(st.integers(1, 6), st.integers(2, 6), st.floats(1.0, 1e4), st.integers(0, 2**32 - 1))
def test_cross_entropy_stable_for_huge_logits(B, C, scale, seed):
    rng = np.random.default_rng(seed)
    Z = scale * rng.standard_normal((B, C))
    y = rng.integers(0, C, B)
    E = mc.losses.softmax_cross_entropy(Z, y)
    G = mc.losses.softmax_cross_entropy_grad(Z, y)
    assert np.isfinite(E).all() and (E >= -1e-9).all()
    assert np.isfinite(G).all()
    np.testing.assert_allclose(G.sum(axis=1), 0.0, atol=1e-9)
    assert ((G >= -1 - 1e-12) & (G <= 1 + 1e-12)).all()


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(2, 12), st.data(), st.integers(0, 2**32 - 1))
def test_one_step_weight_averaging_is_gd(N, data, seed):
    K = data.draw(st.integers(1, N))
    rng = np.random.default_rng(seed)
    X, y = mc.make_moons(N, rng)
    params = mc.init_params([2, 3, 2], rng)
    avg, _ = mc.federated_averaging(params, X, y, activations="tanh", loss="softmax_cross_entropy",
                                lr=0.3, num_subsets=K, rng=rng)  # fmt: skip
    gd, _ = mc.train(params, X, y, activations="tanh", loss="softmax_cross_entropy", lr=0.3,
                     num_epochs=1, shuffle="never")  # fmt: skip
    np.testing.assert_allclose(mc.flatten_params(avg), mc.flatten_params(gd), rtol=1e-10,
                               atol=1e-13)  # fmt: skip
