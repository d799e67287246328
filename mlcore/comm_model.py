r"""A cost model of data-parallel training: compute shrinks like 1/P, the all-reduce does not.

One step of data-parallel SGD on :math:`P` processes does two things.

Compute
    The global batch of :math:`b` examples is split over the processes, so each
    computes :math:`b/P` per-example gradients: :math:`t_c(P) = t_c(1) / P`, with
    :math:`t_c(1) = b\, M\, \tau` for a network of :math:`M` parameters, where
    :math:`\tau` is the time per example and parameter (about 6 floating-point
    operations: 2 forward, 4 backward).

Communication
    A ring all-reduce of a vector of :math:`S` bytes makes :math:`2(P-1)` steps,
    each sending one chunk of :math:`S/P` bytes to the next process
    (:func:`mlcore.distributed.ring_allreduce`).  Each process therefore sends

    .. math::

        \text{bytes}(P) = \frac{2(P-1)}{P}\, S \;<\; 2S,

    and with a latency :math:`\alpha` per message and a bandwidth :math:`\beta`
    (bytes per second) per link the all-reduce takes

    .. math::

        t_a(P) = 2(P-1)\,\alpha + \frac{2(P-1)}{P}\,\frac{S}{\beta}.

The bandwidth term is almost independent of :math:`P`; the latency term grows
with it.  One step costs :math:`t(P) = t_c(1)/P + t_a(P)`; local SGD, which
all-reduces once every :math:`k` steps, pays :math:`t_c(1)/P + t_a(P)/k` per step.
Communication dominates from the smallest :math:`P` with :math:`t_a(P)/k \ge t_c(1)/P`
(:func:`crossover`).  With :math:`S = 8M` (float64) and :math:`t_c(1) = bM\tau` the
bandwidth term alone gives :math:`P - 1 \ge k\, \beta b \tau / 16`: independent of the
network size :math:`M`; the latency term makes small networks cross earlier.

The model ignores overlapping communication with computation, contention, and the
fixed per-step overheads that dominate tiny batches; it is an estimate, stated with
its inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["allreduce_seconds", "crossover", "ring_allreduce_bytes", "step_seconds"]


def ring_allreduce_bytes(message_bytes: float, num_procs: ArrayLike) -> NDArray[np.float64]:
    r"""Bytes each process sends in a ring all-reduce, :math:`2(P-1) S / P`.

    Parameters
    ----------
    message_bytes : float
        :math:`S`, the size of the summed vector.
    num_procs : int or array_like of int
        :math:`P \ge 1`.

    Returns
    -------
    ndarray of float
        Shaped like ``num_procs``; 0 for :math:`P = 1`.
    """
    P = _procs(num_procs)
    return 2.0 * (P - 1) / P * float(message_bytes)


def allreduce_seconds(
    message_bytes: float, num_procs: ArrayLike, *, latency: float, bandwidth: float
) -> NDArray[np.float64]:
    r"""Time of one ring all-reduce, :math:`2(P-1)\alpha + 2(P-1) S / (P \beta)`.

    Parameters
    ----------
    message_bytes : float
        :math:`S` in bytes.
    num_procs : int or array_like of int
        :math:`P \ge 1`.
    latency : float
        :math:`\alpha`, seconds per message.
    bandwidth : float
        :math:`\beta`, bytes per second per link.

    Returns
    -------
    ndarray of float
        Seconds, shaped like ``num_procs``.
    """
    P = _procs(num_procs)
    return 2.0 * (P - 1) * latency + ring_allreduce_bytes(message_bytes, P) / bandwidth


def step_seconds(
    num_procs: ArrayLike,
    *,
    compute_seconds: float,
    message_bytes: float,
    latency: float,
    bandwidth: float,
    local_steps: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Compute and communication time per step, :math:`t_c(1)/P` and :math:`t_a(P)/k`.

    Parameters
    ----------
    num_procs : int or array_like of int
        :math:`P \ge 1`.
    compute_seconds : float
        :math:`t_c(1)`, the compute time of one step on one process.
    message_bytes : float
        :math:`S`, bytes all-reduced per round.
    latency, bandwidth : float
        :math:`\alpha` (s) and :math:`\beta` (bytes/s).
    local_steps : int, default 1
        :math:`k`: one all-reduce every :math:`k` steps (local SGD); 1 is data-parallel
        SGD.

    Returns
    -------
    compute : ndarray
        :math:`t_c(1)/P`, shaped like ``num_procs``.
    comm : ndarray
        :math:`t_a(P)/k`; the step takes ``compute + comm``.
    """
    P = _procs(num_procs)
    comm = allreduce_seconds(message_bytes, P, latency=latency, bandwidth=bandwidth)
    return compute_seconds / P, comm / local_steps


def crossover(
    *,
    compute_seconds: float,
    message_bytes: float,
    latency: float,
    bandwidth: float,
    local_steps: int = 1,
    max_procs: int = 1 << 20,
) -> int | None:
    r"""The smallest :math:`P` at which communication takes at least as long as compute.

    Parameters
    ----------
    compute_seconds, message_bytes, latency, bandwidth, local_steps
        As in :func:`step_seconds`.
    max_procs : int, default 2**20
        Search :math:`2 \le P \le` ``max_procs``.

    Returns
    -------
    int or None
        :math:`\min\{P : t_a(P)/k \ge t_c(1)/P\}`, or None if compute dominates up to
        ``max_procs``.
    """
    P = np.arange(2, max_procs + 1)
    compute, comm = step_seconds(
        P,
        compute_seconds=compute_seconds,
        message_bytes=message_bytes,
        latency=latency,
        bandwidth=bandwidth,
        local_steps=local_steps,
    )
    hit = np.flatnonzero(comm >= compute)
    return int(P[hit[0]]) if hit.size else None


def _procs(num_procs: ArrayLike) -> NDArray[np.float64]:
    P = np.asarray(num_procs, dtype=np.float64)
    if P.size == 0 or (P < 1).any() or (P != np.round(P)).any():
        raise ValueError(f"num_procs must be whole numbers >= 1; got {num_procs!r}")
    return P
