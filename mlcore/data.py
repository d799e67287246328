r"""Small data sets, all made with an explicit ``rng`` (no downloads).

* :func:`make_line` - the 2-parameter model :math:`y = w x + b + \varepsilon`
  (one feature), for contour plots of the cost over :math:`(w, b)`.
* :func:`make_linear_regression` - :math:`y = W x + b + \varepsilon` with any
  number of features (1-D, 2-D, ...), with the true parameters returned.
* :func:`least_squares` - the exact minimiser of the squared-error cost of a
  linear model on a given sample (the centre of the contours).
* :func:`make_moons`, :func:`make_spirals` - 2-D nonlinear classification.
* :func:`load_digits` - scikit-learn's bundled 8x8 digits (offline), seeded
  train/test split and standardisation.

Targets for regression are 2-D ``(N, 1)`` columns; class labels are 1-D int.
True parameters are returned in the :mod:`mlcore.params` structure
``[{"W": (1, n_0), "b": (1,)}]`` so they plug straight into the model.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import _checks
from ._types import FloatArray, IntArray, Params

__all__ = [
    "least_squares",
    "load_digits",
    "make_line",
    "make_linear_regression",
    "make_moons",
    "make_spirals",
    "split_validation",
    "standardize",
]


def make_line(
    num_examples: int,
    rng: np.random.Generator,
    *,
    w: float = 2.0,
    b: float = -1.0,
    noise: float = 0.5,
    x_range: tuple[float, float] = (-2.0, 2.0),
) -> tuple[NDArray[np.float64], NDArray[np.float64], Params]:
    r"""Noisy points on a line, :math:`y_n = w x_n + b + \varepsilon_n`.

    The model :math:`\hat y = w x + b` has exactly two parameters, so its cost
    :math:`E(w, b)` can be drawn as a contour plot.

    Parameters
    ----------
    num_examples : int
        :math:`N \ge 1`.
    rng : numpy.random.Generator
        Source of randomness.
    w, b : float, default 2.0, -1.0
        True slope and intercept.
    noise : float, default 0.5
        Standard deviation of the Gaussian noise :math:`\varepsilon_n` (``>= 0``).
    x_range : (float, float), default (-2, 2)
        :math:`x_n` are uniform on this interval.

    Returns
    -------
    X : ndarray, shape (N, 1)
        Inputs.
    y : ndarray, shape (N, 1)
        Targets.
    true_params : list of dict
        ``[{"W": [[w]], "b": [b]}]``.
    """
    N = _checks.positive_int(num_examples, "num_examples")
    _checks.rng(rng)
    w = _checks.real(w, "w")
    b = _checks.real(b, "b")
    noise = _checks.real(noise, "noise", nonneg=True)
    lo, hi = _checks.interval(x_range, "x_range")
    X = rng.uniform(lo, hi, size=(N, 1))
    y = w * X + b + noise * rng.standard_normal((N, 1))
    return X, y, [{"W": np.array([[w]]), "b": np.array([b])}]


def make_linear_regression(
    num_examples: int,
    rng: np.random.Generator,
    *,
    num_features: int = 2,
    noise: float = 0.1,
    W: ArrayLike | None = None,
    b: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], Params]:
    r"""Linear regression data with a known answer, :math:`y_n = W x_n + b + \varepsilon_n`.

    Parameters
    ----------
    num_examples : int
        :math:`N \ge 1`.
    rng : numpy.random.Generator
        Source of randomness.
    num_features : int, default 2
        :math:`n_0`; 1 gives the 1-D case, 2 the 2-D case.
    noise : float, default 0.1
        Noise standard deviation (``>= 0``).
    W : array_like, shape (1, n_0) or (n_0,), optional
        True weights; drawn from :math:`\mathcal N(0, 1)` if omitted.
    b : float, optional
        True bias; drawn from :math:`\mathcal N(0, 1)` if omitted.

    Returns
    -------
    X : ndarray, shape (N, n_0)
        Standard normal inputs.
    y : ndarray, shape (N, 1)
        Targets.
    true_params : list of dict
        ``[{"W": (1, n_0), "b": (1,)}]``.
    """
    N = _checks.positive_int(num_examples, "num_examples")
    _checks.rng(rng)
    d = _checks.positive_int(num_features, "num_features")
    noise = _checks.real(noise, "noise", nonneg=True)
    if W is None:
        W = rng.standard_normal((1, d))
    else:
        W = np.asarray(W, dtype=float).reshape(-1)
        if W.shape != (d,):
            raise ValueError(f"W must have {d} entries (num_features); got shape {W.shape}")
        W = _checks.finite(W.reshape(1, d), "W")
    b = rng.standard_normal() if b is None else _checks.real(b, "b")
    X = rng.standard_normal((N, d))
    y = X @ W.T + b + noise * rng.standard_normal((N, 1))
    return X, y, [{"W": W, "b": np.array([float(b)])}]


def least_squares(X: ArrayLike, y: ArrayLike) -> Params:
    r"""Exact minimiser of :math:`\sum_n \tfrac12 (w^\top x_n + b - y_n)^2` (linear model).

    Solves the normal equations with :func:`numpy.linalg.lstsq` on ``[X, 1]``.

    Parameters
    ----------
    X : array_like, shape (N, n_0)
        Inputs.
    y : array_like, shape (N, 1) or (N,)
        Targets.

    Returns
    -------
    list of dict
        ``[{"W": (1, n_0), "b": (1,)}]``, the same minimiser for reduction sum and mean.
    """
    X = _checks.float_matrix(X, "X", dtype=np.float64)
    y = _checks.regression_targets(y, X.shape[0], 1, np.float64, "y")
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta, *_ = np.linalg.lstsq(A, y[:, 0], rcond=None)
    return [{"W": theta[None, :-1].copy(), "b": theta[-1:].copy()}]


def make_moons(
    num_examples: int, rng: np.random.Generator, *, noise: float = 0.1
) -> tuple[NDArray[np.float64], IntArray]:
    r"""Two interleaving half circles (2-D, 2 classes).

    Parameters
    ----------
    num_examples : int
        :math:`N \ge 2`; class 0 gets ``ceil(N/2)`` points.
    rng : numpy.random.Generator
        Source of randomness.
    noise : float, default 0.1
        Standard deviation of Gaussian noise added to both coordinates.

    Returns
    -------
    X : ndarray, shape (N, 2)
        Points (rows in random order).
    y : ndarray of int, shape (N,)
        Labels 0 or 1.
    """
    N = _checks.positive_int(num_examples, "num_examples", minimum=2)
    _checks.rng(rng)
    noise = _checks.real(noise, "noise", nonneg=True)
    n0 = (N + 1) // 2
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, N - n0)
    X = np.concatenate(
        [np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]], axis=0
    )
    y = np.r_[np.zeros(n0, dtype=np.intp), np.ones(N - n0, dtype=np.intp)]
    X += noise * rng.standard_normal(X.shape)
    order = rng.permutation(N)
    return X[order], y[order]


def make_spirals(
    num_examples: int,
    rng: np.random.Generator,
    *,
    num_classes: int = 2,
    noise: float = 0.2,
    turns: float = 1.0,
) -> tuple[NDArray[np.float64], IntArray]:
    r"""Interleaved spiral arms in 2-D, one per class.

    Parameters
    ----------
    num_examples : int
        :math:`N \ge` ``num_classes``.
    rng : numpy.random.Generator
        Source of randomness.
    num_classes : int, default 2
        Number of arms / classes.
    noise : float, default 0.2
        Standard deviation of the angular noise (radians).
    turns : float, default 1.0
        How many turns each arm makes.

    Returns
    -------
    X : ndarray, shape (N, 2)
        Points (rows in random order), radius at most 1.
    y : ndarray of int, shape (N,)
        Labels in ``[0, num_classes)``.
    """
    C = _checks.positive_int(num_classes, "num_classes", minimum=2)
    N = _checks.positive_int(num_examples, "num_examples", minimum=C)
    _checks.rng(rng)
    noise = _checks.real(noise, "noise", nonneg=True)
    turns = _checks.real(turns, "turns", positive=True)
    y = np.arange(N) % C
    r = rng.uniform(0.05, 1.0, N)
    angle = 2 * np.pi * (turns * r + y / C) + noise * rng.standard_normal(N)
    X = np.c_[r * np.cos(angle), r * np.sin(angle)]
    order = rng.permutation(N)
    return X[order], y[order].astype(np.intp)


@overload
def standardize(X_train: ArrayLike, X_test: None = ...) -> FloatArray: ...
@overload
def standardize(X_train: ArrayLike, X_test: ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def standardize(
    X_train: ArrayLike, X_test: ArrayLike | None = None
) -> FloatArray | tuple[FloatArray, FloatArray]:
    r"""Scale features to zero mean and unit variance using training statistics only.

    Constant features (standard deviation 0) are only centred.

    Parameters
    ----------
    X_train : array_like, shape (N, d)
        Training inputs (define :math:`\mu` and :math:`\sigma`).
    X_test : array_like, shape (M, d), optional
        Transformed with the same :math:`\mu, \sigma`.

    Returns
    -------
    X_train : ndarray, shape (N, d)
        :math:`(x - \mu)/\sigma`.
    X_test : ndarray, shape (M, d)
        Only if ``X_test`` was given.
    """
    X_train = _checks.float_matrix(X_train, "X_train")
    mu = X_train.mean(axis=0)
    sigma = X_train.std(axis=0)
    sigma[sigma == 0] = 1.0
    if X_test is None:
        return (X_train - mu) / sigma
    X_test = _checks.float_matrix(X_test, "X_test", cols=X_train.shape[1])
    return (X_train - mu) / sigma, (X_test - mu) / sigma


def load_digits(
    rng: np.random.Generator,
    *,
    test_size: float = 0.2,
    scale: Literal["standardize", "unit"] | None = "standardize",
    dtype: DTypeLike = np.float64,
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    r"""scikit-learn's bundled 8x8 handwritten digits (1797 images, offline).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the random train/test split.
    test_size : float, default 0.2
        Fraction of examples held out, in (0, 1).
    scale : {"standardize", "unit", None}, default "standardize"
        ``"standardize"``: zero mean, unit variance per pixel with training
        statistics; ``"unit"``: pixel values / 16 into [0, 1]; None: raw 0..16.
    dtype : {numpy.float64, numpy.float32}, default float64
        Dtype of the inputs.

    Returns
    -------
    X_train : ndarray, shape (N_train, 64)
        Training images, one flattened image per row.
    X_test : ndarray, shape (N_test, 64)
        Test images.
    y_train : ndarray of int, shape (N_train,)
        Digits 0..9.
    y_test : ndarray of int, shape (N_test,)
        Digits 0..9.
    """
    _checks.rng(rng)
    test_size = _checks.real(test_size, "test_size", positive=True, below=1.0)
    if scale is not None:
        _checks.choice(scale, ("standardize", "unit"), "scale")
    X, y = _digits_file()
    order = rng.permutation(X.shape[0])
    n_test = int(round(test_size * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    X_train, X_test = X[train], X[test]
    if scale == "standardize":
        X_train, X_test = standardize(X_train, X_test)
    elif scale == "unit":
        X_train, X_test = X_train / 16.0, X_test / 16.0
    return X_train.astype(dtype), X_test.astype(dtype), y[train], y[test]


def split_validation(
    X: ArrayLike, y: ArrayLike, fraction: float, rng: np.random.Generator
) -> tuple[FloatArray, NDArray[Any], FloatArray, NDArray[Any]]:
    r"""Hold out a random ``fraction`` of the rows as a validation set.

    Parameters
    ----------
    X : array_like, shape (N, n_0)
        Inputs.
    y : array_like, shape (N, ...)
        Targets or labels.
    fraction : float
        Share of the rows held out, in ``(0, 1)``; rounded to a whole number of rows.
    rng : numpy.random.Generator
        Draws the split.

    Returns
    -------
    X_train, y_train, X_val, y_val : ndarray
        The remaining rows and the held-out rows, each in a random order.
    """
    X = _checks.float_matrix(X, "X")
    y_arr = np.asarray(y)
    if y_arr.shape[:1] != X.shape[:1]:
        raise ValueError(f"y must have {X.shape[0]} rows like X; got shape {y_arr.shape}")
    fraction = _checks.real(fraction, "fraction", positive=True, below=1.0)
    _checks.rng(rng)
    order = rng.permutation(X.shape[0])
    n_val = int(round(fraction * X.shape[0]))
    if not 0 < n_val < X.shape[0]:
        raise ValueError(f"fraction {fraction} of {X.shape[0]} rows leaves an empty part")
    val, train = order[:n_val], order[n_val:]
    return X[train], y_arr[train], X[val], y_arr[val]


def _digits_file() -> tuple[FloatArray, NDArray[np.intp]]:
    """The 1797 digits of scikit-learn's bundled ``digits.csv.gz``, read with numpy.

    Only the data file of the installed scikit-learn package is used (nothing is
    downloaded and scikit-learn is not imported).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "load_digits reads the digits file bundled with scikit-learn: "
            "pip install scikit-learn (it is in requirements.txt)"
        )
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    data = np.loadtxt(path, delimiter=",")
    return data[:, :-1], data[:, -1].astype(np.intp)
