r"""Batch size and learning rate under every epoch budget, from one run per cell.

A run with a constant learning rate and a seeded example order is, up to its
:math:`e`-th epoch, exactly the run that was asked for :math:`e` epochs: the later
epochs do not change the earlier ones.  So one sweep of ``num_epochs`` epochs, with the
parameters stored after every epoch, gives the whole grid of
:func:`mlcore.sweeps.batch_lr_sweep` for every budget :math:`e \le` ``num_epochs`` at
the price of the longest one.  :meth:`EpochSweep.at` returns the grid after :math:`e`
epochs as a :class:`mlcore.sweeps.Sweep`, the same numbers that ``batch_lr_sweep`` gives
when run for :math:`e` epochs.

An epoch budget is a budget of gradient evaluations: every run of :math:`e` epochs
evaluates :math:`eN` per-example gradients, whatever its batch size.

Divergence
----------
A run whose cost or parameters stop being finite is *diverged*, as in
:func:`mlcore.training.train` with ``on_divergence="stop"``.  A run can also stay finite
and still fail: with bounded activations the cost of a run with too large a rate grows
without overflowing.  :meth:`EpochSweep.unstable` calls a run *unstable* after :math:`e`
epochs if it diverged or if its training-set cost is above a threshold, by default the
cost at the start,

.. math::

    \text{unstable}_e \iff \text{diverged by epoch } e \ \text{ or } \ E(\theta_e) > E(\theta_0),

and :func:`stability_edge` reads, in each row of such a table, the last stable rate
before the first unstable one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import Activations, LossName, Params
from .mlp import accuracy, check_model
from .params import _unflatten
from .sweeps import Sweep, check_grid, grid_runs
from .training import UpdateRule

__all__ = ["EpochSweep", "stability_edge", "sweep_by_epoch"]

#: Arguments of :func:`mlcore.training.train` that :func:`sweep_by_epoch` sets itself.
RESERVED = ("record", "rng", "on_divergence", "patience", "track_epoch_loss", "lr", "batch_size")


@dataclass
class EpochSweep:
    r"""The results of :func:`sweep_by_epoch`: one row per batch size, one column per rate,
    one entry per epoch.

    Attributes
    ----------
    batch_sizes : ndarray of int, shape (S,)
    lrs : ndarray, shape (R,)
    train_loss : ndarray, shape (S, R, E + 1)
        Training-set cost before training (entry 0) and after every epoch; ``inf`` from
        the epoch in which the run diverged on.
    val_loss : ndarray, shape (S, R, E + 1)
        Validation cost, the same way (NaN without validation).
    val_accuracy : ndarray, shape (S, R, E + 1)
        Validation accuracy (classification only; NaN otherwise and once diverged).
    diverged_in : ndarray of int, shape (S, R)
        The epoch (1 to E) in which the cost or the parameters stopped being finite;
        0 for a run that never did.
    initial_loss : float
        Training-set cost at the start, the same for every run.
    """

    batch_sizes: NDArray[np.intp]
    lrs: NDArray[np.float64]
    train_loss: NDArray[np.float64]
    val_loss: NDArray[np.float64]
    val_accuracy: NDArray[np.float64]
    diverged_in: NDArray[np.intp]
    initial_loss: float

    @property
    def num_epochs(self) -> int:
        """:math:`E`, the longest budget recorded."""
        return int(self.train_loss.shape[2] - 1)

    def _epochs(self, num_epochs: int) -> int:
        return _checks.positive_int(num_epochs, "num_epochs", maximum=self.num_epochs)

    def diverged(self, num_epochs: int) -> NDArray[np.bool_]:
        """Runs that stopped being finite within the first ``num_epochs`` epochs, (S, R)."""
        e = self._epochs(num_epochs)
        return (self.diverged_in > 0) & (self.diverged_in <= e)

    def at(self, num_epochs: int) -> Sweep:
        r"""The grid after ``num_epochs`` epochs, as :func:`mlcore.sweeps.batch_lr_sweep`
        returns it for that budget.

        Parameters
        ----------
        num_epochs : int
            :math:`e`, ``1 <= e <= E``.

        Returns
        -------
        Sweep
            Final costs and accuracies after :math:`e` epochs; ``inf`` costs and NaN
            accuracies for the runs diverged by then.
        """
        e = self._epochs(num_epochs)
        return Sweep(
            self.batch_sizes.copy(),
            self.lrs.copy(),
            self.train_loss[:, :, e].copy(),
            self.val_loss[:, :, e].copy(),
            self.val_accuracy[:, :, e].copy(),
            self.diverged(e),
            self.initial_loss,
        )

    def unstable(self, num_epochs: int, *, threshold: float | None = None) -> NDArray[np.bool_]:
        r"""Runs that diverged or ended above a cost threshold after ``num_epochs`` epochs.

        Parameters
        ----------
        num_epochs : int
            :math:`e`, ``1 <= e <= E``.
        threshold : float, optional
            Training-set cost above which a finite run counts as unstable; default
            ``initial_loss``, the cost at the start.

        Returns
        -------
        ndarray of bool, shape (S, R)
            ``diverged(e) | (train_loss[:, :, e] > threshold)``.
        """
        e = self._epochs(num_epochs)
        limit = self.initial_loss if threshold is None else _checks.real(threshold, "threshold")
        return self.diverged(e) | (self.train_loss[:, :, e] > limit)


def sweep_by_epoch(
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
) -> EpochSweep:
    r"""Train once for every (batch size, learning rate) pair and record every epoch.

    The runs are those of :func:`mlcore.sweeps.batch_lr_sweep` (same start, example
    orders drawn from ``seed``, divergence recorded), with the parameters stored after
    every epoch (``record="epoch"``) so that the validation accuracy of every budget can
    be read afterwards.

    Parameters
    ----------
    params : list of dict
        Common starting point.
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets.
    batch_sizes : sequence of int
        Values of :math:`B`, each ``1 <= B <= N``.
    lrs : sequence of float
        Constant learning rates :math:`\eta > 0`.
    num_epochs : int
        :math:`E \ge 1`, the longest budget.
    activations, loss
        As in :func:`mlcore.training.train`.
    validation : (X_val, Y_val), optional
        Held-out data evaluated before training and after every epoch.
    optimizer : callable, optional
        Makes a fresh update rule for each run (e.g. ``mlcore.Adam``); default plain SGD.
    seed : int, default 0
        Seed of every run's example order.
    **train_kwargs
        Passed to :func:`mlcore.training.train` (``shuffle``, ``last_batch``,
        ``reduction``, ...); not those in ``RESERVED``.

    Returns
    -------
    EpochSweep
    """
    reserved = sorted(set(train_kwargs) & set(RESERVED))
    if reserved:
        raise TypeError(f"sweep_by_epoch sets {reserved} itself; do not pass them")
    X, Y = check_model(params, X, Y, activations, loss)
    E = _checks.positive_int(num_epochs, "num_epochs")
    Bs, etas = check_grid(batch_sizes, lrs, X.shape[0])
    classify = validation is not None and loss == "softmax_cross_entropy"
    if validation is not None:
        validation = check_model(params, validation[0], validation[1], activations, loss)
    shape = (len(Bs), len(etas), E + 1)
    train_loss = np.full(shape, np.inf)
    val_loss = np.full(shape, np.nan if validation is None else np.inf)
    val_acc = np.full(shape, np.nan)
    diverged_in = np.zeros(shape[:2], dtype=np.intp)
    initial = np.nan
    runs = grid_runs(params, X, Y, Bs, etas, num_epochs=E, activations=activations, loss=loss,
                     validation=validation, optimizer=optimizer, seed=seed, record="epoch",
                     **train_kwargs)  # fmt: skip
    for i, j, _, h in runs:
        initial = float(h.epoch_loss[0])
        trajectory = np.asarray(h.trajectory)
        done = len(trajectory)  # the start and every epoch that ended finite
        if h.diverged:
            diverged_in[i, j] = done  # the epoch after the last finite one
        train_loss[i, j, :done] = h.epoch_loss[:done]
        if validation is not None:
            val_loss[i, j, :done] = h.val_loss[:done]
        if classify and validation is not None:
            for e, theta in enumerate(trajectory):
                p = _unflatten(theta, params)
                val_acc[i, j, e] = accuracy(p, validation[0], validation[1], activations)
    return EpochSweep(Bs, etas, train_loss, val_loss, val_acc, diverged_in, initial)


def stability_edge(
    unstable: ArrayLike, lrs: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Per row of a stability table, the last stable rate and the first unstable one.

    The rates are scanned upwards: the edge of a row lies between the largest rate
    :math:`\eta_-` below which every rate is stable and the next rate :math:`\eta_+`,
    the first unstable one.  A stable rate above :math:`\eta_+` (a run that recovered)
    does not move the edge.

    Parameters
    ----------
    unstable : array_like of bool, shape (S, R)
        True where a run is unstable (e.g. :meth:`EpochSweep.unstable`).
    lrs : array_like, shape (R,)
        Increasing learning rates of the columns.

    Returns
    -------
    last_stable : ndarray, shape (S,)
        :math:`\eta_-`; NaN if the smallest rate is already unstable.
    first_unstable : ndarray, shape (S,)
        :math:`\eta_+`; ``inf`` if every rate of the row is stable.
    """
    U = np.asarray(unstable)
    etas = np.asarray(lrs, dtype=np.float64)
    if U.dtype != np.bool_ or U.ndim != 2:
        raise ValueError(f"unstable must be a 2-D boolean array; got {U.dtype} {U.shape}")
    if etas.shape != (U.shape[1],) or not (np.diff(etas) > 0).all():
        raise ValueError(f"lrs must be {U.shape[1]} increasing rates; got {etas}")
    last = np.full(U.shape[0], np.nan)
    first = np.full(U.shape[0], np.inf)
    for i, row in enumerate(U):
        k = int(np.argmax(row)) if row.any() else len(row)  # index of the first unstable rate
        if k > 0:
            last[i] = etas[k - 1]
        if k < len(row):
            first[i] = etas[k]
    return last, first
