r"""Sweeps of batch size and learning rate: one training run per cell of a grid.

Every run starts from the same parameters and sees the examples in orders drawn from
the same seed; a run whose cost or parameters stop being finite is recorded as
diverged (``on_divergence="stop"`` of :func:`mlcore.training.train`), never silently
dropped.  A run that is unstable but still finite keeps its (large) costs, so the
caller can draw its own boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import Activations, LossName, Params
from .mlp import accuracy, check_model
from .training import History, UpdateRule, train

__all__ = ["Sweep", "batch_lr_sweep"]


@dataclass
class Sweep:
    r"""The results of :func:`batch_lr_sweep`, one row per batch size, one column per rate.

    Attributes
    ----------
    batch_sizes : ndarray of int, shape (S,)
    lrs : ndarray, shape (R,)
    train_loss : ndarray, shape (S, R)
        Training-set cost after the last epoch (``inf`` if diverged).
    val_loss : ndarray, shape (S, R)
        Validation cost after the last epoch (``inf`` if diverged; NaN without validation).
    val_accuracy : ndarray, shape (S, R)
        Validation accuracy (classification only; NaN otherwise or if diverged).
    diverged : ndarray of bool, shape (S, R)
        The cost or the parameters stopped being finite.
    initial_loss : float
        Training-set cost at the start, the same for every run.
    """

    batch_sizes: NDArray[np.intp]
    lrs: NDArray[np.float64]
    train_loss: NDArray[np.float64]
    val_loss: NDArray[np.float64]
    val_accuracy: NDArray[np.float64]
    diverged: NDArray[np.bool_]
    initial_loss: float


def batch_lr_sweep(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    batch_sizes: Sequence[int],
    lrs: Sequence[float],
    num_epochs: int,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    optimizer: Callable[[], UpdateRule] | None = None,
    seed: int = 0,
    **train_kwargs: Any,
) -> Sweep:
    r"""Train once for every (batch size, learning rate) pair and collect the final costs.

    Parameters
    ----------
    params : list of dict
        Common starting point.
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets.
    batch_sizes : sequence of int
        Values of :math:`B`.
    lrs : sequence of float
        Values of :math:`\eta`.
    num_epochs : int
        Epochs per run (the same number of per-example gradients for every :math:`B`).
    activations, loss
        As in :func:`mlcore.training.train`.
    validation : (X_val, Y_val), optional
        Held-out data evaluated after the last epoch.
    optimizer : callable, optional
        Makes a fresh update rule for each run (e.g. ``mlcore.Adam``); default plain SGD.
    seed : int, default 0
        Seed of every run's example order.
    **train_kwargs
        Passed to :func:`mlcore.training.train` (``shuffle``, ``last_batch``, ...).

    Returns
    -------
    Sweep
    """
    X, Y = check_model(params, X, Y, activations, loss)
    Bs, etas = check_grid(batch_sizes, lrs, X.shape[0])
    shape = (len(Bs), len(etas))
    train_loss = np.full(shape, np.inf)
    val_loss = np.full(shape, np.nan if validation is None else np.inf)
    val_acc = np.full(shape, np.nan)
    diverged = np.zeros(shape, dtype=bool)
    initial = np.nan
    runs = grid_runs(params, X, Y, Bs, etas, num_epochs=num_epochs, activations=activations,
                     loss=loss, validation=validation, optimizer=optimizer, seed=seed,
                     **train_kwargs)  # fmt: skip
    for i, j, p, h in runs:
        initial = float(h.epoch_loss[0])
        if h.diverged:
            diverged[i, j] = True
            continue
        train_loss[i, j] = h.epoch_loss[-1]
        if validation is not None:
            val_loss[i, j] = h.val_loss[-1]
            if loss == "softmax_cross_entropy":
                val_acc[i, j] = accuracy(p, validation[0], validation[1], activations)
    return Sweep(Bs, etas, train_loss, val_loss, val_acc, diverged, initial)


def check_grid(
    batch_sizes: Sequence[int], lrs: Sequence[float], N: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The grid as arrays: batch sizes ``1 <= B <= N``, learning rates ``> 0``, each at
    least one value."""
    Bs = np.array(
        [_checks.positive_int(B, "batch_sizes", maximum=N) for B in batch_sizes], dtype=np.intp
    )
    etas = np.array([_checks.real(lr, "lrs", positive=True) for lr in lrs], dtype=np.float64)
    if Bs.size == 0 or etas.size == 0:
        raise ValueError("batch_sizes and lrs must each hold at least one value")
    return Bs, etas


def grid_runs(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    batch_sizes: NDArray[np.intp],
    lrs: NDArray[np.float64],
    *,
    optimizer: Callable[[], UpdateRule] | None,
    seed: int,
    **train_kwargs: Any,
) -> Iterator[tuple[int, int, Params, History]]:
    """One :func:`~mlcore.training.train` run per cell ``(i, j)`` of the grid, row by row:
    the same start, example orders drawn from ``seed``, a fresh update rule, and a
    diverging run stopped (``on_divergence="stop"``).  Yields ``(i, j, params, history)``.
    """
    for i, B in enumerate(batch_sizes):
        for j, eta in enumerate(lrs):
            p, h = train(params, X, Y, lr=float(eta), batch_size=int(B),
                         optimizer=None if optimizer is None else optimizer(),
                         rng=np.random.default_rng(seed), on_divergence="stop",
                         **train_kwargs)  # fmt: skip
            yield i, j, p, h
