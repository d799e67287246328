"""Argument validation used at the public boundary of :mod:`mlcore`.

Every check raises :class:`TypeError` (wrong kind of object) or
:class:`ValueError` (right kind, wrong shape/value) with a message that names
the argument, the expected and the received shape or value.  Hot loops
validate once with these helpers and then call the unchecked internals.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._types import FloatArray, IntArray, Params

_S = TypeVar("_S", bound=str)
_A = TypeVar("_A", bound=NDArray[Any])
_P = TypeVar("_P")


def choice(value: _S, options: Collection[str], name: str) -> _S:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {value!r}")
    return value


def positive_int(value: object, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        hi = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be >= {minimum}{hi}; got {value}")
    return value


def real(
    value: object,
    name: str,
    *,
    positive: bool = False,
    nonneg: bool = False,
    below: float | None = None,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    if nonneg and value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be < {below}; got {value}")
    return value


def rng(value: object, name: str = "rng") -> np.random.Generator:
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)); "
            f"got {type(value).__name__}"
        )
    return value


def _numeric_array(A: object, name: str) -> NDArray[Any]:
    if isinstance(A, np.ndarray):
        arr = A
    else:
        try:
            arr = np.asarray(A)
        except Exception as exc:  # ragged lists etc.
            raise TypeError(
                f"{name} must be array-like of numbers; got {type(A).__name__}"
            ) from exc
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    return arr


def finite(arr: _A, name: str) -> _A:
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; got {bad} NaN/inf entries (shape {arr.shape})")
    return arr


def float_matrix(
    A: object,
    name: str,
    *,
    dtype: DTypeLike | None = None,
    rows: int | None = None,
    cols: int | None = None,
) -> FloatArray:
    """2-D finite float array, optionally with a required number of rows/cols."""
    arr = _numeric_array(A, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows = examples); got shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows; got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns; got shape {arr.shape}")
    if dtype is None:
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    return finite(arr, name)


def int_labels(labels: object, num_classes: int, name: str) -> IntArray:
    arr = _numeric_array(labels, name)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} as class labels must have an integer dtype; got {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} as class labels must be 1-D (B,); got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        lo, hi = int(arr.min()), int(arr.max())
        raise ValueError(
            f"{name} must be integer labels in [0, {num_classes}); got values in [{lo}, {hi}]"
        )
    return arr.astype(np.intp, copy=False)


def regression_pair(
    y_hat: object, Y: object, *, y_name: str = "Y", y_hat_name: str = "y_hat"
) -> tuple[FloatArray, FloatArray]:
    y_hat = float_matrix(y_hat, y_hat_name)
    Y = regression_targets(Y, y_hat.shape[0], y_hat.shape[1], y_hat.dtype, y_name)
    return y_hat, Y


def regression_targets(
    Y: object, num_examples: int, num_outputs: int, dtype: DTypeLike | None, name: str = "Y"
) -> FloatArray:
    arr = _numeric_array(Y, name)
    if arr.ndim == 1 and num_outputs == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape != (num_examples, num_outputs):
        raise ValueError(
            f"{name} must have shape ({num_examples}, {num_outputs})"
            + (f" or ({num_examples},)" if num_outputs == 1 else "")
            + f" to match the network output; got shape {arr.shape}"
        )
    return finite(np.ascontiguousarray(arr, dtype=dtype), name)


def classification_targets(
    Y: object, num_examples: int, num_classes: int, dtype: DTypeLike | None, name: str = "Y"
) -> FloatArray:
    arr = _numeric_array(Y, name)
    if arr.ndim == 1:
        if arr.shape[0] != num_examples:
            raise ValueError(
                f"{name} must have {num_examples} labels (one per row of X); got shape {arr.shape}"
            )
        labels = int_labels(arr, num_classes, name)
        out = np.zeros((num_examples, num_classes), dtype=dtype)
        out[np.arange(num_examples), labels] = 1
        return out
    if arr.ndim != 2 or arr.shape != (num_examples, num_classes):
        raise ValueError(
            f"{name} must be integer labels of shape ({num_examples},) or one-hot rows of shape "
            f"({num_examples}, {num_classes}); got shape {arr.shape}"
        )
    arr = finite(np.ascontiguousarray(arr, dtype=dtype), name)
    if (arr < 0).any() or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(
            f"{name} as one-hot/probability rows must be non-negative and each row must sum to 1"
        )
    return arr


def classification_pair(
    Z: object, Y: object, *, y_name: str = "Y"
) -> tuple[FloatArray, FloatArray]:
    Z = float_matrix(Z, "Z")
    return Z, classification_targets(Y, Z.shape[0], Z.shape[1], Z.dtype, y_name)


def params(p: _P, name: str = "params") -> tuple[_P, np.dtype[Any] | None]:
    """Validate a parameter list; returns (params, dtype)."""
    if isinstance(p, Mapping) or not isinstance(p, Sequence) or isinstance(p, str):
        raise TypeError(
            f"{name} must be a list of dicts {{'W': (n_l, n_prev), 'b': (n_l,)}}; "
            f"got {type(p).__name__}"
        )
    if len(p) == 0:
        raise ValueError(f"{name} must have at least one layer; got an empty list")
    dtype = None
    prev = None
    for i, layer in enumerate(p):
        where = f"{name}[{i}]"
        if not isinstance(layer, Mapping) or "W" not in layer or "b" not in layer:
            raise TypeError(f"{where} must be a dict with keys 'W' and 'b'; got {layer!r:.80}")
        W, b = layer["W"], layer["b"]
        for key, arr in (("W", W), ("b", b)):
            if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.floating):
                got = type(arr).__name__
                if isinstance(arr, np.ndarray):
                    got += f" of dtype {arr.dtype}"
                raise TypeError(f"{where}['{key}'] must be a float numpy array; got {got}")
        if W.ndim != 2:
            raise ValueError(f"{where}['W'] must be 2-D (n_l, n_prev); got shape {W.shape}")
        if b.shape != (W.shape[0],):
            raise ValueError(f"{where}['b'] must have shape ({W.shape[0]},); got shape {b.shape}")
        if prev is not None and W.shape[1] != prev:
            raise ValueError(
                f"{where}['W'] must have shape ({W.shape[0]}, {prev}) because layer {i - 1} "
                f"has {prev} outputs; got shape {W.shape}"
            )
        if dtype is None:
            dtype = W.dtype
        if W.dtype != dtype or b.dtype != dtype:
            raise TypeError(
                f"{where} must have dtype {dtype} like {name}[0]['W']; got W {W.dtype}, b {b.dtype}"
            )
        finite(W, f"{where}['W']")
        finite(b, f"{where}['b']")
        prev = W.shape[0]
    return p, dtype


def inputs(X: object, params_: Params, dtype: DTypeLike | None, name: str = "X") -> FloatArray:
    n0 = params_[0]["W"].shape[1]
    arr = _numeric_array(X, name)
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = " (use X.reshape(-1, 1) for one feature or X[None, :] for one example)"
        raise ValueError(
            f"{name} must be 2-D with shape (num_examples, {n0}); got shape {arr.shape}{hint}"
        )
    if arr.shape[1] != n0:
        raise ValueError(
            f"{name} must have {n0} features (columns) to match params[0]['W'] of shape "
            f"{params_[0]['W'].shape}; got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one example; got shape {arr.shape}")
    return finite(np.ascontiguousarray(arr, dtype=dtype), name)


def interval(pair: Iterable[float], name: str) -> tuple[float, float]:
    """A finite pair ``(lo, hi)`` with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in pair)
    except Exception as exc:
        raise TypeError(f"{name} must be a pair of numbers (lo, hi); got {pair!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must satisfy lo < hi (finite); got {pair!r}")
    return lo, hi


def same_shapes(p: Params, like: Params, name: str) -> None:
    """Check that the parameter list ``p`` has the layer shapes of ``like``."""
    if len(p) != len(like) or any(
        a["W"].shape != b["W"].shape for a, b in zip(p, like, strict=False)
    ):
        got = [a["W"].shape for a in p]
        want = [b["W"].shape for b in like]
        raise ValueError(f"{name} must have the layer shapes {want}; got {got}")
