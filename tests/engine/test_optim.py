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
    out = mc.optim.sgd_step(params, grads, 0.3)
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
        mc.optim.sgd_step(params, g, lr, velocity=velocity, momentum=mu)
        v = mu * v + mc.flatten_params(g)
        theta = theta - lr * v
        np.testing.assert_allclose(mc.flatten_params(params), theta, rtol=1e-14, atol=1e-15)
        if mu > 0:  # plain gradient descent keeps no velocity
            np.testing.assert_allclose(mc.flatten_params(velocity), v, rtol=1e-14, atol=1e-15)


def test_adam_matches_the_rule_written_out_by_hand():
    """m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, theta -= lr m_hat / (sqrt(v_hat) + eps)."""
    rng = np.random.default_rng(2)
    params = mc.init_params([2, 3, 1], rng)
    rule = mc.Adam(beta1=0.8, beta2=0.95, eps=1e-6)
    state = rule.init(params)
    theta = mc.flatten_params(params)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, lr in enumerate([0.1, 0.05, 0.2, 0.01], start=1):
        g_tree = mc.init_params([2, 3, 1], rng)
        g = mc.flatten_params(g_tree)
        rule.step(params, g_tree, lr, state)
        m = 0.8 * m + 0.2 * g
        v = 0.95 * v + 0.05 * g**2
        theta = theta - lr * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.95**t)) + 1e-6)
        np.testing.assert_allclose(mc.flatten_params(params), theta, rtol=1e-13, atol=1e-15)
    assert state["t"] == 4


def test_train_with_adam_matches_a_loop_of_adam_steps():
    params, X, Y = (
        mc.init_params([2, 4, 1], np.random.default_rng(3)),
        np.random.default_rng(4).standard_normal((12, 2)),
        np.random.default_rng(5).standard_normal((12, 1)),
    )
    trained, _ = mc.train(params, X, Y, lr=0.01, num_epochs=2, batch_size=4, shuffle="never",
                          optimizer=mc.Adam())  # fmt: skip
    p = mc.params.copy_params(params)
    rule = mc.Adam()
    state = rule.init(p)
    for _ in range(2):
        for k in range(3):
            rule.step(p, mc.gradient(p, X[4 * k : 4 * k + 4], Y[4 * k : 4 * k + 4]), 0.01, state)
    np.testing.assert_allclose(mc.flatten_params(trained), mc.flatten_params(p), rtol=1e-12)


def test_sgd_rule_object_is_sgd_step():
    rng = np.random.default_rng(6)
    p1 = mc.init_params([2, 3, 1], rng)
    p2 = mc.params.copy_params(p1)
    rule = mc.SGD(momentum=0.5)
    state = rule.init(p1)
    velocity = mc.zeros_like_params(p2)
    for _ in range(3):
        g = mc.init_params([2, 3, 1], rng)
        rule.step(p1, g, 0.1, state)
        mc.optim.sgd_step(p2, g, 0.1, velocity=velocity, momentum=0.5)
    np.testing.assert_array_equal(mc.flatten_params(p1), mc.flatten_params(p2))


@pytest.mark.parametrize("mu", [0.0, 0.9])
def test_one_vector_update_is_bitwise_the_update_of_each_array(mu):
    """The training loop keeps parameters, gradient and velocity in one vector each
    (mlcore.params._flat_copy) and updates the vector in one call: the same numbers."""
    from mlcore.optim import _sgd_step
    from mlcore.params import _Flat, _flat_copy

    rng = np.random.default_rng(7)
    for dtype in (np.float64, np.float32):
        p1 = mc.init_params([5, 4, 3, 2], rng, dtype=dtype)
        p2 = _flat_copy(p1)
        assert isinstance(p2, _Flat) and p2.flat.dtype == dtype
        np.testing.assert_array_equal(p2.flat, mc.flatten_params(p1))
        v1, v2 = mc.zeros_like_params(p1), mc.SGD(momentum=mu).init(p2)["velocity"]
        for lr in (0.1, 0.37, 0.01):
            g = mc.init_params([5, 4, 3, 2], rng, dtype=dtype)
            g2 = _flat_copy(g)
            _sgd_step(p1, g, lr, v1, mu)
            _sgd_step(p2, g2, lr, v2, mu)
            for a, b in zip(p1, p2, strict=True):
                for key in ("W", "b"):
                    np.testing.assert_array_equal(a[key], b[key])
                    assert b[key].base is p2.flat  # still views of the one vector
