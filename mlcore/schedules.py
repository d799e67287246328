r"""Learning-rate schedules: :math:`\eta_t` as a function of the step :math:`t = 0, 1, \dots`.

:func:`mlcore.training.train` takes a constant ``lr`` or one of these callables.  With a
constant rate, minibatch SGD stalls at a noise floor; rates that decay let the noise
average out.  The classical condition for convergence of SGD is
:math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty` (Robbins and Monro),
which :func:`inverse_time` meets; :func:`step_decay` and :func:`cosine` are the common
practical choices, and :func:`warmup` ramps any of them up over the first steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import _checks

__all__ = ["constant", "cosine", "inverse_time", "step_decay", "warmup"]

#: A learning-rate schedule: step index t (from 0) to the rate used at that step.
Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    r"""A constant rate, :math:`\eta_t = \eta`.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    callable
        ``schedule(t) -> float``.
    """
    eta = _checks.real(lr, "lr", positive=True)
    return lambda t: eta


def inverse_time(lr: float, decay_steps: float) -> Schedule:
    r"""Inverse-time decay: halves after :math:`\tau` steps, then decays like :math:`1/t`.

    .. math:: \eta_t = \eta / (1 + t / \tau)

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`, the rate at :math:`t = 0`.
    decay_steps : float
        :math:`\tau > 0`.

    Returns
    -------
    callable
        ``schedule(t) -> float``.
    """
    eta = _checks.real(lr, "lr", positive=True)
    tau = _checks.real(decay_steps, "decay_steps", positive=True)
    return lambda t: eta / (1.0 + t / tau)


def step_decay(lr: float, every: int, factor: float = 0.1) -> Schedule:
    r"""Step decay: multiply the rate by :math:`\gamma` every :math:`s` steps.

    .. math:: \eta_t = \eta\, \gamma^{\lfloor t / s \rfloor}

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    every : int
        :math:`s \ge 1` steps between two decays.
    factor : float, default 0.1
        :math:`\gamma \in (0, 1]`.

    Returns
    -------
    callable
        ``schedule(t) -> float``.
    """
    eta = _checks.real(lr, "lr", positive=True)
    s = _checks.positive_int(every, "every")
    gamma = _checks.real(factor, "factor", positive=True)
    if gamma > 1:
        raise ValueError(f"factor must be <= 1; got {gamma}")
    return lambda t: eta * gamma ** (t // s)


def cosine(lr: float, total_steps: int, final: float = 0.0) -> Schedule:
    r"""Cosine decay from :math:`\eta` to :math:`\eta_{\min}` over :math:`T` steps, then constant.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 + \cos(\pi \min(t, T) / T))

    Parameters
    ----------
    lr : float
        :math:`\eta > 0` at :math:`t = 0`.
    total_steps : int
        :math:`T \ge 1`: the rate reaches ``final`` at step :math:`T` and stays there.
    final : float, default 0.0
        :math:`\eta_{\min} \ge 0`.

    Returns
    -------
    callable
        ``schedule(t) -> float``.
    """
    eta = _checks.real(lr, "lr", positive=True)
    T = _checks.positive_int(total_steps, "total_steps")
    low = _checks.real(final, "final", nonneg=True)
    return lambda t: low + 0.5 * (eta - low) * (1.0 + math.cos(math.pi * min(t, T) / T))


def warmup(schedule: Schedule, steps: int) -> Schedule:
    r"""Ramp a schedule up linearly over its first :math:`w` steps: :math:`\eta_t \min(1, (t+1)/w)`.

    Parameters
    ----------
    schedule : callable
        The schedule to ramp up.
    steps : int
        :math:`w \ge 1`.

    Returns
    -------
    callable
        ``schedule(t) -> float``.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable (t -> rate); got {type(schedule).__name__}")
    w = _checks.positive_int(steps, "steps")
    return lambda t: schedule(t) * min(1.0, (t + 1) / w)
