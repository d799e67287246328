"""The figures of the distributed chapter draw exactly the numbers of the engine."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlcore import comm_model, digits_mpi
from mlcore.figures import distributed as dfig

RUN = {"sizes": [64, 8, 10], "lr": 0.2, "num_epochs": 2, "batch_size": 16}


@pytest.fixture(scope="module")
def runs():
    """Local SGD with k = 1 and 3 on two real processes (one launch)."""
    ks = (1, 3)
    results = digits_mpi.launch(
        2,
        [{**RUN, "method": "local_sgd", "local_steps": k} for k in ks],
        data={"num_examples": 101},
        timeout=60,
    )
    return dict(zip(ks, results, strict=True))


def test_plot_rounds_draws_the_recorded_costs(runs):
    panels = {"random": {k: (r["rounds"], r["loss"]) for k, r in runs.items()}}
    fig = dfig.plot_rounds(panels, target=0.5)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label().startswith("k = ")]
    assert [line.get_label() for line in lines] == ["k = 1", "k = 3"]
    for line, r in zip(lines, runs.values(), strict=True):
        keep = r["rounds"] >= 1
        np.testing.assert_array_equal(line.get_xdata(), r["rounds"][keep])
        np.testing.assert_array_equal(line.get_ydata(), r["loss"][keep])
    assert runs[3]["num_rounds"] == -(-runs[1]["num_rounds"] // 3)
    with pytest.raises(ValueError, match="one length"):
        dfig.plot_rounds({"x": {1: ([1, 2], [1.0])}}, target=0.5)


def test_plot_bias_draws_the_gaps(runs):
    curves = {k: (r["steps"], r["loss"] - 0.1) for k, r in runs.items()}
    fig = dfig.plot_bias(curves)
    for line, (steps, gap) in zip(fig.axes[0].get_lines(), curves.values(), strict=True):
        keep = steps >= 1
        np.testing.assert_array_equal(line.get_xdata(), steps[keep])
        np.testing.assert_allclose(line.get_ydata(), gap[keep])


def test_draw_local_sgd_frame_shows_the_run_and_the_reference(runs):
    frames = {("random", 2, k): {**r, "distance": 0.5 * k - 0.5} for k, r in runs.items()}
    fig = plt.figure()
    dfig.draw_local_sgd(fig, 3, 2, "random", runs=frames, target=0.5)
    ax = fig.axes[0]
    ref, run = ax.get_lines()[:2]
    np.testing.assert_array_equal(run.get_xdata(), runs[3]["rounds"][1:])
    np.testing.assert_array_equal(run.get_ydata(), runs[3]["loss"][1:])
    np.testing.assert_array_equal(ref.get_ydata(), runs[1]["loss"][1:])
    assert f"{runs[3]['num_rounds']} rounds" in ax.get_title()
    assert "distance to one process 1.0e+00" in ax.get_title()
    fig = plt.figure()
    dfig.draw_local_sgd(fig, 1, 2, "random", runs=frames, target=0.5)
    assert "distance to one process < 1e-12" in fig.axes[0].get_title()


def test_plot_step_times_stacks_compute_and_comm():
    compute, comm = np.array([0.3, 0.2, 0.4]), np.array([0.0, 0.1, 2.0])
    fig = dfig.plot_step_times([1, 2, 4], {"b = 32": (compute, comm)}, cores=2)
    bars_compute, bars_comm = fig.axes[0].containers
    np.testing.assert_allclose([b.get_height() for b in bars_compute], compute)
    np.testing.assert_allclose([b.get_height() for b in bars_comm], comm)
    np.testing.assert_allclose([b.get_y() for b in bars_comm], compute)
    with pytest.raises(ValueError, match="one compute and one comm time"):
        dfig.plot_step_times([1, 2], {"b": (compute, comm)}, cores=2)


def test_plot_cost_model_draws_the_model_and_its_crossover():
    P = np.arange(1, 65)
    kw = dict(compute_seconds=1e-3, message_bytes=8 * 4810, latency=20e-6, bandwidth=1.25e9)
    compute, comm = comm_model.step_seconds(P, **kw)
    star = comm_model.crossover(**kw)
    fig = dfig.plot_cost_model(P, {"digits": (compute, comm)}, crossovers={"digits": star})
    total, talk, dot = fig.axes[0].get_lines()
    np.testing.assert_allclose(total.get_ydata(), 1e3 * (compute + comm))
    np.testing.assert_array_equal(talk.get_xdata(), P[1:])
    np.testing.assert_allclose(talk.get_ydata(), 1e3 * comm[1:])
    assert dot.get_xdata().tolist() == [star]
    assert comm[star - 1] >= compute[star - 1] and comm[star - 2] < compute[star - 2]
