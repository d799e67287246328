"""The identities the book relies on, checked exactly (to rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import make_case, tree_allclose

import mlcore as mc

CASES = [
    ((4, 6, 3), "tanh", "squared_error"),
    ((4, 6, 5, 3), "relu", "softmax_cross_entropy"),
    ((2, 1), "identity", "squared_error"),
    ((5, 3, 4), "sigmoid", "softmax_cross_entropy"),
]


@pytest.mark.parametrize("sizes,act,loss", CASES)
def test_per_example_gradients_sum_and_mean_equal_batch_gradient(sizes, act, loss):
    params, X, Y, acts = make_case(sizes, act, loss, batch=9)
    per = mc.per_example_gradients(params, X, Y, acts, loss)
    g_sum = mc.gradient(params, X, Y, acts, loss, "sum")
    g_mean = mc.gradient(params, X, Y, acts, loss, "mean")
    for pe, gs, gm, p in zip(per, g_sum, g_mean, params, strict=True):
        assert pe["W"].shape == (9, *p["W"].shape) and pe["b"].shape == (9, *p["b"].shape)
        for key in ("W", "b"):
            np.testing.assert_allclose(pe[key].sum(axis=0), gs[key], rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(pe[key].mean(axis=0), gm[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sizes,act,loss", CASES)
def test_per_example_gradient_is_gradient_of_single_example(sizes, act, loss):
    params, X, Y, acts = make_case(sizes, act, loss, batch=5)
    per = mc.per_example_gradients(params, X, Y, acts, loss)
    for n in range(5):
        g_n = mc.gradient(params, X[n : n + 1], Y[n : n + 1], acts, loss, "sum")
        tree_allclose([{k: pe[k][n] for k in ("W", "b")} for pe in per], g_n, rtol=1e-12)


@pytest.mark.parametrize("sizes,act,loss", CASES)
def test_per_example_norms_equal_materialised_norms(sizes, act, loss):
    params, X, Y, acts = make_case(sizes, act, loss, batch=11)
    G = mc.per_example_gradients(params, X, Y, acts, loss, flat=True)
    norms = mc.per_example_gradient_norms(params, X, Y, acts, loss)
    np.testing.assert_allclose(norms, np.linalg.norm(G, axis=1), rtol=1e-12)
    sq = mc.per_example_gradient_norms(params, X, Y, acts, loss, squared=True)
    np.testing.assert_allclose(sq, norms**2, rtol=1e-12)


def test_batch_gradient_is_delta_transpose_x():
    params, X, Y, acts = make_case((3, 4, 2), "tanh", "squared_error", batch=6)
    y_hat, cache = mc.forward(params, X, acts)
    Deltas = mc.deltas(params, cache, Y, acts, "squared_error")
    grads = mc.gradient_from_deltas(cache, Deltas)
    np.testing.assert_allclose(
        mc.flatten_params(grads),
        mc.flatten_params(mc.gradient(params, X, Y, acts, "squared_error", "sum")),
        rtol=1e-12,
    )
    for x, D, g in zip(cache.x, Deltas, grads, strict=True):
        outer_sum = sum(np.outer(D[n], x[n]) for n in range(6))  # sum_n delta_n x_n^T
        np.testing.assert_allclose(g["W"], outer_sum, rtol=1e-12)
        np.testing.assert_allclose(g["W"], D.T @ x, rtol=1e-12)
    np.testing.assert_array_equal(y_hat, cache.a[-1])


def test_one_epoch_full_batch_equals_one_gd_step():
    params, X, Y, acts = make_case((4, 6, 3), "tanh", "softmax_cross_entropy", batch=20)
    lr = 0.3
    trained, hist = mc.train(params, X, Y, activations=acts, loss="softmax_cross_entropy",
                             lr=lr, num_epochs=1, batch_size=20,
                             rng=np.random.default_rng(1))  # fmt: skip
    g = mc.gradient(params, X, Y, acts, "softmax_cross_entropy", "mean")
    expected = [{k: p[k] - lr * gl[k] for k in ("W", "b")} for p, gl in zip(params, g, strict=True)]
    tree_allclose(trained, expected, rtol=1e-12, atol=1e-14)
    assert hist.steps_per_epoch == 1 and hist.step_loss.shape == (1,)
    assert hist.step_loss[0] == pytest.approx(hist.epoch_loss[0], rel=1e-12)


def test_weight_averaging_with_one_local_step_equals_gd_step():
    params, X, Y, acts = make_case((3, 5, 2), "tanh", "squared_error", batch=10)
    lr = 0.2
    g = mc.gradient(params, X, Y, acts, "squared_error", "mean")
    expected = [{k: p[k] - lr * gl[k] for k in ("W", "b")} for p, gl in zip(params, g, strict=True)]
    # one example per copy
    avg, hist = mc.federated_averaging(params, X, Y, activations=acts, lr=lr, local_steps=1)
    tree_allclose(avg, expected, rtol=1e-12, atol=1e-14)
    assert len(hist.subsets) == 10 and hist.round_loss.shape == (2,)
    # unequal subsets (sizes 4, 3, 3), weighted by size
    avg3, _ = mc.federated_averaging(params, X, Y, activations=acts, lr=lr, num_subsets=3,
                                 rng=np.random.default_rng(5))  # fmt: skip
    tree_allclose(avg3, expected, rtol=1e-12, atol=1e-14)


def test_weight_averaging_with_many_local_steps_differs_from_gd():
    params, X, Y, acts = make_case((3, 5, 2), "tanh", "squared_error", batch=10)
    avg, _ = mc.federated_averaging(params, X, Y, activations=acts, lr=0.5, local_steps=20)
    gd, _ = mc.train(params, X, Y, activations=acts, lr=0.5, num_epochs=20, shuffle="never")
    diff = np.abs(mc.flatten_params(avg) - mc.flatten_params(gd)).max()
    assert diff > 1e-3  # nonlinear model: averaging weights is not averaging gradients


def test_weighted_last_batch_averages_exactly_to_full_gradient():
    params, X, Y, acts = make_case((4, 6, 3), "tanh", "softmax_cross_entropy", batch=23)
    loss = "softmax_cross_entropy"
    N, b = 23, 5  # batches 5, 5, 5, 5, 3
    full = mc.flatten_params(mc.gradient(params, X, Y, acts, loss, "mean"))
    sched = mc.batch_schedule(N, b, "weighted")
    assert [s.stop - s.start for s in sched] == [5, 5, 5, 5, 3]
    # the mean batch gradients g_k, weighted by |B_k|/N, average to the full gradient
    g = [mc.flatten_params(mc.gradient(params, X[s.start : s.stop], Y[s.start : s.stop],
                                       acts, loss, "mean")) for s in sched]  # fmt: skip
    w = np.array([s.stop - s.start for s in sched]) / N
    np.testing.assert_allclose(sum(wk * gk for wk, gk in zip(w, g, strict=True)), full,
                               rtol=1e-12, atol=1e-15)  # fmt: skip
    # the steps the loop actually takes, s_k * sum_n grad E_n, add up to N/b full steps
    steps = [s.scale * (s.stop - s.start) * gk for s, gk in zip(sched, g, strict=True)]
    np.testing.assert_allclose(sum(steps), N / b * full, rtol=1e-12, atol=1e-15)
    # the "keep" mode does not have this property
    sched_m = mc.batch_schedule(N, b, "keep")
    steps_m = [s.scale * (s.stop - s.start) * gk for s, gk in zip(sched_m, g, strict=True)]
    assert np.abs(sum(steps_m) - N / b * full).max() > 1e-6


def test_gradient_of_training_set_is_mean_of_per_example_gradients_linear_model():
    """The book's question on the smallest model: y = w x + b."""
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_line(30, rng)
    params = mc.init_params([1, 1], rng)
    G = mc.per_example_gradients(params, X, y, "identity", flat=True)
    residual = (X @ params[0]["W"].T + params[0]["b"] - y)[:, 0]
    # dE_n/dw = (y_hat_n - y_n) x_n, dE_n/db = y_hat_n - y_n
    np.testing.assert_allclose(G[:, 0], residual * X[:, 0], rtol=1e-12)
    np.testing.assert_allclose(G[:, 1], residual, rtol=1e-12)
    g = mc.flatten_params(mc.gradient(params, X, y, "identity"))
    np.testing.assert_allclose(g, G.mean(axis=0), rtol=1e-12)


def test_flatten_unflatten_roundtrip():
    params = mc.init_params([3, 4, 2], np.random.default_rng(0))
    theta = mc.flatten_params(params)
    assert theta.shape == (mc.num_params(params),) == (3 * 4 + 4 + 4 * 2 + 2,)
    back = mc.unflatten_params(theta, params)
    tree_allclose(back, params, rtol=0, atol=0)
    np.testing.assert_array_equal(theta[:12], params[0]["W"].ravel())
    np.testing.assert_array_equal(theta[12:16], params[0]["b"])


def test_cross_entropy_finite_at_huge_logits():
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [1e4, 1e4, -1e4]])
    y = np.array([1, 1, 0])
    E = mc.losses.softmax_cross_entropy(Z, y)
    G = mc.losses.softmax_cross_entropy_grad(Z, y)
    assert np.isfinite(E).all() and np.isfinite(G).all()
    np.testing.assert_allclose(E, [2e4, 0.0, np.log(2)], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(G[0], [1.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(G[2], [-0.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(G.sum(axis=1), 0.0, atol=1e-12)
    # through a network whose logits are ~1e4: finite loss and gradient
    params = [{"W": np.array([[1e4], [-1e4]]), "b": np.zeros(2)}]
    args = (params, np.ones((2, 1)), np.array([1, 0]), "identity", "softmax_cross_entropy")
    E, grads = mc.cost(*args), mc.gradient(*args)
    assert np.isfinite(E) and E == pytest.approx(1e4)  # mean of 2e4 and 0
    assert all(np.isfinite(g["W"]).all() and np.isfinite(g["b"]).all() for g in grads)


def test_one_hot_and_integer_labels_agree():
    params, X, y, acts = make_case((4, 5, 3), "tanh", "softmax_cross_entropy")
    Y = mc.losses.one_hot(y, 3)
    g_labels = mc.gradient(params, X, y, acts, "softmax_cross_entropy")
    g_onehot = mc.gradient(params, X, Y, acts, "softmax_cross_entropy")
    tree_allclose(g_labels, g_onehot, rtol=0, atol=0)
    np.testing.assert_allclose(mc.losses.softmax(X[:, :3]).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(mc.losses.log_softmax(X[:, :3])), mc.losses.softmax(X[:, :3]))


def test_squared_error_values_and_reduction():
    y_hat = np.array([[1.0, 2.0], [0.0, 0.0]])
    Y = np.array([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(mc.losses.squared_error(y_hat, Y), [2.5, 1.0])
    np.testing.assert_allclose(mc.losses.squared_error_grad(y_hat, Y), y_hat - Y)
    assert mc.losses.reduce(mc.losses.squared_error(y_hat, Y), "sum") == 3.5
    assert mc.losses.reduce(mc.losses.squared_error(y_hat, Y), "mean") == 1.75


def test_forward_cache_holds_the_books_symbols():
    params, X, _, acts = make_case((3, 4, 2), "sigmoid", "squared_error", batch=5)
    y_hat, cache = mc.forward(params, X, acts)
    np.testing.assert_array_equal(cache.x[0], X)  # x^(1) = features
    np.testing.assert_array_equal(cache.x[1], cache.a[0])  # x^(2) = a^(1)
    np.testing.assert_allclose(cache.z[0], X @ params[0]["W"].T + params[0]["b"])
    np.testing.assert_allclose(cache.a[0], 1 / (1 + np.exp(-cache.z[0])), rtol=1e-14)
    assert y_hat.shape == (5, 2)
    assert mc.mlp.resolve_activations("relu", 3) == ("relu", "relu", "identity")


def test_per_example_gradients_into_reused_buffers():
    params, X, Y, acts = make_case((4, 6, 3), "tanh", "squared_error", batch=8)
    fresh = mc.per_example_gradients(params, X, Y, acts)
    buf = mc.per_example_gradients(params, X[::-1].copy(), Y[::-1].copy(), acts)
    again = mc.per_example_gradients(params, X, Y, acts, out=buf)
    assert again is buf
    for a, b in zip(fresh, buf, strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
        np.testing.assert_array_equal(a["b"], b["b"])


@pytest.mark.parametrize("batch", [1, 255, 256, 257, 600])
def test_per_example_gradients_in_blocks_are_one_outer_product_per_example(batch):
    """The einsum runs on blocks of 256 examples: every block boundary, fresh, into
    ``out`` and into the columns of ``flat``, gives np.outer(delta_n, x_n) exactly."""
    loss = "softmax_cross_entropy"
    params, X, Y, acts = make_case((3, 4, 2), "tanh", loss, batch=batch)
    _, cache = mc.forward(params, X, acts)
    Deltas = mc.deltas(params, cache, Y, acts, loss)
    fresh = mc.per_example_gradients(params, X, Y, acts, loss)
    buf = mc.per_example_gradients(params, X[::-1], Y[::-1], acts, loss)
    into = mc.per_example_gradients(params, X, Y, acts, loss, out=buf)
    G = mc.per_example_gradients(params, X, Y, acts, loss, flat=True)
    for n in {0, batch // 2, batch - 1}:
        pairs = zip(Deltas, cache.x, strict=True)
        want = [{"W": np.outer(D[n], x[n]), "b": D[n]} for D, x in pairs]
        for got in (fresh, into):
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g["W"][n], w["W"])
        np.testing.assert_array_equal(G[n], mc.flatten_params(want))


def test_gradient_from_deltas_into_out_writes_the_same_numbers_in_place():
    params, X, Y, acts = make_case((3, 4, 2), "tanh", "softmax_cross_entropy", batch=6)
    _, cache = mc.forward(params, X, acts)
    Deltas = mc.deltas(params, cache, Y, acts, "softmax_cross_entropy")
    fresh = mc.gradient_from_deltas(cache, Deltas)
    out = mc.zeros_like_params(params)
    arrays = [(g["W"], g["b"]) for g in out]
    assert mc.gradient_from_deltas(cache, Deltas, out=out) is out
    for g, f, (W, b) in zip(out, fresh, arrays, strict=True):
        assert g["W"] is W and g["b"] is b  # written into, not replaced
        np.testing.assert_array_equal(g["W"], f["W"])
        np.testing.assert_array_equal(g["b"], f["b"])


@pytest.mark.parametrize("sizes,act,loss", CASES)
def test_flat_per_example_gradients_are_the_flattened_layers(sizes, act, loss):
    """flat=True writes every layer into its columns of G: row n is flatten(grad E_n)."""
    params, X, Y, acts = make_case(sizes, act, loss, batch=7)
    per = mc.per_example_gradients(params, X, Y, acts, loss)
    G = mc.per_example_gradients(params, X, Y, acts, loss, flat=True)
    assert G.shape == (7, mc.num_params(params)) and G.flags.c_contiguous
    for n in range(7):
        np.testing.assert_array_equal(
            G[n], mc.flatten_params([{k: g[k][n] for k in g} for g in per])
        )
