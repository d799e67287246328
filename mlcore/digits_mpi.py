"""The digits network trained on several MPI processes: the program every process runs.

Launch it with ``P`` processes; each one loads the digits, keeps only its shard of the
training set and runs :func:`mlcore.distributed.data_parallel_sgd` or
:func:`mlcore.distributed.local_sgd`::

    mpiexec -n 4 python -m mlcore.digits_mpi runs.json results.json

``runs.json`` holds ``{"data": {...}, "runs": [{...}, ...]}`` (keys and defaults in
``DATA`` and ``RUN``; a run's own ``"data"`` overrides the launch's); process 0 writes
one result per run to ``results.json``.  From Python, :func:`launch` writes the file,
starts the processes with :func:`mlcore.mpirun.run` and reads the results back.  The
same command runs on a cluster (``mpiexec -n 64 -hosts node1,node2 ...`` or
``srun -n 64 ...``); only the launcher changes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import mpirun

__all__ = ["DATA", "RUN", "guarded", "launch", "main", "prepare", "shard", "training_set"]

#: The training set: digits split with ``data_seed`` (``mlcore.load_digits``), its
#: first ``num_examples`` rows (None: all), optionally sorted by label (each process
#: then holds only a few digits), cut into ``shard_sizes`` (None: even shards).
#: ``files`` (set by :func:`prepare`): ``.npy`` files of that training set, from which
#: each process reads only its own rows.
DATA: dict[str, Any] = {
    "data_seed": 0,
    "num_examples": None,
    "sort_by_label": False,
    "shard_sizes": None,
    "files": None,
}

#: One run: ``method`` is "sgd" (data-parallel SGD) or "local_sgd"; the network has
#: layer ``sizes`` initialised from ``init_seed`` (with ``loss="squared_error"`` it
#: regresses the one-hot code of the digit); ``order_seed`` seeds the epochs' orders;
#: ``repeats`` runs it several times (timings) and keeps the last result.  A run may
#: also carry its own ``"data"`` (keys of ``DATA``), overriding the launch's.
RUN: dict[str, Any] = {
    "name": "",
    "method": "sgd",
    "sizes": [64, 64, 10],
    "activations": "tanh",
    "loss": "softmax_cross_entropy",
    "init_seed": 1,
    "order_seed": 2,
    "lr": 0.1,
    "num_epochs": 5,
    "batch_size": 32,
    "last_batch": "keep",
    "divide_by": "examples",
    "local_steps": 1,
    "eval_every": 1,
    "allreduce": "mpi",
    "repeats": 1,
}


def training_set(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The whole training set described by ``data`` (``X (N, 64)``, labels ``(N,)``)."""
    from . import load_digits

    d = {**DATA, **data}
    X, _, y, _ = load_digits(np.random.default_rng(d["data_seed"]))
    if d["num_examples"] is not None:
        X, y = X[: d["num_examples"]], y[: d["num_examples"]]
    if d["sort_by_label"]:
        order = np.argsort(y, kind="stable")
        X, y = X[order], y[order]
    return X, y


def prepare(data: dict[str, Any], directory: str | Path) -> dict[str, Any]:
    """Write the training set of ``data`` to ``.npy`` files; return ``data`` naming them.

    Parameters
    ----------
    data : dict
        Keys of ``DATA``.
    directory : path
        Where to write ``X.npy`` and ``y.npy`` (a folder every process can read).

    Returns
    -------
    dict
        ``data`` with ``"files"`` set: the processes then read only their rows
        (memory-mapped), instead of each loading the whole data set.
    """
    X, y = training_set(data)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = [str(directory / "X.npy"), str(directory / "y.npy")]
    np.save(files[0], X)
    np.save(files[1], y)
    return {**data, "files": files}


def shard(data: dict[str, Any], rank: int, num_procs: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of process ``rank``: consecutive rows of the training set, in rank order.

    Parameters
    ----------
    data : dict
        As ``DATA``; ``shard_sizes`` (length ``num_procs``) overrides the even split of
        :func:`mlcore.distributed.shard_sizes`.  With ``files`` only this process's
        rows are read from disk.
    rank, num_procs : int
        This process and :math:`P`.

    Returns
    -------
    X_p : ndarray, shape (n_p, 64)
    y_p : ndarray of int, shape (n_p,)
    """
    from .distributed import shard_sizes

    if data.get("files"):
        X, y = (np.load(f, mmap_mode="r") for f in data["files"])  # nothing read yet
    else:
        X, y = training_set(data)
    sizes = data.get("shard_sizes")
    if sizes is None:
        sizes = shard_sizes(len(X), num_procs)
    elif len(sizes) != num_procs or sum(sizes) != len(X):
        raise ValueError(
            f"shard_sizes {list(sizes)} must have one entry per process (P = {num_procs}) "
            f"and sum to N = {len(X)}"
        )
    first = int(np.sum(sizes[:rank]))
    rows = slice(first, first + int(sizes[rank]))
    return np.array(X[rows]), np.array(y[rows])  # reads this shard's rows only


def _train_one(comm: Any, X: np.ndarray, y: np.ndarray, run: dict[str, Any]) -> dict[str, Any]:
    from . import init_params
    from .distributed import data_parallel_sgd, local_sgd

    r = {**RUN, **run}
    params = init_params(r["sizes"], np.random.default_rng(r["init_seed"]))
    if r["loss"] == "squared_error":  # regress the one-hot code of the digit
        y = np.eye(r["sizes"][-1])[y]
    common = dict(
        lr=r["lr"], num_epochs=r["num_epochs"], batch_size=r["batch_size"],
        activations=r["activations"], loss=r["loss"], last_batch=r["last_batch"],
        allreduce=r["allreduce"], comm=comm,
    )  # fmt: skip
    seconds, comm_seconds = [], []
    for _ in range(r["repeats"]):
        rng = np.random.default_rng(r["order_seed"])
        comm.Barrier()  # start the clocks together
        if r["method"] == "sgd":
            theta, hist = data_parallel_sgd(
                params, X, y, rng=rng, divide_by=r["divide_by"], **common
            )
        elif r["method"] == "local_sgd":
            theta, hist = local_sgd(
                params, X, y, rng=rng, local_steps=r["local_steps"], eval_every=r["eval_every"],
                **common,
            )  # fmt: skip
        else:
            raise ValueError(f"method must be 'sgd' or 'local_sgd'; got {r['method']!r}")
        times = comm.allgather((hist.train_seconds, hist.comm_seconds))
        seconds.append(max(t for t, _ in times))  # a step ends when the slowest process is done
        comm_seconds.append(sum(c for _, c in times) / len(times))
    flat = np.concatenate([a.ravel() for layer in theta for a in (layer["W"], layer["b"])])
    spread = comm.allreduce(float(np.abs(flat - comm.bcast(flat, root=0)).max()), op=_max())
    per_rank = comm.gather((hist.bytes_sent, hist.train_seconds, hist.comm_seconds), root=0)
    if comm.Get_rank() != 0:
        return {}
    sent, train_s, comm_s = zip(*per_rank, strict=True)
    return {
        **r,
        "num_procs": comm.Get_size(),
        "shard_sizes": hist.shard_sizes.tolist(),
        "params": flat.tolist(),
        "rank_spread": spread,
        "loss": hist.loss.tolist(),
        "steps": hist.steps.tolist(),
        "rounds": hist.rounds.tolist(),
        "num_steps": hist.num_steps,
        "num_rounds": hist.num_rounds,
        "message_bytes": hist.message_bytes,
        "bytes_sent": list(sent),
        "train_seconds": list(train_s),
        "comm_seconds": list(comm_s),
        "repeat_seconds": seconds,
        "repeat_comm_seconds": comm_seconds,
    }


def _max() -> Any:
    from mpi4py import MPI

    return MPI.MAX


def guarded(body: Callable[[Any], Any]) -> Any:
    """Run ``body(comm)`` on this process; if it raises, say so and stop every process.

    An exception in one process would otherwise leave the others waiting forever in
    their next collective call.  Here the process writes
    ``rank r of P failed: <type>: <message>`` and its traceback to stderr and, when
    launched by :func:`mlcore.mpirun.run`, to a report file (``mpiexec`` may stop before
    it has passed on the last lines of stderr), then calls ``MPI_Abort``, so
    ``mpiexec`` stops all processes and exits non-zero.

    Parameters
    ----------
    body : callable
        ``body(comm)`` with ``comm = MPI.COMM_WORLD``.

    Returns
    -------
    object
        What ``body`` returned (only if no process failed).
    """
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    try:
        return body(comm)
    except BaseException as exc:
        rank, size = comm.Get_rank(), comm.Get_size()
        report = f"rank {rank} of {size} failed: {type(exc).__name__}: {exc}\n"
        report += traceback.format_exc()
        folder = os.environ.get(mpirun.FAILURES_DIR)
        if folder:  # written and closed before the abort
            Path(folder, f"rank{rank}.txt").write_text(report)
        sys.stderr.write(report)
        sys.stderr.flush()
        comm.Abort(1)
        raise  # not reached: Abort ends the process


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of every process: ``python -m mlcore.digits_mpi RUNS.json OUT.json``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        sys.stderr.write("usage: python -m mlcore.digits_mpi RUNS.json OUT.json\n")
        return 2

    def body(comm: Any) -> None:
        spec = json.loads(Path(args[0]).read_text())
        results = []
        for run in spec["runs"]:
            unknown = set(run) - set(RUN) - {"data"}
            if unknown:
                raise ValueError(f"unknown run keys {sorted(unknown)}; known: {sorted(RUN)}")
            data = {**spec.get("data", {}), **run.get("data", {})}
            unknown = set(data) - set(DATA)
            if unknown:
                raise ValueError(f"unknown data keys {sorted(unknown)}; known: {sorted(DATA)}")
            X, y = shard(data, comm.Get_rank(), comm.Get_size())
            results.append(_train_one(comm, X, y, run))
        if comm.Get_rank() == 0:
            Path(args[1]).write_text(json.dumps(results))

    guarded(body)
    return 0


def launch(
    num_procs: int,
    runs: Sequence[dict[str, Any]],
    *,
    data: dict[str, Any] | None = None,
    timeout: float = 120.0,
) -> list[dict[str, Any]]:
    """Start ``num_procs`` processes on this machine for ``runs``; return their results.

    Parameters
    ----------
    num_procs : int
        :math:`P`.
    runs : sequence of dict
        Runs (keys of ``RUN``; missing keys take its defaults), done one after the other
        by the same processes.
    data : dict, optional
        Keys of ``DATA``.
    timeout : float, default 120
        Seconds before the launch is killed (:class:`mlcore.mpirun.MPIRunError`).

    Returns
    -------
    list of dict
        Per run: the run's settings (with its ``data``), ``num_procs``,
        ``shard_sizes``, final ``params`` (flat ndarray), ``rank_spread`` (largest
        difference of the final parameters between processes),
        ``loss``/``steps``/``rounds`` (ndarrays, see
        :class:`mlcore.distributed.DistributedHistory`), ``num_steps``, ``num_rounds``,
        ``message_bytes``, per process ``bytes_sent``, ``train_seconds``,
        ``comm_seconds``, and per repeat ``repeat_seconds`` (training time of the
        slowest process) and ``repeat_comm_seconds`` (all-reduce time, mean over the
        processes).

    Notes
    -----
    The parent process writes each training set once (:func:`prepare`); the
    processes read only their own rows of it.
    """
    with tempfile.TemporaryDirectory(prefix="mlcore-mpi-") as tmp:
        prepared: dict[str, dict[str, Any]] = {}  # one pair of files per training set

        def on_disk(d: dict[str, Any]) -> dict[str, Any]:
            key = json.dumps({k: v for k, v in d.items() if k != "shard_sizes"}, sort_keys=True)
            if key not in prepared:
                prepared[key] = prepare(d, Path(tmp) / f"data{len(prepared)}")
            return {**prepared[key], "shard_sizes": d.get("shard_sizes")}

        base = {**DATA, **(data or {})}
        runs = [{**r, "data": on_disk({**base, **r.get("data", {})})} for r in runs]
        spec, out = Path(tmp) / "runs.json", Path(tmp) / "results.json"
        spec.write_text(json.dumps({"runs": runs}))
        mpirun.run(num_procs, ["-m", "mlcore.digits_mpi", str(spec), str(out)], timeout=timeout)
        results = json.loads(out.read_text())
    for r in results:
        for key in ("params", "loss"):
            r[key] = np.array(r[key])
        for key in ("steps", "rounds"):
            r[key] = np.array(r[key], dtype=np.intp)
    return results


if __name__ == "__main__":
    raise SystemExit(main())
