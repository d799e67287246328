r"""Per-example gradients: the gradient of each example's own loss, kept apart.

The training-set gradient sums (or averages) the per-example gradients
:math:`\nabla E_n`; some uses need them one by one (their spread, their norms,
clipping each of them).  With the deltas of :func:`mlcore.mlp.deltas` they are

.. math::

    \frac{\partial E_n}{\partial W^{(l)}} = \delta_n^{(l)} x_n^{(l)\top}, \qquad
    \frac{\partial E_n}{\partial b^{(l)}} = \delta_n^{(l)},

one outer product per example and layer, computed for the whole batch at once.
The input is one more layer input, so the same deltas also give
:math:`\partial E_n / \partial x_n`.
"""

from __future__ import annotations

from typing import Literal, cast, overload

import numpy as np
from numpy.typing import ArrayLike

from ._types import Activations, FloatArray, LossName, Params
from .mlp import check_model, deltas, forward
from .params import _layer_views, _size

__all__ = ["input_gradient", "per_example_gradient_norms", "per_example_gradients"]


@overload
def per_example_gradients(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = ...,
    loss: LossName = ...,
    *,
    flat: Literal[False] = ...,
    out: Params | None = ...,
    check: bool = ...,
) -> Params: ...
@overload
def per_example_gradients(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = ...,
    loss: LossName = ...,
    *,
    flat: Literal[True],
    out: None = ...,
    check: bool = ...,
) -> FloatArray: ...
def per_example_gradients(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    flat: bool = False,
    out: Params | None = None,
    check: bool = True,
) -> Params | FloatArray:
    r"""The gradient of every example's own loss :math:`E_n`, vectorised.

    .. math::

        \frac{\partial E_n}{\partial W^{(l)}} = \delta_n^{(l)} x_n^{(l)\top}
        \quad(\text{outer product, einsum } \texttt{bi,bj->bij}), \qquad
        \frac{\partial E_n}{\partial b^{(l)}} = \delta_n^{(l)}.

    Their sum over ``n`` is the ``"sum"`` batch gradient, their mean the ``"mean"`` one.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    flat : bool, default False
        Return one matrix :math:`G` of shape ``(B, P)`` whose row :math:`n` is the
        flattened :math:`\nabla E_n` (order of :func:`mlcore.params.flatten_params`).
    out : list of dict, optional
        Arrays to write the result into (e.g. the result of a previous call with the
        same batch size).  The tensors hold :math:`B \cdot P` numbers; for large
        batches, reusing them in a loop avoids re-allocating (and page-faulting)
        that memory every time, which is most of the cost.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    list of dict
        ``grads[l-1] = {"W": (B, n_l, n_{l-1}), "b": (B, n_l)}``: a leading batch axis
        on the parameter shapes (``out`` itself if given); or, with ``flat=True``,
        an ndarray of shape ``(B, P)``.
    """
    if check:
        X, Y = check_model(params, X, Y, activations, loss)
        if out is not None:
            if flat:
                raise ValueError("out cannot be combined with flat=True")
            _check_out(out, params, X.shape[0])
    X = cast(FloatArray, X)  # validated above, or by the caller (check=False)
    _, cache = forward(params, X, activations, check=False)
    Deltas = deltas(params, cache, Y, activations, loss, check=False)
    G = None
    if flat:  # write each layer straight into its columns of G (no copy afterwards)
        G, out = _flat_views(params, X.shape[0], X.dtype)
    elif out is None:
        out = cast(Params, [{"W": None, "b": None} for _ in params])  # filled in below
    for g, x, Delta in zip(out, cache.x, Deltas, strict=True):
        g["W"] = _outer_products(Delta, x, out=g["W"])  # dE_n/dw_ij = delta_ni x_nj
        if g["b"] is None:
            g["b"] = Delta  # dE_n/db_i = delta_ni
        else:
            g["b"][...] = Delta
    return out if G is None else G


#: Examples per ``einsum`` call in :func:`_outer_products`.
_CHUNK = 256


def _outer_products(
    Delta: FloatArray, x: FloatArray, *, out: FloatArray | None = None, chunk: int = _CHUNK
) -> FloatArray:
    r"""One outer product per example: :math:`\delta_n x_n^\top` for every row :math:`n`.

    ``np.einsum("bi,bj->bij", Delta, x)`` on ``chunk`` examples at a time: einsum
    first zeroes its output, then accumulates the products into it, and on a block of
    256 examples (8.4 MB for a 64 x 64 layer) both passes stay in the cache instead of
    crossing the memory bus twice.

    Parameters
    ----------
    Delta : ndarray, shape (B, m)
        The deltas :math:`\delta_n^{(l)}`, one row per example.
    x : ndarray, shape (B, n)
        The layer inputs :math:`x_n^{(l)}`.
    out : ndarray, shape (B, m, n), optional
        Where to write the result.
    chunk : int, default ``_CHUNK``
        Examples per ``einsum`` call (``benchmarks/kernels.py`` times others).

    Returns
    -------
    ndarray, shape (B, m, n)
        ``out[n] = np.outer(Delta[n], x[n])`` (``out`` itself if given).
    """
    B = x.shape[0]
    if out is None:
        out = np.empty((B, Delta.shape[1], x.shape[1]), np.result_type(Delta, x))
    for start in range(0, B, chunk):
        c = slice(start, start + chunk)
        np.einsum("bi,bj->bij", Delta[c], x[c], out=out[c])
    return out


def _flat_views(params: Params, B: int, dtype: np.dtype) -> tuple[FloatArray, Params]:
    """A matrix ``G`` of shape ``(B, P)`` and, per layer, views of its columns shaped
    ``(B, n_l, n_{l-1})`` and ``(B, n_l)`` (the order of ``flatten_params``)."""
    G = np.empty((B, _size(params)), dtype=dtype)
    return G, _layer_views(G, params)


def _check_out(out: object, params: Params, B: int) -> None:
    if not isinstance(out, list) or len(out) != len(params):
        raise TypeError(
            f"out must be a list of {len(params)} dicts like the result; got {out!r:.60}"
        )
    for i, (g, p) in enumerate(zip(out, params, strict=True)):
        for key in ("W", "b"):
            want = (B, *p[key].shape)
            arr = g.get(key) if isinstance(g, dict) else None
            if not isinstance(arr, np.ndarray) or arr.shape != want or arr.dtype != p[key].dtype:
                got = getattr(arr, "shape", type(arr).__name__)
                raise ValueError(
                    f"out[{i}]['{key}'] must be an array of shape {want} and dtype "
                    f"{p[key].dtype}; got {got}"
                )


def per_example_gradient_norms(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    squared: bool = False,
    check: bool = True,
) -> FloatArray:
    r"""Euclidean norm of every example's gradient, without materialising it.

    The norm of an outer product factorises, so per layer

    .. math::

        \Big\lVert \frac{\partial E_n}{\partial W^{(l)}} \Big\rVert_F^2
        = \lVert \delta_n^{(l)} x_n^{(l)\top} \rVert_F^2
        = \lVert x_n^{(l)} \rVert^2 \, \lVert \delta_n^{(l)} \rVert^2,
        \qquad
        \lVert \nabla E_n \rVert^2 = \sum_l \lVert \delta_n^{(l)} \rVert^2
        \big(\lVert x_n^{(l)} \rVert^2 + 1\big),

    the ``+ 1`` being the bias term :math:`\lVert \delta_n^{(l)} \rVert^2`.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    squared : bool, default False
        Return :math:`\lVert \nabla E_n \rVert^2` instead of the norm.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    ndarray, shape (B,)
        :math:`\lVert \nabla E_n \rVert` (or its square) over all parameters.
    """
    if check:
        X, Y = check_model(params, X, Y, activations, loss)
    X = cast(FloatArray, X)  # validated above, or by the caller (check=False)
    _, cache = forward(params, X, activations, check=False)
    Deltas = deltas(params, cache, Y, activations, loss, check=False)
    sq = np.zeros(X.shape[0], dtype=X.dtype)
    for x, Delta in zip(cache.x, Deltas, strict=True):
        x_sq = np.einsum("bj,bj->b", x, x)  # ||x_n||^2
        d_sq = np.einsum("bi,bi->b", Delta, Delta)  # ||delta_n||^2
        sq += d_sq * (x_sq + 1.0)  # weights + bias
    return sq if squared else np.sqrt(sq)


def input_gradient(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    check: bool = True,
) -> FloatArray:
    r"""Gradient of each example's loss w.r.t. its own input, :math:`\partial E_n / \partial x_n`.

    The input is one more "layer input", so the same rule gives

    .. math::

        \frac{\partial E_n}{\partial x_n} = W^{(1)\top} \delta_n^{(1)}
        \qquad(\text{rows: } \Delta^{(1)} W^{(1)}).

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    ndarray, shape (B, n_0)
        Row ``n`` is :math:`\partial E_n / \partial x_n` (not divided by ``B``).
    """
    if check:
        X, Y = check_model(params, X, Y, activations, loss)
    _, cache = forward(params, X, activations, check=False)
    Deltas = deltas(params, cache, Y, activations, loss, check=False)
    return Deltas[0] @ params[0]["W"]
