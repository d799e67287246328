"""Finite-difference gradient checks from one parametrised registry."""

from __future__ import annotations

import numpy as np
import pytest
from _mlcore_helpers import REGISTRY, case_id, make_case

import mlcore as mc


@pytest.mark.parametrize("case", REGISTRY, ids=[case_id(c) for c in REGISTRY])
def test_backprop_matches_central_differences(case):
    act, loss, reduction, sizes = case
    params, X, Y, activations = make_case(sizes, act, loss)
    result = mc.gradient_check(params, X, Y, activations, loss, reduction)
    assert result.max_error < 1e-7, result.errors
    # gradients are shaped like the parameters
    for g, p in zip(result.analytic, params, strict=True):
        assert g["W"].shape == p["W"].shape and g["b"].shape == p["b"].shape


def test_registry_covers_every_activation_loss_reduction():
    acts = {c[0] for c in REGISTRY}
    losses = {c[1] for c in REGISTRY}
    reds = {c[2] for c in REGISTRY}
    depths = {len(c[3]) - 1 for c in REGISTRY}
    assert acts == set(mc.activations.ACTIVATIONS) and losses == set(mc.losses.LOSSES)
    assert reds == set(mc.losses.REDUCTIONS) and depths == {1, 2, 3}


@pytest.mark.parametrize("loss", ["squared_error", "softmax_cross_entropy"])
def test_input_gradient_matches_central_differences(loss):
    params, X, Y, activations = make_case((4, 6, 3), "tanh", loss, seed=3)
    G = mc.input_gradient(params, X, Y, activations, loss)
    assert G.shape == X.shape
    eps = 1e-6
    Y1 = Y if loss == "squared_error" else Y
    for n in range(X.shape[0]):
        for j in range(X.shape[1]):
            Xp, Xm = X.copy(), X.copy()
            Xp[n, j] += eps
            Xm[n, j] -= eps
            # the "sum" cost changes only through example n: dE/dx_nj = dE_n/dx_nj
            num = (
                mc.cost(params, Xp, Y1, activations, loss, "sum")
                - mc.cost(params, Xm, Y1, activations, loss, "sum")
            ) / (2 * eps)
            assert abs(num - G[n, j]) < 1e-7 * max(1.0, abs(num))


def test_relative_error_of_identical_and_zero_arrays():
    assert mc.gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert mc.gradcheck.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert mc.gradcheck.relative_error([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(1.0)
