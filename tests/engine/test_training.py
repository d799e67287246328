"""The training loop, weight averaging and minibatch statistics."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import make_case, tree_allclose

import mlcore as mc
from mlcore.training import DEFAULT_SEED, epoch_batch_gradients


def manual_sgd(params, X, Y, acts, loss, reduction, lr, num_epochs, schedule, momentum=0.0):
    """Reference loop written from the definitions (no shuffling), on flat vectors.

    Heavy ball as in PyTorch: v <- mu v + g, theta <- theta - lr v (v = 0 at the start).
    """
    theta = mc.flatten_params(params)
    v = np.zeros_like(theta)
    for _ in range(num_epochs):
        for start, stop, s in schedule:
            p = mc.unflatten_params(theta, params)
            # g = s * (sum of the batch's per-example gradients)
            g = s * mc.flatten_params(
                mc.gradient(p, X[start:stop], Y[start:stop], acts, loss, "sum")
            )
            v = momentum * v + g
            theta = theta - lr * v
    return mc.unflatten_params(theta, params)


@pytest.mark.parametrize("last_batch", ["drop", "keep", "weighted"])
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
    Y1 = mc.losses.one_hot(Y, 2)
    expected = manual_sgd(params, X, Y1, acts, "softmax_cross_entropy", "mean", 0.1, 2, sched,
                          momentum=0.9)  # fmt: skip
    trained, _ = mc.train(params, X, Y, activations=acts, loss="softmax_cross_entropy",
                          lr=0.1, num_epochs=2, batch_size=4, shuffle="never",
                          optimizer=mc.optim.SGD(momentum=0.9))  # fmt: skip
    tree_allclose(trained, expected, rtol=1e-12, atol=1e-14)


def test_sgd_batch_size_one_visits_examples_in_order_without_shuffle():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=6)
    p = mc.params.copy_params(params)
    for n in range(6):
        g = mc.gradient(p, X[n : n + 1], Y[n : n + 1], acts)
        p = [
            {k: layer[k] - 0.1 * gl[k] for k in ("W", "b")} for layer, gl in zip(p, g, strict=True)
        ]
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


def test_batch_gradients_size_weighted_mean_is_the_full_gradient(problem):
    grads, sizes = epoch_batch_gradients(problem.params, problem.X, problem.y, 3)
    assert sizes.tolist() == [3, 3, 2]
    full = mc.flatten_params(mc.gradient(problem.params, problem.X, problem.y, "identity"))
    assert np.allclose(sizes @ grads / sizes.sum(), full)
    assert not np.allclose(grads.mean(axis=0), full)


def test_required_arguments_alone_run_with_the_documented_default_seed():
    params, X, Y, acts = make_case((3, 4, 2), "tanh", "squared_error", batch=10)
    a, _ = mc.train(params, X, Y, lr=0.1, num_epochs=2, batch_size=3)
    b, _ = mc.train(params, X, Y, lr=0.1, num_epochs=2, batch_size=3,
                    rng=np.random.default_rng(DEFAULT_SEED))  # fmt: skip
    tree_allclose(a, b, rtol=0, atol=0)
    full, hist = mc.train(params, X, Y, lr=0.1, num_epochs=2)  # full batch: order irrelevant
    assert hist.steps_per_epoch == 1 and np.isfinite(hist.epoch_loss).all()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_schedule_scales_follow_the_table(reduction):
    """N = 10, B = 4: batches 4, 4, 2; the scales written out from the docstring's table."""
    full = 0.25 if reduction == "mean" else 1.0
    want = {
        "keep": [full, full, 0.5 if reduction == "mean" else 1.0],
        "weighted": [full, full, full],
        "drop": [full, full],
    }
    for option, scales in want.items():
        sched = mc.batch_schedule(10, 4, option, reduction)
        assert [s.scale for s in sched] == scales, option
        assert [s.stop - s.start for s in sched] == [4, 4, 2][: len(scales)]


def test_sum_is_the_true_sum_on_a_partial_batch():
    """The step and the recorded loss agree: E of the last batch is its plain sum."""
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=10)
    _, hist = mc.train(params, X, Y, activations=acts, reduction="sum", lr=0.01,
                       num_epochs=1, batch_size=4, shuffle="never")  # fmt: skip
    p1 = mc.train(params, X, Y, activations=acts, reduction="sum", lr=0.01, num_epochs=1,
                  batch_size=4, shuffle="never", record="step")[1].trajectory  # fmt: skip
    before_last = mc.unflatten_params(p1[2], params)
    assert hist.step_loss[2] == pytest.approx(
        mc.cost(before_last, X[8:], Y[8:], acts, reduction="sum")
    )
    g = mc.flatten_params(mc.gradient(before_last, X[8:], Y[8:], acts, reduction="sum"))
    np.testing.assert_allclose(p1[3], p1[2] - 0.01 * g, rtol=1e-13, atol=1e-15)


def test_sum_with_lr_is_mean_with_lr_times_B_when_the_last_batch_is_weighted():
    params, X, Y, acts = make_case((2, 3, 1), "tanh", "squared_error", batch=40)
    B, eta = 16, 0.002  # 40 = 16 + 16 + 8: a partial last batch
    kw = dict(activations=acts, num_epochs=3, batch_size=B, shuffle="never")
    s, _ = mc.train(params, X, Y, reduction="sum", lr=eta, **kw)
    w, _ = mc.train(params, X, Y, reduction="mean", lr=eta * B, last_batch="weighted", **kw)
    k, _ = mc.train(params, X, Y, reduction="mean", lr=eta * B, last_batch="keep", **kw)
    tree_allclose(s, w, rtol=1e-12, atol=1e-15)
    assert np.abs(mc.flatten_params(s) - mc.flatten_params(k)).max() > 1e-4


def test_validation_loss_and_early_stopping():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(80, rng)
    Xv, yv = mc.make_moons(40, rng)
    params = mc.init_params([2, 16, 2], rng)
    kw = dict(activations="tanh", loss="softmax_cross_entropy", lr=2.0, batch_size=8,
              validation=(Xv, yv), record="epoch", rng=np.random.default_rng(1))  # fmt: skip
    full, h = mc.train(params, X, y, num_epochs=40, **kw)
    assert h.val_loss.shape == (41,) and h.best_epoch is None and not h.stopped_early
    for e in (0, 17, 40):
        p = mc.unflatten_params(h.trajectory[e], params)
        assert h.val_loss[e] == pytest.approx(
            mc.cost(p, Xv, yv, "tanh", "softmax_cross_entropy"), rel=1e-12
        )
    best, hs = mc.train(params, X, y, num_epochs=40, patience=3, **kw)
    e_best = hs.best_epoch
    assert hs.val_loss[e_best] == hs.val_loss.min()
    assert hs.stopped_early == (len(hs.val_loss) - 1 < 40)
    if hs.stopped_early:
        assert len(hs.val_loss) - 1 == e_best + 3  # stopped after 3 epochs without improvement
    np.testing.assert_array_equal(mc.flatten_params(best), hs.trajectory[e_best])


def test_train_returns_a_plain_list_and_leaves_the_start_untouched():
    """The loop works on one-vector copies; what it returns is an ordinary list of dicts."""
    params, X, Y, acts = make_case((3, 5, 2), "tanh", "softmax_cross_entropy", batch=20)
    start = mc.params.copy_params(params)
    trained, _ = mc.train(params, X, Y, activations=acts, loss="softmax_cross_entropy", lr=0.5,
                          num_epochs=2, batch_size=6, rng=np.random.default_rng(0))  # fmt: skip
    assert type(trained) is list and all(type(layer) is dict for layer in trained)
    tree_allclose(params, start, rtol=0, atol=0)
    assert not np.array_equal(mc.flatten_params(trained), mc.flatten_params(start))


def test_a_stopping_rule_ends_the_run_after_the_step_it_returns_true():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(40, rng)
    params = mc.init_params([2, 5, 2], rng)
    kw = dict(activations="tanh", loss="softmax_cross_entropy", lr=0.3, batch_size=8)
    seen = []

    def stop(p, t):
        seen.append(t)
        return t == 7  # in the second epoch (5 steps per epoch)

    p_stop, h = mc.train(params, X, y, num_epochs=4, stop=stop, record="step", **kw)
    assert seen == list(range(1, 8))
    assert len(h.step_loss) == 7 and len(h.trajectory) == 1 + 7
    assert len(h.epoch_loss) == 2  # the start and the first epoch: the cut epoch is not
    # the run it stopped is the run without the rule, up to step 7
    _, full = mc.train(params, X, y, num_epochs=4, record="step", **kw)
    np.testing.assert_array_equal(h.trajectory, full.trajectory[:8])
    np.testing.assert_array_equal(mc.flatten_params(p_stop), full.trajectory[7])
    with pytest.raises(TypeError, match="stop must be a function"):
        mc.train(params, X, y, num_epochs=1, stop=True, **kw)
