r"""One training loop for full-batch gradient descent, SGD and minibatch SGD.

With ``batch_size = N`` an epoch is one gradient-descent step on the whole
training set; with ``batch_size = 1`` it is plain stochastic gradient descent;
anything in between is minibatch SGD.  Every step uses the batch gradient in
matrix form (:func:`mlcore.mlp.gradient_from_deltas`, :math:`\Delta^\top X`).

The last partial batch
----------------------
Write every step as :math:`\theta \leftarrow \theta - \eta\, s_k \sum_{n \in \mathcal B_k}
\nabla E_n`.  A full batch of :math:`B` examples has :math:`s_k = 1/B` (reduction
``"mean"``) or :math:`s_k = 1` (``"sum"``): the reduction is applied to the batch, and
``"sum"`` always means the true sum.  When :math:`B` does not divide :math:`N`, the last
batch :math:`\mathcal B_K` has :math:`r = N \bmod B` examples and ``last_batch`` says
what to do with it:

============== =============================== ============================ ========================
``last_batch`` reduction ``"mean"``            reduction ``"sum"``          PyTorch
============== =============================== ============================ ========================
``"keep"``     :math:`s_K = 1/r`: its mean,    :math:`s_K = 1`: its sum     ``drop_last=False``
               a full step; each of its
               examples weighs :math:`B/r`
               times more than the others
``"weighted"`` :math:`s_K = 1/B`: every        :math:`s_K = 1` (as           no flag: scale the
               example weighs the same         ``"keep"``)                  loss by :math:`r/B`
``"drop"``     skipped                         skipped                      ``drop_last=True``
============== =============================== ============================ ========================

No option rescales a batch silently: the step always follows from the reduction applied
to the examples actually in the batch (``"keep"``), from the same weight for every
example (``"weighted"``), or is not taken (``"drop"``).  With ``"weighted"``, at fixed
parameters, the steps of an epoch add up to :math:`N s_{\text{full}}` times the full
mean gradient.

:func:`batch_schedule` returns these :math:`s_k` so the rule can be tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import (
    Activations,
    FloatArray,
    IntArray,
    LastBatch,
    LossName,
    OnDivergence,
    Params,
    Record,
    Reduction,
    Shuffle,
)
from .losses import _reduce
from .mlp import check_model, cost, deltas, forward, gradient, gradient_from_deltas
from .optim import _sgd_step
from .params import _copy, _flatten

__all__ = ["Batch", "History", "batch_schedule", "epoch_batch_gradients", "train"]

#: Seed of the example order when ``train`` is given no ``rng``.
DEFAULT_SEED = 0

SHUFFLES = ("every_epoch", "once", "never")
LAST_BATCH = ("keep", "weighted", "drop")
RECORDS = ("epoch", "step")


class Batch(NamedTuple):
    """One step of an epoch: rows ``start:stop`` of the (shuffled) data.

    Attributes
    ----------
    start, stop : int
        Row slice of the epoch's example order.
    scale : float
        :math:`s_k`: the step is ``lr * scale * (sum of the per-example gradients)``.
    """

    start: int
    stop: int
    scale: float


def batch_schedule(
    num_examples: int,
    batch_size: int,
    last_batch: LastBatch = "keep",
    reduction: Reduction = "mean",
) -> list[Batch]:
    r"""The batches of one epoch and the scale :math:`s_k` of each step.

    Parameters
    ----------
    num_examples : int
        :math:`N`.
    batch_size : int
        :math:`B`, with :math:`1 \le B \le N`.
    last_batch : {"keep", "weighted", "drop"}, default "keep"
        Treatment of a last partial batch (the table of the module docstring).
    reduction : {"sum", "mean"}, default "mean"
        Reduction of the cost; full batches get :math:`s = 1/B` or :math:`1`.

    Returns
    -------
    list of Batch
        ``(start, stop, scale)`` per step; ``sum over steps of scale * (stop - start)``
        equals :math:`N s_{\text{full}}` in ``"weighted"`` mode.
    """
    N = _checks.positive_int(num_examples, "num_examples")
    b = _checks.positive_int(batch_size, "batch_size", maximum=N)
    _checks.choice(last_batch, LAST_BATCH, "last_batch")
    _checks.choice(reduction, ("sum", "mean"), "reduction")
    s_full = 1.0 / b if reduction == "mean" else 1.0
    batches = [Batch(k, k + b, s_full) for k in range(0, N - b + 1, b)]
    r = N % b
    if r and last_batch == "keep":  # the reduction applied to the r examples present
        batches.append(Batch(N - r, N, 1.0 / r if reduction == "mean" else 1.0))
    elif r and last_batch == "weighted":  # every example weighs as in a full batch
        batches.append(Batch(N - r, N, s_full))
    return batches


@dataclass
class History:
    r"""What :func:`train` records.

    Attributes
    ----------
    step_loss : ndarray, shape (num_steps,)
        Cost of each minibatch (with the chosen reduction) at the parameters
        *before* that step's update.
    epoch_loss : ndarray, shape (num_epochs + 1,)
        Cost on the whole training set; entry 0 is before training, entry ``e``
        after epoch ``e``.  Empty if ``track_epoch_loss=False``.
    trajectory : ndarray, shape (T, P) or None
        Flattened parameters (see :func:`mlcore.params.flatten_params`): the start,
        then after every epoch (``record="epoch"``, ``T = num_epochs + 1``) or every
        step (``record="step"``, ``T = num_steps + 1``); None if ``record=None``.
    steps_per_epoch : int
        Number of updates per epoch.
    diverged : bool
        True if training stopped early because the cost became NaN or infinite
        (only with ``on_divergence="stop"``; the arrays then end at that point).
    """

    step_loss: NDArray[np.float64]
    epoch_loss: NDArray[np.float64]
    trajectory: FloatArray | None = None
    steps_per_epoch: int = 0
    diverged: bool = False


def train(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    lr: float,
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: Shuffle = "every_epoch",
    last_batch: LastBatch = "keep",
    momentum: float = 0.0,
    rng: np.random.Generator | None = None,
    record: Record | None = None,
    track_epoch_loss: bool = True,
    on_divergence: OnDivergence = "raise",
) -> tuple[Params, History]:
    r"""Train by gradient descent: full batch, SGD or minibatch SGD, one loop.

    Each epoch visits the examples in an order (shuffled or not), cuts it into
    batches of ``batch_size`` rows and for each batch :math:`\mathcal B_k` makes the step

    .. math::

        \theta \leftarrow \theta - \eta\, s_k \sum_{n \in \mathcal B_k} \nabla E_n,
        \qquad
        \sum_{n \in \mathcal B_k} \frac{\partial E_n}{\partial W^{(l)}}
        = \Delta_k^{(l)\top} X_k^{(l)},

    where :math:`s_k = 1/|\mathcal B_k|` (reduction ``"mean"``) or :math:`1` (``"sum"``),
    except that ``last_batch="weighted"`` gives a partial last batch :math:`s_K = 1/B`.

    Parameters
    ----------
    params : list of dict
        Initial parameters (not modified; training works on a copy).
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction of each batch's cost.
    lr : float
        Learning rate :math:`\eta > 0`.
    num_epochs : int
        Number of passes over the data, ``>= 1``.
    batch_size : int or None, default None
        ``1 <= batch_size <= N``; None means ``N`` (full-batch gradient descent).
    shuffle : {"every_epoch", "once", "never"}, default "every_epoch"
        Reshuffle the order each epoch, shuffle it once before training, or keep
        the given order.
    last_batch : {"keep", "weighted", "drop"}, default "keep"
        Last partial batch: step with the reduction applied to the examples it
        has (its mean, or its sum), as PyTorch does with ``drop_last=False``;
        weight it so that every example counts as in a full batch; or skip it
        (``drop_last=True``).  The table of the module docstring gives the scales.
    momentum : float, default 0.0
        Heavy-ball momentum :math:`\mu \in [0, 1)`, the convention of
        :func:`mlcore.optim.sgd_step` (:math:`v \leftarrow \mu v + g`,
        :math:`\theta \leftarrow \theta - \eta v`); 0 is plain gradient descent.
    rng : numpy.random.Generator or None
        Draws the example orders; None means ``numpy.random.default_rng(0)``, so a
        call without ``rng`` is reproducible (seed ``DEFAULT_SEED = 0``).
    record : {None, "epoch", "step"}, default None
        Store the flattened parameters after every epoch or step (trajectories).
    track_epoch_loss : bool, default True
        Evaluate the full training-set cost before training and after each epoch.
    on_divergence : {"raise", "stop"}, default "raise"
        If a cost becomes NaN or infinite (too large a learning rate), raise
        :class:`FloatingPointError`, or stop and return the history so far
        with ``history.diverged = True``.  Never a silent NaN.

    Returns
    -------
    params : list of dict
        Trained parameters (new arrays).
    history : History
        Step and epoch losses and the optional trajectory.

    Raises
    ------
    FloatingPointError
        If the cost becomes NaN/inf and ``on_divergence="raise"``.
    """
    params, dtype = _checks.params(params)
    X, Y = check_model(params, X, Y, activations, loss, reduction)
    N = X.shape[0]
    lr = _checks.real(lr, "lr", positive=True)
    num_epochs = _checks.positive_int(num_epochs, "num_epochs")
    batch_size = N if batch_size is None else _checks.positive_int(batch_size, "batch_size")
    if batch_size > N:
        raise ValueError(
            f"batch_size must be <= N = {N} (the number of rows of X); got {batch_size}"
        )
    _checks.choice(shuffle, SHUFFLES, "shuffle")
    momentum = _checks.real(momentum, "momentum", nonneg=True, below=1.0)
    rng = np.random.default_rng(DEFAULT_SEED) if rng is None else _checks.rng(rng)
    if record is not None:
        _checks.choice(record, RECORDS, "record")
    _checks.choice(on_divergence, ("raise", "stop"), "on_divergence")
    schedule = batch_schedule(N, batch_size, last_batch, reduction)
    return _train(
        params, X, Y, activations, loss, reduction,
        lr, num_epochs, schedule, shuffle, momentum, rng, record, track_epoch_loss,
        on_divergence,
    )  # fmt: skip


def _train(
    params: Params, X: FloatArray, Y: FloatArray, activations: Activations, loss: LossName,
    reduction: Reduction, lr: float, num_epochs: int, schedule: list[Batch], shuffle: Shuffle,
    momentum: float, rng: np.random.Generator, record: Record | None, track_epoch_loss: bool,
    on_divergence: OnDivergence,
) -> tuple[Params, History]:  # fmt: skip
    r"""The loop of :func:`train` on validated inputs (no checks; same arguments).

    Per epoch: fix an example order, then for every batch :math:`\mathcal B_k` of the schedule
    run the forward pass, backpropagate, form :math:`\Delta^{(l)\top} X^{(l)}` per layer
    and step.  Returns ``(params, history)`` like :func:`train`.
    """
    params = _copy(params)
    velocity = [{"W": np.zeros_like(p["W"]), "b": np.zeros_like(p["b"])} for p in params]
    step_loss = np.empty(num_epochs * len(schedule))
    epoch_loss = []  # full training-set cost: before training, then after each epoch
    if track_epoch_loss:
        epoch_loss.append(cost(params, X, Y, activations, loss, reduction, check=False))
    trajectory = [_flatten(params)] if record else []
    Xs, Ys = X, Y
    t = 0
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite costs are checked below
        for epoch in range(num_epochs):
            if shuffle == "every_epoch" or (shuffle == "once" and epoch == 0):
                order = rng.permutation(X.shape[0])
                Xs, Ys = X[order], Y[order]
            for start, stop, s_k in schedule:
                X_k, Y_k = Xs[start:stop], Ys[start:stop]  # the batch B_k: views, no copies
                _, cache = forward(params, X_k, activations, check=False)
                # delta_n^(l) of every example and layer, times s_k (1/|B_k| for the mean)
                Deltas, E_n = deltas(params, cache, Y_k, activations, loss, scale=s_k,
                                     return_losses=True, check=False)  # fmt: skip
                E = step_loss[t] = _reduce(E_n, reduction)
                t += 1
                if not math.isfinite(E):
                    diverged = _diverged(on_divergence, lr, epoch, t - 1, E)
                    break
                g = gradient_from_deltas(cache, Deltas)  # s_k Delta^(l)T X^(l) per layer
                _sgd_step(params, g, lr, velocity, momentum)  # theta <- theta - eta g
                if record == "step":
                    trajectory.append(_flatten(params))
            if not diverged and track_epoch_loss:
                E = cost(params, X, Y, activations, loss, reduction, check=False)
                epoch_loss.append(E)
                if not math.isfinite(E):
                    diverged = _diverged(on_divergence, lr, epoch, t - 1, E)
            if diverged:
                break
            if record == "epoch":
                trajectory.append(_flatten(params))
        if not diverged and not np.isfinite(_flatten(params)).all():
            diverged = _diverged(on_divergence, lr, num_epochs - 1, t - 1, "non-finite parameters")
    history = History(
        step_loss=step_loss[:t],
        epoch_loss=np.array(epoch_loss),
        trajectory=np.array(trajectory) if record else None,
        steps_per_epoch=len(schedule),
        diverged=diverged,
    )
    return params, history


def _diverged(on_divergence: OnDivergence, lr: float, epoch: int, step: int, E: object) -> bool:
    if on_divergence == "raise":
        raise FloatingPointError(
            f"training diverged: got {E} (cost or parameters) at epoch {epoch}, step {step}; "
            f"lr={lr} is probably too large (pass on_divergence='stop' to keep the history)"
        )
    return True


def epoch_batch_gradients(
    params: Params,
    X: FloatArray,
    Y: NDArray[Any],
    batch_size: int,
    *,
    activations: Activations = "identity",
    loss: LossName = "squared_error",
) -> tuple[FloatArray, IntArray]:
    r"""Mean gradient of each consecutive batch of one epoch (no shuffling), and the sizes.

    Parameters
    ----------
    params : list of dict
        Parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    batch_size : int
        :math:`B`; the last batch has :math:`N - B\lfloor (N-1)/B \rfloor` rows.
    activations : str or sequence of str, default "identity"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.

    Returns
    -------
    grads : ndarray, shape (K, P)
        Row :math:`k` is the flattened mean gradient :math:`g_k` of batch :math:`k`.
    sizes : ndarray of int, shape (K,)
        :math:`|\mathcal B_k|`.
    """
    batches = batch_schedule(len(X), batch_size)  # the epoch's consecutive batches
    grads = np.array(
        [_flatten(gradient(params, X[k.start : k.stop], Y[k.start : k.stop], activations, loss))
         for k in batches]
    )  # fmt: skip
    sizes = np.array([k.stop - k.start for k in batches])
    return grads, sizes
