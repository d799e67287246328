"""The benchmark still runs: ``benchmarks/bench_mlcore.py --quick`` in a few seconds.

It uses private parts of the engine (the training loop's one-vector parameters, its
update and bookkeeping), so a renamed function breaks this test rather than the
benchmark months later.  No timing is asserted: only that every row ran and produced
finite, positive numbers, and that missing peers (PyTorch, JAX) are said to be skipped.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

from book_support import REPO

SCRIPT = REPO / "benchmarks" / "bench_mlcore.py"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, json.loads(out.read_text())


def positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_the_limits_of_the_machine_are_measured(quick_run):
    _, res = quick_run
    for key in ("gemm_float64", "gemm_float32", "copy", "fill", "memory"):
        assert positive(res["limits"][key]), key


def test_every_mlcore_row_ran_and_has_its_roofline(quick_run):
    _, res = quick_run
    tasks = [r["task"] for r in res["machine"]]
    for net in ("64-64-10, float64", "64-64-10, float32", "Part III net, float32"):
        assert f"SGD step B=32, {net}" in tasks
        assert f"SGD step B=32, {net}, inside train()" in tasks
    for Bp in (256, 1797):
        assert f"per-example grads B={Bp}" in tasks
        assert f"per-example grads B={Bp}, reused `out=`" in tasks
    for r in res["machine"]:
        assert positive(r["seconds"]) and positive(r["work"]) and positive(r["rate"]), r
        assert positive(r["fraction_of_limit"]), r


def test_every_comparison_ran(quick_run):
    _, res = quick_run
    tasks = {r["task"] for r in res["peers"]}
    for task in ("per-example grads B=256", "per-example grads B=1797",
                 "per-example norms B=1797", "10 epochs SGD B=32 (train())",
                 "one epoch, Part III net, B=32 f32"):  # fmt: skip
        assert task in tasks
    for r in res["peers"]:
        assert positive(r["mlcore_s"]), r
        assert r["reference_s"] is None or positive(r["reference_s"]), r
        assert r["met"] in (True, False, None), r


def test_numpy_calls_per_step_are_counted(quick_run):
    _, res = quick_run
    calls = res["numpy_calls_per_step"]
    assert set(calls) == {"64-64-10", "Part III net"}
    for v in calls.values():
        assert positive(v) and float(v).is_integer()
    assert calls["Part III net"] > calls["64-64-10"]  # more layers, more calls


@pytest.mark.parametrize("module", ["torch", "jax"])
def test_missing_peers_are_said_to_be_skipped(quick_run, module):
    stdout, res = quick_run
    installed = importlib.util.find_spec(module) is not None
    name = {"torch": "PyTorch", "jax": "JAX"}[module]
    assert any(s.startswith(name) for s in res["skipped"]) is not installed
    if not installed:
        assert "Skipped columns:" in stdout and name in stdout


def test_the_kernel_comparison_runs_and_checks_every_variant():
    """``benchmarks/kernels.py --quick``: every variant of the outer products ran (each is
    checked inside the script to give the engine's numbers), and both other tables."""
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "kernels.py"), "--quick"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for variant in ("engine: `einsum` in blocks of", "broadcast `np.multiply`",
                    "batched `matmul`", "example-last result", "block-diagonal `matmul`, 2",
                    "`fill` of as many bytes"):  # fmt: skip
        assert out.count(variant) == 2, variant  # one row per batch size
    assert out.count("| float64 (64x64) |") == 1
    assert "| float32 |" in out and "| float64 |" in out


def test_compare_engines_finds_an_engine_bitwise_equal_to_itself():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import compare_engines as ce
    finally:
        sys.path.pop(0)
    Xtr, _, ytr, _ = ce.mc.load_digits(ce.np.random.default_rng(0))
    n, differ = ce.same_results({"a": ce.mc, "b": ce.mc}, Xtr, ytr)
    assert n > 100 and differ == 0
