"""mlcore.averaging: averaging weights and federated averaging."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import tree_allclose

import mlcore as mc


def test_federated_rounds_reduce_cost():
    rng = np.random.default_rng(0)
    X, y, _ = mc.data.make_linear_regression(40, rng, num_features=2)
    params = mc.init_params([2, 1], rng, init="zeros")
    avg, hist = mc.federated_averaging(params, X, y, activations="identity", lr=0.1,
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
    avg, _ = mc.federated_averaging(params, X, y, activations="identity", lr=0.1, local_steps=1)
    gd, _ = mc.train(params, X, y, activations="identity", lr=0.1, num_epochs=1,
                     shuffle="never")  # fmt: skip
    tree_allclose(avg, gd, rtol=1e-12)


def test_split_indices_partition():
    parts = mc.averaging.split_indices(10, 3, np.random.default_rng(0))
    assert sorted(len(p) for p in parts) == [3, 3, 4]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(10))


def test_polyak_average_is_the_mean_of_the_iterates():
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_line(16, rng)
    params = mc.init_params([1, 1], rng)
    kw = dict(activations="identity", lr=0.1, num_epochs=3, batch_size=4, record="step")
    _, h = mc.train(params, X, y, average=mc.IterateAverage("polyak", start=2), **kw)
    np.testing.assert_allclose(mc.flatten_params(h.averaged), h.trajectory[3:].mean(axis=0),
                               rtol=1e-12)  # fmt: skip
    # the recorded costs are those of the running average after each epoch
    assert h.averaged_epoch_loss.shape == (4,)
    assert h.averaged_epoch_loss[-1] == pytest.approx(mc.cost(h.averaged, X, y, "identity"))


def test_ema_follows_its_recursion():
    rng = np.random.default_rng(1)
    X, y, _ = mc.make_line(16, rng)
    params = mc.init_params([1, 1], rng)
    _, h = mc.train(params, X, y, activations="identity", lr=0.1, num_epochs=2, batch_size=4,
                    record="step", average=mc.IterateAverage("ema", decay=0.9))  # fmt: skip
    avg = h.trajectory[0]
    for theta in h.trajectory[1:]:
        avg = 0.9 * avg + 0.1 * theta
    np.testing.assert_allclose(mc.flatten_params(h.averaged), avg, rtol=1e-12)
