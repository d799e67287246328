"""Training on several MPI processes: real processes, compared with one process.

Every test that launches processes goes through :func:`mlcore.mpirun.run`, which
kills the launch after its timeout, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from mpi4py import MPI

import mlcore
from mlcore import comm_model, digits_mpi, mpirun
from mlcore import distributed as dist

# A small training set so that launches are quick: 101 digits, batches of 16 leave a
# last batch of 5, and 101 rows split over 2 or 3 processes unevenly (51/50, 34/34/33).
DATA = {"num_examples": 101}
RUN = {"sizes": [64, 12, 10], "lr": 0.2, "num_epochs": 3, "batch_size": 16}
TIMEOUT = 60


def flat(params):
    return np.concatenate([a.ravel() for layer in params for a in (layer["W"], layer["b"])])


def single_process(run, data=DATA):
    """mlcore.train on the whole training set, with the run's settings and seeds."""
    r = {**digits_mpi.RUN, **run}
    X, y = digits_mpi.training_set(data)
    Y = np.eye(r["sizes"][-1])[y] if r["loss"] == "squared_error" else y
    params = mlcore.init_params(r["sizes"], np.random.default_rng(r["init_seed"]))
    trained, hist = mlcore.train(
        params, X, Y, activations=r["activations"], loss=r["loss"], reduction="mean",
        lr=r["lr"], num_epochs=r["num_epochs"], batch_size=r["batch_size"],
        shuffle="every_epoch", last_batch=r["last_batch"],
        rng=np.random.default_rng(r["order_seed"]),
    )  # fmt: skip
    return flat(trained), hist


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def launch_code(num_procs, code, *, timeout=TIMEOUT):
    """Run a snippet on every process (inside digits_mpi.guarded, given ``comm``)."""
    body = "def body(comm):\n" + textwrap.indent(textwrap.dedent(code), "    ")
    program = f"from mlcore.digits_mpi import guarded\n{body}\nguarded(body)\n"
    return mpirun.run(num_procs, ["-c", program], timeout=timeout)


# ----------------------------------------------------------------------------- no MPI needed
def test_import_mlcore_does_not_import_mpi4py():
    code = (
        "import sys, mlcore, mlcore.distributed, mlcore.digits_mpi, mlcore.comm_model\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_shard_sizes_even_split_and_errors():
    assert dist.shard_sizes(10, 3).tolist() == [4, 3, 3]
    assert dist.shard_sizes(101, 2).tolist() == [51, 50]
    assert dist.shard_sizes(5, 5).tolist() == [1] * 5
    with pytest.raises(ValueError, match=r"N = 2 training examples over P = 3 processes"):
        dist.shard_sizes(2, 3)
    with pytest.raises(TypeError, match="num_procs must be an int"):
        dist.shard_sizes(10, 2.0)


def test_batch_counts_add_up_to_the_batches():
    order = np.random.default_rng(0).permutation(23)
    counts = dist.batch_counts(order, [10, 8, 5], 5)
    assert counts.shape == (5, 3)
    assert counts.sum(axis=1).tolist() == [5, 5, 5, 5, 3]
    assert counts.sum(axis=0).tolist() == [10, 8, 5]
    owner = np.repeat([0, 1, 2], [10, 8, 5])
    assert counts[1].tolist() == np.bincount(owner[order[5:10]], minlength=3).tolist()


def test_comm_model_formulas():
    assert comm_model.ring_allreduce_bytes(800, 1) == 0
    assert comm_model.ring_allreduce_bytes(800, 4) == 1200
    P = np.array([1, 2, 8])
    t = comm_model.allreduce_seconds(1e6, P, latency=1e-5, bandwidth=1e9)
    np.testing.assert_allclose(t, 2 * (P - 1) * 1e-5 + 2 * (P - 1) / P * 1e6 / 1e9)
    compute, comm = comm_model.step_seconds(
        P, compute_seconds=1e-2, message_bytes=1e6, latency=1e-5, bandwidth=1e9, local_steps=4
    )
    np.testing.assert_allclose(compute, 1e-2 / P)
    np.testing.assert_allclose(comm, t / 4)
    # without latency the crossover has a closed form: P - 1 >= k beta b tau / 16
    b, M, tau, beta = 256, 10**6, 2e-10, 1.25e9
    for k in (1, 8):
        star = comm_model.crossover(
            compute_seconds=b * M * tau, message_bytes=8 * M, latency=0.0, bandwidth=beta,
            local_steps=k,
        )  # fmt: skip
        assert star == int(np.ceil(1 + k * beta * b * tau / 16))
    assert (
        comm_model.crossover(
            compute_seconds=1.0, message_bytes=8, latency=0, bandwidth=1e9, max_procs=64
        )  # fmt: skip
        is None
    )
    with pytest.raises(ValueError, match="num_procs must be whole numbers"):
        comm_model.ring_allreduce_bytes(8, 0)


def test_one_process_in_this_process_equals_train():
    """COMM_SELF: the trainers run without mpiexec, and P = 1 is plain minibatch SGD."""
    X, y = digits_mpi.training_set(DATA)
    expected, hist = single_process(RUN)
    r = {**digits_mpi.RUN, **RUN}
    params = mlcore.init_params(r["sizes"], np.random.default_rng(r["init_seed"]))
    common = dict(lr=r["lr"], num_epochs=r["num_epochs"], batch_size=r["batch_size"],
                  activations="tanh", loss="softmax_cross_entropy", comm=MPI.COMM_SELF)  # fmt: skip
    theta, h = dist.data_parallel_sgd(params, X, y, rng=np.random.default_rng(2), **common)
    assert rel(flat(theta), expected) <= 1e-12
    np.testing.assert_allclose(h.loss, hist.epoch_loss, rtol=1e-12)
    assert h.num_steps == h.num_rounds == 3 * 7 and h.bytes_sent is None
    for k in (1, 3):
        theta, h = dist.local_sgd(
            params, X, y, local_steps=k, rng=np.random.default_rng(2), **common
        )
        assert rel(flat(theta), expected) <= 1e-12  # one process: averaging changes nothing
        assert h.num_rounds == -(-21 // k)
    buf = np.arange(5.0)
    assert dist.ring_allreduce(MPI.COMM_SELF, buf) == 0 and buf.tolist() == [0, 1, 2, 3, 4]


def test_trainers_reject_bad_arguments_before_training():
    X, y = digits_mpi.training_set(DATA)
    params = mlcore.init_params([64, 12, 10], np.random.default_rng(1))
    kw = dict(lr=0.1, num_epochs=1, batch_size=8, rng=np.random.default_rng(0),
              loss="softmax_cross_entropy", comm=MPI.COMM_SELF)  # fmt: skip
    with pytest.raises(ValueError, match="divide_by must be one of"):
        dist.data_parallel_sgd(params, X, y, divide_by="ranks", **kw)
    with pytest.raises(ValueError, match=r"batch_size must be <= N = 101"):
        dist.data_parallel_sgd(params, X, y, **{**kw, "batch_size": 500})
    with pytest.raises(ValueError, match=r"rank 0 of 1: ValueError: .*lr"):
        dist.local_sgd(params, X, y, local_steps=2, **{**kw, "lr": -1.0})
    with pytest.raises(ValueError, match="rank 0 of 1: ValueError"):
        dist.data_parallel_sgd(params, X[:, :10], y, **kw)
    with pytest.raises(ValueError, match="shard of rank 0 is empty"):
        dist.data_parallel_sgd(params, X[:0], y[:0], **kw)


def test_find_mpiexec_is_the_one_of_this_environment():
    from pathlib import Path

    exe = Path(mpirun.find_mpiexec())
    assert exe.name == "mpiexec" and exe.exists()
    with pytest.raises(ValueError, match="num_procs must be an int >= 1"):
        mpirun.run(0, ["-c", "pass"], timeout=5)


# ----------------------------------------------------------------------------- real processes
@pytest.mark.parametrize("num_procs", [2, 3])
def test_data_parallel_sgd_equals_one_process(num_procs):
    """Uneven shards (51/50, 34/34/33) and an uneven last batch (5 of 16)."""
    runs = [
        {**RUN, "name": "mpi"},
        {**RUN, "name": "ring", "allreduce": "ring"},
        {**RUN, "name": "drop", "last_batch": "drop"},
        {**RUN, "name": "local k=1", "method": "local_sgd", "local_steps": 1},
    ]
    results = digits_mpi.launch(num_procs, runs, data=DATA, timeout=TIMEOUT)
    expected, hist = single_process(RUN)
    expected_drop, hist_drop = single_process({**RUN, "last_batch": "drop"})
    mpi, ring, drop, local = results
    assert mpi["shard_sizes"] == dist.shard_sizes(101, num_procs).tolist()
    for r, e, h in (
        (mpi, expected, hist),
        (ring, expected, hist),
        (drop, expected_drop, hist_drop),
    ):
        assert rel(r["params"], e) <= 1e-12, r["name"]
        np.testing.assert_allclose(r["loss"], h.epoch_loss, rtol=1e-12, atol=0)
        assert r["rank_spread"] == 0.0, "every process must hold the same parameters"
    assert mpi["num_steps"] == mpi["num_rounds"] == 3 * 7 and drop["num_steps"] == 3 * 6
    assert rel(local["params"], mpi["params"]) <= 1e-12  # k = 1: averaging weights = gradients
    assert local["rank_spread"] == 0.0
    # the ring sends 2(P - 1) chunks per all-reduce: in total 2(P - 1) times the message
    assert sum(ring["bytes_sent"]) == 2 * (num_procs - 1) * ring["message_bytes"] * 21
    assert ring["message_bytes"] == 8 * (64 * 12 + 12 + 12 * 10 + 10 + 1)


def test_explicit_uneven_shards_and_the_wrong_division():
    data = {**DATA, "shard_sizes": [70, 20, 11]}
    runs = [
        RUN,
        {**RUN, "divide_by": "processes"},
        {**RUN, "method": "local_sgd", "local_steps": 4},
    ]
    right, wrong, local4 = digits_mpi.launch(3, runs, data=data, timeout=TIMEOUT)
    expected, _ = single_process(RUN)
    assert right["shard_sizes"] == [70, 20, 11]
    assert rel(right["params"], expected) <= 1e-12
    assert rel(wrong["params"], expected) > 1e-3  # averaging means weights examples unequally
    assert rel(local4["params"], expected) > 1e-4  # four local steps drift
    assert local4["num_rounds"] == -(-21 // 4)


def test_more_processes_than_examples_is_a_clear_error():
    start = time.perf_counter()
    with pytest.raises(mpirun.MPIRunError) as err:
        digits_mpi.launch(3, [{**RUN, "batch_size": 1}], data={"num_examples": 2}, timeout=TIMEOUT)
    assert "N = 2 training examples over P = 3 processes" in str(err.value)
    assert "failed: ValueError" in str(err.value) and "exited with status" in str(err.value)
    assert time.perf_counter() - start < TIMEOUT


def test_an_empty_shard_is_a_clear_error():
    with pytest.raises(mpirun.MPIRunError) as err:
        digits_mpi.launch(3, [RUN], data={**DATA, "shard_sizes": [60, 0, 41]}, timeout=TIMEOUT)
    assert "the shard of rank 1 is empty (shard sizes [60, 0, 41], N = 101)" in str(err.value)


def test_processes_must_start_alike():
    code = """
        import numpy as np
        import mlcore
        from mlcore.distributed import data_parallel_sgd
        X = np.ones((4, 3)); y = np.zeros((4, 1))
        params = mlcore.init_params([3, 1], np.random.default_rng(0))
        rng = np.random.default_rng(comm.Get_rank())  # wrong: a different order per process
        data_parallel_sgd(params, X, y, lr=0.1, num_epochs=1, batch_size=2, rng=rng, comm=comm)
    """
    with pytest.raises(mpirun.MPIRunError) as err:
        launch_code(2, code)
    assert "same random generator state; ranks [1] differ from rank 0" in str(err.value)


def test_a_failing_process_stops_the_launch_with_its_message():
    code = """
        if comm.Get_rank() == 1:
            raise RuntimeError("disk full while reading the shard")
        comm.Barrier()  # the others wait here for a process that will never come
    """
    start = time.perf_counter()
    with pytest.raises(mpirun.MPIRunError) as err:
        launch_code(3, code)
    message = str(err.value)
    assert message.splitlines()[1] == (
        "rank 1 of 3 failed: RuntimeError: disk full while reading the shard"
    )
    assert "Traceback" in message.split("stderr:")[0]  # the report: line and traceback
    assert time.perf_counter() - start < TIMEOUT / 2


def test_the_report_of_a_failing_process_reaches_the_caller_without_its_stderr():
    """mpiexec may tear a launch down before it has passed on a process's last lines of
    stderr: the report file written before the abort carries the message anyway."""
    code = (
        "import os, pathlib, sys\n"
        f"folder = pathlib.Path(os.environ[{mpirun.FAILURES_DIR!r}])\n"
        "(folder / 'rank0.txt').write_text('rank 0 of 1 failed: OSError: shard gone\\n')\n"
        "sys.exit(1)  # and nothing on stderr\n"
    )
    with pytest.raises(mpirun.MPIRunError) as err:
        mpirun.run(1, ["-c", code], timeout=TIMEOUT)
    lines = str(err.value).splitlines()
    assert lines[1] == "rank 0 of 1 failed: OSError: shard gone"
    assert lines[2] == "reports:" and lines.count("rank 0 of 1 failed: OSError: shard gone") == 2


def test_a_dying_process_stops_the_launch():
    code = """
        import os
        if comm.Get_rank() == 2:
            os._exit(3)  # no exception, no message: the process just ends
        comm.Barrier()
    """
    with pytest.raises(mpirun.MPIRunError, match="exited with status"):
        launch_code(3, code)


def test_a_hanging_launch_is_killed_after_its_timeout():
    code = """
        import time
        if comm.Get_rank() == 0:
            time.sleep(600)
        comm.Barrier()
    """
    start = time.perf_counter()
    with pytest.raises(mpirun.MPIRunError, match="did not finish within 4 s"):
        launch_code(2, code, timeout=4)
    assert time.perf_counter() - start < 20


def test_ring_allreduce_sums_every_chunk_once():
    code = """
        import json, sys
        import numpy as np
        from mlcore.distributed import ring_allreduce
        p, P = comm.Get_rank(), comm.Get_size()
        buf = np.arange(11.0) * (p + 1)
        sent = ring_allreduce(comm, buf)
        sys.stdout.write(json.dumps([p, sent, buf.tolist()]) + "\\n")
    """
    out = launch_code(3, code).stdout
    rows = sorted(__import__("json").loads(line) for line in out.splitlines())
    expected = (np.arange(11.0) * 6).tolist()  # (1 + 2 + 3) * arange
    assert all(buf == expected for _, _, buf in rows)
    # chunks of 3, 4, 4 values: each process sends 2(P - 1) = 4 chunks
    assert sum(sent for _, sent, _ in rows) == 4 * 11 * 8
