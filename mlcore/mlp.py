r"""Forward pass, backpropagation and gradients of a multilayer perceptron.

Notation (the book's)
---------------------
* Layers :math:`l = 1, \dots, L`; layer :math:`l` has :math:`n_l` neurons,
  :math:`n_0` is the number of input features.  In Python the layer
  :math:`l` lives at ``params[l - 1]``.
* :math:`x^{(l)}` is the input to layer :math:`l`: :math:`x^{(1)}` are the
  example's features and :math:`x^{(l+1)} = a^{(l)}`.
* :math:`z^{(l)} = W^{(l)} x^{(l)} + b^{(l)}` and :math:`a^{(l)} = f_l(z^{(l)})`;
  the output is :math:`\hat y = a^{(L)}`.
* :math:`W^{(l)}` has shape :math:`(n_l, n_{l-1})`: :math:`w^{(l)}_{ij}`
  connects input :math:`j` to neuron :math:`i`.
* For one example with loss :math:`E_n`,
  :math:`\delta^{(l)} = \partial E_n / \partial z^{(l)}` and

  .. math::

      \frac{\partial E_n}{\partial w^{(l)}_{ij}} = \delta^{(l)}_i x^{(l)}_j, \qquad
      \frac{\partial E_n}{\partial b^{(l)}_i} = \delta^{(l)}_i, \qquad
      \delta^{(l)} = \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot f_l'(z^{(l)}).

* The training-set cost is :math:`E = \sum_n E_n` (reduction ``"sum"``) or
  :math:`E = \frac1N \sum_n E_n` (``"mean"``), so its gradient is the sum (or
  mean) of the per-example gradients.

Batch-first arrays
------------------
A batch of :math:`B` examples is stacked as rows: ``X`` has shape
``(B, n_0)``, ``Z^(l)`` and ``Delta^(l)`` have shape ``(B, n_l)`` (row
:math:`n` is :math:`z_n^{(l)}` resp. :math:`\delta_n^{(l)}`).  Then the
per-layer equations become matrix products,

.. math::

    Z^{(l)} = X^{(l)} W^{(l)\top} + b^{(l)}, \qquad
    \Delta^{(l)} = \big(\Delta^{(l+1)} W^{(l+1)}\big) \odot f_l'(Z^{(l)}), \qquad
    \sum_n \frac{\partial E_n}{\partial W^{(l)}} = \Delta^{(l)\top} X^{(l)},

and the sum over examples of the outer products :math:`\delta_n x_n^\top`
is exactly the matrix product :math:`\Delta^\top X` of shape
``(n_l, n_{l-1})``, the shape of :math:`W^{(l)}`.

Every public function validates its arguments (``check=True``) and raises
``ValueError``/``TypeError`` naming the offending argument; hot loops validate
once and pass ``check=False``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple, cast, overload

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._types import Activations, FloatArray, LossName, Params, Reduction
from .activations import ACTIVATIONS, Activation
from .losses import LOSSES, REDUCTIONS, _reduce

__all__ = [
    "Cache",
    "accuracy",
    "check_model",
    "cost",
    "deltas",
    "forward",
    "gradient",
    "gradient_from_deltas",
    "predict",
    "resolve_activations",
]


class Cache(NamedTuple):
    r"""What the forward pass hands to the backward pass (lists indexed ``l - 1``).

    Attributes
    ----------
    x : list of ndarray
        ``x[l-1]`` is :math:`X^{(l)}`, the input to layer :math:`l`, shape ``(B, n_{l-1})``.
    z : list of ndarray
        ``z[l-1]`` is :math:`Z^{(l)}`, shape ``(B, n_l)``.
    a : list of ndarray
        ``a[l-1]`` is :math:`A^{(l)} = f_l(Z^{(l)})`, shape ``(B, n_l)``; ``a[-1]`` is
        :math:`\hat Y`.
    """

    x: list[FloatArray]
    z: list[FloatArray]
    a: list[FloatArray]


# ----------------------------------------------------------------------------- helpers
@lru_cache(maxsize=256)
def _resolve(activations: str | tuple[str, ...], num_layers: int) -> tuple[Activation, ...]:
    if isinstance(activations, str):
        names = (activations,) * (num_layers - 1) + ("identity",)
    else:
        names = activations
        if len(names) != num_layers:
            raise ValueError(
                f"activations must name one activation per layer ({num_layers}); "
                f"got {len(names)}: {list(names)}"
            )
    for name in names:
        _checks.choice(name, ACTIVATIONS, "activations")
    return tuple(ACTIVATIONS[name] for name in names)


def resolve_activations(activations: Activations, num_layers: int) -> tuple[str, ...]:
    """Expand an ``activations`` argument into one activation name per layer.

    Parameters
    ----------
    activations : str or sequence of str
        Either one name per layer (``("tanh", "tanh", "identity")``) or a single
        name used for every *hidden* layer, the output layer being the identity
        (``"tanh"`` for 3 layers means ``("tanh", "tanh", "identity")``).
        Names: ``"identity"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``.
    num_layers : int
        :math:`L`.

    Returns
    -------
    tuple of str
        Length :math:`L`.
    """
    num_layers = _checks.positive_int(num_layers, "num_layers")
    return tuple(act.name for act in _activations(activations, num_layers))


def _activations(activations: Activations, num_layers: int) -> tuple[Activation, ...]:
    if isinstance(activations, str):
        return _resolve(activations, num_layers)
    if not isinstance(activations, (list, tuple)) or not all(
        isinstance(a, str) for a in activations
    ):
        raise TypeError(f"activations must be a str or a list of str; got {activations!r:.80}")
    return _resolve(tuple(activations), num_layers)


@overload
def check_model(
    params: Params,
    X: ArrayLike,
    Y: None = ...,
    activations: Activations = ...,
    loss: LossName = ...,
    reduction: Reduction = ...,
) -> tuple[FloatArray, None]: ...
@overload
def check_model(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = ...,
    loss: LossName = ...,
    reduction: Reduction = ...,
) -> tuple[FloatArray, FloatArray]: ...
def check_model(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike | None = None,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
) -> tuple[FloatArray, FloatArray | None]:
    r"""Validate a (params, X, Y, activations, loss, reduction) combination once.

    Converts ``X`` (and ``Y``) to contiguous arrays of the parameters' dtype;
    for ``"softmax_cross_entropy"`` integer labels become one-hot rows.  Use it
    before a hot loop, then call the functions of this module with ``check=False``.

    Parameters
    ----------
    params : list of dict
        ``[{"W": (n_l, n_{l-1}), "b": (n_l,)}, ...]``.
    X : array_like, shape (B, n_0)
        Inputs, one row per example.
    Y : array_like or None
        Targets: ``(B, n_L)`` (or ``(B,)`` if ``n_L == 1``) for squared error;
        integer labels ``(B,)`` in ``[0, n_L)`` or one-hot ``(B, n_L)`` for
        cross-entropy.  ``None`` skips target checks.
    activations : str or sequence of str, default "tanh"
        See :func:`resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Loss name.
    reduction : {"sum", "mean"}, default "mean"
        Reduction name.

    Returns
    -------
    X : ndarray, shape (B, n_0)
        Validated inputs.
    Y : ndarray, shape (B, n_L), or None
        Validated targets (one-hot for cross-entropy).

    Raises
    ------
    TypeError, ValueError
        With a message naming the offending argument.
    """
    params, dtype = _checks.params(params)
    acts = _activations(activations, len(params))
    _checks.choice(loss, LOSSES, "loss")
    _checks.choice(reduction, REDUCTIONS, "reduction")
    if loss == "softmax_cross_entropy" and acts[-1].name != "identity":
        raise ValueError(
            "activations: the output layer must be 'identity' (logits) for "
            f"loss='softmax_cross_entropy'; got {acts[-1].name!r}"
        )
    X = _checks.inputs(X, params, dtype)
    if Y is not None:
        n_L = params[-1]["W"].shape[0]
        if loss == "softmax_cross_entropy":
            Y = _checks.classification_targets(Y, X.shape[0], n_L, dtype)
        else:
            Y = _checks.regression_targets(Y, X.shape[0], n_L, dtype)
    return X, Y


# ----------------------------------------------------------------------------- forward
def forward(
    params: Params, X: ArrayLike, activations: Activations = "tanh", *, check: bool = True
) -> tuple[FloatArray, Cache]:
    r"""Forward pass: the output :math:`\hat Y` and what backpropagation needs.

    For :math:`l = 1..L`, one row per example:

    .. math::

        Z^{(l)} = X^{(l)} W^{(l)\top} + b^{(l)}, \qquad
        A^{(l)} = f_l(Z^{(l)}), \qquad X^{(l+1)} = A^{(l)}, \qquad \hat Y = A^{(L)}.

    Parameters
    ----------
    params : list of dict
        ``params[l-1] = {"W": (n_l, n_{l-1}), "b": (n_l,)}``.
    X : array_like, shape (B, n_0)
        Inputs :math:`X^{(1)}`, one row per example.
    activations : str or sequence of str, default "tanh"
        One name per layer, or one name for all hidden layers with an identity
        output (see :func:`resolve_activations`).
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    y_hat : ndarray, shape (B, n_L)
        Network output.
    cache : Cache
        Layer inputs ``x``, pre-activations ``z`` and activations ``a``.
    """
    if check:
        X, _ = check_model(params, X, None, activations)
    fs = _activations(activations, len(params))
    xs, zs, as_ = [], [], []
    x = cast(FloatArray, X)  # validated above, or by the caller (check=False)
    for layer, f in zip(params, fs, strict=True):
        z: FloatArray = x @ layer["W"].T  # z^(l) = W^(l) x^(l) + b^(l), for all rows at once
        z += layer["b"]
        a = f.f(z)  # a^(l) = f_l(z^(l))
        xs.append(x)
        zs.append(z)
        as_.append(a)
        x = a  # x^(l+1) = a^(l)
    return x, Cache(xs, zs, as_)


# ----------------------------------------------------------------------------- backward
@overload
def deltas(
    params: Params,
    cache: Cache,
    Y: ArrayLike,
    activations: Activations = ...,
    loss: LossName = ...,
    *,
    scale: float = ...,
    return_losses: Literal[False] = ...,
    check: bool = ...,
) -> list[FloatArray]: ...
@overload
def deltas(
    params: Params,
    cache: Cache,
    Y: ArrayLike,
    activations: Activations = ...,
    loss: LossName = ...,
    *,
    scale: float = ...,
    return_losses: Literal[True],
    check: bool = ...,
) -> tuple[list[FloatArray], FloatArray]: ...
def deltas(
    params: Params,
    cache: Cache,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    scale: float = 1.0,
    return_losses: bool = False,
    check: bool = True,
) -> list[FloatArray] | tuple[list[FloatArray], FloatArray]:
    r"""Backpropagate: the deltas :math:`\Delta^{(l)}` of every layer.

    Row :math:`n` of ``Deltas[l-1]`` is :math:`\delta_n^{(l)} = \partial E_n / \partial z_n^{(l)}`
    (times ``scale``):

    .. math::

        \delta^{(L)} = \frac{\partial E_n}{\partial \hat y} \odot f_L'(z^{(L)}), \qquad
        \delta^{(l)} = \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot f_l'(z^{(l)}),

    in batch-first form :math:`\Delta^{(l)} = (\Delta^{(l+1)} W^{(l+1)}) \odot f_l'(Z^{(l)})`.
    Every delta is linear in :math:`\delta^{(L)}`, so ``scale=1/B`` yields the deltas of
    the mean cost :math:`\partial E / \partial z_n^{(l)} = \delta_n^{(l)} / B`.

    Parameters
    ----------
    params : list of dict
        Parameters used in the forward pass.
    cache : Cache
        Returned by :func:`forward` for the same ``params``.
    Y : array_like
        Targets (see :func:`check_model`); one-hot floats when ``check=False``.
    activations : str or sequence of str, default "tanh"
        As in the forward pass.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Loss of each example.
    scale : float, default 1.0
        Multiplies every delta.
    return_losses : bool, default False
        Also return the per-example losses :math:`E_n` (computed anyway).
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    Deltas : list of ndarray
        ``Deltas[l-1]`` of shape ``(B, n_l)``.
    E_n : ndarray, shape (B,)
        Only if ``return_losses``: the per-example losses.
    """
    if check:
        Y = _check_cache(params, cache, Y, activations, loss)
    f = _activations(activations, len(params))
    L = len(params)
    Deltas: list[FloatArray] = [np.empty(0)] * L  # Deltas[l - 1] is Delta^(l)
    # output layer: delta^(L) = dE_n/dy_hat * f_L'(z^(L))   (cross-entropy: softmax(z) - y)
    E_n, dE_dyhat = LOSSES[loss].value_and_grad(cache.a[L - 1], cast(FloatArray, Y))
    Deltas[L - 1] = scale * dE_dyhat * f[L - 1].df(cache.z[L - 1], cache.a[L - 1])
    for l in range(L - 1, 0, -1):  # hidden layers l = L-1, ..., 1
        # delta^(l) = (W^(l+1)^T delta^(l+1)) * f_l'(z^(l));  rows: Delta^(l+1) W^(l+1)
        Deltas[l - 1] = (Deltas[l] @ params[l]["W"]) * f[l - 1].df(cache.z[l - 1], cache.a[l - 1])
    if return_losses:
        return Deltas, E_n
    return Deltas


def gradient_from_deltas(
    cache: Cache, Deltas: list[FloatArray], *, out: Params | None = None
) -> Params:
    r"""Gradient of the batch cost from the layer inputs and deltas, in matrix form.

    .. math::

        \frac{\partial E}{\partial W^{(l)}} = \Delta^{(l)\top} X^{(l)}
        = \sum_n \delta_n^{(l)} x_n^{(l)\top},
        \qquad
        \frac{\partial E}{\partial b^{(l)}} = \sum_n \delta_n^{(l)}.

    Pass the per-example deltas for the sum cost, or deltas scaled by :math:`1/B`
    (:func:`deltas` with ``scale=1/B``) for the mean cost.

    Parameters
    ----------
    cache : Cache
        From :func:`forward`.
    Deltas : list of ndarray
        From :func:`deltas`, ``Deltas[l-1]`` of shape ``(B, n_l)``.
    out : list of dict, optional
        Arrays shaped like the parameters to write the gradient into (a training loop
        reuses them every step instead of allocating new ones).

    Returns
    -------
    list of dict
        ``grads[l-1] = {"W": (n_l, n_{l-1}), "b": (n_l,)}``, shaped like the parameters
        (``out`` itself if given).
    """
    grads: Params = [{} for _ in Deltas] if out is None else out
    for g, x, Delta in zip(grads, cache.x, Deltas, strict=True):
        g["W"] = np.matmul(Delta.T, x, out=g.get("W"))  # Delta^T X = sum_n delta_n x_n^T
        g["b"] = Delta.sum(axis=0, out=g.get("b"))  # sum_n delta_n
    return grads


def _check_cache(
    params: Params, cache: Cache, Y: ArrayLike, activations: Activations, loss: LossName
) -> FloatArray:
    if not isinstance(cache, Cache):
        raise TypeError(
            f"cache must be the Cache returned by forward(); got {type(cache).__name__}"
        )
    X, Y = check_model(params, cache.x[0], Y, activations, loss)
    L = len(params)
    if not (len(cache.x) == len(cache.z) == len(cache.a) == L):
        raise ValueError(f"cache must hold {L} layers to match params; got {len(cache.x)}")
    return Y


# ----------------------------------------------------------------------------- conveniences
def cost(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    *,
    check: bool = True,
) -> float:
    r"""The cost :math:`E = \sum_n E_n` or :math:`\frac1N \sum_n E_n` on ``(X, Y)``.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    float
        The cost.
    """
    if check:
        X, Y = check_model(params, X, Y, activations, loss, reduction)
    y_hat, _ = forward(params, X, activations, check=False)
    E_n = LOSSES[loss].value(y_hat, cast(FloatArray, Y))
    return float(_reduce(E_n, reduction))


def gradient(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    reduction: Reduction = "mean",
    *,
    check: bool = True,
) -> Params:
    r"""Gradient of the cost over the whole set ``(X, Y)``: the book's answer.

    .. math::

        \nabla E = \sum_n \nabla E_n \ (\text{sum}) \quad\text{or}\quad
        \frac1N \sum_n \nabla E_n \ (\text{mean}),
        \qquad \frac{\partial E}{\partial W^{(l)}} = c\,\Delta^{(l)\top} X^{(l)}.

    Computed in matrix form (one forward and one backward pass over all rows),
    never by materialising the per-example gradients.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets (see :func:`check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    reduction : {"sum", "mean"}, default "mean"
        Reduction over examples.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    list of dict
        Gradients shaped like ``params``.
    """
    if check:
        X, Y = check_model(params, X, Y, activations, loss, reduction)
    X = cast(FloatArray, X)  # validated above, or by the caller (check=False)
    _, cache = forward(params, X, activations, check=False)
    c = 1.0 / X.shape[0] if reduction == "mean" else 1.0
    Deltas = deltas(params, cache, Y, activations, loss, scale=c, check=False)
    return gradient_from_deltas(cache, Deltas)  # c * Delta^T X per layer


def predict(
    params: Params, X: ArrayLike, activations: Activations = "tanh", *, check: bool = True
) -> FloatArray:
    r"""Network output :math:`\hat Y` (logits for a classifier).

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        Inputs.
    activations : str or sequence of str, default "tanh"
        See :func:`resolve_activations`.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    ndarray, shape (B, n_L)
        :math:`\hat Y = A^{(L)}`.
    """
    return forward(params, X, activations, check=check)[0]


def accuracy(
    params: Params,
    X: ArrayLike,
    y: ArrayLike,
    activations: Activations = "tanh",
    *,
    check: bool = True,
) -> float:
    r"""Fraction of examples whose largest output is the true class.

    Parameters
    ----------
    params : list of dict
        Classifier parameters (``n_L`` classes).
    X : array_like, shape (B, n_0)
        Inputs.
    y : array_like of int, shape (B,)
        Labels in ``[0, n_L)`` (or one-hot rows ``(B, n_L)``).
    activations : str or sequence of str, default "tanh"
        See :func:`resolve_activations`.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    float
        :math:`\frac1B \sum_n [\arg\max_k \hat y_{nk} = y_n]`.
    """
    if check:
        X, Y = check_model(params, X, y, activations, "softmax_cross_entropy")
        labels = Y.argmax(axis=1)
    else:
        labels = np.asarray(y)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
    y_hat, _ = forward(params, X, activations, check=False)
    return float(np.mean(y_hat.argmax(axis=1) == labels))
