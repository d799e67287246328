"""Shared test helpers for the mlcore tests (not a conftest: plain functions)."""

from __future__ import annotations

import itertools

import numpy as np

import mlcore as mc

ACTS = ("identity", "sigmoid", "tanh", "relu")
LOSS_NAMES = ("squared_error", "softmax_cross_entropy")
REDS = ("sum", "mean")
ARCHS = ((3, 2), (3, 4, 2), (2, 5, 3, 4))


def make_case(sizes, act, loss, seed=0, batch=7, dtype=np.float64):
    """A network, data and activation list for one registry entry.

    Hidden layers use ``act``; the output layer uses ``act`` for squared error
    and the identity (logits) for cross-entropy.
    """
    rng = np.random.default_rng(seed)
    params = mc.init_params(sizes, rng, dtype=dtype)
    for p in params:  # non-zero biases so their gradients are exercised
        p["b"][:] = 0.3 * rng.standard_normal(p["b"].shape)
    L = len(sizes) - 1
    out_act = act if loss == "squared_error" else "identity"
    activations = (act,) * (L - 1) + (out_act,)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    if loss == "squared_error":
        Y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    else:
        Y = rng.integers(0, sizes[-1], size=batch)
    return params, X, Y, activations


#: One parametrised registry: every activation x loss x reduction x architecture.
REGISTRY = [
    pytest_id
    for pytest_id in itertools.product(ACTS, LOSS_NAMES, REDS, ARCHS)
    if not (
        pytest_id[1] == "softmax_cross_entropy"
        and len(pytest_id[3]) == 2
        and pytest_id[0] != "identity"
    )  # 1-layer CE ignores the hidden activation
]


def case_id(case):
    act, loss, red, sizes = case
    return f"{act}-{loss}-{red}-{'x'.join(map(str, sizes))}"


def tree_allclose(a, b, **kw):
    """Compare two parameter/gradient lists."""
    assert len(a) == len(b)
    for la, lb in zip(a, b, strict=True):
        for key in ("W", "b"):
            np.testing.assert_allclose(la[key], lb[key], **kw)
