"""mlcore.optim: the update rule, against the heavy-ball rule written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import mlcore as mc


def test_sgd_step_is_theta_minus_lr_g():
    rng = np.random.default_rng(0)
    params = mc.init_params([3, 4, 2], rng)
    grads = mc.init_params([3, 4, 2], rng)  # any arrays of the right shapes
    before = mc.flatten_params(params)
    out = mc.sgd_step(params, grads, 0.3)
    assert out is params
    np.testing.assert_allclose(
        mc.flatten_params(params), before - 0.3 * mc.flatten_params(grads), rtol=0, atol=1e-15
    )


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_momentum_is_pytorchs_heavy_ball(mu):
    """v_t = mu v_{t-1} + g_t, theta_t = theta_{t-1} - lr v_t, v_0 = 0, over 5 steps."""
    rng = np.random.default_rng(1)
    params = mc.init_params([2, 3, 1], rng)
    velocity = mc.zeros_like_params(params)
    gs = [mc.init_params([2, 3, 1], rng) for _ in range(5)]
    lrs = [0.1, 0.1, 0.05, 0.2, 0.01]  # a changing rate: v must not absorb the rate
    theta = mc.flatten_params(params)
    v = np.zeros_like(theta)
    for g, lr in zip(gs, lrs, strict=True):
        mc.sgd_step(params, g, lr, velocity=velocity, momentum=mu)
        v = mu * v + mc.flatten_params(g)
        theta = theta - lr * v
        np.testing.assert_allclose(mc.flatten_params(params), theta, rtol=1e-14, atol=1e-15)
        if mu > 0:  # plain gradient descent keeps no velocity
            np.testing.assert_allclose(mc.flatten_params(velocity), v, rtol=1e-14, atol=1e-15)
