r"""Minibatch gradient noise: measured covariance traces and their prediction.

Let :math:`g_n = \nabla E_n` (flattened, :math:`P` entries) be the per-example
gradients of the :math:`N` training examples, :math:`\bar g = \frac1N \sum_n g_n`
the full (mean) gradient and

.. math::

    \Sigma = \frac1N \sum_{n=1}^N (g_n - \bar g)(g_n - \bar g)^\top,
    \qquad
    \operatorname{tr}\Sigma = \frac1N \sum_n \lVert g_n \rVert^2 - \lVert \bar g \rVert^2

their (population) covariance.  A minibatch gradient
:math:`g_B = \frac1B \sum_{n \in B} g_n` is unbiased, :math:`\mathbb E[g_B] = \bar g`, and

.. math::

    \operatorname{tr}\operatorname{Cov}[g_B] = \frac{\operatorname{tr}\Sigma}{B}
    \quad\text{(with replacement)}, \qquad
    \frac{\operatorname{tr}\Sigma}{B}\,\frac{N - B}{N - 1}
    \quad\text{(without replacement)},

so the noise vanishes at :math:`B = N` without replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import Activations, LossName, Params
from .mlp import check_model, gradient
from .params import _flatten
from .per_example import per_example_gradient_norms

__all__ = [
    "covariance_trace",
    "gradient_noise_trace",
    "minibatch_means",
    "noise_vs_batch_size",
    "predicted_minibatch_covariance",
    "predicted_minibatch_trace",
]


def gradient_noise_trace(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
) -> float:
    r""":math:`\operatorname{tr}\Sigma` without materialising any per-example gradient.

    .. math::

        \operatorname{tr}\Sigma = \frac1N \sum_n \lVert g_n \rVert^2 - \lVert \bar g \rVert^2,

    with :math:`\lVert g_n \rVert^2` from :func:`mlcore.per_example.per_example_gradient_norms`
    and :math:`\bar g` the mean batch gradient.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.

    Returns
    -------
    float
        :math:`\operatorname{tr}\Sigma \ge 0`.
    """
    X, Y = check_model(params, X, Y, activations, loss)
    sq = per_example_gradient_norms(params, X, Y, activations, loss, squared=True, check=False)
    g_bar = _flatten(gradient(params, X, Y, activations, loss, "mean", check=False))
    return max(float(sq.mean() - g_bar @ g_bar), 0.0)


def covariance_trace(samples: ArrayLike, *, ddof: int = 1) -> float:
    r"""Trace of the covariance of the rows of ``samples``.

    .. math::

        \operatorname{tr}\widehat{\operatorname{Cov}} = \frac{1}{D - \text{ddof}}
        \sum_{d=1}^{D} \lVert s_d - \bar s \rVert^2

    Parameters
    ----------
    samples : ndarray, shape (D, P)
        One vector per row (e.g. minibatch or per-example gradients).
    ddof : int, default 1
        1 for the sample covariance of draws, 0 for the population covariance
        :math:`\Sigma` of a whole set (:math:`1/N`).

    Returns
    -------
    float
        The trace, ``>= 0``.
    """
    S = np.asarray(samples, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] <= ddof:
        raise ValueError(
            f"samples must have shape (D, P) with D > ddof = {ddof}; got shape {S.shape}"
        )
    C = S - S.mean(axis=0)
    return float((C**2).sum() / (S.shape[0] - ddof))


def predicted_minibatch_trace(
    trace_sigma: float,
    num_examples: int,
    batch_size: int | Sequence[int] | NDArray[np.integer],
    *,
    replace: bool = False,
) -> float | NDArray[np.float64]:
    r"""Predicted :math:`\operatorname{tr}\operatorname{Cov}[g_B]` of a minibatch mean gradient.

    .. math::

        \frac{\operatorname{tr}\Sigma}{B} \ (\text{with replacement}), \qquad
        \frac{\operatorname{tr}\Sigma}{B} \frac{N-B}{N-1} \ (\text{without}).

    Parameters
    ----------
    trace_sigma : float
        :math:`\operatorname{tr}\Sigma` (population covariance, see :func:`gradient_noise_trace`).
    num_examples : int
        :math:`N \ge 2` (or 1 with ``replace=True``).
    batch_size : int or array_like of int
        :math:`B`, ``1 <= B <= N`` without replacement.
    replace : bool, default False
        Sampling with replacement.

    Returns
    -------
    float or ndarray
        Same shape as ``batch_size``.
    """
    t = _checks.real(trace_sigma, "trace_sigma", nonneg=True)
    N = _checks.positive_int(num_examples, "num_examples")
    B = np.asarray(batch_size)
    if not np.issubdtype(B.dtype, np.integer):
        raise TypeError(f"batch_size must be an int or int array; got dtype {B.dtype}")
    if (B < 1).any() or (not replace and (B > N).any()):
        raise ValueError(f"batch_size must be in [1, {N}]; got {batch_size}")
    if replace:
        out = t / B
    else:
        if N < 2:
            raise ValueError(f"num_examples must be >= 2 without replacement; got {N}")
        out = t / B * (N - B) / (N - 1)
    return float(out) if np.ndim(out) == 0 else out


def predicted_minibatch_covariance(
    G: ArrayLike, batch_size: int, *, replace: bool = False
) -> NDArray[np.float64]:
    r"""Predicted covariance of a minibatch mean gradient, from all per-example gradients.

    .. math::

        \operatorname{Cov}[g_B] = \frac{\Sigma}{B} \ (\text{with replacement}), \qquad
        \frac{\Sigma}{B}\,\frac{N-B}{N-1} \ (\text{without}), \qquad
        \Sigma = \frac1N \sum_n (g_n - \bar g)(g_n - \bar g)^\top .

    Parameters
    ----------
    G : array_like, shape (N, P)
        Per-example gradients :math:`g_n` as rows.
    batch_size : int
        :math:`B`, ``1 <= B <= N`` without replacement.
    replace : bool, default False
        Sampling with replacement.

    Returns
    -------
    ndarray, shape (P, P)
        The covariance matrix; its trace is :func:`predicted_minibatch_trace`.
    """
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2:
        raise ValueError(f"G must have shape (N, P); got shape {G.shape}")
    N = G.shape[0]
    C = G - G.mean(axis=0)
    Sigma = C.T @ C / N
    factor = predicted_minibatch_trace(1.0, N, batch_size, replace=replace)
    return Sigma * factor


def minibatch_means(
    G: ArrayLike, batch_size: int, num_draws: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    r"""Means of random minibatches of the rows of :math:`G`, drawn without replacement.

    Parameters
    ----------
    G : array_like, shape (N, P)
        Per-example gradients :math:`g_n` as rows.
    batch_size : int
        :math:`B`, ``1 <= B <= N``.
    num_draws : int
        :math:`D`, number of minibatches.
    rng : numpy.random.Generator
        Draws the minibatches (each one :math:`B` distinct rows).

    Returns
    -------
    ndarray, shape (D, P)
        Row :math:`d` is :math:`g_{B_d} = \frac1B \sum_{n \in B_d} g_n`.
    """
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2:
        raise ValueError(f"G must have shape (N, P); got shape {G.shape}")
    N = G.shape[0]
    B = _checks.positive_int(batch_size, "batch_size", maximum=N)
    D = _checks.positive_int(num_draws, "num_draws")
    _checks.rng(rng)
    # B distinct rows per draw: the first B entries of a random permutation per draw
    idx = np.argsort(rng.random((D, N)), axis=1)[:, :B]
    return G[idx].mean(axis=1)


def noise_vs_batch_size(
    G: ArrayLike, batch_sizes: Sequence[int], *, num_draws: int, rng: np.random.Generator
) -> dict[str, Any]:
    r"""Measured and predicted noise :math:`\operatorname{tr}\operatorname{Cov}[g_B]` per :math:`B`.

    Parameters
    ----------
    G : array_like, shape (N, P)
        Per-example gradients.
    batch_sizes : sequence of int
        Values of :math:`B` (``<= N``).
    num_draws : int
        Minibatches drawn per :math:`B` (without and with replacement each).
    rng : numpy.random.Generator
        Draws the minibatches.

    Returns
    -------
    dict of ndarray
        ``"B"``; ``"without"``, ``"with"``: measured traces (sample covariance,
        :math:`1/(D-1)`); ``"pred_without"`` :math:`\frac{\operatorname{tr}\Sigma}{B}
        \frac{N-B}{N-1}`; ``"pred_with"`` :math:`\frac{\operatorname{tr}\Sigma}{B}`;
        ``"mean_error"``: largest :math:`\lVert \overline{g_B} - \bar g\rVert / \lVert\bar g\rVert`
        over the :math:`B` values (without replacement).
    """
    G = np.asarray(G, dtype=np.float64)
    N = G.shape[0]
    g_bar = G.mean(axis=0)
    tr_sigma = covariance_trace(G, ddof=0)
    Bs = np.array([_checks.positive_int(int(B), "batch_size", maximum=N) for B in batch_sizes])
    out: dict[str, Any] = {"B": Bs, "without": [], "with": [], "mean_error": 0.0}
    for B in Bs:
        S = minibatch_means(G, int(B), num_draws, rng)
        out["without"].append(covariance_trace(S))
        err = np.linalg.norm(S.mean(axis=0) - g_bar) / np.linalg.norm(g_bar)
        out["mean_error"] = max(out["mean_error"], float(err))
        R = G[rng.integers(0, N, size=(num_draws, int(B)))].mean(axis=1)
        out["with"].append(covariance_trace(R))
    out["without"] = np.array(out["without"])
    out["with"] = np.array(out["with"])
    out["pred_with"] = predicted_minibatch_trace(tr_sigma, N, Bs, replace=True)
    out["pred_without"] = predicted_minibatch_trace(tr_sigma, N, Bs)
    out["trace_sigma"] = tr_sigma
    return out
