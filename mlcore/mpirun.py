"""Launch ``P`` Python processes with ``mpiexec``, with a timeout and a clear failure.

``mpiexec -n P python ARGS...`` starts the same program ``P`` times; MPI connects the
processes.  :func:`run` finds the ``mpiexec`` of the running Python environment
(``pip install mpich`` puts it next to ``python``), pins every process to one BLAS
thread, and turns every way a launch can go wrong into :class:`MPIRunError` with the
failing process's own message:

* a process raises: the program writes ``rank r of P failed: ...`` and its traceback to
  a report file and to stderr and calls ``MPI_Abort`` (see
  :func:`mlcore.digits_mpi.guarded`), ``mpiexec`` stops the other processes and exits
  non-zero; the report is read from the file (what a process writes to stderr just
  before the abort can be lost when ``mpiexec`` tears the launch down);
* a process dies (signal, ``os._exit``): ``mpiexec`` stops the others, exits non-zero;
* a process hangs (a deadlock): after ``timeout`` seconds the whole process group is
  killed.

With more processes than cores (allowed: they take turns), waiting processes are asked
to sleep rather than spin (``SHARED_CORES``).

On a cluster the same program is started by the cluster's launcher instead, e.g.
``mpiexec -n 64 -hosts node1,node2 python -m mlcore.digits_mpi ...`` or
``srun -n 64 python -m mlcore.digits_mpi ...``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["FAILURES_DIR", "ONE_THREAD", "SHARED_CORES", "MPIRunError", "find_mpiexec", "run"]

#: Environment of every launched process: one BLAS thread per MPI process, so that
#: P processes use P cores and timings are not distorted by thread oversubscription.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: Added when there are more processes than cores: a process waiting in an MPICH
#: collective then sleeps briefly instead of spinning, so that the processes it waits
#: for get the cores.  (With one core per process, spinning answers fastest.)
SHARED_CORES = {"MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}


#: Name of the environment variable that gives the launched processes a folder for their
#: failure reports, one file ``rank<r>.txt`` per failing process.
FAILURES_DIR = "MLCORE_MPI_FAILURES"


class MPIRunError(RuntimeError):
    """A launch failed: non-zero exit or timeout; the message holds the processes' stderr."""


def find_mpiexec() -> str:
    """The ``mpiexec`` next to the running Python, else the first one on ``PATH``.

    Returns
    -------
    str
        Path of the launcher.

    Raises
    ------
    FileNotFoundError
        If there is none (``pip install mpi4py mpich``, see ``requirements.txt``).
    """
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            f"no mpiexec next to {sys.executable} nor on PATH; install an MPI, e.g. "
            "pip install mpi4py mpich (both are in requirements.txt)"
        )
    return found


def run(
    num_procs: int,
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``mpiexec -n num_procs python *args`` and wait at most ``timeout`` seconds.

    Parameters
    ----------
    num_procs : int
        :math:`P \\ge 1`, the number of processes (more than the cores is allowed:
        they then share the cores).
    args : sequence of str
        Arguments of the Python interpreter, e.g. ``["-m", "mlcore.digits_mpi", ...]``.
    timeout : float
        Seconds before every process of the launch is killed.
    env : mapping, optional
        Extra environment variables, on top of the current ones, ``ONE_THREAD``,
        ``FAILURES_DIR`` and, if ``num_procs`` exceeds the machine's cores,
        ``SHARED_CORES``.
    cwd : path, optional
        Working directory.

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text; only returned on exit status 0.

    Raises
    ------
    MPIRunError
        On a non-zero exit (the message starts with the failing ranks' lines, then
        their reports and the launch's stderr) or when the timeout expires.
    """
    if isinstance(num_procs, bool) or not isinstance(num_procs, int) or num_procs < 1:
        raise ValueError(f"num_procs must be an int >= 1; got {num_procs!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds; got {timeout!r}")
    cmd = [find_mpiexec(), "-n", str(num_procs), sys.executable, *map(str, args)]
    shared = SHARED_CORES if num_procs > (os.cpu_count() or 1) else {}
    with tempfile.TemporaryDirectory(prefix="mlcore-mpi-failures-") as failures:
        full_env = {**os.environ, **ONE_THREAD, **shared, FAILURES_DIR: failures, **(env or {})}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            cwd=cwd,
            start_new_session=True,  # one process group: mpiexec and everything it started
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise MPIRunError(
                f"{_show(cmd)} did not finish within {timeout:g} s and was killed "
                f"(a process hanging, e.g. waiting for one that never sends).\n"
                f"stderr:\n{_tail(err)}"
            ) from None
        reports = _reports(Path(failures))
    if proc.returncode != 0:
        failed = [line for line in (reports + err).splitlines() if " failed: " in line]
        head = "".join(f"{line}\n" for line in dict.fromkeys(failed))  # each line once
        reported = f"reports:\n{_tail(reports)}\n" if reports else ""
        raise MPIRunError(
            f"{_show(cmd)} exited with status {proc.returncode}.\n{head}{reported}"
            f"stderr:\n{_tail(err)}\nstdout:\n{_tail(out)}"
        )
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _reports(folder: Path) -> str:
    """The failure reports the processes left in ``folder``, by rank."""
    files = sorted(folder.glob("rank*.txt"), key=lambda f: int(f.stem.removeprefix("rank")))
    return "".join(f.read_text() for f in files)


def _show(cmd: Sequence[str]) -> str:
    """The command on one line: program names without folders, code cut to its first line."""
    args = [a if "\n" not in a else repr(a.splitlines()[0] + " ...") for a in cmd[4:]]
    return " ".join([Path(cmd[0]).name, *cmd[1:3], Path(cmd[3]).name, *args])


def _tail(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]
