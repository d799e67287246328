"""mlcore.sweeps: every cell is the single run it stands for; divergence is recorded."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc
from mlcore.sweeps import batch_lr_sweep


def test_sweep_cells_equal_single_runs_and_divergence_is_recorded():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(40, rng)
    Xv, yv = mc.make_moons(20, rng)
    params = mc.init_params([2, 6, 2], rng)
    kw = dict(activations="tanh", loss="softmax_cross_entropy")
    sweep = batch_lr_sweep(params, X, y, batch_sizes=[4, 40], lrs=[0.5, 2.0], num_epochs=3,
                           validation=(Xv, yv), **kw)  # fmt: skip
    p, h = mc.train(params, X, y, lr=0.5, num_epochs=3, batch_size=4, validation=(Xv, yv),
                    rng=np.random.default_rng(0), **kw)  # fmt: skip
    assert sweep.train_loss[0, 0] == h.epoch_loss[-1]
    assert sweep.val_loss[0, 0] == h.val_loss[-1]
    assert sweep.val_accuracy[0, 0] == mc.accuracy(p, Xv, yv, "tanh")
    assert sweep.initial_loss == h.epoch_loss[0]
    assert not sweep.diverged.any() and np.isfinite(sweep.val_accuracy).all()
    # a regression whose steps overflow: recorded as diverged, with no finite cost
    Xr, yr, _ = mc.make_line(30, rng)
    line_params = mc.init_params([1, 1], rng)
    reg = batch_lr_sweep(line_params, Xr, yr, batch_sizes=[1, 30], lrs=[0.05, 50.0],
                         num_epochs=200, activations="identity")  # fmt: skip
    assert reg.diverged[:, 1].all() and not reg.diverged[:, 0].any()
    assert np.isinf(reg.train_loss[:, 1]).all() and np.isfinite(reg.train_loss[:, 0]).all()
    assert np.isnan(reg.val_loss).all()  # no validation set
    adam = batch_lr_sweep(params, X, y, batch_sizes=[4], lrs=[0.01], num_epochs=2,
                          optimizer=mc.Adam, **kw)  # fmt: skip
    p2, h2 = mc.train(params, X, y, lr=0.01, num_epochs=2, batch_size=4, optimizer=mc.Adam(),
                      rng=np.random.default_rng(0), **kw)  # fmt: skip
    assert adam.train_loss[0, 0] == h2.epoch_loss[-1]


def test_split_validation_partitions_the_rows():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xt, yt, Xv, yv = mc.data.split_validation(X, y, 0.3, np.random.default_rng(0))
    assert len(yv) == 3 and len(yt) == 7
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(10))
    np.testing.assert_array_equal(Xv[:, 0], 2 * yv)


def test_a_bad_grid_is_refused_before_any_run():
    rng = np.random.default_rng(0)
    X, y = mc.make_moons(10, rng)
    params = mc.init_params([2, 3, 2], rng)
    kw = dict(num_epochs=1, loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match="batch_sizes must be >= 1 and <= 10; got 11"):
        batch_lr_sweep(params, X, y, batch_sizes=[2, 11], lrs=[0.1], **kw)
    with pytest.raises(ValueError, match="lrs"):
        batch_lr_sweep(params, X, y, batch_sizes=[2], lrs=[0.1, -1.0], **kw)
    with pytest.raises(ValueError, match="at least one"):
        batch_lr_sweep(params, X, y, batch_sizes=[], lrs=[0.1], **kw)
