r"""Gradients of the input: saliency, the fast gradient sign attack, optimising an input.

Training never needs :math:`\partial E_n / \partial x_n`, but the backward pass gives it
one layer further (:func:`mlcore.per_example.input_gradient`):

.. math::

    \frac{\partial E_n}{\partial x_n} = W^{(1)\top} \delta_n^{(1)} .

This module uses it with the weights **frozen**: to see which pixels the output is most
sensitive to (:func:`class_score_gradient`), to move an input a small step that raises
its loss (:func:`fgsm`, :func:`smallest_flipping_eps`), and to optimise an input itself
(:func:`optimise_inputs`, with the objectives :func:`class_objective` and
:func:`feature_matching_objective`).

An objective here is a function ``f(X) -> (values, grads)`` of a batch of inputs,
``values`` of shape ``(B,)`` and ``grads`` of shape ``(B, n_0)``, one independent
problem per row.  ``bounds`` is ``None`` or a pair ``(lo, hi)`` of numbers or arrays of
shape ``(n_0,)``: the valid range of every input feature (e.g. the standardised values
of the darkest and brightest pixel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._types import ActivationName, Activations, FloatArray, IntArray, LossName, Params
from .losses import log_softmax
from .mlp import check_model, forward, resolve_activations
from .per_example import input_gradient

__all__ = [
    "class_objective",
    "class_score_gradient",
    "feature_matching_objective",
    "fgsm",
    "optimise_inputs",
    "patch_gram",
    "smallest_flipping_eps",
]

#: An objective of a batch of inputs: per-row values ``(B,)`` and gradients ``(B, n_0)``.
Objective = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
Bounds = tuple[ArrayLike, ArrayLike] | None
ScoreKind = Literal["score", "log_prob"]
SCORE_KINDS = ("score", "log_prob")


# ------------------------------------------------------------------------ validation
def _bounds(bounds: object, n0: int, dtype: np.dtype[np.floating]) -> tuple[FloatArray, FloatArray]:
    """``(lo, hi)`` as arrays of shape ``(n0,)``; infinite for ``None``."""
    if bounds is None:
        return np.full(n0, -np.inf, dtype), np.full(n0, np.inf, dtype)
    if not isinstance(bounds, tuple | list) or len(bounds) != 2:
        raise TypeError(f"bounds must be None or a pair (lo, hi); got {bounds!r:.80}")
    out = []
    for name, v in zip(("lo", "hi"), bounds, strict=True):
        arr = np.asarray(v, dtype=dtype)
        if arr.ndim == 0:
            arr = np.full(n0, arr, dtype)
        if arr.shape != (n0,):
            raise ValueError(f"bounds {name} must be a number or of shape ({n0},); got {arr.shape}")
        out.append(_checks.finite(arr, f"bounds {name}"))
    lo, hi = out
    if not (lo < hi).all():
        raise ValueError(
            f"bounds must satisfy lo < hi for every feature; fails for {int((lo >= hi).sum())}"
        )
    return lo, hi


def _inside(X: FloatArray, lo: FloatArray, hi: FloatArray, name: str = "X") -> None:
    outside = (X < lo) | (X > hi)
    if outside.any():
        raise ValueError(f"{name} must lie within bounds; {int(outside.sum())} entries are outside")


def _labels(
    params: Params, X: ArrayLike, classes: ArrayLike, activations: Activations
) -> tuple[FloatArray, IntArray]:
    """Validated inputs and integer class labels for a network with logits as outputs."""
    X, _ = check_model(params, X, classes, activations, "softmax_cross_entropy")
    n_L = params[-1]["W"].shape[0]
    return X, _checks.int_labels(classes, n_L, "classes")


# --------------------------------------------------------------------------- saliency
def class_score_gradient(
    params: Params,
    X: ArrayLike,
    classes: ArrayLike,
    activations: Activations = "tanh",
    *,
    kind: ScoreKind = "score",
) -> tuple[FloatArray, FloatArray]:
    r"""A class's score and its gradient with respect to the input, for every row.

    ``kind="score"``: the logit :math:`S_c(x) = z^{(L)}_c`; ``kind="log_prob"``:
    :math:`\log p_c(x) = z^{(L)}_c - \log \sum_k e^{z^{(L)}_k}`.  Both come from
    :func:`mlcore.per_example.input_gradient`, whose backward pass starts from an output
    delta :math:`\delta^{(L)}`:

    .. math::

        \frac{\partial \log p_c}{\partial x} = -\frac{\partial E}{\partial x}
        \ \ (\text{cross-entropy with target } c), \qquad
        \frac{\partial S_c}{\partial x}: \ \delta^{(L)} = e_c ,

    the second as the squared error :math:`\tfrac12 \lVert \hat y - t \rVert^2` with the
    constant target :math:`t = \hat y - e_c`, whose output delta :math:`\hat y - t` is
    :math:`e_c`.

    Parameters
    ----------
    params : list of dict
        Network whose output layer gives logits (identity activation).
    X : array_like, shape (B, n_0)
        Inputs.
    classes : array_like of int, shape (B,)
        The class :math:`c` of each row.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`; the last must be ``"identity"``.
    kind : {"score", "log_prob"}, default "score"
        Which score.

    Returns
    -------
    values : ndarray, shape (B,)
        :math:`S_c(x_n)` or :math:`\log p_c(x_n)`.
    grads : ndarray, shape (B, n_0)
        Their gradients with respect to :math:`x_n`.
    """
    _checks.choice(kind, SCORE_KINDS, "kind")
    X, c = _labels(params, X, classes, activations)
    Z, _ = forward(params, X, activations, check=False)
    rows = np.arange(X.shape[0])
    if kind == "log_prob":
        values = log_softmax(Z, check=False)[rows, c]
        return values, -input_gradient(params, X, c, activations, "softmax_cross_entropy")
    target = Z.copy()
    target[rows, c] -= 1.0  # t = y_hat - e_c, so that delta^(L) = y_hat - t = e_c
    return Z[rows, c], input_gradient(params, X, target, activations, "squared_error")


# ------------------------------------------------------------------ the sign attack
def _perturb(
    X: FloatArray, S: FloatArray, eps: ArrayLike, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    return np.clip(X + np.reshape(eps, (-1, 1)) * S, lo, hi)


def _predicted(params: Params, X: FloatArray, activations: Activations) -> IntArray:
    Z, _ = forward(params, X, activations, check=False)
    return Z.argmax(axis=1)


def fgsm(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    eps: float,
    activations: Activations = "tanh",
    loss: LossName = "softmax_cross_entropy",
    *,
    bounds: Bounds = None,
) -> FloatArray:
    r"""The fast gradient sign attack: every input moved by :math:`\pm\varepsilon` per feature.

    .. math::

        x_n' = \operatorname{clip}\big(x_n + \varepsilon\, \operatorname{sign}
        (\partial E_n / \partial x_n),\ \text{lo},\ \text{hi}\big),

    one step that raises the loss :math:`E_n` as much as a linear model of it allows
    within :math:`\lVert x' - x \rVert_\infty \le \varepsilon` (Goodfellow et al., 2015).

    Parameters
    ----------
    params : list of dict
        Network parameters (not changed).
    X : array_like, shape (B, n_0)
        Inputs, within ``bounds``.
    Y : array_like
        Targets (true labels for a classifier).
    eps : float
        :math:`\varepsilon \ge 0`, in the units of ``X``.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "softmax_cross_entropy"
        Per-example loss.
    bounds : (lo, hi), optional
        Valid range of every feature (numbers or arrays of shape ``(n_0,)``).

    Returns
    -------
    ndarray, shape (B, n_0)
        The perturbed inputs :math:`x_n'`.
    """
    eps = _checks.real(eps, "eps", nonneg=True)
    X, Y = check_model(params, X, Y, activations, loss)
    lo, hi = _bounds(bounds, X.shape[1], X.dtype)
    _inside(X, lo, hi)
    S = np.sign(input_gradient(params, X, Y, activations, loss, check=False))
    return _perturb(X, S, eps, lo, hi)


def smallest_flipping_eps(
    params: Params,
    X: ArrayLike,
    labels: ArrayLike,
    eps_max: float,
    activations: Activations = "tanh",
    *,
    bounds: Bounds = None,
    num_grid: int = 200,
    tol: float = 1e-4,
) -> FloatArray:
    r"""For every input, the smallest :math:`\varepsilon` at which the sign attack flips its class.

    The attack of :func:`fgsm` (cross-entropy with the true ``labels``, gradient taken
    once at :math:`x_n`) is applied with :math:`\varepsilon` on the grid
    :math:`\varepsilon_k = k\,\varepsilon_{\max}/K`, :math:`k = 1..K`; the first
    :math:`\varepsilon_k` at which the predicted class differs from the prediction for
    :math:`x_n` itself is refined by bisection on
    :math:`(\varepsilon_{k-1}, \varepsilon_k]` until the interval is shorter than
    ``tol``.  The prediction may change back and forth between grid points; the result is
    the first change the grid sees.

    Parameters
    ----------
    params : list of dict
        Network with logits as outputs (identity output activation).
    X : array_like, shape (B, n_0)
        Inputs, within ``bounds``.
    labels : array_like of int, shape (B,)
        True classes (they give the gradient's sign).
    eps_max : float
        Largest :math:`\varepsilon` tried, > 0.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    bounds : (lo, hi), optional
        Valid range of every feature.  With bounds, an :math:`\varepsilon` larger than
        every ``hi - lo`` changes nothing more.
    num_grid : int, default 200
        :math:`K`, grid points.
    tol : float, default 1e-4
        Width of the final bisection interval, > 0.

    Returns
    -------
    ndarray, shape (B,)
        An :math:`\varepsilon` that changes the class, within ``tol`` of one that does
        not; ``inf`` where no grid point up to ``eps_max`` changes it.
    """
    eps_max = _checks.real(eps_max, "eps_max", positive=True)
    num_grid = _checks.positive_int(num_grid, "num_grid")
    tol = _checks.real(tol, "tol", positive=True)
    X, c = _labels(params, X, labels, activations)
    lo, hi = _bounds(bounds, X.shape[1], X.dtype)
    _inside(X, lo, hi)
    S = np.sign(input_gradient(params, X, c, activations, "softmax_cross_entropy"))
    clean = _predicted(params, X, activations)
    grid = eps_max * np.arange(num_grid + 1) / num_grid
    first = np.full(X.shape[0], num_grid + 1)  # index of the first flipping grid point
    for k in range(1, num_grid + 1):
        todo = first > num_grid
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        flipped = _predicted(params, _perturb(X[idx], S[idx], grid[k], lo, hi), activations)
        first[idx[flipped != clean[idx]]] = k
    out = np.full(X.shape[0], np.inf)
    found = np.flatnonzero(first <= num_grid)
    a, b = grid[first[found] - 1], grid[first[found]]  # no flip at a, flip at b
    Xf, Sf, cf = X[found], S[found], clean[found]
    while found.size and (b - a).max() > tol:
        mid = (a + b) / 2
        flips = _predicted(params, _perturb(Xf, Sf, mid, lo, hi), activations) != cf
        b = np.where(flips, mid, b)
        a = np.where(flips, a, mid)
    out[found] = b
    return out


# --------------------------------------------------------------- optimising an input
def class_objective(
    params: Params,
    X: ArrayLike,
    classes: ArrayLike,
    l2: float,
    activations: Activations = "tanh",
    *,
    kind: ScoreKind = "score",
) -> tuple[FloatArray, FloatArray]:
    r"""What class visualisation maximises: a class's score minus an L2 penalty.

    .. math::

        J_c(x) = S_c(x) - \lambda \lVert x \rVert^2, \qquad
        \nabla_x J_c = \nabla_x S_c - 2 \lambda x

    (Simonyan et al., 2014), with :math:`S_c` the logit or the log-probability
    (:func:`class_score_gradient`).

    Parameters
    ----------
    params : list of dict
        Network with logits as outputs.
    X : array_like, shape (B, n_0)
        Inputs.
    classes : array_like of int, shape (B,)
        The class of each row.
    l2 : float
        :math:`\lambda \ge 0`.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    kind : {"score", "log_prob"}, default "score"
        See :func:`class_score_gradient`.

    Returns
    -------
    values : ndarray, shape (B,)
        :math:`J_c(x_n)`.
    grads : ndarray, shape (B, n_0)
        :math:`\nabla_x J_c(x_n)`.
    """
    l2 = _checks.real(l2, "l2", nonneg=True)
    S, G = class_score_gradient(params, X, classes, activations, kind=kind)
    X = np.asarray(X, dtype=G.dtype)
    return S - l2 * np.einsum("bi,bi->b", X, X), G - 2 * l2 * X


def _patch_index(shape: tuple[int, int], size: int) -> IntArray:
    """Flat pixel indices of every ``size x size`` patch of a ``shape`` image: (m, size**2)."""
    rows, cols = shape
    corners = [(i, j) for i in range(rows - size + 1) for j in range(cols - size + 1)]
    return np.array(
        [[(i + a) * cols + j + b for a in range(size) for b in range(size)] for i, j in corners],
        dtype=np.intp,
    )


def _image_args(U: ArrayLike, shape: object, size: object) -> tuple[FloatArray, IntArray]:
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (rows, columns); got {shape!r:.60}")
    rows = _checks.positive_int(shape[0], "shape[0]")
    cols = _checks.positive_int(shape[1], "shape[1]")
    size = _checks.positive_int(size, "size", maximum=min(rows, cols))
    return _checks.float_matrix(U, "U", cols=rows * cols), _patch_index((rows, cols), size)


def patch_gram(U: ArrayLike, shape: tuple[int, int] = (8, 8), size: int = 2) -> FloatArray:
    r"""The Gram matrix of every image's small patches: a statistic of its strokes.

    Each of the :math:`m` overlapping ``size x size`` patches of image :math:`u` is a
    vector :math:`p_j` of :math:`k = \text{size}^2` pixels; stacked as the rows of
    :math:`P \in \mathbb R^{m \times k}`,

    .. math::

        G(u) = \frac1m P^\top P = \frac1m \sum_j p_j p_j^\top \in \mathbb R^{k \times k},

    the same for any order of the patches: it keeps how neighbouring pixels go together
    (how much ink, how thick, which directions) and forgets where.  Style transfer takes
    such Gram matrices of a convolutional network's feature maps (Gatys et al., 2016); a
    first convolution's features are linear in these patches.

    Parameters
    ----------
    U : array_like, shape (B, rows * columns)
        Images, one flattened per row.
    shape : (int, int), default (8, 8)
        Rows and columns of an image.
    size : int, default 2
        Side of a patch.

    Returns
    -------
    ndarray, shape (B, k, k)
        :math:`G(u_n)`.
    """
    U, idx = _image_args(U, shape, size)
    P = U[:, idx]
    return np.einsum("bmi,bmj->bij", P, P) / idx.shape[0]


def feature_matching_objective(
    params: Params,
    X: ArrayLike,
    *,
    layer: int,
    content: ArrayLike,
    style: ArrayLike,
    style_weight: float,
    to_pixels: tuple[ArrayLike, ArrayLike] = (1.0, 0.0),
    shape: tuple[int, int] = (8, 8),
    size: int = 2,
    activations: Activations = "tanh",
) -> tuple[FloatArray, FloatArray]:
    r"""A miniature style-transfer loss: match one image's features and another's statistics.

    With :math:`a^{(l)}(x)` the activation of hidden layer :math:`l` of the frozen network
    and :math:`u = s \odot x + o` the input as an image (``to_pixels = (s, o)``),

    .. math::

        J(x) = \tfrac12 \lVert a^{(l)}(x) - a_{\text{content}} \rVert^2
        + \beta\, \lVert G(u) - G_{\text{style}} \rVert_F^2 ,

    :math:`G` the patch Gram matrix of :func:`patch_gram`.  The first term's gradient is
    the input gradient of the network cut after layer :math:`l` with the squared error
    and target :math:`a_{\text{content}}`; the second's, with :math:`D = G - G_{\text{style}}`
    symmetric, is :math:`\partial/\partial P = \tfrac{4}{m} P D`, added back onto the
    pixels of every patch and multiplied by :math:`s`.

    Parameters
    ----------
    params : list of dict
        Network parameters (frozen).
    X : array_like, shape (B, n_0)
        Inputs, in the network's units.
    layer : int
        :math:`l`, a hidden layer, ``1 <= layer < L``.
    content : array_like, shape (B, n_l)
        :math:`a_{\text{content}}`, e.g. the activations of the content image.
    style : array_like, shape (B, k, k)
        :math:`G_{\text{style}}`, e.g. :func:`patch_gram` of the style image.
    style_weight : float
        :math:`\beta \ge 0`.
    to_pixels : (scale, offset), default (1, 0)
        :math:`s` and :math:`o`, numbers or arrays of shape ``(n_0,)``.
    shape, size
        As for :func:`patch_gram`.
    activations : str or sequence of str, default "tanh"
        The network's, see :func:`mlcore.mlp.resolve_activations`.

    Returns
    -------
    values : ndarray, shape (B,)
        :math:`J(x_n)`.
    grads : ndarray, shape (B, n_0)
        :math:`\nabla_x J(x_n)`.
    """
    X, _ = check_model(params, X, None, activations)
    acts = cast(tuple[ActivationName, ...], resolve_activations(activations, len(params)))
    layer = _checks.positive_int(layer, "layer", maximum=len(params) - 1)
    beta = _checks.real(style_weight, "style_weight", nonneg=True)
    n0 = X.shape[1]
    s, o = (np.broadcast_to(np.asarray(v, dtype=X.dtype), (n0,)) for v in to_pixels)
    U, idx = _image_args(s * X + o, shape, size)
    k = idx.shape[1]
    G_style = _checks.finite(np.asarray(style, dtype=X.dtype), "style")
    if G_style.shape != (X.shape[0], k, k):
        raise ValueError(f"style must have shape ({X.shape[0]}, {k}, {k}); got {G_style.shape}")
    # content: the network cut after `layer`, squared error against the target activations
    cut, cut_acts = params[:layer], acts[:layer]
    _, T = check_model(cut, X, content, cut_acts, "squared_error")
    A, _ = forward(cut, X, cut_acts, check=False)
    value = 0.5 * np.einsum("bi,bi->b", A - T, A - T)
    grad = input_gradient(cut, X, T, cut_acts, "squared_error", check=False)
    # style: ||G(u) - G_style||_F^2 and its gradient through the patches
    P = U[:, idx]  # (B, m, k)
    m = idx.shape[0]
    D = np.einsum("bmi,bmj->bij", P, P) / m - G_style
    value = value + beta * np.einsum("bij,bij->b", D, D)
    dP = (4.0 / m) * np.einsum("bmj,bji->bmi", P, D)
    dU = np.zeros_like(U)
    for j in range(k):  # position j of every patch: distinct pixels, so += adds them all
        dU[:, idx[:, j]] += dP[:, :, j]
    return value, grad + beta * s * dU


def optimise_inputs(
    objective: Objective,
    X0: ArrayLike,
    *,
    lr: float,
    num_steps: int,
    maximise: bool = False,
    bounds: Bounds = None,
) -> tuple[FloatArray, FloatArray]:
    r"""Optimise the inputs themselves, by projected gradient steps, with the network frozen.

    .. math::

        x \leftarrow \operatorname{clip}\big(x \mp \eta \nabla_x J(x),\ \text{lo},\ \text{hi}\big)

    (``-`` to minimise, ``+`` with ``maximise=True``), every row on its own.

    Parameters
    ----------
    objective : callable
        ``objective(X) -> (values (B,), grads (B, n_0))``, e.g. :func:`class_objective`
        or :func:`feature_matching_objective` with everything else bound.
    X0 : array_like, shape (B, n_0)
        Starting inputs (e.g. noise), within ``bounds``.
    lr : float
        Step size :math:`\eta > 0`.
    num_steps : int
        Number of steps, >= 1.
    maximise : bool, default False
        Ascend instead of descend.
    bounds : (lo, hi), optional
        Valid range of every feature; each step is clipped to it.

    Returns
    -------
    X : ndarray, shape (B, n_0)
        The inputs after ``num_steps`` steps.
    values : ndarray, shape (num_steps + 1, B)
        :math:`J` of every row before each step and after the last.
    """
    if not callable(objective):
        raise TypeError(
            f"objective must be callable f(X) -> (values, grads); got {objective!r:.60}"
        )
    lr = _checks.real(lr, "lr", positive=True)
    num_steps = _checks.positive_int(num_steps, "num_steps")
    X = _checks.float_matrix(X0, "X0").copy()
    lo, hi = _bounds(bounds, X.shape[1], X.dtype)
    _inside(X, lo, hi, "X0")
    sign = 1.0 if maximise else -1.0
    values = np.empty((num_steps + 1, X.shape[0]), dtype=X.dtype)
    for t in range(num_steps + 1):
        v, G = objective(X)
        if np.shape(v) != (X.shape[0],) or np.shape(G) != X.shape:
            raise ValueError(
                f"objective must return values of shape ({X.shape[0]},) and grads of shape "
                f"{X.shape}; got {np.shape(v)} and {np.shape(G)}"
            )
        values[t] = v
        if t < num_steps:
            X = np.clip(X + sign * lr * G, lo, hi)
    return X, values
