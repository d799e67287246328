r"""Private training (DP-SGD): clip every per-example gradient, add noise, then average.

The training-set gradient averages the per-example gradients, so one example can move
it arbitrarily far: nothing bounds :math:`\lVert \nabla E_n \rVert`.  DP-SGD
(Abadi et al. 2016) bounds each example's influence before averaging.  Every example of
a batch :math:`\mathcal B` has its gradient clipped to norm at most :math:`C`,

.. math::

    \bar g_n = \nabla E_n \cdot \min\Big(1, \frac{C}{\lVert \nabla E_n \rVert}\Big),

and the step uses their sum plus Gaussian noise scaled to that bound, divided by the
expected batch size :math:`qN`,

.. math::

    \tilde g = \frac{1}{qN} \Big( \sum_{n \in \mathcal B} \bar g_n
    + \mathcal N(0, \sigma^2 C^2 I) \Big).

Each batch is a **Poisson sample**: every example joins it independently with
probability :math:`q`, so its size varies around :math:`qN`.  That is the sampling the
privacy accountants assume; :func:`epsilon` asks Google's ``dp-accounting`` package
for the guarantee :math:`(\varepsilon, \delta)` of the whole run (an optional
dependency, imported only there).

The clipped sum needs no per-example gradient in memory: the norms come from the norm
trick (:func:`mlcore.per_example.per_example_gradient_norms`), and since every layer's
per-example gradient is :math:`\delta_n^{(l)} x_n^{(l)\top}`, scaling the row
:math:`\delta_n` of every layer's deltas by the clipping factor :math:`c_n` clips
example :math:`n`; the sum is then one matrix product per layer,
:math:`(\operatorname{diag}(c)\,\Delta^{(l)})^\top X^{(l)}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._types import Activations, FloatArray, LossName, Params
from .mlp import accuracy, check_model, cost, deltas, forward, gradient_from_deltas
from .params import _copy
from .per_example import per_example_gradient_norms
from .training import UpdateRule, check_validation, update_rule

__all__ = [
    "PrivateHistory",
    "clip_factors",
    "clip_rows",
    "clipped_gradient_sum",
    "dp_sgd",
    "epsilon",
    "noisy_clipped_mean",
]


def _clip_norm(clip_norm: object) -> float:
    """``C > 0``; ``math.inf`` means no clipping."""
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float, np.floating)):
        raise TypeError(
            f"clip_norm must be a real number > 0 (or math.inf); got "
            f"{type(clip_norm).__name__} {clip_norm!r}"
        )
    C = float(clip_norm)
    if math.isnan(C) or C <= 0:
        raise ValueError(f"clip_norm must be > 0 (or math.inf for no clipping); got {C}")
    return C


def _noise(noise_multiplier: object, C: float) -> float:
    """``sigma >= 0`` (finite), and only 0 when nothing bounds the sum (``C = inf``)."""
    sigma = _checks.real(noise_multiplier, "noise_multiplier", nonneg=True)
    if sigma > 0 and math.isinf(C):
        raise ValueError(
            f"noise_multiplier = {sigma} needs a finite clip_norm: the noise has standard "
            "deviation noise_multiplier * clip_norm"
        )
    return sigma


def clip_factors(norms: ArrayLike, clip_norm: float) -> FloatArray:
    r"""The factor :math:`c_n = \min(1, C / \lVert \nabla E_n \rVert)` of every example.

    Parameters
    ----------
    norms : array_like, shape (B,)
        Per-example gradient norms :math:`\lVert \nabla E_n \rVert \ge 0`.
    clip_norm : float
        :math:`C > 0`; ``math.inf`` gives factors 1 (no clipping).

    Returns
    -------
    ndarray, shape (B,)
        :math:`c_n \in (0, 1]`; a zero gradient keeps the factor 1.
    """
    C = _clip_norm(clip_norm)
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or (norms < 0).any() or not np.isfinite(norms).all():
        raise ValueError(
            f"norms must be a 1-D array of finite values >= 0; got shape {norms.shape}"
        )
    return np.minimum(1.0, C / np.maximum(norms, np.finfo(np.float64).tiny))


def clip_rows(G: ArrayLike, clip_norm: float) -> FloatArray:
    r"""Clip every row of a matrix of per-example gradients to norm at most :math:`C`.

    Parameters
    ----------
    G : array_like, shape (B, P)
        Row :math:`n` is the flattened :math:`\nabla E_n`
        (:func:`mlcore.per_example.per_example_gradients` with ``flat=True``).
    clip_norm : float
        :math:`C > 0`; ``math.inf`` returns ``G`` unchanged (a copy).

    Returns
    -------
    ndarray, shape (B, P)
        Rows :math:`\bar g_n = c_n \nabla E_n`, each of norm :math:`\le C`.
    """
    G = _checks.float_matrix(G, "G")
    factors = clip_factors(np.linalg.norm(G, axis=1), clip_norm)
    return G * factors.astype(G.dtype)[:, None]


def clipped_gradient_sum(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    clip_norm: float,
    check: bool = True,
) -> tuple[Params, FloatArray]:
    r"""The sum of the clipped per-example gradients, without materialising any of them.

    .. math::

        \sum_n c_n \frac{\partial E_n}{\partial W^{(l)}}
        = \big(\operatorname{diag}(c)\, \Delta^{(l)}\big)^\top X^{(l)}, \qquad
        c_n = \min\Big(1, \frac{C}{\lVert \nabla E_n \rVert}\Big),

    with the norms from the norm trick.

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
    clip_norm : float
        :math:`C > 0`, or ``math.inf`` (the plain sum of the per-example gradients).
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    grads : list of dict
        :math:`\sum_n \bar g_n` in the shapes of ``params``.
    norms : ndarray, shape (B,)
        The unclipped norms :math:`\lVert \nabla E_n \rVert`.
    """
    C = _clip_norm(clip_norm)
    if check:
        X, Y = check_model(params, X, Y, activations, loss)
    X = cast(FloatArray, X)
    norms = per_example_gradient_norms(params, X, Y, activations, loss, check=False)
    c = clip_factors(norms, C).astype(X.dtype)[:, None]
    _, cache = forward(params, X, activations, check=False)
    Deltas = deltas(params, cache, Y, activations, loss, check=False)
    # clipping example n scales its delta in every layer: sum_n c_n delta_n x_n^T
    return gradient_from_deltas(cache, [c * Delta for Delta in Deltas]), norms


def noisy_clipped_mean(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    *,
    clip_norm: float,
    noise_multiplier: float,
    expected_batch_size: float,
    rng: np.random.Generator,
    check: bool = True,
) -> Params:
    r"""The private gradient of one batch: clipped sum plus noise, over the expected size.

    .. math::

        \tilde g = \frac{1}{qN} \Big( \sum_{n \in \mathcal B} \bar g_n + \sigma C\, \xi
        \Big), \qquad \xi \sim \mathcal N(0, I).

    With :math:`\sigma = 0`, :math:`C = \infty` and ``expected_batch_size`` equal to the
    batch's size, this is the ordinary mean gradient.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (B, n_0)
        The batch's inputs.
    Y : array_like
        The batch's targets.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    clip_norm : float
        :math:`C > 0`, or ``math.inf`` (no clipping; then ``noise_multiplier`` must be 0).
    noise_multiplier : float
        :math:`\sigma \ge 0`: the noise's standard deviation is :math:`\sigma C`.
    expected_batch_size : float
        :math:`qN > 0`, the divisor (not the batch's actual size: that would depend on
        who is in the batch).
    rng : numpy.random.Generator
        Draws the noise, one standard normal per parameter (in the order of
        :func:`mlcore.params.flatten_params`), even when :math:`\sigma = 0`.
    check : bool, default True
        Validate the arguments.

    Returns
    -------
    list of dict
        :math:`\tilde g` in the shapes of ``params``.
    """
    C = _clip_norm(clip_norm)
    sigma = _noise(noise_multiplier, C)
    size = _checks.real(expected_batch_size, "expected_batch_size", positive=True)
    rng = _checks.rng(rng)
    grads, _ = clipped_gradient_sum(params, X, Y, activations, loss, clip_norm=C, check=check)
    return _add_noise_and_divide(grads, sigma * C if sigma > 0 else 0.0, size, rng)


def _add_noise_and_divide(
    grads: Params, std: float, size: float, rng: np.random.Generator
) -> Params:
    for g in grads:
        for key in ("W", "b"):
            xi = rng.standard_normal(g[key].shape).astype(g[key].dtype)
            g[key] = (g[key] + std * xi) / size
    return grads


@dataclass
class PrivateHistory:
    r"""What :func:`dp_sgd` records.

    Attributes
    ----------
    batch_sizes : ndarray, shape (T,)
        Size of every Poisson-sampled batch.
    clipped_fraction : ndarray, shape (T,)
        Fraction of each batch's examples whose gradient norm exceeded :math:`C`
        (NaN for an empty batch).
    epoch_loss : ndarray, shape (E + 1,)
        Mean training cost before training and after every epoch of
        ``steps_per_epoch`` steps.
    val_accuracy : ndarray, shape (E + 1,)
        Accuracy on the validation data at the same moments (empty without them).
    steps_per_epoch : int
        :math:`\lceil 1/q \rceil` steps: about :math:`N` examples seen.
    """

    batch_sizes: np.ndarray
    clipped_fraction: np.ndarray
    epoch_loss: np.ndarray
    val_accuracy: np.ndarray
    steps_per_epoch: int


def dp_sgd(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    lr: float,
    num_epochs: int,
    sampling_rate: float,
    clip_norm: float,
    noise_multiplier: float,
    rng: np.random.Generator,
    optimizer: UpdateRule | None = None,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[Params, PrivateHistory]:
    r"""DP-SGD with Poisson-sampled batches.

    Every step draws a batch in which each of the :math:`N` examples is present
    independently with probability :math:`q`, computes :func:`noisy_clipped_mean`
    with the expected batch size :math:`qN` and hands it to the update rule.  An epoch
    is :math:`\lceil 1/q \rceil` steps; the run is ``num_epochs`` epochs, so
    :math:`T = \text{num\_epochs} \cdot \lceil 1/q \rceil` steps, the number to give
    :func:`epsilon`.

    Parameters
    ----------
    params : list of dict
        Initial parameters (not modified).
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets (see :func:`mlcore.mlp.check_model`).
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.
    lr : float
        Learning rate :math:`\eta > 0`.
    num_epochs : int
        Number of epochs, ``>= 1``.
    sampling_rate : float
        :math:`q \in (0, 1]`.
    clip_norm : float
        :math:`C > 0`, or ``math.inf``.
    noise_multiplier : float
        :math:`\sigma \ge 0`.
    rng : numpy.random.Generator
        Draws the batches and the noise.
    optimizer : update rule, default ``SGD()``
        :class:`mlcore.optim.SGD` or :class:`mlcore.optim.Adam`: it sees only the
        private gradient, so the guarantee is unchanged.
    validation : (X_val, Y_val), optional
        Held-out data (class labels) whose accuracy is recorded after every epoch.

    Returns
    -------
    params : list of dict
        Trained parameters (new arrays).
    history : PrivateHistory
    """
    X, Y = check_model(params, X, Y, activations, loss)
    N = X.shape[0]
    eta = _checks.real(lr, "lr", positive=True)
    num_epochs = _checks.positive_int(num_epochs, "num_epochs")
    q = _checks.real(sampling_rate, "sampling_rate", positive=True)
    if q > 1:
        raise ValueError(f"sampling_rate must be in (0, 1]; got {q}")
    C = _clip_norm(clip_norm)
    sigma = _noise(noise_multiplier, C)
    rng = _checks.rng(rng)
    optimizer = update_rule(optimizer)
    val = check_validation(params, validation, activations, loss)
    K = math.ceil(1 / q)
    params = _copy(params)
    state = optimizer.init(params)
    sizes: list[int] = []
    clipped: list[float] = []
    epoch_loss = [cost(params, X, Y, activations, loss, check=False)]
    val_acc = [] if val is None else [accuracy(params, *val, activations)]
    for _ in range(num_epochs):
        for _ in range(K):
            idx = np.flatnonzero(rng.random(N) < q)  # Poisson sampling
            sizes.append(len(idx))
            if len(idx):
                grads, norms = clipped_gradient_sum(params, X[idx], Y[idx], activations, loss,
                                                    clip_norm=C, check=False)  # fmt: skip
                clipped.append(float(np.mean(norms > C)))
            else:  # an empty batch still releases noise
                grads = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
                clipped.append(math.nan)
            grads = _add_noise_and_divide(grads, sigma * C if sigma > 0 else 0.0, q * N, rng)
            optimizer.step(params, grads, eta, state)
        epoch_loss.append(cost(params, X, Y, activations, loss, check=False))
        if val is not None:
            val_acc.append(accuracy(params, *val, activations))
    history = PrivateHistory(
        batch_sizes=np.array(sizes, dtype=np.intp),
        clipped_fraction=np.array(clipped, dtype=np.float64),
        epoch_loss=np.array(epoch_loss, dtype=np.float64),
        val_accuracy=np.array(val_acc, dtype=np.float64),
        steps_per_epoch=K,
    )
    return params, history


#: Integer Rényi orders of :func:`epsilon`'s RDP accountant.
RDP_ORDERS = tuple(range(2, 65)) + (80, 96, 128, 192, 256)


def epsilon(
    noise_multiplier: float,
    sampling_rate: float,
    num_steps: int,
    delta: float,
    *,
    accountant: Literal["rdp", "pld"] = "rdp",
) -> float:
    r"""The :math:`\varepsilon` of :math:`(\varepsilon, \delta)`-DP for a DP-SGD run.

    Asks the ``dp-accounting`` package for the guarantee of ``num_steps`` compositions
    of the Poisson-subsampled Gaussian mechanism (sampling rate :math:`q`, noise
    multiplier :math:`\sigma`), with its Rényi-DP accountant (integer orders
    ``RDP_ORDERS``, 2 to 64 and five larger ones) or its privacy-loss-distribution
    accountant (tighter, slower).

    Parameters
    ----------
    noise_multiplier : float
        :math:`\sigma \ge 0`; 0 gives :math:`\varepsilon = \infty`.
    sampling_rate : float
        :math:`q \in (0, 1]`.
    num_steps : int
        :math:`T \ge 1`.
    delta : float
        :math:`\delta \in (0, 1)`.
    accountant : {"rdp", "pld"}, default "rdp"

    Returns
    -------
    float
        :math:`\varepsilon` (``inf`` when :math:`\sigma = 0`).
    """
    sigma = _checks.real(noise_multiplier, "noise_multiplier", nonneg=True)
    q = _checks.real(sampling_rate, "sampling_rate", positive=True)
    if q > 1:
        raise ValueError(f"sampling_rate must be in (0, 1]; got {q}")
    T = _checks.positive_int(num_steps, "num_steps")
    delta = _checks.real(delta, "delta", positive=True, below=1.0)
    _checks.choice(accountant, ("rdp", "pld"), "accountant")
    if sigma == 0:
        return math.inf
    try:
        import dp_accounting
    except ImportError as exc:  # an optional dependency of the engine
        raise ImportError(
            "epsilon needs Google's dp-accounting package: pip install dp-accounting==0.6.0"
        ) from exc
    from dp_accounting import pld, rdp

    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), T
    )
    if accountant == "rdp":
        acc = rdp.RdpAccountant(orders=list(RDP_ORDERS))
    else:
        acc = pld.PLDAccountant()
    acc.compose(event)
    return float(acc.get_epsilon(delta))
