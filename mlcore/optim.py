r"""Update rules: how a step turns the mean gradient into new parameters.

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

Adam keeps running means of the gradient and of its square, entry by entry,

.. math::

    m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
    v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
    \theta \leftarrow \theta - \eta\,
    \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon},

(:math:`t` counts the steps from 1; the divisions correct the zero start of
:math:`m` and :math:`v`).  It divides by a scale of :math:`g`: the step is not linear
in the gradient.

Both rules are objects with the same two methods, so the training loop takes either:
``state = rule.init(params)`` once, then ``rule.step(params, grads, lr, state)`` per
step, which updates ``params`` and ``state`` in place.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from . import _checks
from ._types import Params
from .params import _Flat, _flat_copy

__all__ = ["SGD", "Adam", "sgd_step"]


def _zeros_like(params: Params) -> Params:
    if isinstance(params, _Flat):  # zeros in one vector too, for the one-call update
        return _flat_copy(params, zeros=True)
    return [{"W": np.zeros_like(p["W"]), "b": np.zeros_like(p["b"])} for p in params]


class SGD:
    r"""Gradient descent with optional heavy-ball momentum (PyTorch's convention).

    :math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \eta v`; with
    :math:`\mu = 0`, :math:`\theta \leftarrow \theta - \eta g`.

    Parameters
    ----------
    momentum : float, default 0.0
        :math:`\mu \in [0, 1)`.
    """

    def __init__(self, momentum: float = 0.0) -> None:
        self.momentum = _checks.real(momentum, "momentum", nonneg=True, below=1.0)

    def __repr__(self) -> str:
        return f"SGD(momentum={self.momentum})"

    def init(self, params: Params) -> dict[str, Any]:
        """The state before the first step: the velocity :math:`v = 0`."""
        return {"velocity": _zeros_like(params) if self.momentum > 0 else None}

    def step(self, params: Params, grads: Params, lr: float, state: dict[str, Any]) -> None:
        """One in-place step of ``params`` (and of ``state``)."""
        _sgd_step(params, grads, lr, state["velocity"], self.momentum)


class Adam:
    r"""Adam: steps by running means of the gradient over the root of its square.

    Parameters
    ----------
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the two running means.
    eps : float, default 1e-8
        :math:`\epsilon > 0`, added to the denominator.
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.beta1 = _checks.real(beta1, "beta1", nonneg=True, below=1.0)
        self.beta2 = _checks.real(beta2, "beta2", nonneg=True, below=1.0)
        self.eps = _checks.real(eps, "eps", positive=True)

    def __repr__(self) -> str:
        return f"Adam(beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

    def init(self, params: Params) -> dict[str, Any]:
        """The state before the first step: :math:`m = v = 0`, :math:`t = 0`."""
        return {"m": _zeros_like(params), "v": _zeros_like(params), "t": 0}

    def step(self, params: Params, grads: Params, lr: float, state: dict[str, Any]) -> None:
        """One in-place step of ``params`` (and of ``state``)."""
        state["t"] += 1
        b1, b2, t = self.beta1, self.beta2, state["t"]
        for p, g, m, v in zip(params, grads, state["m"], state["v"], strict=True):
            for key in ("W", "b"):
                m[key] *= b1  # m <- b1 m + (1 - b1) g
                m[key] += (1 - b1) * g[key]
                v[key] *= b2  # v <- b2 v + (1 - b2) g^2
                v[key] += (1 - b2) * g[key] ** 2
                m_hat = m[key] / (1 - b1**t)  # bias corrections
                v_hat = v[key] / (1 - b2**t)
                p[key] -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


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
    """:func:`sgd_step` without the checks, for the training loops.

    When parameters, gradients (and velocity) each live in one vector (as in
    :func:`mlcore.train`), the same elementwise update runs once on the vectors.
    """
    if isinstance(params, _Flat) and isinstance(grads, _Flat):
        if momentum > 0 and isinstance(velocity, _Flat):
            velocity.flat *= momentum  # v <- mu v + g
            velocity.flat += grads.flat
            params.flat -= lr * velocity.flat  # theta <- theta - eta v
            return
        if momentum == 0:
            params.flat -= lr * grads.flat  # theta <- theta - eta g, every w_ij and b_i
            return
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
