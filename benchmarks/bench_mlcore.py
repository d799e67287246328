"""Benchmark mlcore against a per-example loop, PyTorch eager and jitted JAX, and
against the machine itself (a roofline).

Run from anywhere (it measures the ``mlcore`` of the checkout it lives in)::

    python benchmarks/bench_mlcore.py            # full run, under a minute
    python benchmarks/bench_mlcore.py --quick    # a few seconds: checks that every row runs

Everything is measured in this one run, on one core: the process and all its threads
(XLA's and PyTorch's included) are pinned to one CPU (the idler one), BLAS is limited
to one thread with threadpoolctl, torch with ``torch.set_num_threads(1)``, XLA with
``XLA_FLAGS``.  One
row ("JAX ..., async, 2 cores") lets JAX's threads use both cores, for information.
Times are medians over repeated blocks of calls; the blocks of the variants being
compared alternate, so load from other processes affects them alike.  The networks are
the book's digits classifiers: 64-64-10 and the Part III net 64-32-32-32-32-10, tanh
hidden layers, softmax cross-entropy.  PyTorch and JAX are optional; their columns are
skipped (and said so) if they are not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# single-threaded XLA must be configured before jax is imported
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
os.environ.setdefault("OMP_NUM_THREADS", "1")
# measure the mlcore of this checkout, whatever else is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import mlcore as mc  # noqa: E402
from mlcore.losses import _reduce  # noqa: E402  (what the training loop records per step)
from mlcore.optim import _sgd_step  # noqa: E402  (the update the training loop uses)
from mlcore.params import _flat_copy  # noqa: E402  (the loop's one-vector parameters)
from mlcore.per_example import _outer_products  # noqa: E402  (its outer products, timed alone)

LOSS = "softmax_cross_entropy"
ACTS = "tanh"
SIZES = (64, 64, 10)
DEEP = (64, 32, 32, 32, 32, 10)  # the Part III network
LR = 0.1
B = 32


# ----------------------------------------------------------------------------- timing
def pin(cpus):
    """Restrict every thread of this process (XLA's and torch's too) to ``cpus``."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:  # a thread that has just exited
            pass


def idlest_cpu(cpus, seconds=0.5):
    """The CPU of ``cpus`` with the most idle time over ``seconds`` (from /proc/stat)."""

    def idle():
        with open("/proc/stat") as f:
            rows = [line.split() for line in f if line.startswith("cpu") and line[3] != " "]
        return {int(r[0][3:]): int(r[4]) + int(r[5]) for r in rows}  # idle + iowait

    try:
        before = idle()
        time.sleep(seconds)
        after = idle()
        return max(cpus, key=lambda c: after.get(c, 0) - before.get(c, 0))
    except (OSError, ValueError, IndexError):
        return max(cpus)


def interleaved(cases, repeat, warmup=3, cpus=None):
    """Median time per call of several functions, measured in alternating blocks.

    ``cases`` maps a name to ``(fn, number, finish)`` or ``(fn, number, finish, cpus)``:
    each block calls ``fn`` ``number`` times, then ``finish()`` if given (inside the
    timing; used to wait for JAX's asynchronous dispatch).  Before each block all
    threads are pinned to the case's ``cpus`` (default: the run's one core).  Blocks
    of all cases alternate ``repeat`` times, so a burst of load elsewhere on the
    machine slows all of them alike and the ratios stay fair.
    Returns ``{name: median seconds per call}``.
    """
    cases = {k: v if len(v) == 4 else (*v, None) for k, v in cases.items()}
    for fn, _, finish, c in cases.values():
        pin(c or cpus)
        for _ in range(warmup):
            fn()
        if finish:
            finish()
    times = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (fn, number, finish, c) in cases.items():
            pin(c or cpus)
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if finish:
                finish()
            times[name].append((time.perf_counter() - t0) / number)
    pin(cpus)
    return {name: statistics.median(v) for name, v in times.items()}


def fmt_time(t):
    if t is None:
        return "—"
    return f"{t * 1e6:,.0f} µs" if t < 1e-2 else f"{t * 1e3:,.1f} ms"


# ----------------------------------------------------------------------------- roofline
def roofline(quick, cpus):
    """The machine's limits on this core: GEMM rate (float64, float32) and memory
    bandwidth (a large copy, counted as bytes read + written, and a large fill,
    bytes written).  Best of the repeats: the limit, not a typical time (the run
    measures them at its start and its end and keeps the best)."""
    n = 256 if quick else 1024
    rng = np.random.default_rng(0)
    limits = {}
    cases = {}
    for dt in (np.float64, np.float32):
        a, b = (rng.standard_normal((n, n)).astype(dt) for _ in range(2))
        c = np.empty((n, n), dt)
        cases[f"gemm_{np.dtype(dt).name}"] = (lambda a=a, b=b, c=c: np.matmul(a, b, out=c), 1, None)
    size = (8 if quick else 128) * 2**20 // 8  # float64 entries; 128 MB, far beyond L3
    src, dst = np.ones(size), np.zeros(size)
    cases["copy"] = (lambda: np.copyto(dst, src), 1, None)
    cases["fill"] = (lambda: dst.fill(1.0), 1, None)
    best = {k: [] for k in cases}
    pin(cpus)
    for _ in range(3 if quick else 7):
        for k, (fn, _, _) in cases.items():
            t0 = time.perf_counter()
            fn()
            best[k].append(time.perf_counter() - t0)
    for dt in ("float64", "float32"):
        limits[f"gemm_{dt}"] = 2 * n**3 / min(best[f"gemm_{dt}"])
    limits["copy"] = 2 * src.nbytes / min(best["copy"])
    limits["fill"] = dst.nbytes / min(best["fill"])
    limits["memory"] = max(limits["copy"], limits["fill"])
    return limits


def step_flops(sizes, batch, *, gradient=True):
    """Multiply-adds x 2 of the matrix products of one SGD step: forward
    (X W^T), deltas (Delta W, not for layer 1) and, if ``gradient``, the gradient
    (Delta^T X)."""
    per_layer = [2 * batch * m * n for n, m in zip(sizes[:-1], sizes[1:], strict=True)]
    return (3 if gradient else 2) * sum(per_layer) - per_layer[0]


def num_params(sizes):
    return sum(m * (n + 1) for n, m in zip(sizes[:-1], sizes[1:], strict=True))


# ----------------------------------------------------------------------------- counting
class Counted(np.ndarray):
    """An ndarray that counts the numpy calls made on it: ufuncs (elementwise, ``@``,
    reductions such as ``.sum``) and array functions (``np.einsum``, ...).  Indexing,
    views and attribute access are not counted."""

    calls = 0
    active = True

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        Counted.calls += Counted.active
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*(_plain(a) for a in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        Counted.calls += Counted.active
        return _wrap(func(*_plain(args), **_plain(kwargs)))


def _plain(x):
    if isinstance(x, Counted):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _wrap(x):
    if type(x) is np.ndarray:
        return x.view(Counted)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


def numpy_calls_per_step(sizes, X, y, engine=mc):
    """Numpy calls per step of the real training loop (``engine.training._train``),
    plain SGD, batches of 32, float64: the calls of two epochs minus those of one,
    divided by the steps of an epoch (so the setup before the loop cancels; the
    end-of-epoch checks are not counted)."""

    class QuietLog(engine.training._Log):
        def end_of_epoch(self, params, epoch, t):
            Counted.active = False
            try:
                return super().end_of_epoch(params, epoch, t)
            finally:
                Counted.active = True

    params = engine.init_params(sizes, np.random.default_rng(0))
    Xc, Yc = engine.mlp.check_model(params, X, y, ACTS, LOSS)
    schedule = engine.batch_schedule(Xc.shape[0], B, "drop")
    counts = []
    for epochs in (1, 2):
        p = [{k: v.view(Counted) for k, v in layer.items()} for layer in params]
        net = engine.training._Net(ACTS, LOSS, "mean")
        lr_at = lambda t: LR  # noqa: E731
        log = QuietLog(net, lr_at, Xc.view(Counted), Yc.view(Counted), None, None, None,
                       False, None, "raise")  # fmt: skip
        Counted.calls = 0
        engine.training._train(p, Xc.view(Counted), Yc.view(Counted), net, lr_at, epochs,
                               schedule, "never", engine.SGD(), np.random.default_rng(0),
                               log)  # fmt: skip
        counts.append(Counted.calls)
    return (counts[1] - counts[0]) / len(schedule)


# ----------------------------------------------------------------------------- mlcore
def step_setup(params, batches, dtype):
    """What the training loop holds before its first step: the parameters and the
    gradient in one vector each (``dtype``), and the validated batches."""
    p = _flat_copy([{"W": q["W"].astype(dtype), "b": q["b"].astype(dtype)} for q in params])
    data = [mc.mlp.check_model(p, Xb, yb, ACTS, LOSS) for Xb, yb in batches]
    return p, _flat_copy(p, zeros=True), data


def mlcore_step_fn(params, batches, dtype):
    """One minibatch SGD step exactly as in the loop of ``mlcore.train`` (forward,
    deltas, Delta^T X into the reused gradient arrays, update of the one-vector
    parameters), cycling over pre-sliced batches."""
    params, g, data = step_setup(params, batches, dtype)
    state = {"i": 0}

    def step():
        Xb, Yb = data[state["i"] % len(data)]
        state["i"] += 1
        _, cache = mc.forward(params, Xb, ACTS, check=False)
        Deltas, E_n = mc.deltas(params, cache, Yb, ACTS, LOSS, scale=1.0 / Xb.shape[0],
                                  return_losses=True, check=False)  # fmt: skip
        E = _reduce(E_n, "mean")
        mc.gradient_from_deltas(cache, Deltas, out=g)
        _sgd_step(params, g, LR, None, 0.0)
        return E

    return step


def inline_step_fn(params, batches, dtype):
    """The numpy calls of ``mlcore_step_fn``, the same ones on the same arrays, written
    inline without the engine's functions: what the step would cost with no Python
    around its numpy calls (a floor for numpy, not a second engine; tanh hidden
    layers and softmax cross-entropy only)."""
    p, g, data = step_setup(params, batches, dtype)
    layers = [(q["W"], q["b"], gq["W"], gq["b"]) for q, gq in zip(p, g, strict=True)]
    L = len(layers)
    state = {"i": 0}

    def step():
        X, Y = data[state["i"] % len(data)]
        state["i"] += 1
        xs, a = [], X
        for k, (W, b, _, _) in enumerate(layers):  # forward
            xs.append(a)
            z = a @ W.T
            z += b
            a = np.tanh(z) if k < L - 1 else z
        S = z - np.maximum.reduce(z, axis=1, keepdims=True)  # softmax cross-entropy
        e = np.exp(S)
        total = np.add.reduce(e, axis=1, keepdims=True)
        E_n = np.log(total[:, 0]) - np.vecdot(Y, S)
        e /= total
        e -= Y
        D = 1.0 / X.shape[0] * e * 1.0  # scale * dE/dz * f_L'(z) (identity: 1.0)
        for k in range(L - 1, -1, -1):  # gradient, and the deltas of the layer below
            W, _, gW, gb = layers[k]
            np.matmul(D.T, xs[k], out=gW)
            D.sum(axis=0, out=gb)
            if k:
                D = (D @ W) * (1.0 - xs[k] * xs[k])
        E = np.add.reduce(E_n) / len(E_n)
        p.flat -= LR * g.flat
        return E

    return step


def inline_is_the_step(params, batches, steps=5):
    """The inline floor against the engine's step: its numpy calls per step, and
    whether the two give bitwise the same losses over a few steps."""
    counted = [{k: v.view(Counted) for k, v in layer.items()} for layer in params]
    inline = inline_step_fn(counted, batches, np.float64)
    Counted.calls = 0
    inline()
    n_calls = Counted.calls
    a, b = mlcore_step_fn(params, batches, np.float64), inline_step_fn(params, batches, np.float64)
    return n_calls, [a() for _ in range(steps)] == [b() for _ in range(steps)]


# ----------------------------------------------------------------------------- torch
def torch_setup():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    return torch


def torch_model(torch, params, dtype):
    """A tanh MLP with mlcore's parameters (identity output layer), any depth."""
    nn = torch.nn
    layers = []
    for k, p in enumerate(params):
        layers.append(nn.Linear(p["W"].shape[1], p["W"].shape[0]))
        if k < len(params) - 1:
            layers.append(nn.Tanh())
    model = nn.Sequential(*layers).to(dtype)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for lin, p in zip(linears, params, strict=True):
            lin.weight.copy_(torch.from_numpy(p["W"]))
            lin.bias.copy_(torch.from_numpy(p["b"]))
    return model


def torch_step_fn(torch, params, batches, dtype):
    model = torch_model(torch, params, dtype)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    data = [(torch.from_numpy(Xb).to(dtype), torch.from_numpy(yb)) for Xb, yb in batches]
    state = {"i": 0}
    ce = torch.nn.functional.cross_entropy

    def step():
        xb, yb = data[state["i"] % len(data)]
        state["i"] += 1
        opt.zero_grad()
        loss = ce(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_vmap_fn(torch, params, X, y):
    from torch.func import functional_call, grad, vmap

    model = torch_model(torch, params, torch.float64)
    p = {k: v.detach() for k, v in model.named_parameters()}
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss_one(p, x, t):
        out = functional_call(model, p, (x.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, t.unsqueeze(0))

    per_example = vmap(grad(loss_one), in_dims=(None, 0, 0))
    return lambda: per_example(p, xt, yt)


# ----------------------------------------------------------------------------- jax
def jax_setup():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_loss(jax):
    jnp = jax.numpy

    def loss_fn(p, x, y):
        h = x
        for layer in p[:-1]:
            h = jnp.tanh(h @ layer["W"].T + layer["b"])
        z = h @ p[-1]["W"].T + p[-1]["b"]
        logp = jax.nn.log_softmax(z)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return loss_fn


def jax_step_fn(jax, params, batches, dtype, *, sync_every_step):
    """A jitted value_and_grad + SGD step.  JAX dispatches asynchronously: with
    ``sync_every_step=False`` we block only at the end of each timed block (its best
    case, nothing reads the loss), otherwise after every step (as when logging it)."""
    jnp = jax.numpy
    loss_fn = jax_loss(jax)

    @jax.jit
    def step(p, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g), loss

    state = {"p": jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=dtype), params), "i": 0}
    data = [(jnp.asarray(Xb, dtype=dtype), jnp.asarray(yb)) for Xb, yb in batches]

    def run():
        x, y = data[state["i"] % len(data)]
        state["i"] += 1
        state["p"], loss = step(state["p"], x, y)
        if sync_every_step:
            loss.block_until_ready()

    def block():
        jax.block_until_ready(state["p"])

    return run, block


def jax_vmap_fn(jax, params, X, y):
    jnp = jax.numpy
    loss_fn = jax_loss(jax)
    p = jax.tree_util.tree_map(jnp.asarray, params)
    f = jax.jit(jax.vmap(jax.grad(lambda p, x, t: loss_fn(p, x[None], t[None])),
                         in_axes=(None, 0, 0)))  # fmt: skip
    xj, yj = jnp.asarray(X), jnp.asarray(y)
    return lambda: jax.block_until_ready(f(p, xj, yj))


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds: every row runs once or twice (not a measurement)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    quick = args.quick
    rep = 3 if quick else 21
    n_step = 20 if quick else 300

    threadpool_limits(limits=1)
    torch = torch_setup()
    jax = jax_setup()
    skipped = []
    if torch is None:
        skipped.append("PyTorch (not installed: `pip install torch==2.13.0`)")
    if jax is None:
        skipped.append("JAX (not installed: `pip install jax jaxlib`)")
    all_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    one = {idlest_cpu(all_cpus)} if all_cpus else None  # the run's core: the idler one now

    rng = np.random.default_rng(0)
    Xtr, Xte, ytr, yte = mc.load_digits(rng)
    X_all = np.vstack([Xtr, Xte])
    y_all = np.concatenate([ytr, yte])
    params = mc.init_params(SIZES, rng)
    deep = mc.init_params(DEEP, np.random.default_rng(2))
    order = rng.permutation(Xtr.shape[0])
    batches = [(Xtr[order[k : k + B]], ytr[order[k : k + B]]) for k in range(0, 1408, B)]

    limits = roofline(quick, one)
    machine = []  # mlcore against the machine: (task, time, work, kind, target)
    rows = []  # against the peers: (task, mlcore, reference, their time, ratio, target, met)
    results = {"machine": [], "peers": []}

    def add(task, t_ml, ref, t_ref, target, ok, ratio=None):
        if ratio is None and t_ref is not None:
            ratio = (
                f"{t_ref / t_ml:.1f}x faster" if t_ref >= t_ml else f"{t_ml / t_ref:.2f}x slower"
            )
        rows.append((task, fmt_time(t_ml), ref, fmt_time(t_ref), ratio or "—", target,
                     "—" if ok is None else ("yes" if ok else "**no**")))  # fmt: skip
        results["peers"].append({"task": task, "mlcore_s": t_ml, "reference": ref,
                                 "reference_s": t_ref, "target": target, "met": ok})  # fmt: skip

    def add_machine(task, t, work, kind, target=None):
        """``kind`` "gemm_<dtype>" (FLOPs of the matrix products, against the GEMM rate of
        the dtype) or "bytes" (written to memory, against the memory bandwidth).
        ``target``: the least fraction of the limit asked for, if any."""
        machine.append((task, t, work, kind, target))

    def format_machine():
        """The rows against the machine, with the limits known at the end of the run."""
        out = []
        for task, t, work, kind, target in machine:
            rate = work / t
            if kind.startswith("gemm"):
                limit = limits[kind]
                cols = (f"{work / 1e6:.2f} MFLOP", f"{rate / 1e9:.1f} GFLOP/s",
                        f"{100 * rate / limit:.0f} % of GEMM {kind[5:]}")  # fmt: skip
            else:
                limit = limits["memory"]
                cols = (f"{work / 1e6:.1f} MB", f"{rate / 1e9:.1f} GB/s",
                        f"{100 * rate / limit:.0f} % of memory bandwidth")  # fmt: skip
            ok = None if target is None else rate / limit >= target
            out.append((task, fmt_time(t), *cols,
                        "(info)" if target is None else f">= {100 * target:.0f} %",
                        "—" if ok is None else ("yes" if ok else "**no**")))  # fmt: skip
            results["machine"].append({"task": task, "seconds": t, "work": work, "kind": kind,
                                       "rate": rate, "fraction_of_limit": rate / limit,
                                       "target": target, "met": ok})  # fmt: skip
        return out

    # 1. one minibatch SGD step, B = 32, both networks (all variants interleaved)
    nets = {"64-64-10": (SIZES, params, ("64", "32")), "Part III net": (DEEP, deep, ("32",))}
    for net_name, (sizes, p_net, dtypes) in nets.items():
        steps5 = 5 * len(mc.batch_schedule(Xtr.shape[0], B))
        cases = {}
        for bits in dtypes:
            dtype = np.float64 if bits == "64" else np.float32
            cases[f"ml{bits}"] = (mlcore_step_fn(p_net, batches, dtype), n_step, None)
            cases[f"inline{bits}"] = (inline_step_fn(p_net, batches, dtype), n_step, None)
            p0 = [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in p_net]

            def loop(p0=p0):  # the same step inside the real loop, 5 epochs, no epoch losses
                mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=5,
                         batch_size=B, rng=np.random.default_rng(0),
                         track_epoch_loss=False)  # fmt: skip

            cases[f"train{bits}"] = (loop, 1, None)
            if torch is not None:
                tdt = getattr(torch, f"float{bits}")
                cases[f"torch{bits}"] = (torch_step_fn(torch, p_net, batches, tdt), n_step, None)
            if jax is not None:
                run, block = jax_step_fn(jax, p_net, batches, dtype, sync_every_step=False)
                cases[f"jax{bits}async"] = (run, n_step, block)
                cases[f"jax{bits}async2"] = (run, n_step, block, all_cpus)
                run, block = jax_step_fn(jax, p_net, batches, dtype, sync_every_step=True)
                cases[f"jax{bits}sync"] = (run, n_step, block)
        t = interleaved(cases, rep, cpus=one)
        for bits in dtypes:
            name = f"float{bits}"
            task = f"SGD step B=32, {net_name}, {name}"
            t_ml = t[f"ml{bits}"]
            add_machine(task, t_ml, step_flops(sizes, B), f"gemm_{name}")
            add_machine(f"{task}, inside train()", t[f"train{bits}"] / steps5,
                        step_flops(sizes, B), f"gemm_{name}")  # fmt: skip
            add_machine(f"{task}, the same numpy calls inline",
                        t[f"inline{bits}"], step_flops(sizes, B), f"gemm_{name}")  # fmt: skip
            if torch is not None:
                add(task, t_ml, f"PyTorch eager {name}", t[f"torch{bits}"], ">= 3x faster",
                    t[f"torch{bits}"] / t_ml >= 3)  # fmt: skip
            if jax is not None:
                tj = t[f"jax{bits}async"]
                add(task, t_ml, f"JAX jit {name}, async dispatch, 1 core", tj,
                    "<= JAX time", t_ml <= tj)  # fmt: skip
                add(task, t_ml, f"JAX jit {name}, async dispatch, 2 cores",
                    t[f"jax{bits}async2"], "(info)", None)  # fmt: skip
                add(task, t_ml, f"JAX jit {name}, sync every step", t[f"jax{bits}sync"],
                    "(info)", None)  # fmt: skip
            if torch is None and jax is None:
                add(task, t_ml, "—", None, "(no reference installed)", None)

    calls = {name: numpy_calls_per_step(sizes, Xtr, ytr) for name, (sizes, _, _) in nets.items()}
    results["numpy_calls_per_step"] = calls
    for name, (_sizes, p_net, _) in nets.items():  # the inline floor does the same work
        same_calls, same_losses = inline_is_the_step(p_net, batches)
        if not (same_calls == calls[name] and same_losses):
            raise RuntimeError(f"inline_step_fn no longer matches the training step ({name})")

    # 2. per-example gradients
    P = num_params(SIZES)
    for Bp in (256, 1797):
        Xp, yp = X_all[:Bp], y_all[:Bp]
        Xc, Yc = mc.mlp.check_model(params, Xp, yp, ACTS, LOSS)
        buf = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        num = (2 if quick else 10) if Bp == 256 else (1 if quick else 3)
        n_loop = 20 if quick else Bp  # the loop's time per call is scaled to all Bp rows

        def loop(Xc=Xc, Yc=Yc, n_loop=n_loop):
            return [mc.gradient(params, Xc[n : n + 1], Yc[n : n + 1], ACTS, LOSS, "sum",
                                check=False) for n in range(n_loop)]  # fmt: skip

        cases = {
            "fresh": (lambda Xc=Xc, Yc=Yc: mc.per_example_gradients(
                params, Xc, Yc, ACTS, LOSS, check=False), num, None),
            "out": (lambda Xc=Xc, Yc=Yc, buf=buf: mc.per_example_gradients(
                params, Xc, Yc, ACTS, LOSS, out=buf, check=False), num, None),
            "loop": (loop, 1, None),
        }  # fmt: skip
        # its two parts: the forward pass and deltas, then the outer products into `buf`
        _, cache = mc.forward(params, Xc, ACTS, check=False)
        D = mc.deltas(params, cache, Yc, ACTS, LOSS, check=False)

        def fwd_deltas(Xc=Xc, Yc=Yc):
            _, c = mc.forward(params, Xc, ACTS, check=False)
            return mc.deltas(params, c, Yc, ACTS, LOSS, check=False)

        def outer(cache=cache, D=D, buf=buf):  # the einsums of per_example_gradients
            for g, x, Delta in zip(buf, cache.x, D, strict=True):
                _outer_products(Delta, x, out=g["W"])
                g["b"][...] = Delta

        fill = np.ones(Bp * P)
        cases["fwd"] = (fwd_deltas, num, None)
        cases["outer"] = (outer, num, None)
        cases["fill"] = (lambda fill=fill: fill.fill(0.5), num, None)
        # the same fill into new memory: the kernel zeroes each page at its first touch
        cases["fresh_fill"] = (lambda n=Bp * P: np.empty(n).fill(0.5), num, None)
        if torch is not None:
            cases["torch"] = (torch_vmap_fn(torch, params, Xp, yp), num, None)
        if jax is not None:
            cases["jax"] = (jax_vmap_fn(jax, params, Xp, yp), num, None)
        t = interleaved(cases, rep, cpus=one)
        t["loop"] *= Bp / n_loop
        nbytes = Bp * P * 8
        target = 0.8 if Bp == 1797 else None  # at B = 256 the result fits in the L3 cache
        add_machine(f"per-example grads B={Bp}", t["fresh"], nbytes, "bytes", target)
        add_machine(f"per-example grads B={Bp}, reused `out=`", t["out"], nbytes, "bytes", target)
        add_machine(f"per-example grads B={Bp}, part: forward + deltas", t["fwd"],
                    step_flops(SIZES, Bp, gradient=False), "gemm_float64")  # fmt: skip
        add_machine(f"per-example grads B={Bp}, part: outer products (`np.einsum`, `out=`)",
                    t["outer"], nbytes, "bytes")  # fmt: skip
        add_machine(
            f"per-example grads B={Bp}: `fill` of as many bytes", t["fill"], nbytes, "bytes"
        )
        add_machine(f"per-example grads B={Bp}: `fill` of as many bytes, new memory",
                    t["fresh_fill"], nbytes, "bytes")  # fmt: skip
        for variant, tv in (("", t["fresh"]), (", reused `out=`", t["out"])):
            add(f"per-example grads B={Bp}{variant}", tv, "loop over examples (mlcore)",
                t["loop"], ">= 10x faster", t["loop"] / tv >= 10)  # fmt: skip
        if torch is not None:
            add(f"per-example grads B={Bp}", t["fresh"], "torch.func.vmap(grad) float64",
                t["torch"], ">= 3x faster", t["torch"] / t["fresh"] >= 3)  # fmt: skip
        if jax is not None:
            add(f"per-example grads B={Bp}", t["fresh"], "jax.jit(vmap(grad)) float64",
                t["jax"], "<= JAX time" if Bp == 256 else "(info)",
                t["fresh"] <= t["jax"] if Bp == 256 else None)  # fmt: skip

    # 3. per-example norms without materialising, B = 1797
    Xc, Yc = mc.mlp.check_model(params, X_all, y_all, ACTS, LOSS)

    def materialised():
        per = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        sq = sum((g["W"] ** 2).sum(axis=(1, 2)) + (g["b"] ** 2).sum(axis=1) for g in per)
        return np.sqrt(sq)

    t = interleaved({
        "norms": (lambda: mc.per_example_gradient_norms(params, Xc, Yc, ACTS, LOSS, check=False),
                  2 if quick else 10, None),
        "mat": (materialised, 1 if quick else 3, None),
    }, rep, cpus=one)  # fmt: skip
    add("per-example norms B=1797", t["norms"], "materialise, then norm", t["mat"],
        ">= 5x faster", t["mat"] / t["norms"] >= 5)  # fmt: skip

    # 4. 10 epochs of minibatch SGD on digits (the whole public train() call)
    accs = []

    def ten_epochs():
        r = np.random.default_rng(1)
        p0 = mc.init_params(SIZES, r)
        trained, _ = mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=10,
                              batch_size=B, rng=r)  # fmt: skip
        accs.append(mc.accuracy(trained, Xte, yte))

    t_train = interleaved({"t": (ten_epochs, 1, None)}, rep, cpus=one)["t"]
    acc = accs[-1]
    add("10 epochs SGD B=32 (train())", t_train, f"test accuracy {acc:.3f}", None,
        "< 50 ms, acc >= 0.93", t_train < 0.05 and acc >= 0.93, ratio="—")  # fmt: skip

    # 5. one epoch of the Part III network, B = 32, float32, against a PyTorch loop
    deep32 = [{"W": p["W"].astype(np.float32), "b": p["b"].astype(np.float32)} for p in deep]
    X32, y32 = Xtr.astype(np.float32), ytr

    def ml_epoch():
        mc.train(deep32, X32, y32, activations=ACTS, loss=LOSS, lr=LR, num_epochs=1,
                 batch_size=B, rng=np.random.default_rng(3), track_epoch_loss=False)  # fmt: skip

    cases = {"ml": (ml_epoch, 1, None)}
    if torch:
        model = torch_model(torch, deep32, torch.float32)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        Xt, yt = torch.from_numpy(X32), torch.from_numpy(y32)
        ce = torch.nn.functional.cross_entropy

        def torch_epoch():
            order = torch.from_numpy(np.random.default_rng(3).permutation(len(y32)))
            for start in range(0, len(y32), B):
                idx = order[start : start + B]
                opt.zero_grad()
                ce(model(Xt[idx]), yt[idx]).backward()
                opt.step()

        cases["torch"] = (torch_epoch, 1, None)
    t = interleaved(cases, rep, cpus=one)
    if torch:
        add("one epoch, Part III net, B=32 f32", t["ml"], "PyTorch eager float32", t["torch"],
            "(info)", None)  # fmt: skip
    else:
        add("one epoch, Part III net, B=32 f32", t["ml"], "—", None, "(no reference)", None)

    # ------------------------------------------------------------------ report
    # the limits: the best of the measurements at the start and at the end of the run
    end = roofline(quick, one)
    limits = {k: max(v, end[k]) for k, v in limits.items()}
    results["limits"] = limits
    machine_rows = format_machine()
    blas = ", ".join(f"{i['internal_api']} {i.get('version')}" for i in threadpool_info())
    load = os.getloadavg()
    results["load"] = load
    print("## mlcore benchmark" + (" (--quick: a smoke test, not a measurement)" if quick else ""))
    print()
    cpu = platform.processor() or "cpu"
    print(
        f"- machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"{platform.system()} {platform.release()}; pinned to core {sorted(one or [])}"
    )
    print(f"- Python {sys.version.split()[0]}, numpy {np.__version__} ({blas}), 1 thread"
          + (f", torch {torch.__version__}" if torch else "")
          + (f", jax {jax.__version__}" if jax else "")
          + f"; mlcore from {Path(mc.__file__).parent}")  # fmt: skip
    print(f"- medians of {rep} repeats; networks {'-'.join(map(str, SIZES))} and "
          f"{'-'.join(map(str, DEEP))}, tanh, softmax cross-entropy, digits")  # fmt: skip
    print(f"- load average at the end of the run (1, 5, 15 min): "
          f"{', '.join(f'{x:.2f}' for x in load)}")  # fmt: skip
    print(f"- limits of this core (best of 2 x {3 if quick else 7} tries): GEMM float64 "
          f"{limits['gemm_float64'] / 1e9:.1f} GFLOP/s, float32 "
          f"{limits['gemm_float32'] / 1e9:.1f} GFLOP/s; memory: copy "
          f"{limits['copy'] / 1e9:.1f} GB/s (read + written), fill "
          f"{limits['fill'] / 1e9:.1f} GB/s (written)")  # fmt: skip
    print("- numpy calls per SGD step of the training loop: "
          + ", ".join(f"{v:g} ({k})" for k, v in calls.items()))  # fmt: skip
    print("\n### Against the machine\n")
    print("| task | mlcore | work | rate | of the limit | target | met |")
    print("|---|---:|---:|---:|---|---|---|")
    for r in machine_rows:
        print("| " + " | ".join(r) + " |")
    print("\n### Against the alternatives\n")
    print("| task | mlcore | compared with | their time | ratio | target | met |")
    print("|---|---:|---|---:|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if skipped:
        print("\nSkipped columns: " + "; ".join(skipped))
    results["skipped"] = skipped
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return results


if __name__ == "__main__":
    main()
