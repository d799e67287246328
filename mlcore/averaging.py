r"""Weight averaging: train copies on subsets, then average their parameters.

This is the "average the weights at the end" alternative to gradient
averaging, and, repeated for several rounds, federated averaging (FedAvg).
From the same start :math:`\theta_0`, copy :math:`j` trains on its subset
:math:`\mathcal S_j` (:math:`N_j` examples, down to one each) for ``local_steps``
:math:`k` full-batch gradient-descent steps on its own cost :math:`E_{\mathcal S_j}`; then

.. math::

    \bar\theta = \sum_j \pi_j\, \theta_j, \qquad
    \pi_j = \frac{N_j}{N} \ (\text{size}) \quad\text{or}\quad \pi_j = \frac1J \ (\text{uniform}),

for :math:`J` subsets.

With **one** local step and reduction ``"mean"``, size weights give exactly
one gradient-descent step with the averaged gradient,
:math:`\bar\theta = \theta_0 - \eta \sum_j \frac{N_j}{N} \nabla E_{\mathcal S_j}(\theta_0)
= \theta_0 - \eta \nabla E(\theta_0)`; with more local steps the copies drift
apart and the two procedures differ (the comparison the book makes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import Activations, FloatArray, IntArray, LossName, Params, Reduction, Weighting
from .mlp import check_model, cost, gradient
from .optim import _sgd_step
from .params import _copy, _flatten

__all__ = [
    "AveragingHistory",
    "IterateAverage",
    "average_params",
    "federated_averaging",
    "split_indices",
]

WEIGHTINGS = ("size", "uniform")


def average_params(params_list: Sequence[Params], weights: ArrayLike | None = None) -> Params:
    r"""Weighted average of several parameter sets, :math:`\bar\theta = \sum_j \pi_j \theta_j`.

    Parameters
    ----------
    params_list : sequence of list of dict
        :math:`K \ge 1` parameter sets with identical shapes.
    weights : array_like, shape (K,), optional
        Non-negative weights, normalised to sum to 1; default uniform :math:`1/K`.

    Returns
    -------
    list of dict
        The averaged parameters (new arrays).
    """
    if not isinstance(params_list, (list, tuple)) or len(params_list) == 0:
        raise ValueError(
            f"params_list must be a non-empty list of parameter lists; got {params_list!r:.60}"
        )
    first, _ = _checks.params(params_list[0], "params_list[0]")
    for k, p in enumerate(params_list[1:], start=1):
        _checks.params(p, f"params_list[{k}]")
        _checks.same_shapes(p, first, f"params_list[{k}]")
    K = len(params_list)
    w = _weights(weights, K)
    return _average(params_list, w)


def _weights(weights: ArrayLike | None, K: int) -> NDArray[np.float64]:
    if weights is None:
        return np.full(K, 1.0 / K)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (K,):
        raise ValueError(f"weights must have shape ({K},) (one per parameter set); got {w.shape}")
    _checks.finite(w, "weights")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum; got {w}")
    return w / w.sum()


def _average(params_list: Sequence[Params], w: NDArray[np.float64]) -> Params:
    out = []
    for layers in zip(*params_list, strict=True):
        out.append(
            {key: sum(wk * layer[key] for wk, layer in zip(w, layers, strict=True))
             for key in ("W", "b")}
        )  # fmt: skip
    dtype = params_list[0][0]["W"].dtype
    return [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in out]


def split_indices(
    num_examples: int, num_subsets: int, rng: np.random.Generator | None = None
) -> list[IntArray]:
    """Split ``range(N)`` into ``num_subsets`` near-equal parts (shuffled if ``rng``).

    Parameters
    ----------
    num_examples : int
        :math:`N`.
    num_subsets : int
        :math:`K`, ``1 <= K <= N``; ``K = N`` gives one example per subset.
    rng : numpy.random.Generator, optional
        If given, the examples are permuted before splitting.

    Returns
    -------
    list of ndarray of int
        :math:`K` disjoint index arrays covering ``range(N)``; sizes differ by at most 1.
    """
    N = _checks.positive_int(num_examples, "num_examples")
    K = _checks.positive_int(num_subsets, "num_subsets", maximum=N)
    order = np.arange(N) if rng is None else _checks.rng(rng).permutation(N)
    return np.array_split(order, K)


@dataclass
class AveragingHistory:
    r"""What :func:`federated_averaging` records.

    Attributes
    ----------
    round_loss : ndarray, shape (rounds + 1,)
        Cost on the whole training set at the start and after each round.
    trajectory : ndarray, shape (rounds + 1, P)
        Flattened averaged parameters at the start and after each round.
    subsets : list of ndarray
        The index sets used.
    """

    round_loss: NDArray[np.float64]
    trajectory: FloatArray
    subsets: list[IntArray]


def federated_averaging(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    lr: float,
    local_steps: int = 1,
    num_subsets: int | None = None,
    subsets: Sequence[ArrayLike] | None = None,
    rounds: int = 1,
    weighting: Weighting = "size",
    rng: np.random.Generator | None = None,
) -> tuple[Params, AveragingHistory]:
    r"""Train copies independently on subsets, average their weights; repeat for rounds.

    Each round starts every copy from the current average :math:`\bar\theta`,
    makes ``local_steps`` gradient-descent steps on its subset's cost, and
    averages the results with weights :math:`\pi_j` (module docstring).

    Parameters
    ----------
    params : list of dict
        Common starting point :math:`\theta_0` (not modified).
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction of each subset's cost :math:`E_{\mathcal S_j}`.
    lr : float
        Local learning rate :math:`\eta > 0`.
    local_steps : int, default 1
        :math:`k \ge 1` local full-batch steps per round.
    num_subsets : int, optional
        Split the data into this many near-equal subsets (``N`` = one example
        each); shuffled first if ``rng`` is given.  Default ``N``.
    subsets : sequence of array_like of int, optional
        Explicit non-empty index sets (instead of ``num_subsets``).
    rounds : int, default 1
        Number of train-then-average rounds (``> 1`` is federated averaging).
    weighting : {"size", "uniform"}, default "size"
        :math:`\pi_j = N_j/N` or :math:`1/J`.
    rng : numpy.random.Generator, optional
        Used only to shuffle before splitting with ``num_subsets``.

    Returns
    -------
    params : list of dict
        The averaged parameters after the last round.
    history : AveragingHistory
        Full training-set cost and averaged parameters per round.
    """
    params, _ = _checks.params(params)
    X, Y = check_model(params, X, Y, activations, loss, reduction)
    N = X.shape[0]
    lr = _checks.real(lr, "lr", positive=True)
    local_steps = _checks.positive_int(local_steps, "local_steps")
    rounds = _checks.positive_int(rounds, "rounds")
    _checks.choice(weighting, WEIGHTINGS, "weighting")
    if subsets is not None and num_subsets is not None:
        raise ValueError("give either num_subsets or subsets, not both")
    if subsets is None:
        subsets = split_indices(N, N if num_subsets is None else num_subsets, rng)
    else:
        subsets = _check_subsets(subsets, N)
    sizes = np.array([len(s) for s in subsets], dtype=np.float64)
    w = sizes / sizes.sum() if weighting == "size" else np.full(len(subsets), 1 / len(subsets))
    data = [(X[s], Y[s]) for s in subsets]

    theta = _copy(params)
    round_loss = [cost(theta, X, Y, activations, loss, reduction, check=False)]
    trajectory = [_flatten(theta)]
    for _ in range(rounds):
        copies = []
        for X_k, Y_k in data:  # each copy trains on its own subset only
            theta_k = _copy(theta)
            for _ in range(local_steps):
                g_k = gradient(theta_k, X_k, Y_k, activations, loss, reduction, check=False)
                _sgd_step(theta_k, g_k, lr, None, 0.0)  # theta_k <- theta_k - eta g_k
            copies.append(theta_k)
        theta = _average(copies, w)  # average the weights, not the gradients
        round_loss.append(cost(theta, X, Y, activations, loss, reduction, check=False))
        trajectory.append(_flatten(theta))
    return theta, AveragingHistory(np.array(round_loss), np.array(trajectory), list(subsets))


def _check_subsets(subsets: Sequence[ArrayLike], N: int) -> list[IntArray]:
    if not isinstance(subsets, (list, tuple)) or len(subsets) == 0:
        raise ValueError(f"subsets must be a non-empty list of index arrays; got {subsets!r:.60}")
    out = []
    for k, s in enumerate(subsets):
        s = np.asarray(s)
        if not np.issubdtype(s.dtype, np.integer) or s.ndim != 1 or s.size == 0:
            raise ValueError(
                f"subsets[{k}] must be a non-empty 1-D integer index array; "
                f"got dtype {s.dtype}, shape {s.shape}"
            )
        if s.min() < 0 or s.max() >= N:
            raise ValueError(
                f"subsets[{k}] must index rows in [0, {N}); got values in [{s.min()}, {s.max()}]"
            )
        out.append(s.astype(np.intp))
    return out


class IterateAverage:
    r"""Average the iterates of one training run: Polyak's uniform average or an EMA.

    ``"polyak"`` keeps the mean of every iterate from step ``start`` on,
    :math:`\bar\theta_t = \frac{1}{t - t_0} \sum_{s = t_0 + 1}^{t} \theta_s`
    (Polyak and Juditsky); ``"ema"`` keeps the exponential moving average
    :math:`\bar\theta \leftarrow \beta \bar\theta + (1 - \beta)\, \theta_t`.  Unlike the
    weights of separate runs, the iterates of one run stay near one trajectory, so their
    average is meaningful: it smooths out the noise of minibatch steps.

    Parameters
    ----------
    kind : {"polyak", "ema"}, default "polyak"
        Uniform average, or exponential moving average.
    decay : float, default 0.99
        :math:`\beta \in [0, 1)` for ``"ema"``.
    start : int, default 0
        :math:`t_0`: steps before the uniform average starts (``"polyak"``).
    """

    KINDS = ("polyak", "ema")

    def __init__(self, kind: str = "polyak", *, decay: float = 0.99, start: int = 0) -> None:
        self.kind = _checks.choice(kind, self.KINDS, "kind")
        self.decay = _checks.real(decay, "decay", nonneg=True, below=1.0)
        self.start = _checks.positive_int(start, "start", minimum=0)

    def __repr__(self) -> str:
        return f"IterateAverage({self.kind!r}, decay={self.decay}, start={self.start})"

    def init(self, params: Params) -> dict[str, Any]:
        """The state before the first step: the average starts at the initial parameters."""
        return {"params": _copy(params), "count": 0}

    def update(self, state: dict[str, Any], params: Params, step: int) -> None:
        """Fold in the iterate ``params`` reached after ``step`` steps (in place)."""
        avg = state["params"]
        if self.kind == "ema":
            w = 1.0 - self.decay
        elif step > self.start:
            state["count"] += 1
            w = 1.0 / state["count"]  # running mean: avg += (theta - avg) / count
        else:
            w = 1.0  # before start: follow the iterate
        for a, p in zip(avg, params, strict=True):
            a["W"] += w * (p["W"] - a["W"])
            a["b"] += w * (p["b"] - a["b"])
