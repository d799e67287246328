r"""Statistics of minibatch gradients: mean, covariance trace, and their prediction.

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

from typing import NamedTuple

import numpy as np

from . import _checks
from .mlp import check_model, gradient, per_example_grad_norms, per_example_gradients
from .params import _flatten

__all__ = [
    "MinibatchStats",
    "gradient_noise_trace",
    "minibatch_gradient_stats",
    "covariance_trace",
    "per_example_gradient_covariance",
    "per_example_gradient_matrix",
    "predicted_minibatch_trace",
]


def per_example_gradient_matrix(params, X, Y, activations="tanh", loss="squared_error"):
    r"""All per-example gradients as rows of one matrix :math:`G` (flattened order).

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.

    Returns
    -------
    ndarray, shape (N, P)
        Row :math:`n` is :math:`g_n = \nabla E_n` in the order of
        :func:`mlcore.params.flatten_params`.
    """
    X, Y = check_model(params, X, Y, activations, loss)
    per = per_example_gradients(params, X, Y, activations, loss, check=False)
    N = X.shape[0]
    return np.concatenate([a.reshape(N, -1) for g in per for a in (g["W"], g["b"])], axis=1)


def per_example_gradient_covariance(params, X, Y, activations="tanh", loss="squared_error"):
    r"""Covariance :math:`\Sigma` of the per-example gradients over the whole set.

    .. math::

        \Sigma = \frac1N \sum_n (g_n - \bar g)(g_n - \bar g)^\top
        \quad (\text{population, } 1/N)

    Materialises a :math:`P \times P` matrix: use :func:`gradient_noise_trace`
    when only :math:`\operatorname{tr}\Sigma` is needed.

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
    ndarray, shape (P, P)
        :math:`\Sigma`.
    """
    G = per_example_gradient_matrix(params, X, Y, activations, loss)
    C = G - G.mean(axis=0)
    return C.T @ C / G.shape[0]


def gradient_noise_trace(params, X, Y, activations="tanh", loss="squared_error"):
    r""":math:`\operatorname{tr}\Sigma` without materialising any per-example gradient.

    .. math::

        \operatorname{tr}\Sigma = \frac1N \sum_n \lVert g_n \rVert^2 - \lVert \bar g \rVert^2,

    with :math:`\lVert g_n \rVert^2` from :func:`mlcore.mlp.per_example_grad_norms`
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
    sq = per_example_grad_norms(params, X, Y, activations, loss, squared=True, check=False)
    g_bar = _flatten(gradient(params, X, Y, activations, loss, "mean", check=False))
    return max(float(sq.mean() - g_bar @ g_bar), 0.0)


def covariance_trace(samples, *, ddof=1):
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


def predicted_minibatch_trace(trace_sigma, num_examples, batch_size, *, replace=False):
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


class MinibatchStats(NamedTuple):
    r"""Result of :func:`minibatch_gradient_stats`.

    Attributes
    ----------
    mean : ndarray, shape (P,)
        Average of the drawn minibatch gradients.
    cov_trace : float
        Trace of their sample covariance (``1/(D-1)``).
    full_gradient : ndarray, shape (P,)
        :math:`\bar g`, the mean gradient of the whole set.
    trace_sigma : float
        :math:`\operatorname{tr}\Sigma` of the per-example gradients.
    predicted_cov_trace : float
        :func:`predicted_minibatch_trace` for this ``B`` and sampling scheme.
    samples : ndarray, shape (D, P) or None
        The minibatch gradients, if requested.
    """

    mean: np.ndarray
    cov_trace: float
    full_gradient: np.ndarray
    trace_sigma: float
    predicted_cov_trace: float
    samples: np.ndarray | None


def minibatch_gradient_stats(
    params,
    X,
    Y,
    *,
    activations="tanh",
    loss="squared_error",
    batch_size,
    num_draws,
    rng,
    replace=False,
    return_samples=False,
):
    r"""Draw many minibatches, measure the mean and covariance trace of their gradients.

    Each draw picks :math:`B` examples (distinct if ``replace=False``, i.i.d.
    uniform otherwise), computes the mean minibatch gradient
    :math:`g_B = \frac1B \Delta^\top X` (matrix form), and flattens it.

    Parameters
    ----------
    params : list of dict
        Network parameters (fixed during the draws).
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    batch_size : int
        :math:`B` (``<= N`` without replacement).
    num_draws : int
        :math:`D \ge 2`.
    rng : numpy.random.Generator
        Draws the minibatches.
    replace : bool, default False
        Sample examples with replacement.
    return_samples : bool, default False
        Keep the :math:`D \times P` matrix of minibatch gradients.

    Returns
    -------
    MinibatchStats
        Measured mean and trace next to the full gradient and the prediction.
    """
    X, Y = check_model(params, X, Y, activations, loss)
    N = X.shape[0]
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"replace must be a bool; got {type(replace).__name__}")
    B = _checks.positive_int(batch_size, "batch_size", maximum=None if replace else N)
    D = _checks.positive_int(num_draws, "num_draws", minimum=2)
    _checks.rng(rng)
    samples = np.empty((D, sum(p["W"].size + p["b"].size for p in params)))
    for d in range(D):
        idx = rng.choice(N, size=B, replace=bool(replace))
        samples[d] = _flatten(gradient(params, X[idx], Y[idx], activations, loss, check=False))
    mean = samples.mean(axis=0)
    cov_trace = covariance_trace(samples)
    full = _flatten(gradient(params, X, Y, activations, loss, "mean", check=False))
    trace_sigma = gradient_noise_trace(params, X, Y, activations, loss)
    if N == 1 and not replace:
        predicted = 0.0
    else:
        predicted = predicted_minibatch_trace(trace_sigma, N, B, replace=bool(replace))
    return MinibatchStats(
        mean, cov_trace, full, trace_sigma, predicted, samples if return_samples else None
    )
