r"""Numerical gradients by central differences, and the gradient check.

For every scalar parameter :math:`\theta_k`

.. math::

    \frac{\partial E}{\partial \theta_k} \approx
    \frac{E(\theta + \varepsilon e_k) - E(\theta - \varepsilon e_k)}{2 \varepsilon},

with error :math:`O(\varepsilon^2)`.  The check compares this with
backpropagation through the relative error
:math:`\lVert g_{\text{bp}} - g_{\text{num}} \rVert /
(\lVert g_{\text{bp}} \rVert + \lVert g_{\text{num}} \rVert)` of each
parameter array (each ``W`` and ``b``).  Always in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._types import Activations, LossName, Params, Reduction
from .mlp import check_model, cost, gradient

__all__ = ["GradCheck", "gradient_check", "numerical_gradient", "relative_error"]


class GradCheck(NamedTuple):
    """Result of :func:`gradient_check`.

    Attributes
    ----------
    errors : list of dict
        ``errors[l-1] = {"W": float, "b": float}``: relative error of each array.
    max_error : float
        The largest of them.
    analytic : list of dict
        Backpropagation gradient.
    numeric : list of dict
        Central-difference gradient.
    """

    errors: list[dict[str, float]]
    max_error: float
    analytic: Params
    numeric: Params


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    r"""Relative error :math:`\lVert a - b \rVert / (\lVert a \rVert + \lVert b \rVert)`.

    Parameters
    ----------
    a, b : array_like
        Arrays of the same shape.

    Returns
    -------
    float
        In [0, 1]; 0 if both are zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b must have the shape of a {a.shape}; got {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def _as_float64(params: Params) -> Params:
    return [{"W": p["W"].astype(np.float64), "b": p["b"].astype(np.float64)} for p in params]


def numerical_gradient(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    *,
    eps: float = 1e-6,
) -> Params:
    r"""Gradient of the cost by central differences (float64), shaped like ``params``.

    Costs :math:`2P` evaluations of the cost: meant for small checks only.

    Parameters
    ----------
    params : list of dict
        Network parameters (cast to float64).
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.
    eps : float, default 1e-6
        Step :math:`\varepsilon > 0`.

    Returns
    -------
    list of dict
        :math:`\partial E / \partial W^{(l)}`, :math:`\partial E / \partial b^{(l)}` estimates.
    """
    _checks.params(params)
    eps = _checks.real(eps, "eps", positive=True)
    p = _as_float64(params)
    X, Y = check_model(p, X, Y, activations, loss, reduction)
    out = []
    for layer in p:
        g = {}
        for key in ("W", "b"):
            arr = layer[key]
            grad = np.empty_like(arr)
            flat, gflat = arr.reshape(-1), grad.reshape(-1)  # views into the arrays
            for k in range(flat.size):
                old = flat[k]
                flat[k] = old + eps
                e_plus = cost(p, X, Y, activations, loss, reduction, check=False)
                flat[k] = old - eps
                e_minus = cost(p, X, Y, activations, loss, reduction, check=False)
                flat[k] = old
                gflat[k] = (e_plus - e_minus) / (2 * eps)
            g[key] = grad
        out.append(g)
    return out


def gradient_check(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    *,
    eps: float = 1e-6,
) -> GradCheck:
    r"""Compare backpropagation with central differences, per parameter array.

    Parameters
    ----------
    params : list of dict
        Network parameters (cast to float64).
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.
    eps : float, default 1e-6
        Finite-difference step.

    Returns
    -------
    GradCheck
        Relative error of every ``W`` and ``b`` and their maximum (expect < 1e-7
        in float64 away from ReLU kinks).
    """
    _checks.params(params)
    p = _as_float64(params)
    X, Y = check_model(p, X, Y, activations, loss, reduction)
    analytic = gradient(p, X, Y, activations, loss, reduction, check=False)
    numeric = numerical_gradient(p, X, Y, activations, loss, reduction, eps=eps)
    errors = [
        {key: relative_error(ga[key], gn[key]) for key in ("W", "b")}
        for ga, gn in zip(analytic, numeric, strict=True)
    ]
    max_error = max(max(e.values()) for e in errors)
    return GradCheck(errors, max_error, analytic, numeric)
