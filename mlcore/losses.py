r"""Losses per example, their reduction over a batch, and their gradients.

For a batch of :math:`B` examples every loss returns the vector of per-example
losses :math:`E_n` (shape ``(B,)``); the cost of the batch is their reduction

.. math::

    E = \sum_{n=1}^{B} E_n \quad (\text{``sum''}), \qquad
    E = \frac{1}{B} \sum_{n=1}^{B} E_n \quad (\text{``mean''}).

Each ``*_grad`` function returns :math:`\partial E_n / \partial \hat y_n`, one row
per example (shape ``(B, n_L)``); because differentiation is linear, the
gradient of the reduced cost is the same sum (or mean) of these rows.

Losses
------
``"squared_error"``
    :math:`E_n = \tfrac12 \lVert \hat y_n - y_n \rVert^2` (the "sum of least
    squares"), gradient :math:`\hat y_n - y_n`.
``"softmax_cross_entropy"``
    Takes logits :math:`z_n` (the network output with identity output layer)
    and targets as integer labels or one-hot rows:
    :math:`E_n = \log \sum_k e^{z_{nk}} - \sum_k y_{nk} z_{nk}`, gradient
    :math:`\mathrm{softmax}(z_n) - y_n`.  Computed with the log-sum-exp shift,
    so it is finite for logits of any finite magnitude (e.g. ``1e4``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import _checks
from ._types import FloatArray, Reduction

__all__ = [
    "LOSSES",
    "REDUCTIONS",
    "Loss",
    "log_softmax",
    "one_hot",
    "reduce",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "squared_error",
    "squared_error_grad",
]

#: Names accepted by ``reduction=`` arguments.
REDUCTIONS = ("sum", "mean")


# --------------------------------------------------------------------------- squared error
def _squared_error(y_hat: FloatArray, Y: FloatArray) -> FloatArray:
    r = y_hat - Y
    return 0.5 * np.einsum("bi,bi->b", r, r)


def _squared_error_grad(y_hat: FloatArray, Y: FloatArray) -> FloatArray:
    return y_hat - Y


def _squared_error_value_and_grad(
    y_hat: FloatArray, Y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r = y_hat - Y  # dE_n/dy_hat_n = y_hat_n - y_n
    return 0.5 * np.einsum("bi,bi->b", r, r), r


def squared_error(y_hat: FloatArray, Y: FloatArray, *, check: bool = True) -> FloatArray:
    r"""Per-example squared error :math:`E_n = \tfrac12 \lVert \hat y_n - y_n \rVert^2`.

    Parameters
    ----------
    y_hat : ndarray, shape (B, n_L)
        Network outputs, one row per example.
    Y : ndarray, shape (B, n_L) or (B,) when n_L == 1
        Targets.
    check : bool, default True
        Validate shapes and finiteness (pass False only for inputs already checked).

    Returns
    -------
    ndarray, shape (B,)
        The losses :math:`E_n`.
    """
    if check:
        y_hat, Y = _checks.regression_pair(y_hat, Y)
    return _squared_error(y_hat, Y)


def squared_error_grad(y_hat: FloatArray, Y: FloatArray, *, check: bool = True) -> FloatArray:
    r"""Gradient of the squared error: :math:`\partial E_n/\partial \hat y_n = \hat y_n - y_n`.

    Parameters
    ----------
    y_hat : ndarray, shape (B, n_L)
        Network outputs.
    Y : ndarray, shape (B, n_L) or (B,) when n_L == 1
        Targets.
    check : bool, default True
        Validate shapes and finiteness.

    Returns
    -------
    ndarray, shape (B, n_L)
        Row ``n`` is :math:`\hat y_n - y_n`.
    """
    if check:
        y_hat, Y = _checks.regression_pair(y_hat, Y)
    return _squared_error_grad(y_hat, Y)


# --------------------------------------------------------------------------- softmax + CE
def _softmax(Z: FloatArray) -> FloatArray:
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def _log_softmax(Z: FloatArray) -> FloatArray:
    s = Z - Z.max(axis=1, keepdims=True)
    s -= np.log(np.exp(s).sum(axis=1, keepdims=True))
    return s


def _softmax_cross_entropy_value_and_grad(
    Z: FloatArray, Y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    # log-sum-exp shift: subtracting the row max m_n changes neither loss nor gradient
    # (np.maximum.reduce and np.add.reduce are Z.max and e.sum without their Python wrapper)
    S = Z - np.maximum.reduce(Z, axis=1, keepdims=True)  # s_nk = z_nk - m_n <= 0: no overflow
    e = np.exp(S)
    total = np.add.reduce(e, axis=1, keepdims=True)
    # E_n = log sum_k exp(z_nk) - sum_k y_nk z_nk = log sum_k exp(s_nk) - sum_k y_nk s_nk
    # (rows of Y sum to 1)
    E = np.log(total[:, 0]) - np.vecdot(Y, S)
    e /= total  # softmax(z_n)
    e -= Y  # dE_n/dz_n = softmax(z_n) - y_n
    return E, e


def _softmax_cross_entropy(Z: FloatArray, Y: FloatArray) -> FloatArray:
    return _softmax_cross_entropy_value_and_grad(Z, Y)[0]


def _softmax_cross_entropy_grad(Z: FloatArray, Y: FloatArray) -> FloatArray:
    return _softmax(Z) - Y


def softmax(Z: FloatArray, *, check: bool = True) -> FloatArray:
    r"""Row-wise softmax :math:`\mathrm{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}`.

    Shifted by the row maximum, so it never overflows.

    Parameters
    ----------
    Z : ndarray, shape (B, C)
        Logits, one row per example.
    check : bool, default True
        Validate shape and finiteness.

    Returns
    -------
    ndarray, shape (B, C)
        Probabilities; each row sums to 1.
    """
    if check:
        Z = _checks.float_matrix(Z, "Z")
    return _softmax(Z)


def log_softmax(Z: FloatArray, *, check: bool = True) -> FloatArray:
    r"""Row-wise log-softmax :math:`z_k - \log \sum_j e^{z_j}`, computed stably.

    Parameters
    ----------
    Z : ndarray, shape (B, C)
        Logits.
    check : bool, default True
        Validate shape and finiteness.

    Returns
    -------
    ndarray, shape (B, C)
        Log-probabilities.
    """
    if check:
        Z = _checks.float_matrix(Z, "Z")
    return _log_softmax(Z)


def one_hot(labels: ArrayLike, num_classes: int, *, dtype: DTypeLike = np.float64) -> FloatArray:
    r"""One-hot encode integer labels.

    Parameters
    ----------
    labels : array_like of int, shape (B,)
        Class labels in ``[0, num_classes)``.
    num_classes : int
        Number of classes :math:`C`.
    dtype : numpy dtype, default float64
        Output dtype.

    Returns
    -------
    ndarray, shape (B, C)
        Row ``n`` has a 1 in column ``labels[n]`` and 0 elsewhere.
    """
    num_classes = _checks.positive_int(num_classes, "num_classes")
    labels = _checks.int_labels(labels, num_classes, "labels")
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def softmax_cross_entropy(Z: FloatArray, Y: NDArray[Any], *, check: bool = True) -> FloatArray:
    r"""Per-example softmax cross-entropy from logits.

    .. math::

        E_n = -\sum_k y_{nk} \log \mathrm{softmax}(z_n)_k
            = \log \sum_k e^{z_{nk}} - \sum_k y_{nk} z_{nk}

    computed with the log-sum-exp shift (finite for logits like ``1e4``).

    Parameters
    ----------
    Z : ndarray, shape (B, C)
        Logits (output of a network whose last activation is the identity).
    Y : ndarray, shape (B,) of int in [0, C), or shape (B, C)
        Integer labels, or one-hot / probability rows (non-negative, summing to 1).
    check : bool, default True
        Validate; with ``check=False`` ``Y`` must already be one-hot floats (B, C).

    Returns
    -------
    ndarray, shape (B,)
        The losses :math:`E_n`.
    """
    if check:
        Z, Y = _checks.classification_pair(Z, Y)
    return _softmax_cross_entropy(Z, Y)


def softmax_cross_entropy_grad(Z: FloatArray, Y: NDArray[Any], *, check: bool = True) -> FloatArray:
    r"""Gradient of the per-example cross-entropy w.r.t. the logits.

    .. math::

        \frac{\partial E_n}{\partial z_n} = \mathrm{softmax}(z_n) - y_n

    Parameters
    ----------
    Z : ndarray, shape (B, C)
        Logits.
    Y : ndarray, shape (B,) of int in [0, C), or shape (B, C)
        Integer labels or one-hot / probability rows.
    check : bool, default True
        Validate; with ``check=False`` ``Y`` must already be one-hot floats (B, C).

    Returns
    -------
    ndarray, shape (B, C)
        Row ``n`` is :math:`\mathrm{softmax}(z_n) - y_n`.
    """
    if check:
        Z, Y = _checks.classification_pair(Z, Y)
    return _softmax_cross_entropy_grad(Z, Y)


def reduce(E_n: ArrayLike, reduction: Reduction = "mean") -> float:
    r"""Reduce per-example losses to the cost of the batch.

    Parameters
    ----------
    E_n : ndarray, shape (B,)
        Per-example losses.
    reduction : {"sum", "mean"}, default "mean"
        :math:`E = \sum_n E_n` or :math:`E = \frac1B \sum_n E_n`.

    Returns
    -------
    float
        The cost :math:`E`.
    """
    reduction = _checks.choice(reduction, REDUCTIONS, "reduction")
    E_n = np.asarray(E_n)
    if E_n.ndim != 1:
        raise ValueError(f"E_n must be 1-D (B,); got shape {E_n.shape}")
    return float(_reduce(E_n, reduction))


def _reduce(E_n: FloatArray, reduction: Reduction) -> float:
    """:func:`reduce` without the checks (and without the cast to float), for hot loops."""
    total = np.add.reduce(E_n)  # E_n.sum(), one Python call less
    return total if reduction == "sum" else total / len(E_n)


class Loss(NamedTuple):
    """A loss: per-example values and gradient w.r.t. the network output.

    Attributes
    ----------
    name : str
        Registry name.
    value : callable
        ``value(y_hat, Y) -> E_n`` of shape (B,) (unchecked).
    grad : callable
        ``grad(y_hat, Y) -> dE_n/dy_hat`` of shape (B, n_L) (unchecked).
    value_and_grad : callable
        Both at once, sharing work.
    """

    name: str
    value: Callable[[FloatArray, FloatArray], FloatArray]
    grad: Callable[[FloatArray, FloatArray], FloatArray]
    value_and_grad: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


#: Registry of losses by name; the names accepted by ``loss=`` arguments.
LOSSES: dict[str, Loss] = {
    "squared_error": Loss(
        "squared_error", _squared_error, _squared_error_grad, _squared_error_value_and_grad
    ),
    "softmax_cross_entropy": Loss(
        "softmax_cross_entropy",
        _softmax_cross_entropy,
        _softmax_cross_entropy_grad,
        _softmax_cross_entropy_value_and_grad,
    ),
}
