"""mlcore.budgets: every epoch of one sweep is the sweep run for that many epochs."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc
from mlcore.budgets import stability_edge, sweep_by_epoch
from mlcore.sweeps import batch_lr_sweep

CLASSIFY = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def moons():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(40, rng)
    Xv, yv = mc.make_moons(20, rng)
    return mc.init_params([2, 6, 2], rng), X, y, Xv, yv


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_epoch_equals_the_sweep_run_for_that_budget(moons, dtype):
    params, X, y, Xv, yv = moons
    params = [{k: v.astype(dtype) for k, v in layer.items()} for layer in params]
    grid = dict(batch_sizes=[1, 7, 40], lrs=[0.3, 3.0], validation=(Xv, yv), seed=3, **CLASSIFY)
    by_epoch = sweep_by_epoch(params, X, y, num_epochs=4, **grid)
    assert by_epoch.num_epochs == 4 and by_epoch.train_loss.shape == (3, 2, 5)
    for e in (1, 2, 4):
        expected = batch_lr_sweep(params, X, y, num_epochs=e, **grid)  # independent runs
        got = by_epoch.at(e)
        for field in ("train_loss", "val_loss", "val_accuracy", "diverged", "batch_sizes", "lrs"):
            np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), field)
        assert got.initial_loss == expected.initial_loss
    np.testing.assert_array_equal(by_epoch.train_loss[:, :, 0], by_epoch.initial_loss)


def test_optimizer_and_train_options_are_passed_on(moons):
    params, X, y, Xv, yv = moons
    kw = dict(batch_sizes=[8], lrs=[0.01], num_epochs=2, optimizer=mc.Adam, **CLASSIFY)
    got = sweep_by_epoch(params, X, y, shuffle="never", **kw).at(2)
    expected = batch_lr_sweep(params, X, y, shuffle="never", **kw)
    np.testing.assert_array_equal(got.train_loss, expected.train_loss)
    assert np.isnan(got.val_accuracy).all() and np.isnan(got.val_loss).all()  # no validation


def test_divergence_is_recorded_in_its_epoch():
    rng = np.random.default_rng(1)
    X, y, _ = mc.make_line(30, rng)
    params = mc.init_params([1, 1], rng)
    grid = dict(batch_sizes=[1, 30], lrs=[0.05, 50.0], activations="identity")
    sweep = sweep_by_epoch(params, X, y, num_epochs=200, **grid)
    assert (sweep.diverged_in[:, 1] > 0).all() and (sweep.diverged_in[:, 0] == 0).all()
    for i in range(2):  # finite before the epoch of divergence, inf from it on
        k = sweep.diverged_in[i, 1]
        assert np.isfinite(sweep.train_loss[i, 1, :k]).all()
        assert np.isinf(sweep.train_loss[i, 1, k:]).all()
        if k > 1:
            assert not sweep.diverged(int(k) - 1)[i, 1]
        assert sweep.diverged(int(k))[i, 1]
    final = batch_lr_sweep(params, X, y, num_epochs=200, **grid)
    np.testing.assert_array_equal(sweep.at(200).diverged, final.diverged)
    np.testing.assert_array_equal(sweep.unstable(200), final.diverged)


def test_unstable_compares_with_the_initial_cost_or_a_threshold():
    sweep = mc.budgets.EpochSweep(
        batch_sizes=np.array([1, 2]),
        lrs=np.array([0.1, 1.0]),
        train_loss=np.array([[[2.0, 1.0], [2.0, 3.0]], [[2.0, np.inf], [2.0, 1.5]]]),
        val_loss=np.full((2, 2, 2), np.nan),
        val_accuracy=np.full((2, 2, 2), np.nan),
        diverged_in=np.array([[0, 0], [1, 0]]),
        initial_loss=2.0,
    )
    np.testing.assert_array_equal(sweep.unstable(1), [[False, True], [True, False]])
    np.testing.assert_array_equal(sweep.unstable(1, threshold=1.2), [[False, True], [True, True]])
    with pytest.raises(ValueError, match="num_epochs"):
        sweep.at(2)


def test_stability_edge_reads_the_first_unstable_rate():
    U = np.array(
        [
            [False, False, True, False],  # a recovered run above the edge is ignored
            [False, False, False, False],
            [True, True, True, True],
        ]
    )
    last, first = stability_edge(U, [0.1, 0.2, 0.4, 0.8])
    np.testing.assert_array_equal(last, [0.2, 0.8, np.nan])
    np.testing.assert_array_equal(first, [0.4, np.inf, 0.1])
    with pytest.raises(ValueError, match="increasing"):
        stability_edge(U, [0.1, 0.4, 0.2, 0.8])
    with pytest.raises(ValueError, match="boolean"):
        stability_edge(U.astype(int), [0.1, 0.2, 0.4, 0.8])


def test_bad_arguments_are_named(moons):
    params, X, y, _, _ = moons
    kw = dict(lrs=[0.1], num_epochs=1, **CLASSIFY)
    with pytest.raises(TypeError, match="record"):
        sweep_by_epoch(params, X, y, batch_sizes=[4], record="step", **kw)
    with pytest.raises(ValueError, match="batch_sizes"):
        sweep_by_epoch(params, X, y, batch_sizes=[41], **kw)
    with pytest.raises(ValueError, match="lrs"):
        sweep_by_epoch(params, X, y, batch_sizes=[4], lrs=[-1.0], num_epochs=1, **CLASSIFY)
    with pytest.raises(ValueError, match="at least one"):
        sweep_by_epoch(params, X, y, batch_sizes=[], **kw)
