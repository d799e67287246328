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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, cast

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
from .averaging import IterateAverage
from .losses import _reduce
from .mlp import check_model, cost, deltas, forward, gradient, gradient_from_deltas
from .optim import SGD
from .params import _copy, _flat_copy, _flatten

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
    val_loss : ndarray, shape (num_epochs + 1,)
        Mean cost on the validation set, before training and after each epoch;
        empty without ``validation``.
    best_epoch : int or None
        With ``patience``: the epoch of the lowest validation cost, whose parameters
        :func:`train` returns.
    stopped_early : bool
        True if ``patience`` ended training before ``num_epochs``.
    averaged : list of dict or None
        With ``average``: the averaged iterates at the end of training.
    averaged_epoch_loss, averaged_val_loss : ndarray
        With ``average``: the training-set and validation costs of the averaged
        iterates after each epoch (entry 0 before training).
    """

    step_loss: NDArray[np.float64]
    epoch_loss: NDArray[np.float64]
    trajectory: FloatArray | None = None
    steps_per_epoch: int = 0
    diverged: bool = False
    val_loss: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    best_epoch: int | None = None
    stopped_early: bool = False
    averaged: Params | None = None
    averaged_epoch_loss: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    averaged_val_loss: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))


class UpdateRule(Protocol):
    """What :func:`train` needs of an update rule (:class:`mlcore.optim.SGD`, ``Adam``).

    ``step`` updates ``params`` in place.  ``grads`` holds arrays that the loop rewrites
    at every step: a rule that keeps a gradient for later must copy it.
    """

    def init(self, params: Params) -> dict[str, Any]: ...

    def step(self, params: Params, grads: Params, lr: float, state: dict[str, Any]) -> None: ...


def update_rule(optimizer: object) -> UpdateRule:
    """The update rule a trainer uses: ``SGD()`` for ``None``, else one with ``init``/``step``."""
    if optimizer is None:
        return SGD()
    if not (
        callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "step", None))
    ):
        raise TypeError(
            "optimizer must be an update rule such as mlcore.optim.SGD() or Adam(); "
            f"got {optimizer!r:.60}"
        )
    return cast(UpdateRule, optimizer)


def check_validation(
    params: Params, validation: object, activations: Activations, loss: LossName
) -> tuple[FloatArray, FloatArray] | None:
    """``validation=(X_val, Y_val)`` checked against the network (``None`` passes)."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise TypeError("validation must be a pair (X_val, Y_val)")
    X_val: ArrayLike = validation[0]
    Y_val: ArrayLike = validation[1]
    return check_model(params, X_val, Y_val, activations, loss)


def train(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    lr: float | Callable[[int], float],
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: Shuffle = "every_epoch",
    last_batch: LastBatch = "keep",
    optimizer: UpdateRule | None = None,
    rng: np.random.Generator | None = None,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    patience: int | None = None,
    average: IterateAverage | None = None,
    record: Record | None = None,
    track_epoch_loss: bool = True,
    on_divergence: OnDivergence = "raise",
    stop: Callable[[Params, int], bool] | None = None,
) -> tuple[Params, History]:
    r"""Train by gradient descent: full batch, SGD or minibatch SGD, one loop.

    Each epoch visits the examples in an order (shuffled or not), cuts it into
    batches of ``batch_size`` rows and for each batch :math:`\mathcal B_k` forms the
    gradient of the batch's cost and hands it to the update rule,

    .. math::

        g = s_k \sum_{n \in \mathcal B_k} \nabla E_n, \qquad
        \sum_{n \in \mathcal B_k} \frac{\partial E_n}{\partial W^{(l)}}
        = \Delta_k^{(l)\top} X_k^{(l)}, \qquad
        \theta \leftarrow \theta - \eta_t\, g \ \ \text{(plain SGD)},

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
    lr : float or callable
        Learning rate :math:`\eta > 0`, or a schedule ``lr(t) -> float`` of the step
        :math:`t = 0, 1, \dots` (:mod:`mlcore.schedules`).
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
    optimizer : update rule, default ``SGD()``
        :class:`mlcore.optim.SGD` (optionally with heavy-ball momentum,
        :math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \eta v`) or
        :class:`mlcore.optim.Adam`.  Every rule receives the same mean gradient.
    rng : numpy.random.Generator or None
        Draws the example orders; None means ``numpy.random.default_rng(0)``, so a
        call without ``rng`` is reproducible (seed ``DEFAULT_SEED = 0``).
    validation : (X_val, Y_val), optional
        Held-out data whose mean cost is recorded after every epoch (``val_loss``).
    patience : int, optional
        Early stopping (needs ``validation``): stop when the validation cost has not
        improved for ``patience`` epochs, and return the parameters of the best epoch.
    average : IterateAverage, optional
        Also average the iterates of this run (:class:`mlcore.averaging.IterateAverage`:
        Polyak or exponential moving average); the average is in ``history.averaged``.
    record : {None, "epoch", "step"}, default None
        Store the flattened parameters after every epoch or step (trajectories).
    track_epoch_loss : bool, default True
        Evaluate the full training-set cost before training and after each epoch.
    on_divergence : {"raise", "stop"}, default "raise"
        If a cost becomes NaN or infinite (too large a learning rate), raise
        :class:`FloatingPointError`, or stop and return the history so far
        with ``history.diverged = True``.  Never a silent NaN.
    stop : callable, optional
        A stopping rule: called as ``stop(params, t)`` after every step, ``t`` the steps
        taken so far; training ends as soon as it returns True (e.g. at a target cost,
        :func:`mlcore.critical_batch.steps_to_target`), and the epoch it cuts short is
        not evaluated (no epoch cost, validation cost or trajectory entry).  It must not
        modify ``params``.

    Returns
    -------
    params : list of dict
        Trained parameters (new arrays); with ``patience``, those of the best epoch.
    history : History
        Losses, the optional trajectory and averaged iterates.

    Raises
    ------
    FloatingPointError
        If the cost becomes NaN/inf and ``on_divergence="raise"``.
    """
    params, dtype = _checks.params(params)
    X, Y = check_model(params, X, Y, activations, loss, reduction)
    N = X.shape[0]
    if callable(lr):
        lr_at = lr
    else:
        eta = _checks.real(lr, "lr", positive=True)
        lr_at = lambda t: eta  # noqa: E731  (a constant schedule)
    num_epochs = _checks.positive_int(num_epochs, "num_epochs")
    batch_size = N if batch_size is None else _checks.positive_int(batch_size, "batch_size")
    if batch_size > N:
        raise ValueError(
            f"batch_size must be <= N = {N} (the number of rows of X); got {batch_size}"
        )
    _checks.choice(shuffle, SHUFFLES, "shuffle")
    optimizer = update_rule(optimizer)
    rng = np.random.default_rng(DEFAULT_SEED) if rng is None else _checks.rng(rng)
    val = check_validation(params, validation, activations, loss)
    if patience is not None:
        patience = _checks.positive_int(patience, "patience")
        if val is None:
            raise ValueError("patience needs validation=(X_val, Y_val) to watch")
    if average is not None and not isinstance(average, IterateAverage):
        raise TypeError(f"average must be an IterateAverage; got {type(average).__name__}")
    if record is not None:
        _checks.choice(record, RECORDS, "record")
    if stop is not None and not callable(stop):
        raise TypeError(f"stop must be a function of (params, t); got {type(stop).__name__}")
    _checks.choice(on_divergence, ("raise", "stop"), "on_divergence")
    schedule = batch_schedule(N, batch_size, last_batch, reduction)
    net = _Net(activations, loss, reduction)
    log = _Log(net, lr_at, X, Y, val, average, record, track_epoch_loss, patience, on_divergence,
               stop)  # fmt: skip
    return _train(params, X, Y, net, lr_at, num_epochs, schedule, shuffle, optimizer, rng, log)


class _Net(NamedTuple):
    activations: Activations
    loss: LossName
    reduction: Reduction


def _train(
    params: Params, X: FloatArray, Y: FloatArray, net: _Net, lr_at: Callable[[int], float],
    num_epochs: int, schedule: list[Batch], shuffle: Shuffle, optimizer: UpdateRule,
    rng: np.random.Generator, log: _Log,
) -> tuple[Params, History]:  # fmt: skip
    r"""The loop of :func:`train` on validated inputs.

    Per epoch: fix an example order, then for every batch :math:`\mathcal B_k` of the
    schedule run the forward pass, backpropagate, form :math:`\Delta^{(l)\top} X^{(l)}` per
    layer and hand the gradient to the update rule.  :class:`_Log` records the losses,
    the average of the iterates and the stopping rules.
    """
    params = _flat_copy(params)  # one vector underneath, so updates are one numpy call
    g: Params = _flat_copy(params, zeros=True)  # the gradient's arrays, rewritten every step
    state = optimizer.init(params)
    log.start(params)
    Xs, Ys = X, Y
    t = 0  # steps taken
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite costs are checked below
        for epoch in range(num_epochs):
            if shuffle == "every_epoch" or (shuffle == "once" and epoch == 0):
                order = rng.permutation(X.shape[0])
                Xs, Ys = X[order], Y[order]
            for start, stop, s_k in schedule:
                X_k, Y_k = Xs[start:stop], Ys[start:stop]  # the batch B_k: views, no copies
                _, cache = forward(params, X_k, net.activations, check=False)
                # delta_n^(l) of every example and layer, times s_k (1/|B_k| for the mean)
                Deltas, E_n = deltas(params, cache, Y_k, net.activations, net.loss, scale=s_k,
                                     return_losses=True, check=False)  # fmt: skip
                if log.step_diverged(_reduce(E_n, net.reduction), epoch, t):
                    break
                g = gradient_from_deltas(cache, Deltas, out=g)  # s_k Delta^(l)T X^(l) per layer
                optimizer.step(params, g, lr_at(t), state)  # theta <- theta - eta_t g (SGD)
                t += 1
                if log.after_step(params, t):
                    break
            if log.end_of_epoch(params, epoch, t):
                break
    return log.finish(params, t, len(schedule))


class _Log:
    """The bookkeeping of :func:`train`: losses, trajectory, iterate average, stopping."""

    def __init__(
        self, net: _Net, lr_at: Callable[[int], float], X: FloatArray, Y: FloatArray,
        val: tuple[FloatArray, FloatArray] | None, average: IterateAverage | None,
        record: Record | None, track_epoch_loss: bool, patience: int | None,
        on_divergence: OnDivergence, stop: Callable[[Params, int], bool] | None = None,
    ) -> None:  # fmt: skip
        self.net, self.lr_at, self.X, self.Y, self.val = net, lr_at, X, Y, val
        self.average, self.record, self.track = average, record, track_epoch_loss
        self.patience, self.on_divergence, self.stop = patience, on_divergence, stop
        self.stopped = False  # by the stopping rule
        self.step_loss: list[float] = []
        self.epoch_loss: list[float] = []
        self.val_loss: list[float] = []
        self.avg_loss: list[float] = []
        self.avg_val_loss: list[float] = []
        self.trajectory: list[FloatArray] = []
        self.diverged = False
        self.best: tuple[float, int, Params] | None = None
        self.stopped_early = False
        self.avg_state: dict[str, Any] | None = None

    def _cost(
        self, params: Params, data: tuple[FloatArray, FloatArray], reduction: Reduction
    ) -> float:
        return cost(
            params, data[0], data[1], self.net.activations, self.net.loss, reduction, check=False
        )

    def _evaluate(self, params: Params) -> None:
        if self.track:
            self.epoch_loss.append(self._cost(params, (self.X, self.Y), self.net.reduction))
        if self.val is not None:
            self.val_loss.append(self._cost(params, self.val, "mean"))
        if self.average is not None and self.avg_state is not None:
            averaged = self.avg_state["params"]
            if self.track:
                self.avg_loss.append(self._cost(averaged, (self.X, self.Y), self.net.reduction))
            if self.val is not None:
                self.avg_val_loss.append(self._cost(averaged, self.val, "mean"))

    def start(self, params: Params) -> None:
        if self.average is not None:
            self.avg_state = self.average.init(params)
        if self.record:
            self.trajectory.append(_flatten(params))
        self._evaluate(params)
        if self.patience is not None:
            self.best = (self.val_loss[0], 0, _copy(params))

    def step_diverged(self, E: float, epoch: int, t: int) -> bool:
        self.step_loss.append(E)
        if math.isfinite(E):
            return False
        self.diverged = _diverged(self.on_divergence, self.lr_at(t), epoch, t, f"cost {E}")
        return True

    def after_step(self, params: Params, t: int) -> bool:
        """Record the step; True if the stopping rule ends training."""
        if self.average is not None and self.avg_state is not None:
            self.average.update(self.avg_state, params, t)
        if self.record == "step":
            self.trajectory.append(_flatten(params))
        self.stopped = self.stop is not None and bool(self.stop(params, t))
        return self.stopped

    def end_of_epoch(self, params: Params, epoch: int, t: int) -> bool:
        """Record the epoch; True if training must stop (divergence, patience, or the
        stopping rule, the epoch then cut short and not recorded)."""
        if self.diverged or self.stopped:
            return True
        self._evaluate(params)
        last = [v[-1] for v in (self.epoch_loss, self.val_loss) if v]
        if not all(math.isfinite(v) for v in last) or not np.isfinite(_flatten(params)).all():
            self.diverged = _diverged(
                self.on_divergence, self.lr_at(t), epoch, t, "a non-finite cost or parameters"
            )
            return True
        if self.record == "epoch":
            self.trajectory.append(_flatten(params))
        if self.best is not None and self.patience is not None:
            if self.val_loss[-1] < self.best[0]:
                self.best = (self.val_loss[-1], epoch + 1, _copy(params))
            elif epoch + 1 - self.best[1] >= self.patience:
                self.stopped_early = True
                return True
        return False

    def finish(self, params: Params, t: int, steps_per_epoch: int) -> tuple[Params, History]:
        best_epoch = None
        params = list(params)  # a plain list; its arrays are still views of one vector
        if self.best is not None:
            params, best_epoch = self.best[2], self.best[1]
        history = History(
            step_loss=np.array(self.step_loss, dtype=np.float64),
            epoch_loss=np.array(self.epoch_loss, dtype=np.float64),
            trajectory=np.array(self.trajectory) if self.record else None,
            steps_per_epoch=steps_per_epoch,
            diverged=self.diverged,
            val_loss=np.array(self.val_loss, dtype=np.float64),
            best_epoch=best_epoch,
            stopped_early=self.stopped_early,
            averaged=None if self.avg_state is None else _copy(self.avg_state["params"]),
            averaged_epoch_loss=np.array(self.avg_loss, dtype=np.float64),
            averaged_val_loss=np.array(self.avg_val_loss, dtype=np.float64),
        )
        return params, history


def _diverged(on_divergence: OnDivergence, lr: float, epoch: int, step: int, E: object) -> bool:
    if on_divergence == "raise":
        raise FloatingPointError(
            f"training diverged: got {E} at epoch {epoch}, step {step}; "
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
