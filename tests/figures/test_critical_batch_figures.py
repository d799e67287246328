"""The figures of the critical-batch chapter draw what the engine computed.

A tiny network is trained with the engine; the noise scale along the run and a fitted
trade-off are handed to the builders, and the drawn data are read back by ``gid`` and
compared with an independent computation (the noise scale at each point, the formulas
of the ideal line, the fit and the hyperbola).
"""

from __future__ import annotations

import numpy as np
import pytest
from _readback import all_gid, numbers, one_gid, xy
from matplotlib.figure import Figure

import mlcore
from mlcore import critical_batch as cb
from mlcore.figures import critical_batch as figs
from mlcore.figures import style

NET = dict(activations="tanh", loss="softmax_cross_entropy")


@pytest.fixture(scope="module")
def run():
    X, y = mlcore.make_moons(40, np.random.default_rng(0), noise=0.3)
    params = mlcore.init_params([2, 6, 2], np.random.default_rng(1))
    _, h = mlcore.train(params, X, y, **NET, lr=0.5, num_epochs=3, batch_size=8,
                        rng=np.random.default_rng(2), record="step")  # fmt: skip
    costs, along = cb.noise_scale_along(h.trajectory, params, X, y, **NET)
    return X, y, params, h, costs, along


def test_noise_scale_along_draws_the_measured_values(run):
    X, y, params, h, costs, along = run
    steps = np.arange(len(costs))
    smooth = cb.smoothed_noise_scale(along, 2)
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    left, right = figs.draw_noise_scale_along(
        fig, steps=steps, b_simple=along.b_simple, trace=along.trace, grad_sq=along.grad_sq,
        num_examples=len(X), smoothed=smooth, target_steps=[3, 9], target_labels=["0.5", "0.3"],
    )  # fmt: skip
    # an independent check of a few points: the noise scale at those parameters
    for t in (0, 5, len(steps) - 1):
        p = mlcore.unflatten_params(h.trajectory[t], params)
        at = cb.noise_scale(p, X, y, **NET)
        np.testing.assert_allclose(xy(one_gid(left, "b-simple"))[t], [t, at.b_simple])
        np.testing.assert_allclose(xy(one_gid(right, "trace"))[t], [t, at.trace])
        np.testing.assert_allclose(xy(one_gid(right, "grad-sq"))[t], [t, at.grad_sq])
    np.testing.assert_allclose(xy(one_gid(left, "b-smoothed"))[:, 1], smooth)
    np.testing.assert_allclose(xy(one_gid(left, "num-examples"))[:, 1], [40, 40])
    marks = all_gid(fig, "target-step")
    assert sorted(m.get_xdata()[0] for m in marks) == [3, 3, 9, 9]  # in both panels
    assert left.get_yscale() == "log" and right.get_yscale() == "log"
    assert style.problems(fig) == []


def test_without_smoothing_only_the_per_step_values_are_drawn(run):
    X, _, _, _, costs, along = run
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    left, _ = figs.draw_noise_scale_along(fig, steps=np.arange(len(costs)), b_simple=along.b_simple,
                                          trace=along.trace, grad_sq=along.grad_sq,
                                          num_examples=len(X))  # fmt: skip
    assert all_gid(left, "b-smoothed") == [] and all_gid(fig, "target-step") == []
    np.testing.assert_allclose(xy(one_gid(left, "b-simple"))[:, 1], along.b_simple)


def test_steps_vs_batch_draws_the_fit_and_the_two_batch_sizes():
    B = np.array([8, 16, 32, 64, 128, 256])
    fit = cb.Tradeoff(20.0, 2000.0, 100.0)
    S = fit.steps(B) * np.array([1.1, 0.9, 1.0, 1.05, 0.95, 1.0])  # measured: near the fit
    lo, hi = S - 2, S + 3
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    left, right = figs.draw_steps_vs_batch(fig, batch_sizes=B, steps=S, fit=cb.fit_tradeoff(B, S),
                                           b_noise=170.0, steps_range=(lo, hi))  # fmt: skip
    fitted = cb.fit_tradeoff(B, S)
    np.testing.assert_allclose(xy(one_gid(left, "steps")), np.column_stack([B, S]))
    ideal = xy(one_gid(left, "ideal"))
    np.testing.assert_allclose(ideal[:, 1], S[0] * B[0] / ideal[:, 0])  # S(B_0) B_0 / B
    curve = xy(one_gid(left, "fit"))
    np.testing.assert_allclose(curve[:, 1], fitted.s_min + fitted.e_min / curve[:, 0])
    np.testing.assert_allclose(xy(one_gid(left, "s-min"))[:, 1], fitted.s_min)
    np.testing.assert_allclose(xy(one_gid(left, "b-crit"))[:, 0], fitted.b_crit)
    np.testing.assert_allclose(xy(one_gid(left, "b-noise"))[:, 0], 170.0)
    bars = np.array([seg[:, 1] for seg in one_gid(left, "steps-range").get_segments()])
    np.testing.assert_allclose(bars, np.column_stack([lo, hi]))
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert numbers(next(t for t in labels if "crit" in t)) == [round(fitted.b_crit)]
    # right: E = B S, and the hyperbola (S/S_min - 1)(E/E_min - 1) = 1
    np.testing.assert_allclose(xy(one_gid(right, "examples")), np.column_stack([S, B * S]))
    hyp = xy(one_gid(right, "hyperbola"))
    np.testing.assert_allclose((hyp[:, 0] / fitted.s_min - 1) * (hyp[:, 1] / fitted.e_min - 1), 1)
    np.testing.assert_allclose(xy(one_gid(right, "e-min"))[:, 1], fitted.e_min)
    assert [t.get_text() for t in right.texts] == [str(b) for b in B]
    assert style.problems(fig) == []
