r"""Training on several processes: all-reduce the gradients, or the weights.

:math:`P` processes (MPI ranks :math:`p = 0, \dots, P-1`) each hold one **shard**
:math:`S_p` of the training set, :math:`n_p` rows; the training set is the shards in
rank order, :math:`N = \sum_p n_p`.  A process only ever sees its own rows.

The global batches
------------------
Both trainers cut exactly the batches of ``mlcore.train`` with
``shuffle="every_epoch"``.  Every process draws the epoch's order
``rng.permutation(N)`` from a generator in the same state (same seed, so no
communication), the global batch :math:`B_t` is a slice of that order, and process
:math:`p` works on the :math:`c_{tp}` rows of :math:`B_t` that it holds,
:math:`B_t \cap S_p`.  The counts :math:`c_{tp}` vary from batch to batch.

Data-parallel SGD (average the gradients), :func:`data_parallel_sgd`
    Each process computes the *sum* of its per-example gradients and their number,

    .. math::

        G_{tp} = \sum_{n \in B_t \cap S_p} \nabla E_n(\theta), \qquad c_{tp} = |B_t \cap S_p|,

    one all-reduce adds them over the processes, :math:`G_t = \sum_p G_{tp}`,
    :math:`c_t = \sum_p c_{tp} = |B_t|`, and every process takes the same step
    :math:`\theta \leftarrow \theta - \eta\, G_t / c_t`: the mean gradient of the global
    batch, the step of single-process minibatch SGD, whatever the shard sizes.

    Dividing by the number of processes instead (``divide_by="processes"``: each
    process takes its local mean, the means are averaged) steps with
    :math:`\frac1P \sum_p G_{tp} / c_{tp}`, which gives example :math:`n \in S_p` the weight
    :math:`c_t / (P\, c_{tp})` instead of 1: the last-batch error of
    ``mlcore.train`` with ``last_batch="keep"``, at every step.

Local SGD / federated averaging (average the weights), :func:`local_sgd`
    Each process steps on its own rows only, for :math:`k` steps,

    .. math::

        \theta_p \leftarrow \theta_p - \eta\, \frac{N}{n_p\, c_t}\, G_{tp}(\theta_p),

    then one all-reduce averages the weights by shard size,
    :math:`\theta \leftarrow \sum_p \frac{n_p}{N}\, \theta_p`.  The factor
    :math:`N / (n_p c_t)` makes :math:`\frac{N}{n_p c_t} G_{tp}` an unbiased estimate of
    the shard's mean gradient (the batch holds :math:`c_t n_p / N` of its rows on
    average), and with :math:`k = 1` the average is
    :math:`\theta - \eta \sum_p \frac{n_p}{N} \frac{N}{n_p c_t} G_{tp} = \theta - \eta\, G_t / c_t`:
    exactly one step of data-parallel SGD, because the update is linear in the
    gradient and every process starts from the same :math:`\theta`.

Both trainers accept any ``mpi4py`` communicator and import ``mpi4py`` only
when they run, so ``import mlcore`` needs no MPI.  They check their arguments on every
process and exchange the verdicts before training, so bad input fails on all processes
alike; an exception that strikes one process later (say, a diverging local step) would
leave the others waiting, so run them under :func:`mlcore.digits_mpi.guarded` (or
``python -m mpi4py``), which stops every process.  The all-reduce is MPI's own
(``allreduce="mpi"``) or :func:`ring_allreduce` (``allreduce="ring"``), which counts
the bytes it sends.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _checks
from ._types import Activations, LastBatch, LossName, Params
from .mlp import cost, gradient
from .params import _copy, _flatten, _unflatten
from .training import batch_schedule

__all__ = [
    "DistributedHistory",
    "Traffic",
    "allreduce_gradient",
    "allreduce_weights",
    "batch_counts",
    "data_parallel_sgd",
    "local_sgd",
    "ring_allreduce",
    "shard_sizes",
]


LAST_BATCH = ("keep", "drop")
DIVIDE_BY = ("examples", "processes")
ALLREDUCE = ("mpi", "ring")


# ----------------------------------------------------------------------------- shards
def shard_sizes(num_examples: int, num_procs: int) -> NDArray[np.intp]:
    r"""Split :math:`N` rows over :math:`P` processes as evenly as possible.

    Process :math:`p` gets rows ``offsets[p] : offsets[p] + sizes[p]`` of the training
    set, where ``offsets = concatenate(([0], cumsum(sizes)[:-1]))``; the first
    :math:`N \bmod P` shards have :math:`\lceil N/P \rceil` rows, the others
    :math:`\lfloor N/P \rfloor`.

    Parameters
    ----------
    num_examples : int
        :math:`N \ge 1`.
    num_procs : int
        :math:`P \ge 1`, at most :math:`N`.

    Returns
    -------
    ndarray of int, shape (P,)
        :math:`n_p`, summing to :math:`N`.

    Raises
    ------
    ValueError
        If :math:`P > N` (some process would hold no example).
    """
    N = _checks.positive_int(num_examples, "num_examples")
    P = _checks.positive_int(num_procs, "num_procs")
    if P > N:
        raise ValueError(
            f"cannot split N = {N} training examples over P = {P} processes: every process "
            f"needs at least one example, so use at most {N} processes"
        )
    return np.array([N // P + (p < N % P) for p in range(P)], dtype=np.intp)


def batch_counts(
    order: NDArray[np.integer], sizes: NDArray[np.integer], batch_size: int
) -> NDArray[np.intp]:
    r"""How many rows of each global batch each process holds, :math:`c_{tp}`.

    Parameters
    ----------
    order : ndarray of int, shape (N,)
        The epoch's order of the training rows (a permutation of ``range(N)``).
    sizes : ndarray of int, shape (P,)
        Shard sizes :math:`n_p` (shards are consecutive rows in rank order).
    batch_size : int
        :math:`b`; the last batch holds the remaining :math:`N \bmod b` rows if any.

    Returns
    -------
    ndarray of int, shape (K, P)
        Row :math:`t` holds :math:`c_{t0}, \dots, c_{t,P-1}`, summing to :math:`|B_t|`.
    """
    order = np.asarray(order)
    sizes = np.asarray(sizes)
    b = _checks.positive_int(batch_size, "batch_size")
    owner = np.repeat(np.arange(len(sizes)), sizes)[order]  # process holding each row
    return np.array(
        [np.bincount(owner[s : s + b], minlength=len(sizes)) for s in range(0, len(order), b)]
    )


# ----------------------------------------------------------------------------- all-reduce
@dataclass
class Traffic:
    """What the all-reduces of one process sent, and how long they took.

    Attributes
    ----------
    calls : int
        Number of all-reduces.
    bytes_sent : int or None
        Bytes this process handed to MPI sends (:func:`ring_allreduce`); None once an
        all-reduce of the MPI library ran, whose traffic is not observable.
    seconds : float
        Wall-clock time spent inside the all-reduces (including waiting for the others).
    """

    calls: int = 0
    bytes_sent: int | None = 0
    seconds: float = 0.0


def ring_allreduce(comm: Any, buf: NDArray[np.float64]) -> int:
    r"""Sum ``buf`` over all processes in place, along a ring; return the bytes sent.

    The vector is cut into :math:`P` chunks.  In :math:`P - 1` *reduce-scatter* steps
    every process sends one chunk to its right neighbour and adds the chunk arriving
    from its left; afterwards process :math:`p` holds the full sum of chunk
    :math:`p + 1`.  In :math:`P - 1` *all-gather* steps the summed chunks travel once
    around the ring.  Each process sends :math:`2(P-1)` chunks, about
    :math:`2(P-1)/P` times the size of ``buf``, however large :math:`P` is.  Every chunk
    is summed once, so all processes end with the same bits.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        The processes.
    buf : ndarray of float64, shape (M,)
        Contiguous; overwritten with :math:`\sum_p` ``buf`` on every process.

    Returns
    -------
    int
        Bytes this process sent.
    """
    P, p = comm.Get_size(), comm.Get_rank()
    if P == 1:
        return 0
    edges = np.linspace(0, buf.size, P + 1).astype(int)
    chunk = [slice(edges[i], edges[i + 1]) for i in range(P)]
    right, left = (p + 1) % P, (p - 1) % P
    incoming = np.empty(int(np.diff(edges).max()))
    sent = 0
    for s in range(P - 1):  # reduce-scatter: chunk (p - s) goes right, (p - s - 1) comes in
        out, into = chunk[(p - s) % P], chunk[(p - s - 1) % P]
        n_in = into.stop - into.start
        comm.Sendrecv(buf[out], dest=right, recvbuf=incoming[:n_in], source=left)
        buf[into] += incoming[:n_in]
        sent += buf[out].nbytes
    for s in range(P - 1):  # all-gather: the summed chunk (p + 1 - s) goes right
        out, into = chunk[(p + 1 - s) % P], chunk[(p - s) % P]
        comm.Sendrecv(buf[out], dest=right, recvbuf=buf[into], source=left)
        sent += buf[out].nbytes
    return sent


def _allreduce(comm: Any, buf: NDArray[np.float64], algorithm: str, traffic: Traffic) -> None:
    """Sum ``buf`` over the processes in place, recording the traffic."""
    start = time.perf_counter()
    if algorithm == "ring":
        sent = ring_allreduce(comm, buf)
        if traffic.bytes_sent is not None:
            traffic.bytes_sent += sent
    else:
        MPI = _mpi()
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        traffic.bytes_sent = None
    traffic.seconds += time.perf_counter() - start
    traffic.calls += 1


def allreduce_gradient(
    params: Params,
    X_part: NDArray[np.floating],
    Y_part: NDArray[Any],
    *,
    comm: Any,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    divide_by: str = "examples",
    allreduce: str = "mpi",
    traffic: Traffic | None = None,
) -> tuple[Params, int]:
    r"""The mean gradient of a global batch from every process's part of it.

    Process :math:`p` holds :math:`c_p \ge 0` rows of the batch.  It computes
    :math:`G_p = \sum_{n} \nabla E_n` (one matrix product :math:`\Delta^\top X` per
    layer), one all-reduce adds :math:`[G_p, c_p]` over the processes, and every
    process divides by the total count: :math:`g = \sum_p G_p / \sum_p c_p`.

    Parameters
    ----------
    params : list of dict
        :math:`\theta`, the same on every process.
    X_part : ndarray, shape (c_p, n_0)
        This process's rows of the batch (possibly none).
    Y_part : ndarray, shape (c_p,) or (c_p, n_L)
        Their targets.
    comm : mpi4py.MPI.Comm
        The processes.
    activations, loss
        As in ``mlcore.gradient``.
    divide_by : {"examples", "processes"}, default "examples"
        ``"processes"``: every process sends its *mean* :math:`G_p / c_p` (0 if
        :math:`c_p = 0`) and the sum is divided by :math:`P`: the wrong average.
    allreduce : {"mpi", "ring"}, default "mpi"
        MPI's all-reduce or :func:`ring_allreduce`.
    traffic : Traffic, optional
        Updated with this all-reduce.

    Returns
    -------
    grads : list of dict
        :math:`g`, shaped like ``params``, identical on every process.
    count : int
        :math:`\sum_p c_p`, the size of the global batch.
    """
    c_p = X_part.shape[0]
    buf = np.zeros(_flatten(params).size + 1)  # [G_p (flattened), c_p]
    if c_p > 0:
        G_p = gradient(params, X_part, Y_part, activations, loss, reduction="sum")
        buf[:-1] = _flatten(G_p) / (c_p if divide_by == "processes" else 1)
    buf[-1] = c_p
    _allreduce(comm, buf, allreduce, traffic or Traffic())  # buf = [sum_p G_p, sum_p c_p]
    count = int(round(buf[-1]))
    divisor = count if divide_by == "examples" else comm.Get_size()
    return _unflatten(buf[:-1] / divisor, params), count


def allreduce_weights(
    params: Params,
    weight: float,
    *,
    comm: Any,
    allreduce: str = "mpi",
    traffic: Traffic | None = None,
) -> Params:
    r"""The weighted average :math:`\sum_p w_p \theta_p` of every process's parameters.

    Parameters
    ----------
    params : list of dict
        :math:`\theta_p`, this process's parameters.
    weight : float
        :math:`w_p`; the weights of all processes should sum to 1 (:math:`n_p / N`).
    comm : mpi4py.MPI.Comm
        The processes.
    allreduce : {"mpi", "ring"}, default "mpi"
        MPI's all-reduce or :func:`ring_allreduce`.
    traffic : Traffic, optional
        Updated with this all-reduce.

    Returns
    -------
    list of dict
        The average, identical on every process.
    """
    buf = weight * _flatten(params).astype(np.float64)
    _allreduce(comm, buf, allreduce, traffic or Traffic())
    return _unflatten(buf, params)


# ----------------------------------------------------------------------------- trainers
@dataclass
class DistributedHistory:
    r"""What :func:`data_parallel_sgd` and :func:`local_sgd` record, on every process.

    Attributes
    ----------
    loss : ndarray, shape (T,)
        Mean cost on the whole training set (all shards), at the start and then after
        every epoch (:func:`data_parallel_sgd`) or every ``eval_every`` communication
        rounds and at the end (:func:`local_sgd`).
    steps : ndarray of int, shape (T,)
        Global batches processed when each ``loss`` entry was taken.
    rounds : ndarray of int, shape (T,)
        Communication rounds (all-reduces of the training) done by then.
    shard_sizes : ndarray of int, shape (P,)
        :math:`n_p` of every process.
    message_bytes : int
        Size of the vector all-reduced per round (gradient sums and count, or weights).
    bytes_sent : int or None
        Bytes this process sent in the training's all-reduces (ring only, else None).
    train_seconds : float
        Wall-clock time of the training loop on this process, cost evaluations excluded.
    comm_seconds : float
        The part of ``train_seconds`` spent in all-reduces (waiting for others included).
    """

    loss: NDArray[np.float64]
    steps: NDArray[np.intp]
    rounds: NDArray[np.intp]
    shard_sizes: NDArray[np.intp]
    message_bytes: int
    bytes_sent: int | None
    train_seconds: float
    comm_seconds: float

    @property
    def num_steps(self) -> int:
        """Global batches processed in total."""
        return int(self.steps[-1])

    @property
    def num_rounds(self) -> int:
        """All-reduces of the training in total."""
        return int(self.rounds[-1])


def data_parallel_sgd(
    params: Params,
    X: NDArray[np.floating],
    Y: NDArray[Any],
    *,
    lr: float,
    num_epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    last_batch: LastBatch = "keep",
    divide_by: str = "examples",
    allreduce: str = "mpi",
    comm: Any = None,
) -> tuple[Params, DistributedHistory]:
    r"""Synchronous data-parallel minibatch SGD: one all-reduce of gradient sums per step.

    Call it on every process with that process's shard.  With the default
    ``divide_by="examples"`` the parameters equal, to rounding, those of
    ``mlcore.train(params, X_all, Y_all, reduction="mean", shuffle="every_epoch",
    last_batch=last_batch, rng=...)`` on the concatenated shards with a generator in the
    same state, for any number of processes and any shard sizes.

    Parameters
    ----------
    params : list of dict
        Start :math:`\theta_0`, the same on every process (checked; not modified).
    X : ndarray, shape (n_p, n_0)
        This process's shard of the inputs, at least one row.
    Y : ndarray, shape (n_p,) or (n_p, n_L)
        Its targets (see ``mlcore.gradient``).
    lr : float
        :math:`\eta > 0`.
    num_epochs : int
        Passes over the whole training set.
    batch_size : int
        Global batch size :math:`b`, ``1 <= b <= N``.
    rng : numpy.random.Generator
        Draws every epoch's order; in the same state on every process (checked).
    activations, loss
        As in ``mlcore.gradient``.
    last_batch : {"keep", "drop"}, default "keep"
        A last partial batch steps with its own mean gradient, or is skipped.
    divide_by : {"examples", "processes"}, default "examples"
        Divide the summed gradients by the number of examples of the global batch, or
        average the processes' means (wrong unless every process holds as many rows
        of every batch).
    allreduce : {"mpi", "ring"}, default "mpi"
        MPI's all-reduce or :func:`ring_allreduce`.
    comm : mpi4py.MPI.Comm, optional
        Default ``MPI.COMM_WORLD``.

    Returns
    -------
    params : list of dict
        Trained parameters, identical on every process.
    history : DistributedHistory
        Training-set cost after every epoch, traffic and timings of this process.

    Raises
    ------
    ValueError
        On every process alike, naming the numbers, if a shard is empty, the processes
        start from different parameters or generator states, or an argument is invalid
        on any process.
    """
    comm = _comm(comm)
    _checks.choice(last_batch, LAST_BATCH, "last_batch")
    _checks.choice(divide_by, DIVIDE_BY, "divide_by")
    _checks.choice(allreduce, ALLREDUCE, "allreduce")
    run = _setup(comm, params, X, Y, rng, activations, loss, lr, num_epochs, batch_size)
    X, Y, N, first, n_p = run.X, run.Y, run.N, run.first, run.n_p
    theta = _copy(params)
    traffic, log = Traffic(), _Log(run, activations, loss)
    for _ in range(num_epochs):
        order = rng.permutation(N)  # the same on every process: same generator state
        for b_start, b_stop in [
            (b.start, b.stop) for b in batch_schedule(N, batch_size, last_batch)
        ]:
            mine = _my_rows(order[b_start:b_stop], first, n_p)
            g, _ = allreduce_gradient(
                theta, X[mine], Y[mine], comm=comm, activations=activations, loss=loss,
                divide_by=divide_by, allreduce=allreduce, traffic=traffic,
            )  # fmt: skip
            theta = [
                {"W": th["W"] - lr * gr["W"], "b": th["b"] - lr * gr["b"]}
                for th, gr in zip(theta, g, strict=True)
            ]
        log.record(theta, steps=traffic.calls, rounds=traffic.calls)
    return theta, log.history(traffic, message_bytes=8 * (_flatten(params).size + 1))


def local_sgd(
    params: Params,
    X: NDArray[np.floating],
    Y: NDArray[Any],
    *,
    local_steps: int,
    lr: float,
    num_epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    activations: Activations = "tanh",
    loss: LossName = "squared_error",
    last_batch: LastBatch = "keep",
    allreduce: str = "mpi",
    eval_every: int = 1,
    comm: Any = None,
) -> tuple[Params, DistributedHistory]:
    r"""Local SGD (federated averaging): :math:`k` steps per process, then average weights.

    The processes walk through the same global batches as :func:`data_parallel_sgd`,
    each stepping on its own rows of every batch (see the module docstring), and every
    :math:`k` batches (and after the last one) replace their parameters by the
    shard-size weighted average.  With :math:`k = 1` this equals
    :func:`data_parallel_sgd` to rounding; it communicates :math:`k` times less.

    Parameters
    ----------
    params : list of dict
        Start :math:`\theta_0`, the same on every process (checked; not modified).
    X : ndarray, shape (n_p, n_0)
        This process's shard of the inputs, at least one row.
    Y : ndarray, shape (n_p,) or (n_p, n_L)
        Its targets.
    local_steps : int
        :math:`k \ge 1`, global batches between two averages.
    lr : float
        :math:`\eta > 0`.
    num_epochs : int
        Passes over the whole training set.
    batch_size : int
        Global batch size :math:`b`, ``1 <= b <= N``.
    rng : numpy.random.Generator
        In the same state on every process (checked).
    activations, loss
        As in ``mlcore.gradient``.
    last_batch : {"keep", "drop"}, default "keep"
        As in :func:`data_parallel_sgd`.
    allreduce : {"mpi", "ring"}, default "mpi"
        MPI's all-reduce or :func:`ring_allreduce`.
    eval_every : int, default 1
        Record the training-set cost every this many rounds (and after the last).
    comm : mpi4py.MPI.Comm, optional
        Default ``MPI.COMM_WORLD``.

    Returns
    -------
    params : list of dict
        The final average, identical on every process.
    history : DistributedHistory
        Training-set cost against steps and rounds, traffic and timings.

    Raises
    ------
    ValueError
        As :func:`data_parallel_sgd`.
    """
    comm = _comm(comm)
    k = _checks.positive_int(local_steps, "local_steps")
    every = _checks.positive_int(eval_every, "eval_every")
    _checks.choice(last_batch, LAST_BATCH, "last_batch")
    _checks.choice(allreduce, ALLREDUCE, "allreduce")
    run = _setup(comm, params, X, Y, rng, activations, loss, lr, num_epochs, batch_size)
    X, Y, N, first, n_p = run.X, run.Y, run.N, run.first, run.n_p
    batches = [(b.start, b.stop) for b in batch_schedule(N, batch_size, last_batch)]
    total = num_epochs * len(batches)
    theta = _copy(params)
    traffic, log = Traffic(), _Log(run, activations, loss)
    t = 0
    for _ in range(num_epochs):
        order = rng.permutation(N)
        for b_start, b_stop in batches:
            mine = _my_rows(order[b_start:b_stop], first, n_p)
            if mine.size > 0:  # a local step on this shard's rows of the batch
                G = gradient(theta, X[mine], Y[mine], activations, loss, reduction="sum")
                s = lr * N / (n_p * (b_stop - b_start))
                theta = [
                    {"W": th["W"] - s * gr["W"], "b": th["b"] - s * gr["b"]}
                    for th, gr in zip(theta, G, strict=True)
                ]
            t += 1
            if t % k == 0 or t == total:  # a communication round: average the weights
                theta = allreduce_weights(
                    theta, n_p / N, comm=comm, allreduce=allreduce, traffic=traffic
                )
                if traffic.calls % every == 0 or t == total:
                    log.record(theta, steps=t, rounds=traffic.calls)
    return theta, log.history(traffic, message_bytes=8 * _flatten(params).size)


# ----------------------------------------------------------------------------- helpers
@dataclass
class _Run:
    """This process's view of a run: its rows and where they sit in the training set."""

    comm: Any
    X: NDArray[np.floating]
    Y: NDArray[Any]
    sizes: NDArray[np.intp]
    first: int  # training-set row of this shard's first row
    start_loss: float

    @property
    def N(self) -> int:
        return int(self.sizes.sum())

    @property
    def n_p(self) -> int:
        return int(self.sizes[self.comm.Get_rank()])


def _setup(
    comm: Any, params: Params, X: Any, Y: Any, rng: Any, activations: Activations,
    loss: LossName, lr: Any, num_epochs: Any, batch_size: Any,
) -> _Run:  # fmt: skip
    """Check the arguments on every process, then agree: all raise alike or none does."""
    P = comm.Get_size()
    error, n_p, local_sum = None, 0, 0.0
    try:
        X, Y = np.asarray(X), np.asarray(Y)
        _checks.real(lr, "lr", positive=True)
        _checks.positive_int(num_epochs, "num_epochs")
        _checks.positive_int(batch_size, "batch_size")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
        n_p = len(X) if X.ndim > 0 else 0
        if n_p > 0:  # checks X, Y and params against each other
            local_sum = cost(params, X, Y, activations, loss, reduction="sum")
    except Exception as exc:  # reported by every process below, so none waits forever
        error = f"{type(exc).__name__}: {exc}"
    state = repr(rng.bit_generator.state) if isinstance(rng, np.random.Generator) else ""
    mine = (n_p, error, _fingerprint(params), hashlib.sha1(state.encode()).hexdigest())
    everyone = comm.allgather(mine)  # the only exchange before training
    for r, (_, err, _, _) in enumerate(everyone):
        if err is not None:
            raise ValueError(f"rank {r} of {P}: {err}")
    sizes = np.array([e[0] for e in everyone], dtype=np.intp)
    N = int(sizes.sum())
    empty = [r for r in range(P) if sizes[r] == 0]
    if empty:
        why = f"more processes (P = {P}) than examples (N = {N}); " if P > N else ""
        raise ValueError(
            f"{why}the shard of rank {empty[0]} is empty (shard sizes {sizes.tolist()}, "
            f"N = {N}): every process needs at least one training example"
        )
    for what, i in (("parameters", 2), ("random generator state", 3)):
        differ = [r for r in range(P) if everyone[r][i] != everyone[0][i]]
        if differ:
            raise ValueError(
                f"every process must start from the same {what}; ranks {differ} differ "
                "from rank 0 (build them from the same seed on every process)"
            )
    if batch_size > N:
        raise ValueError(f"batch_size must be <= N = {N} (all shards together); got {batch_size}")
    first = int(sizes[: comm.Get_rank()].sum())
    return _Run(comm, X, Y, sizes, first, _sum_over(comm, local_sum) / N)


class _Log:
    """Training-set cost at chosen points; timings of the training loop without it."""

    def __init__(self, run: _Run, activations: Activations, loss: LossName) -> None:
        self.run, self.activations, self.loss = run, activations, loss
        self.records = [(run.start_loss, 0, 0)]
        self.started = time.perf_counter()
        self.eval_seconds = 0.0

    def record(self, theta: Params, *, steps: int, rounds: int) -> None:
        start = time.perf_counter()
        run = self.run
        local_sum = cost(theta, run.X, run.Y, self.activations, self.loss, reduction="sum")
        self.records.append((_sum_over(run.comm, local_sum) / run.N, steps, rounds))
        self.eval_seconds += time.perf_counter() - start

    def history(self, traffic: Traffic, *, message_bytes: int) -> DistributedHistory:
        seconds = time.perf_counter() - self.started - self.eval_seconds
        loss, steps, rounds = zip(*self.records, strict=True)
        return DistributedHistory(
            loss=np.array(loss),
            steps=np.array(steps, dtype=np.intp),
            rounds=np.array(rounds, dtype=np.intp),
            shard_sizes=self.run.sizes,
            message_bytes=message_bytes,
            bytes_sent=traffic.bytes_sent,
            train_seconds=seconds,
            comm_seconds=traffic.seconds,
        )


def _sum_over(comm: Any, value: float) -> float:
    """Sum one number over the processes (bookkeeping, not counted as training traffic)."""
    MPI = _mpi()
    buf = np.array([float(value)])
    comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    return float(buf[0])


def _mpi() -> Any:
    from mpi4py import MPI  # lazy: mlcore works without MPI

    return MPI


def _comm(comm: Any) -> Any:
    return _mpi().COMM_WORLD if comm is None else comm


def _my_rows(batch: NDArray[np.intp], first: int, n_p: int) -> NDArray[np.intp]:
    """Local row numbers of the batch's rows held by the shard ``first : first + n_p``."""
    return batch[(batch >= first) & (batch < first + n_p)] - first


def _fingerprint(params: Params) -> str:
    try:
        return hashlib.sha1(_flatten(params).tobytes()).hexdigest()
    except (TypeError, KeyError, ValueError, AttributeError):
        return "invalid"
