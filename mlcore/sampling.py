r"""Minibatch SGD with batches sampled with replacement.

:func:`mlcore.training.train` visits the examples in an order: each epoch is a
permutation of the :math:`N` rows (reshuffled, shuffled once, or the given order) cut
into batches, so every example is used exactly once per epoch.  The analysis of SGD
usually assumes something else: each step draws its examples **independently and
uniformly, with replacement**, so that every step's gradient is an unbiased estimate of
the full gradient at the current parameters, independent of the previous draws,

.. math::

    n_{t,1}, \dots, n_{t,B} \sim \mathcal U\{1, \dots, N\}, \qquad
    \theta \leftarrow \theta - \eta\, \frac1B \sum_{j=1}^{B} \nabla E_{n_{t,j}}(\theta).

An example drawn twice in a batch counts twice.  :func:`train_with_replacement` runs this
rule with the same update rules, bookkeeping and :class:`mlcore.training.History` as
:func:`mlcore.training.train`; an "epoch" is :math:`K = \lceil N/B \rceil` steps, about
:math:`N` examples drawn, so the two can be compared epoch for epoch.  In one epoch an
example is drawn at least once with probability :math:`1 - (1 - 1/N)^{KB} \approx 1 - e^{-1}`
(for :math:`KB \approx N`): about 37 % of the examples are not seen in a given epoch.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._types import Activations, LossName, Params
from .mlp import check_model, cost, deltas, forward, gradient_from_deltas
from .params import _copy
from .training import History, UpdateRule, check_validation, update_rule

__all__ = ["train_with_replacement"]


def train_with_replacement(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    lr: float,
    num_epochs: int,
    batch_size: int,
    optimizer: UpdateRule | None = None,
    rng: np.random.Generator,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[Params, History]:
    r"""Minibatch SGD whose batches are drawn uniformly with replacement.

    Step :math:`t` draws ``idx = rng.integers(0, N, size=batch_size)`` and hands the
    mean gradient of the rows ``idx`` (repeats included) to the update rule.  An epoch
    is :math:`K = \lceil N/B \rceil` steps.

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
        Per-example loss; every batch uses the mean of its examples' losses.
    lr : float
        Learning rate :math:`\eta > 0`.
    num_epochs : int
        Number of epochs of :math:`K` steps, ``>= 1``.
    batch_size : int
        :math:`B`, with :math:`1 \le B \le N`.
    optimizer : update rule, default ``SGD()``
        :class:`mlcore.optim.SGD` or :class:`mlcore.optim.Adam`, as in
        :func:`mlcore.training.train`.
    rng : numpy.random.Generator
        Draws the batches (required: the draws are the point of this function).
    validation : (X_val, Y_val), optional
        Held-out data whose mean cost is recorded before training and after every epoch.

    Returns
    -------
    params : list of dict
        Trained parameters (new arrays).
    history : mlcore.training.History
        ``step_loss`` (each drawn batch's mean cost before its step), ``epoch_loss``
        (mean cost of the whole training set before training and after each epoch),
        ``val_loss`` and ``steps_per_epoch``.

    Raises
    ------
    FloatingPointError
        If a cost becomes NaN or infinite (too large a learning rate).
    """
    X, Y = check_model(params, X, Y, activations, loss)
    N = X.shape[0]
    eta = _checks.real(lr, "lr", positive=True)
    num_epochs = _checks.positive_int(num_epochs, "num_epochs")
    B = _checks.positive_int(batch_size, "batch_size", maximum=N)
    rng = _checks.rng(rng)
    optimizer = update_rule(optimizer)
    val = check_validation(params, validation, activations, loss)
    K = math.ceil(N / B)
    params = _copy(params)
    state = optimizer.init(params)
    step_loss: list[float] = []
    epoch_loss = [cost(params, X, Y, activations, loss, check=False)]
    val_loss = [] if val is None else [cost(params, *val, activations, loss, check=False)]
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite costs are checked below
        for epoch in range(num_epochs):
            for _ in range(K):
                idx = rng.integers(0, N, size=B)  # B draws, uniform, with replacement
                _, cache = forward(params, X[idx], activations, check=False)
                Deltas, E_n = deltas(params, cache, Y[idx], activations, loss, scale=1.0 / B,
                                     return_losses=True, check=False)  # fmt: skip
                step_loss.append(float(np.mean(E_n)))
                if not math.isfinite(step_loss[-1]):
                    raise FloatingPointError(
                        f"training diverged: batch cost {step_loss[-1]} at epoch {epoch}, "
                        f"step {t}; lr={eta} is probably too large"
                    )
                optimizer.step(params, gradient_from_deltas(cache, Deltas), eta, state)
                t += 1
            epoch_loss.append(cost(params, X, Y, activations, loss, check=False))
            if val is not None:
                val_loss.append(cost(params, *val, activations, loss, check=False))
            if not (math.isfinite(epoch_loss[-1]) and all(map(math.isfinite, val_loss))):
                raise FloatingPointError(
                    f"training diverged: non-finite cost after epoch {epoch}; lr={eta} is "
                    "probably too large"
                )
    history = History(
        step_loss=np.array(step_loss, dtype=np.float64),
        epoch_loss=np.array(epoch_loss, dtype=np.float64),
        steps_per_epoch=K,
        val_loss=np.array(val_loss, dtype=np.float64),
    )
    return params, history
