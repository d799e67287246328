r"""Gradient accumulation: one large batch's gradient from several small ones.

When a batch of :math:`B` examples does not fit in memory at once, it is cut into
micro-batches :math:`\mathcal M_1, \dots, \mathcal M_J` whose gradients are added up
before one step.  The mean gradient of the large batch is

.. math::

    \bar g = \frac1B \sum_{n=1}^{B} g_n
    = \frac1B \sum_{j=1}^{J} \sum_{n \in \mathcal M_j} g_n
    = \sum_{j=1}^J \frac{|\mathcal M_j|}{B}\, g_{\mathcal M_j},

so the sums of the micro-batches must be divided by the number of **examples** (or
their means weighted by their sizes).  Dividing the sum of the micro-batch *means* by
the number of micro-batches, :math:`\frac1J \sum_j g_{\mathcal M_j}`, is right only when
every micro-batch has the same size; otherwise it is the last-batch error of
:mod:`mlcore.training` again.  For sequences the unit is the token, not the example.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from . import _checks
from ._types import Activations, LossName, Params, Reduction
from .mlp import check_model, gradient
from .training import batch_schedule

__all__ = ["accumulated_gradient"]

DIVIDE_BY = ("examples", "micro_batches")


def accumulated_gradient(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    micro_batch_size: int,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    divide_by: str = "examples",
) -> Params:
    r"""The mean gradient of ``(X, Y)`` accumulated over micro-batches of ``micro_batch_size``.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        The large batch's inputs.
    Y : array_like
        Its targets (see :func:`mlcore.mlp.check_model`).
    micro_batch_size : int
        Rows per micro-batch; the last one has ``B mod micro_batch_size`` rows if that
        is not 0.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    divide_by : {"examples", "micro_batches"}, default "examples"
        ``"examples"``: add the micro-batches' gradient sums and divide by :math:`B`
        (equal to :func:`mlcore.mlp.gradient` on the whole batch, to rounding).
        ``"micro_batches"``: add the micro-batches' mean gradients and divide by
        their number :math:`J`, the common mistake.

    Returns
    -------
    list of dict
        Gradients shaped like ``params``.
    """
    X, Y = check_model(params, X, Y, activations, loss)
    _checks.choice(divide_by, DIVIDE_BY, "divide_by")
    B = X.shape[0]
    micro = batch_schedule(B, micro_batch_size)  # consecutive micro-batches, last kept
    reduction: Reduction = "sum" if divide_by == "examples" else "mean"
    total = [{"W": 0.0 * p["W"], "b": 0.0 * p["b"]} for p in params]
    for m in micro:
        g = gradient(params, X[m.start : m.stop], Y[m.start : m.stop], activations, loss,
                     reduction, check=False)  # fmt: skip
        for acc, layer in zip(total, g, strict=True):
            acc["W"] += layer["W"]
            acc["b"] += layer["b"]
    scale = 1.0 / B if divide_by == "examples" else 1.0 / len(micro)
    return [{"W": scale * acc["W"], "b": scale * acc["b"]} for acc in total]
