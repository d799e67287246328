r"""Activation functions :math:`f` and their local derivatives :math:`f'`.

Each activation is a pair of functions written next to each other: the forward
op ``f(z)`` and its derivative ``df(z, a)`` evaluated at the same point.  The
derivative receives both the pre-activation :math:`z` and the already computed
output :math:`a = f(z)`, because for sigmoid, tanh and ReLU the derivative is
cheapest to express through :math:`a` (no second ``exp``/``tanh``).

All functions are elementwise, so any array shape works; in :mod:`mlcore.mlp`
they receive batch-first arrays of shape ``(B, n_l)``.

The softmax is not an activation here: classification nets end in the identity
(logits) and the softmax lives inside the cross-entropy loss
(:mod:`mlcore.losses`), which keeps it numerically stable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._types import FloatArray

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "identity",
    "identity_prime",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "tanh",
    "tanh_prime",
]


class Activation(NamedTuple):
    """An activation function and its derivative.

    Attributes
    ----------
    name : str
        Registry name (``"identity"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``).
    f : callable
        ``f(z) -> a``, elementwise, same shape as ``z``.
    df : callable
        ``df(z, a) -> f'(z)``, elementwise, same shape as ``z`` (or a scalar
        for the identity); ``a`` must equal ``f(z)``.
    """

    name: str
    f: Callable[[FloatArray], FloatArray]
    df: Callable[[FloatArray, FloatArray], FloatArray | float]


def identity(z: FloatArray) -> FloatArray:
    r"""Identity activation :math:`f(z) = z` (returns ``z`` itself, no copy).

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`, any shape (``(B, n_l)`` in a network).

    Returns
    -------
    ndarray
        :math:`a = f(z)`, same shape.
    """
    return z


def identity_prime(z: FloatArray, a: FloatArray) -> float:
    r""":math:`f'(z) = 1`; returned as the scalar ``1.0``.

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`.
    a : ndarray
        The outputs :math:`a = f(z)` (same shape), already computed by the forward pass.

    Returns
    -------
    float
        The scalar 1.0.
    """
    return 1.0


def sigmoid(z: FloatArray) -> FloatArray:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, exact in both tails.

    With :math:`e = e^{-|z|} \in (0, 1]` (never overflows),

    .. math::

        \sigma(z) = \frac{1}{1 + e} \ (z \ge 0), \qquad
        \sigma(z) = \frac{e}{1 + e} \ (z < 0),

    so each branch divides two numbers known to full relative precision: the
    result is exact to float64 rounding for every :math:`z` (where
    :math:`\tfrac12(1 + \tanh(z/2))` loses relative precision for :math:`z \ll 0`).

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`, any shape (``(B, n_l)`` in a network).

    Returns
    -------
    ndarray
        :math:`a = f(z)`, same shape.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    r""":math:`\sigma'(z) = \sigma(z)\,\sigma(-z) = e / (1 + e)^2` with :math:`e = e^{-|z|}`.

    Equal to :math:`a(1 - a)`, but :math:`1 - a` cancels catastrophically for
    :math:`z \gg 0` (:math:`a` rounds towards 1), so the derivative is computed
    from :math:`z`, exact to rounding in both tails.

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`.
    a : ndarray
        The outputs :math:`a = f(z)` (same shape); not needed here.

    Returns
    -------
    ndarray
        :math:`f'(z)`, same shape as ``z``.
    """
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def tanh(z: FloatArray) -> FloatArray:
    r"""Hyperbolic tangent :math:`\tanh z`.

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`, any shape (``(B, n_l)`` in a network).

    Returns
    -------
    ndarray
        :math:`a = f(z)`, same shape.
    """
    return np.tanh(z)


def tanh_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = 1 - a^2`.

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`.
    a : ndarray
        The outputs :math:`a = f(z)` (same shape), already computed by the forward pass.

    Returns
    -------
    ndarray
        :math:`f'(z)`, same shape as ``z``.
    """
    return 1.0 - a * a


def relu(z: FloatArray) -> FloatArray:
    r"""Rectified linear unit :math:`\max(0, z)`.

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`, any shape (``(B, n_l)`` in a network).

    Returns
    -------
    ndarray
        :math:`a = f(z)`, same shape.
    """
    return np.maximum(z, 0.0)


def relu_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    r""":math:`\mathrm{relu}'(z) = [z > 0]` (we take 0 at the kink :math:`z = 0`).

    Parameters
    ----------
    z : ndarray
        Pre-activations :math:`z`.
    a : ndarray
        The outputs :math:`a = f(z)` (same shape), already computed by the forward pass.

    Returns
    -------
    ndarray
        :math:`f'(z)`, same shape as ``z``.
    """
    return (z > 0).astype(z.dtype)


#: Registry of activations by name; the names accepted by ``activations=`` arguments.
ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", identity, identity_prime),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "tanh": Activation("tanh", tanh, tanh_prime),
    "relu": Activation("relu", relu, relu_prime),
}
