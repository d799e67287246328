"""mlcore.sampling: SGD on batches drawn with replacement, against a hand-written loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcore as mc
from mlcore.optim import sgd_step
from mlcore.sampling import train_with_replacement

KW = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(23, rng)
    Xv, yv = mc.make_moons(9, rng)
    return mc.init_params([2, 5, 2], rng), X, y, Xv, yv


def reference(params, X, y, lr, num_epochs, B, seed, step=None):
    """The rule written out: draw B indices, mean gradient, one step; ceil(N/B) per epoch."""
    rng = np.random.default_rng(seed)
    p = mc.params.copy_params(params)
    state = None if step is None else step.init(p)
    losses = [mc.cost(p, X, y, **KW)]
    for _ in range(num_epochs):
        for _ in range(math.ceil(len(X) / B)):
            idx = rng.integers(0, len(X), size=B)
            g = mc.gradient(p, X[idx], y[idx], **KW)
            if step is None:
                sgd_step(p, g, lr)
            else:
                step.step(p, g, lr, state)
        losses.append(mc.cost(p, X, y, **KW))
    return p, np.array(losses)


@pytest.mark.parametrize("B", [1, 4, 23])
def test_equals_the_written_out_rule(data, B):
    params, X, y, Xv, yv = data
    p, h = train_with_replacement(
        params,
        X,
        y,
        lr=0.3,
        num_epochs=3,
        batch_size=B,
        rng=np.random.default_rng(5),
        validation=(Xv, yv),
        **KW,
    )
    p_ref, losses = reference(params, X, y, 0.3, 3, B, seed=5)
    np.testing.assert_allclose(mc.flatten_params(p), mc.flatten_params(p_ref), rtol=1e-12)
    np.testing.assert_allclose(h.epoch_loss, losses, rtol=1e-12)
    assert h.steps_per_epoch == math.ceil(23 / B)
    assert len(h.step_loss) == 3 * h.steps_per_epoch
    assert h.val_loss.shape == (4,)
    assert h.val_loss[-1] == pytest.approx(mc.cost(p, Xv, yv, **KW))
    assert mc.flatten_params(params).tolist() != mc.flatten_params(p).tolist()  # a copy trained


def test_adam_and_float32(data):
    params, X, y, _, _ = data
    p, _ = train_with_replacement(
        params,
        X,
        y,
        lr=0.05,
        num_epochs=2,
        batch_size=4,
        optimizer=mc.Adam(),
        rng=np.random.default_rng(1),
        **KW,
    )
    p_ref, _ = reference(params, X, y, 0.05, 2, 4, seed=1, step=mc.Adam())
    np.testing.assert_allclose(mc.flatten_params(p), mc.flatten_params(p_ref), rtol=1e-12)
    p32 = [{k: v.astype(np.float32) for k, v in layer.items()} for layer in params]
    q, h = train_with_replacement(
        p32, X, y, lr=0.3, num_epochs=1, batch_size=4, rng=np.random.default_rng(1), **KW
    )
    assert q[0]["W"].dtype == np.float32 and np.isfinite(h.epoch_loss).all()


def test_batches_repeat_examples_and_miss_about_a_third():
    """The draws are with replacement: about (1 - 1/N)^N of the rows are missed per epoch."""
    X = np.arange(400.0).reshape(-1, 1) / 400  # distinct rows: each batch cost tells its draw
    y = np.zeros((400, 1))
    seen = []

    class Recorder:
        def init(self, params):
            return {}

        def step(self, params, grads, lr, state):
            pass

    # the draws of one epoch, reproduced from the same seed as the function makes them
    rng = np.random.default_rng(3)
    for _ in range(math.ceil(400 / 8)):
        seen.append(rng.integers(0, 400, size=8))
    params = mc.init_params([1, 1], np.random.default_rng(0))
    _, h = train_with_replacement(
        params,
        X,
        y,
        activations="identity",
        lr=0.1,
        num_epochs=1,
        batch_size=8,
        optimizer=Recorder(),
        rng=np.random.default_rng(3),
    )
    idx = np.concatenate(seen)
    missed = 1 - len(np.unique(idx)) / 400
    assert abs(missed - (1 - 1 / 400) ** 400) < 0.05
    assert len(np.unique(idx)) < len(idx)  # some rows drawn twice
    # the recorded batch losses are those of the reproduced draws (no update happened)
    expected = [mc.cost(params, X[i], y[i], "identity") for i in seen]
    np.testing.assert_allclose(h.step_loss, expected, rtol=1e-12)


def test_errors(data):
    params, X, y, _, _ = data
    kw = dict(lr=0.1, num_epochs=1, batch_size=4, rng=np.random.default_rng(0), **KW)
    with pytest.raises(ValueError, match="batch_size"):
        train_with_replacement(params, X, y, **{**kw, "batch_size": 24})
    with pytest.raises(ValueError, match="lr"):
        train_with_replacement(params, X, y, **{**kw, "lr": -1.0})
    with pytest.raises(TypeError, match="rng"):
        train_with_replacement(params, X, y, **{**kw, "rng": 0})
    with pytest.raises(TypeError, match="optimizer"):
        train_with_replacement(params, X, y, optimizer="sgd", **kw)
    with pytest.raises(TypeError, match="validation"):
        train_with_replacement(params, X, y, validation=(X,), **kw)
    with pytest.raises(FloatingPointError, match="diverged"):
        Xr, yr, _ = mc.make_line(30, np.random.default_rng(1))
        train_with_replacement(
            mc.init_params([1, 1], np.random.default_rng(0)),
            Xr,
            yr,
            activations="identity",
            lr=1e3,
            num_epochs=50,
            batch_size=30,
            rng=np.random.default_rng(0),
        )
