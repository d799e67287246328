r"""Parameters of a multilayer perceptron: creation, copying, flattening, permuting.

The parameters of an :math:`L`-layer network are a Python list with one dict
per layer, ``params[l - 1] = {"W": W^(l), "b": b^(l)}`` for :math:`l = 1..L`,
where ``W`` has shape ``(n_l, n_{l-1})`` (row :math:`i` holds the weights
:math:`w_{ij}` from input :math:`j` into neuron :math:`i`) and ``b`` has shape
``(n_l,)``.  Gradients use exactly the same structure.

Flattening concatenates ``W^(1).ravel(), b^(1), W^(2).ravel(), b^(2), ...``
into one vector :math:`\theta` (C order), which is what gradient checks,
covariance traces and 2-parameter contour plots work with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _checks
from ._types import FloatArray, Init, Layer, Params

__all__ = [
    "copy_params",
    "flatten_params",
    "init_params",
    "num_params",
    "permute_hidden",
    "unflatten_params",
    "zeros_like_params",
]

INITS = ("xavier", "he", "normal", "zeros")


def init_params(
    sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    init: Init = "xavier",
    scale: float = 0.1,
    dtype: DTypeLike = np.float64,
) -> Params:
    r"""Random initial parameters for a network with layer sizes ``sizes``.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_0, n_1, ..., n_L)``: input features followed by the width of each layer;
        the network has ``L = len(sizes) - 1`` layers.
    rng : numpy.random.Generator
        Source of randomness (required; no global random state is used).
    init : {"xavier", "he", "normal", "zeros"}, default "xavier"
        Distribution of the weights; biases start at zero.

        * ``"xavier"``: :math:`w_{ij} \sim \mathcal N(0, 1/n_{l-1})` (good for tanh/sigmoid)
        * ``"he"``: :math:`w_{ij} \sim \mathcal N(0, 2/n_{l-1})` (good for ReLU)
        * ``"normal"``: :math:`w_{ij} \sim \mathcal N(0, \mathrm{scale}^2)`
        * ``"zeros"``: all weights zero (useful for linear models)
    scale : float, default 0.1
        Standard deviation for ``init="normal"``.
    dtype : {numpy.float64, numpy.float32}, default float64
        Floating dtype of all arrays.

    Returns
    -------
    list of dict
        ``params[l - 1] = {"W": ndarray (n_l, n_{l-1}), "b": ndarray (n_l,)}``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints like (64, 32, 10); got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least 2 entries (n_0, n_1); got {tuple(sizes)}")
    sizes = [_checks.positive_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    _checks.rng(rng)
    _checks.choice(init, INITS, "init")
    scale = _checks.real(scale, "scale", positive=True)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise TypeError(f"dtype must be float64 or float32; got {dtype}")
    params = []
    for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True):
        std = {"xavier": np.sqrt(1.0 / n_prev), "he": np.sqrt(2.0 / n_prev), "normal": scale}
        if init == "zeros":
            W = np.zeros((n, n_prev), dtype=dtype)
        else:
            W = (std[init] * rng.standard_normal((n, n_prev))).astype(dtype)
        params.append({"W": W, "b": np.zeros(n, dtype=dtype)})
    return params


def copy_params(params: Params) -> Params:
    """Deep copy of a parameter (or gradient) list.

    Parameters
    ----------
    params : list of dict
        ``[{"W": ..., "b": ...}, ...]``.

    Returns
    -------
    list of dict
        Same structure with copied arrays.
    """
    _checks.params(params)
    return _copy(params)


def _copy(params: Params) -> Params:
    """:func:`copy_params` without the checks, for hot loops."""
    return [{"W": layer["W"].copy(), "b": layer["b"].copy()} for layer in params]


class _Flat(list[Layer]):
    """Parameters (or gradients) whose arrays are views of one vector ``flat``.

    ``flat`` holds ``W^(1).ravel(), b^(1), W^(2).ravel(), ...`` (the order of
    :func:`flatten_params`), so an elementwise update of every array is one numpy call
    on ``flat``.  It is still a list of dicts, usable wherever parameters are.
    """

    flat: FloatArray


def _flat_copy(params: Params, *, zeros: bool = False) -> _Flat:
    """A copy of ``params`` (or zeros shaped like it) whose arrays share one vector."""
    flat = np.empty_like(params[0]["W"], shape=(_size(params),))  # dtype, array type of W^(1)
    out = _Flat(_layer_views(flat, params))
    out.flat = flat
    for views, layer in zip(out, params, strict=True):
        for key in ("W", "b"):
            views[key][...] = 0 if zeros else layer[key]
    return out


def _layer_views(buf: FloatArray, like: Params) -> Params:
    """``W`` and ``b`` of every layer of ``like`` as consecutive pieces of the last axis of
    ``buf`` (the order of :func:`flatten_params`), shaped ``(*buf.shape[:-1], *shape)``:
    views when ``buf`` is contiguous along that axis."""
    lead, out, k = buf.shape[:-1], [], 0
    for layer in like:
        pieces = {}
        for key in ("W", "b"):
            n = layer[key].size
            pieces[key] = buf[..., k : k + n].reshape((*lead, *layer[key].shape))
            k += n
        out.append(pieces)
    return out


def _size(params: Params) -> int:
    """:func:`num_params` without the checks."""
    return sum(layer["W"].size + layer["b"].size for layer in params)


def zeros_like_params(params: Params) -> Params:
    """Zeros with the structure, shapes and dtype of ``params``.

    Parameters
    ----------
    params : list of dict
        ``[{"W": ..., "b": ...}, ...]``.

    Returns
    -------
    list of dict
        Same structure, all arrays zero.
    """
    _checks.params(params)
    return [{"W": np.zeros_like(layer["W"]), "b": np.zeros_like(layer["b"])} for layer in params]


def num_params(params: Params) -> int:
    """Total number of scalar parameters :math:`P` (weights and biases).

    Parameters
    ----------
    params : list of dict
        ``[{"W": ..., "b": ...}, ...]``.

    Returns
    -------
    int
        :math:`P = \\sum_l n_l (n_{l-1} + 1)`.
    """
    _checks.params(params)
    return _size(params)


def _flatten(params: Params) -> FloatArray:
    return np.concatenate([a.ravel() for layer in params for a in (layer["W"], layer["b"])])


def flatten_params(params: Params) -> FloatArray:
    r"""Concatenate all parameters (or gradients) into one vector :math:`\theta`.

    Order: ``W^(1)`` (row-major), ``b^(1)``, ``W^(2)``, ``b^(2)``, ...

    Parameters
    ----------
    params : list of dict
        ``[{"W": (n_l, n_{l-1}), "b": (n_l,)}, ...]``.

    Returns
    -------
    ndarray, shape (P,)
        The flat vector (a copy).
    """
    _checks.params(params)
    return _flatten(params)


def _unflatten(theta: FloatArray, like: Params) -> Params:
    return [{key: a.copy() for key, a in layer.items()} for layer in _layer_views(theta, like)]


def unflatten_params(theta: ArrayLike, like: Params) -> Params:
    """Inverse of :func:`flatten_params`: split a vector into the structure of ``like``.

    Parameters
    ----------
    theta : array_like, shape (P,)
        Flat parameter vector.
    like : list of dict
        Template giving the layer shapes and dtype.

    Returns
    -------
    list of dict
        New arrays (copies) with the shapes of ``like``.
    """
    _, dtype = _checks.params(like, "like")
    theta = np.asarray(theta)
    P = _size(like)
    if theta.ndim != 1 or theta.shape[0] != P:
        raise ValueError(f"theta must have shape ({P},) to match like; got shape {theta.shape}")
    if not np.issubdtype(theta.dtype, np.number) or theta.dtype == bool:
        raise TypeError(f"theta must be numeric; got dtype {theta.dtype}")
    _checks.finite(theta, "theta")
    return _unflatten(theta.astype(dtype, copy=False), like)


def permute_hidden(params: Params, perm: ArrayLike) -> Params:
    r"""Reorder the hidden units of a one-hidden-layer network (same function).

    Rows of :math:`W^{(1)}` and entries of :math:`b^{(1)}` are permuted by
    :math:`\pi`, and so are the columns of :math:`W^{(2)}`:
    :math:`W^{(2)} f(W^{(1)} x + b^{(1)}) = W^{(2)} P^\top f(P W^{(1)} x + P b^{(1)})`
    for the permutation matrix :math:`P`, because :math:`f` acts entrywise.

    Parameters
    ----------
    params : list of dict
        Two layers: ``W^(1)`` of shape ``(n_1, n_0)``, ``W^(2)`` of shape ``(n_2, n_1)``.
    perm : array_like of int, shape (n_1,)
        A permutation of ``range(n_1)``.

    Returns
    -------
    list of dict
        New parameters computing the same function.
    """
    if len(params) != 2:
        raise ValueError(f"params must have exactly 2 layers; got {len(params)}")
    perm = np.asarray(perm)
    n1 = params[0]["W"].shape[0]
    if sorted(perm.tolist()) != list(range(n1)):
        raise ValueError(f"perm must be a permutation of range({n1}); got {perm}")
    l1, l2 = params
    return [
        {"W": l1["W"][perm].copy(), "b": l1["b"][perm].copy()},
        {"W": l2["W"][:, perm].copy(), "b": l2["b"].copy()},
    ]
