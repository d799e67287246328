r"""The update rule: one step of (momentum) gradient descent.

Plain gradient descent moves every parameter against its gradient,

.. math::

    \theta \leftarrow \theta - \eta\, g .

Heavy-ball momentum (the convention of PyTorch's ``SGD(momentum=mu)``) keeps a
velocity :math:`v`, a running sum of past gradients, and steps along it:

.. math::

    v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta v,

with :math:`v = 0` before the first step; :math:`\mu = 0` is plain gradient
descent.  The rule is linear in :math:`g`, which is why averaging per-example
steps equals one step with the averaged gradient.
"""

from __future__ import annotations

from typing import cast

from . import _checks
from ._types import Params

__all__ = ["sgd_step"]


def sgd_step(
    params: Params,
    grads: Params,
    lr: float,
    *,
    velocity: Params | None = None,
    momentum: float = 0.0,
) -> Params:
    r"""One in-place step :math:`\theta \leftarrow \theta - \eta g` (with optional momentum).

    Parameters
    ----------
    params : list of dict
        Parameters :math:`\theta`, updated in place.
    grads : list of dict
        Gradients :math:`g` shaped like ``params``.
    lr : float
        Learning rate :math:`\eta > 0`.
    velocity : list of dict or None
        Momentum buffers :math:`v` shaped like ``params`` (updated in place;
        start from :func:`mlcore.params.zeros_like_params`); required when
        ``momentum > 0``.
    momentum : float, default 0.0
        :math:`\mu \in [0, 1)`.

    Returns
    -------
    list of dict
        ``params`` (the same object).
    """
    _checks.params(params)
    _checks.params(grads, "grads")
    _checks.same_shapes(grads, params, "grads")
    lr = _checks.real(lr, "lr", positive=True)
    momentum = _checks.real(momentum, "momentum", nonneg=True, below=1.0)
    if momentum > 0:
        if velocity is None:
            raise ValueError("velocity must be given (zeros_like_params(params)) when momentum > 0")
        _checks.params(velocity, "velocity")
        _checks.same_shapes(velocity, params, "velocity")
    _sgd_step(params, grads, lr, velocity, momentum)
    return params


def _sgd_step(
    params: Params, grads: Params, lr: float, velocity: Params | None, momentum: float
) -> None:
    """:func:`sgd_step` without the checks, for the training loops."""
    if momentum > 0:
        velocity = cast(Params, velocity)  # required with momentum (sgd_step checks it)
        for v, g in zip(velocity, grads, strict=True):
            v["W"] *= momentum  # v <- mu v + g
            v["W"] += g["W"]
            v["b"] *= momentum
            v["b"] += g["b"]
        grads = velocity
    for p, g in zip(params, grads, strict=True):
        p["W"] -= lr * g["W"]  # w_ij <- w_ij - eta dE/dw_ij
        p["b"] -= lr * g["b"]
