"""mlcore.schedules, and train with a schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcore as mc
from mlcore import schedules


def test_schedule_values_follow_their_formulas():
    assert [schedules.constant(0.3)(t) for t in (0, 7)] == [0.3, 0.3]
    inv = schedules.inverse_time(0.2, 10)
    assert inv(0) == 0.2 and inv(10) == pytest.approx(0.1) and inv(30) == pytest.approx(0.05)
    step = schedules.step_decay(1.0, every=3, factor=0.5)
    assert [step(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    cos = schedules.cosine(1.0, total_steps=4, final=0.2)
    assert cos(0) == pytest.approx(1.0) and cos(2) == pytest.approx(0.6)
    assert cos(4) == pytest.approx(0.2) and cos(9) == pytest.approx(0.2)
    assert cos(1) == pytest.approx(0.2 + 0.4 * (1 + math.cos(math.pi / 4)))
    warm = schedules.warmup(schedules.constant(1.0), 4)
    assert [warm(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_train_uses_the_rate_of_each_step():
    rng = np.random.default_rng(0)
    X, y, _ = mc.make_line(12, rng)
    params = mc.init_params([1, 1], rng)
    sched = schedules.step_decay(0.2, every=2, factor=0.5)
    trained, _ = mc.train(params, X, y, activations="identity", lr=sched, num_epochs=2,
                          batch_size=4, shuffle="never")  # fmt: skip
    theta = mc.flatten_params(params)
    t = 0
    for _ in range(2):
        for k in range(3):
            p = mc.unflatten_params(theta, params)
            g = mc.flatten_params(mc.gradient(p, X[4 * k : 4 * k + 4], y[4 * k : 4 * k + 4],
                                              "identity"))  # fmt: skip
            theta = theta - sched(t) * g
            t += 1
    np.testing.assert_allclose(mc.flatten_params(trained), theta, rtol=1e-13)
