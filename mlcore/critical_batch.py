r"""How large a batch is worth it: the gradient noise scale and the critical batch size.

McCandlish et al. (2018) model minibatch SGD with a batch of :math:`B` examples, its
learning rate tuned, as the full-batch step spoiled by noise of covariance
:math:`\Sigma / B`.  The best step then improves the cost by

.. math::

    \Delta E(B) = \frac{\Delta E_{\max}}{1 + B_{\text{noise}} / B},
    \qquad
    B_{\text{simple}} = \frac{\operatorname{tr}\Sigma}{\lVert G \rVert^2},

where :math:`G = \frac1N \sum_n g_n` is the mean (full) gradient and
:math:`\Sigma = \frac1N \sum_n (g_n - G)(g_n - G)^\top` the covariance of the per-example
gradients :math:`g_n` (:mod:`mlcore.noise`); :math:`B_{\text{simple}}` is the *simple*
noise scale, equal to :math:`B_{\text{noise}}` when the Hessian is a multiple of the
identity.  Summed over a run, the steps :math:`S` and the examples :math:`E = BS` needed
to reach a given cost trade off along the hyperbola

.. math::

    \Big(\frac{S}{S_{\min}} - 1\Big)\Big(\frac{E}{E_{\min}} - 1\Big) = 1
    \iff S(B) = S_{\min} + \frac{E_{\min}}{B},
    \qquad
    B_{\text{crit}} = \frac{E_{\min}}{S_{\min}}:

well below :math:`B_{\text{crit}}` doubling the batch halves the steps; well above it,
the steps stay near :math:`S_{\min}` and the examples grow like :math:`B`.

This module measures the pieces: :func:`noise_scale` exactly from every example (or
:func:`noise_scale_along` a recorded run, smoothed by :func:`smoothed_noise_scale`),
:func:`noise_scale_from_batches` from the
gradients of minibatches of two sizes (the unbiased estimate of the paper),
:func:`steps_to_target` (the SGD loop of :func:`mlcore.training.train`, stopped at a
target cost), :func:`tune_steps_to_target` (the best rate of a factor-2 ladder) and
:func:`fit_tradeoff` (:math:`S_{\min}`, :math:`E_{\min}` from measured :math:`S(B)`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._types import Activations, LossName, Params
from .mlp import check_model, cost, gradient
from .noise import gradient_noise_trace
from .params import _copy, _flatten, _unflatten
from .training import train

__all__ = [
    "NoiseScale",
    "Reach",
    "Tradeoff",
    "Tuned",
    "fit_tradeoff",
    "noise_scale",
    "noise_scale_along",
    "noise_scale_from_batches",
    "smoothed_noise_scale",
    "steps_to_target",
    "tune_steps_to_target",
]


# ----------------------------------------------------------------------- noise scale
class NoiseScale(NamedTuple):
    r""":math:`\operatorname{tr}\Sigma`, :math:`\lVert G\rVert^2` and their ratio.

    Attributes
    ----------
    trace : float or ndarray
        :math:`\operatorname{tr}\Sigma`.
    grad_sq : float or ndarray
        :math:`\lVert G \rVert^2`.
    b_simple : float or ndarray
        :math:`B_{\text{simple}} = \operatorname{tr}\Sigma / \lVert G \rVert^2`.
    """

    trace: float | NDArray[np.float64]
    grad_sq: float | NDArray[np.float64]
    b_simple: float | NDArray[np.float64]


def noise_scale(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
) -> NoiseScale:
    r"""The simple noise scale :math:`\operatorname{tr}\Sigma / \lVert G\rVert^2`, exactly.

    Both parts come from every example of ``(X, Y)``: :math:`\operatorname{tr}\Sigma` from
    :func:`mlcore.noise.gradient_noise_trace` (per-example gradient norms, no gradient
    materialised) and :math:`G` from :func:`mlcore.mlp.gradient`.  With the whole training
    set there is no sampling error, hence no bias.

    Parameters
    ----------
    params : list of dict
        Network parameters.
    X : array_like, shape (N, n_0)
        Inputs.
    Y : array_like
        Targets.
    activations : str or sequence of str, default "tanh"
        See :func:`mlcore.mlp.resolve_activations`.
    loss : {"squared_error", "softmax_cross_entropy"}, default "squared_error"
        Per-example loss.

    Returns
    -------
    NoiseScale
        Floats; ``b_simple`` is ``inf`` where :math:`G = 0`.
    """
    X, Y = check_model(params, X, Y, activations, loss)
    trace = gradient_noise_trace(params, X, Y, activations, loss)
    G = _flatten(gradient(params, X, Y, activations, loss, "mean", check=False))
    grad_sq = float(np.dot(G.astype(np.float64), G.astype(np.float64)))
    return NoiseScale(trace, grad_sq, trace / grad_sq if grad_sq > 0 else math.inf)


def noise_scale_along(
    trajectory: ArrayLike,
    like: Params,
    X: ArrayLike,
    Y: ArrayLike,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
) -> tuple[NDArray[np.float64], NoiseScale]:
    r"""The training cost and :func:`noise_scale` at every point of a recorded run.

    Parameters
    ----------
    trajectory : array_like, shape (T, P)
        Flattened parameters, one row per point (``History.trajectory`` of
        :func:`mlcore.training.train` with ``record="step"`` or ``"epoch"``, or rows of it).
    like : list of dict
        Parameters of the same shapes and dtype (e.g. the start of the run).
    X, Y, activations, loss
        As in :func:`noise_scale`.

    Returns
    -------
    costs : ndarray, shape (T,)
        Mean cost on ``(X, Y)`` at every point.
    NoiseScale
        Arrays of shape ``(T,)``.
    """
    X, Y = check_model(like, X, Y, activations, loss)
    thetas = np.asarray(trajectory)
    P = _flatten(like).size
    if thetas.ndim != 2 or thetas.shape[1] != P or thetas.shape[0] == 0:
        raise ValueError(f"trajectory must have shape (T, {P}) with T >= 1; got {thetas.shape}")
    costs, parts = [], []
    for theta in thetas:
        p = _unflatten(theta, like)
        costs.append(cost(p, X, Y, activations, loss, check=False))
        parts.append(noise_scale(p, X, Y, activations, loss))
    trace, grad_sq, b = (np.array(col, dtype=np.float64) for col in zip(*parts, strict=True))
    return np.array(costs, dtype=np.float64), NoiseScale(trace, grad_sq, b)


def smoothed_noise_scale(along: NoiseScale, half_width: int) -> NDArray[np.float64]:
    r"""The noise scale along a run, from moving means of its two parts.

    At a single iterate of SGD, :math:`\lVert G\rVert^2` jumps from step to step (the
    iterate rattles across the valley), and so does their ratio.  As McCandlish et al.
    do with running averages, average the numerator and the denominator separately over
    the :math:`2h + 1` points centred on each point (fewer at the ends), then divide:

    .. math::

        \bar B_t = \frac{\sum_{|s - t| \le h} \operatorname{tr}\Sigma_s}
        {\sum_{|s - t| \le h} \lVert G_s\rVert^2} .

    Parameters
    ----------
    along : NoiseScale
        Arrays of shape (T,) (from :func:`noise_scale_along`).
    half_width : int
        :math:`h \ge 0`; 0 returns ``along.b_simple``.

    Returns
    -------
    ndarray, shape (T,)
    """
    h = _checks.positive_int(half_width, "half_width", minimum=0)
    trace = np.asarray(along.trace, dtype=np.float64)
    grad_sq = np.asarray(along.grad_sq, dtype=np.float64)
    if trace.ndim != 1 or trace.shape != grad_sq.shape:
        raise ValueError(f"along must hold two arrays of one shape (T,); got {trace.shape}")
    c_tr = np.concatenate([[0.0], np.cumsum(trace)])
    c_g = np.concatenate([[0.0], np.cumsum(grad_sq)])
    t = np.arange(trace.size)
    lo, hi = np.maximum(t - h, 0), np.minimum(t + h + 1, trace.size)
    return (c_tr[hi] - c_tr[lo]) / (c_g[hi] - c_g[lo])


def noise_scale_from_batches(
    sq_small: ArrayLike, sq_big: ArrayLike, b_small: int, b_big: int
) -> NoiseScale:
    r"""Unbiased estimates of :math:`\lVert G\rVert^2` and :math:`\operatorname{tr}\Sigma`
    from minibatch gradients of two sizes (McCandlish et al. 2018, appendix A).

    A minibatch gradient drawn with replacement has
    :math:`\mathbb E \lVert g_B \rVert^2 = \lVert G \rVert^2 + \operatorname{tr}\Sigma / B`:
    its squared norm overestimates :math:`\lVert G\rVert^2`, the more so the smaller
    :math:`B`.  Two sizes :math:`b < B` remove the bias:

    .. math::

        \widehat{\lVert G\rVert^2} = \frac{B \,\overline{\lVert g_B\rVert^2}
        - b\, \overline{\lVert g_b\rVert^2}}{B - b}, \qquad
        \widehat{\operatorname{tr}\Sigma} = \frac{\overline{\lVert g_b\rVert^2}
        - \overline{\lVert g_B\rVert^2}}{1/b - 1/B},

    each averaged over many draws (the bars) before their ratio is taken; the ratio of
    two unbiased estimates is not itself unbiased, only consistent.

    Parameters
    ----------
    sq_small, sq_big : array_like, shape (D,) and (D',)
        Squared norms :math:`\lVert g_b\rVert^2`, :math:`\lVert g_B\rVert^2` of minibatch
        mean gradients of sizes ``b_small`` and ``b_big`` (one entry per draw).
    b_small, b_big : int
        :math:`1 \le b < B`.

    Returns
    -------
    NoiseScale
        The two estimates and their ratio (``inf`` if the estimate of
        :math:`\lVert G\rVert^2` is not positive).
    """
    b = _checks.positive_int(b_small, "b_small")
    B = _checks.positive_int(b_big, "b_big", minimum=b + 1)
    means = []
    for name, sq in (("sq_small", sq_small), ("sq_big", sq_big)):
        arr = _checks.finite(np.asarray(sq, dtype=np.float64), name)
        if arr.ndim != 1 or arr.size == 0 or (arr < 0).any():
            raise ValueError(f"{name} must be a non-empty 1-D array of squared norms (>= 0)")
        means.append(float(arr.mean()))
    small, big = means
    grad_sq = (B * big - b * small) / (B - b)
    trace = (small - big) / (1 / b - 1 / B)
    return NoiseScale(trace, grad_sq, trace / grad_sq if grad_sq > 0 else math.inf)


# ------------------------------------------------------------------ steps to a target
class Reach(NamedTuple):
    r"""What :func:`steps_to_target` returns.

    Attributes
    ----------
    steps : int
        :math:`S`: the first checked step at which the training cost was at most the
        target; ``-1`` if it was not reached.
    reached : bool
        Whether the target was reached within ``max_steps``.
    params : list of dict
        The parameters after ``steps`` steps (the last ones if not reached).
    checked : ndarray of int
        The steps at which the cost was evaluated (0 first).
    costs : ndarray
        The training cost at those steps (the run stops at the first non-finite one).
    """

    steps: int
    reached: bool
    params: Params
    checked: NDArray[np.intp]
    costs: NDArray[np.float64]

    def steps_to(self, target: float) -> int:
        """The first checked step with a training cost at most ``target`` (-1: none)."""
        hit = np.flatnonzero(self.costs <= target)
        return int(self.checked[hit[0]]) if hit.size else -1


def steps_to_target(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    batch_size: int,
    lr: float,
    target: float,
    max_steps: int,
    rng: np.random.Generator,
    resolution: float = 0.02,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
) -> Reach:
    r"""Train with minibatch SGD until the training cost reaches ``target``; count the steps.

    The steps are exactly those of :func:`mlcore.training.train` with the same ``batch_size``,
    ``lr`` and ``rng`` (examples reshuffled every epoch, the mean reduction, a last
    partial batch kept): the run is that one, stopped at the target.  The mean cost on
    ``(X, Y)`` is evaluated before training and then at the steps

    .. math::

        t_{k+1} = \max\big(t_k + 1,\ \lceil (1 + r)\, t_k \rceil\big),

    (every step at first, then at a fixed relative spacing :math:`r` = ``resolution``), so
    the checks cost only :math:`O(\log S / r)` passes over the data.  If the cost falls
    steadily, the returned :math:`S` exceeds the first step at the target by less than
    :math:`r S`; a noisy cost may dip below the target between two checks and rise again,
    and then :math:`S` is the first *checked* step at the target.

    Parameters
    ----------
    params : list of dict
        Start (not modified).
    X : array_like, shape (N, n_0)
        Training inputs.
    Y : array_like
        Training targets.
    batch_size : int
        :math:`1 \le B \le N`.
    lr : float
        Constant learning rate :math:`\eta > 0` (plain SGD).
    target : float
        Training cost to reach.
    max_steps : int
        Give up after this many steps (``>= 1``).
    rng : numpy.random.Generator
        Draws the example order of every epoch.
    resolution : float, default 0.02
        :math:`r \ge 0`; 0 checks every step.
    activations, loss
        As in :func:`mlcore.training.train`.

    Returns
    -------
    Reach
    """
    X, Y = check_model(params, X, Y, activations, loss)
    B = _checks.positive_int(batch_size, "batch_size", maximum=X.shape[0])
    eta = _checks.real(lr, "lr", positive=True)
    goal = _checks.real(target, "target")
    T = _checks.positive_int(max_steps, "max_steps")
    r = _checks.real(resolution, "resolution", nonneg=True)
    _checks.rng(rng)
    checked, costs = [0], [cost(params, X, Y, activations, loss, check=False)]
    next_check, taken = 1, 0

    def at_target(p: Params, t: int) -> bool:
        """Evaluate the cost at the checkpoints; True at the target, a non-finite cost
        or the last step."""
        nonlocal next_check, taken
        taken = t
        if t < next_check and t < T:
            return False
        checked.append(t)
        costs.append(cost(p, X, Y, activations, loss, check=False))
        next_check = max(t + 1, math.ceil((1 + r) * t))
        return costs[-1] <= goal or not math.isfinite(costs[-1]) or t == T

    p = params
    if costs[0] > goal:  # a target already met takes no step
        p, h = train(params, X, Y, activations=activations, loss=loss, lr=eta,
                     batch_size=B, num_epochs=T,  # at least T steps: the rule stops at T
                     rng=rng, track_epoch_loss=False, on_divergence="stop",
                     stop=at_target)  # fmt: skip
        if h.diverged and taken > checked[-1]:  # a non-finite cost between two checks
            checked.append(taken)
            with np.errstate(over="ignore", invalid="ignore"):
                costs.append(cost(p, X, Y, activations, loss, check=False))
    reached = costs[-1] <= goal
    return Reach(checked[-1] if reached else -1, reached, _copy(p),
                 np.array(checked, dtype=np.intp), np.array(costs, dtype=np.float64))  # fmt: skip


class Tuned(NamedTuple):
    r"""What :func:`tune_steps_to_target` returns.

    Attributes
    ----------
    targets : ndarray, shape (K,)
        The training costs to reach, decreasing.
    lrs : ndarray, shape (R,)
        Every rate tried, increasing.
    steps : ndarray of int, shape (R, K)
        :math:`S` of every rate and target; ``-1`` where a run stopped before reaching
        the target (it could not beat the best rate).
    runs : list of Reach
        The run of every rate, each stopped at the last target (or earlier).
    """

    targets: NDArray[np.float64]
    lrs: NDArray[np.float64]
    steps: NDArray[np.intp]
    runs: list[Reach]

    def best(self) -> NDArray[np.intp]:
        """Index into ``lrs`` of the rate with the fewest steps, per target (-1: none)."""
        S = np.where(self.steps >= 0, self.steps, np.iinfo(np.intp).max)
        # fewest steps; among equals, the largest rate
        idx = len(self.lrs) - 1 - np.argmin(S[::-1], axis=0)
        return np.where((self.steps >= 0).any(axis=0), idx, -1).astype(np.intp)


def tune_steps_to_target(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    batch_size: int,
    lr_start: float,
    targets: Sequence[float],
    max_steps: int,
    seed: int,
    factor: float = 2.0,
    max_runs: int = 10,
    resolution: float = 0.02,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
) -> Tuned:
    r"""The fewest steps to each target over a ladder of rates :math:`\eta_0 f^k`.

    Runs :func:`steps_to_target` to the lowest target at ``lr_start`` and at its two
    neighbours on the ladder, then extends the ladder on the side of any target whose
    best rate is at an end of it, until every target's best rate has a worse (or
    unreached) neighbour on both sides: the best rates of the ladder, bracketed.  One
    run gives the steps to every target, read from its checks (:meth:`Reach.steps_to`).
    Every run starts from ``params`` with the example orders of ``seed``, and stops once
    it has taken as many steps as the best run to the lowest target so far: it can then
    beat no best.

    Parameters
    ----------
    params, X, Y
        As in :func:`steps_to_target`.
    batch_size : int
        :math:`B`.
    lr_start : float
        :math:`\eta_0 > 0`.
    targets : sequence of float
        Training costs to reach (any order).
    max_steps : int
        Steps allowed while no run has reached the lowest target.
    seed : int
        Seed of the example orders (the same for every rate).
    factor : float, default 2.0
        :math:`f > 1`, the ratio of neighbouring rates.
    max_runs : int, default 10
        Stop extending after this many runs (a best rate may then lie at an end).
    resolution, activations, loss
        As in :func:`steps_to_target`.

    Returns
    -------
    Tuned
    """
    eta0 = _checks.real(lr_start, "lr_start", positive=True)
    f = _checks.real(factor, "factor", positive=True)
    if f <= 1:
        raise ValueError(f"factor must be > 1; got {f}")
    goals = np.array(sorted((_checks.real(t, "targets") for t in targets), reverse=True))
    if goals.size == 0:
        raise ValueError("targets must hold at least one cost")
    T = _checks.positive_int(max_steps, "max_steps")
    runs_left = _checks.positive_int(max_runs, "max_runs", minimum=3)
    seed = _checks.positive_int(seed, "seed", minimum=0)
    tried: dict[int, Reach] = {}

    def run(k: int) -> None:
        done = [tried[j].steps for j in tried if tried[j].reached]
        tried[k] = steps_to_target(params, X, Y, batch_size=batch_size, lr=eta0 * f**k,
                                   target=float(goals[-1]), max_steps=min(done, default=T),
                                   resolution=resolution, rng=np.random.default_rng(seed),
                                   activations=activations, loss=loss)  # fmt: skip

    def table() -> Tuned:
        ks = sorted(tried)
        S = np.array([[tried[k].steps_to(g) for g in goals] for k in ks], dtype=np.intp)
        return Tuned(goals, np.array([eta0 * f**k for k in ks]), S, [tried[k] for k in ks])

    for k in (0, 1, -1):
        run(k)
    while len(tried) < runs_left:
        tuned = table()
        best = tuned.best()
        ends = {int(i) for i in best if i in (0, len(tuned.lrs) - 1)}
        if not ends:
            break  # every best rate bracketed (or no target reached: no direction)
        run(max(tried) + 1 if len(tuned.lrs) - 1 in ends else min(tried) - 1)
    return table()


# --------------------------------------------------------------------- the trade-off
class Tradeoff(NamedTuple):
    r""":math:`S_{\min}`, :math:`E_{\min}` and :math:`B_{\text{crit}} = E_{\min}/S_{\min}`.

    Attributes
    ----------
    s_min : float
        Fewest steps (the limit :math:`B \to \infty`).
    e_min : float
        Fewest examples (the limit :math:`B \to 0`).
    b_crit : float
        :math:`E_{\min} / S_{\min}` (``inf`` if :math:`S_{\min} = 0`).
    """

    s_min: float
    e_min: float
    b_crit: float

    def steps(self, batch_size: ArrayLike) -> NDArray[np.float64]:
        r""":math:`S(B) = S_{\min} + E_{\min} / B`."""
        return self.s_min + self.e_min / np.asarray(batch_size, dtype=np.float64)

    def examples(self, batch_size: ArrayLike) -> NDArray[np.float64]:
        r""":math:`E(B) = B\,S(B) = E_{\min} + S_{\min} B`."""
        B = np.asarray(batch_size, dtype=np.float64)
        return self.e_min + self.s_min * B


def fit_tradeoff(batch_sizes: ArrayLike, steps: ArrayLike) -> Tradeoff:
    r"""Fit :math:`S(B) = S_{\min} + E_{\min}/B` to measured steps, in relative error.

    The hyperbola :math:`(S/S_{\min} - 1)(E/E_{\min} - 1) = 1` with :math:`E = BS` is this
    line in :math:`1/B`.  The fit minimises

    .. math::

        \sum_i \Big(\frac{S_{\min} + E_{\min}/B_i - S_i}{S_i}\Big)^2
        \quad\text{over } S_{\min} \ge 0,\ E_{\min} \ge 0,

    a least-squares problem linear in the two unknowns (every point counts by its
    relative error, as on a log scale), solved exactly: the unconstrained solution if
    it is non-negative, otherwise the better of the two one-parameter fits.

    Parameters
    ----------
    batch_sizes : array_like, shape (K,)
        :math:`B_i > 0`, at least two different values.
    steps : array_like, shape (K,)
        :math:`S_i > 0`, finite.

    Returns
    -------
    Tradeoff
    """
    B = _checks.finite(np.asarray(batch_sizes, dtype=np.float64), "batch_sizes")
    S = _checks.finite(np.asarray(steps, dtype=np.float64), "steps")
    if B.ndim != 1 or S.shape != B.shape:
        raise ValueError(
            f"batch_sizes and steps must be 1-D of one length; got {B.shape}, {S.shape}"
        )
    if (B <= 0).any() or (S <= 0).any():
        raise ValueError(
            "batch_sizes and steps must be > 0 (drop the runs that did not reach the target)"
        )
    if np.unique(B).size < 2:
        raise ValueError(f"need at least two different batch sizes; got {B}")
    A = np.column_stack([np.ones_like(B), 1 / B]) / S[:, None]  # rows: (1, 1/B_i) / S_i
    y = np.ones_like(S)  # S_i / S_i
    candidates = [np.linalg.lstsq(A, y, rcond=None)[0]]
    for j in range(2):  # one unknown at zero, the other fitted alone
        a = A[:, j]
        c = np.zeros(2)
        c[j] = max(float(a @ y / (a @ a)), 0.0)
        candidates.append(c)
    feasible = [c for c in candidates if (c >= 0).all()]
    s_min, e_min = min(feasible, key=lambda c: float(np.sum((A @ c - y) ** 2)))
    return Tradeoff(float(s_min), float(e_min), float(e_min / s_min) if s_min > 0 else math.inf)
