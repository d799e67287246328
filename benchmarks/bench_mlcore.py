"""Benchmark mlcore against a per-example loop, PyTorch eager and jitted JAX.

Run from the repository root::

    python benchmarks/bench_mlcore.py            # full run (~1 minute)
    python benchmarks/bench_mlcore.py --quick    # fewer repeats

Everything is measured in this one run, on one thread: BLAS is limited with
threadpoolctl, torch with ``torch.set_num_threads(1)``, XLA with ``XLA_FLAGS``.
Times are medians over repeats of blocks of calls.  The network is the book's
digits classifier: 64-64-10, tanh hidden layer, softmax cross-entropy.
PyTorch and JAX are optional; their columns are skipped (and said so) if they
are not installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

# single-threaded XLA must be configured before jax is imported
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import mlcore as mc  # noqa: E402
from mlcore.train import _sgd_update  # noqa: E402  (the update the training loop uses)

LOSS = "softmax_cross_entropy"
ACTS = "tanh"
SIZES = (64, 64, 10)
LR = 0.1


def median_time(fn, *, number, repeat, warmup=3, finish=None):
    """Median over ``repeat`` blocks of the time per call of ``fn`` (seconds).

    ``finish`` (if given) runs at the end of each block, inside the timing (used to wait
    for JAX's asynchronous dispatch to complete)."""
    for _ in range(warmup):
        fn()
    if finish:
        finish()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if finish:
            finish()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def fmt_time(t):
    if t is None:
        return "skipped"
    return f"{t * 1e6:,.0f} µs" if t < 1e-2 else f"{t * 1e3:,.1f} ms"


# ----------------------------------------------------------------------------- mlcore
def mlcore_step_fn(params, batches, dtype):
    """One minibatch SGD step exactly as in ``mlcore.train`` (forward, backprop, Delta^T X,
    update), cycling over pre-sliced batches."""
    params = [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in params]
    data = [mc.check_model(params, Xb, yb, ACTS, LOSS) for Xb, yb in batches]
    state = {"i": 0}

    def step():
        Xb, Yb = data[state["i"] % len(data)]
        state["i"] += 1
        _, cache = mc.forward(params, Xb, ACTS, check=False)
        Deltas, E_n = mc.backprop(params, cache, Yb, ACTS, LOSS, scale=1.0 / Xb.shape[0],
                                  return_losses=True, check=False)  # fmt: skip
        grads = mc.batch_gradient(cache, Deltas)
        _sgd_update(params, grads, LR, None, 0.0)
        return E_n.sum() / len(E_n)

    return step


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
    nn = torch.nn
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10)).to(dtype)
    with torch.no_grad():
        for lin, p in zip((model[0], model[2]), params, strict=True):
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


def jax_step_fn(jax, params, batches, dtype, *, sync_every_step):
    """A jitted value_and_grad + SGD step.  JAX dispatches asynchronously: with
    ``sync_every_step=False`` we block only at the end of each timed block (its best
    case, nothing reads the loss), otherwise after every step (as when logging it)."""
    jnp = jax.numpy

    def loss_fn(p, x, y):
        h = jnp.tanh(x @ p[0]["W"].T + p[0]["b"])
        z = h @ p[1]["W"].T + p[1]["b"]
        logp = jax.nn.log_softmax(z)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

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

    return run, block, loss_fn


def jax_vmap_fn(jax, loss_fn, params, X, y):
    jnp = jax.numpy
    p = jax.tree_util.tree_map(jnp.asarray, params)
    f = jax.jit(jax.vmap(jax.grad(lambda p, x, t: loss_fn(p, x[None], t[None])),
                         in_axes=(None, 0, 0)))  # fmt: skip
    xj, yj = jnp.asarray(X), jnp.asarray(y)
    return lambda: jax.block_until_ready(f(p, xj, yj))


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    args = ap.parse_args(argv)
    rep = 7 if args.quick else 21

    threadpool_limits(limits=1)
    torch = torch_setup()
    jax = jax_setup()
    skipped = []
    if torch is None:
        skipped.append("PyTorch (not installed: `pip install torch==2.13.0`)")
    if jax is None:
        skipped.append("JAX (not installed: `pip install jax jaxlib`)")

    rng = np.random.default_rng(0)
    Xtr, Xte, ytr, yte = mc.load_digits(rng)
    X_all = np.vstack([Xtr, Xte])
    y_all = np.concatenate([ytr, yte])
    params = mc.init_params(SIZES, rng)
    B = 32
    order = rng.permutation(Xtr.shape[0])
    batches = [(Xtr[order[k : k + B]], ytr[order[k : k + B]]) for k in range(0, 1408, B)]

    rows = []  # (task, mlcore time, reference name, reference time, ratio text, target, ok)

    def add(task, t_ml, ref, t_ref, target, ok, ratio=None):
        if ratio is None and t_ref is not None:
            ratio = (
                f"{t_ref / t_ml:.1f}x faster" if t_ref >= t_ml else f"{t_ml / t_ref:.2f}x slower"
            )
        rows.append((task, fmt_time(t_ml), ref, fmt_time(t_ref), ratio or "—", target,
                     "—" if ok is None else ("yes" if ok else "**no**")))  # fmt: skip

    # 1. one minibatch SGD step, B = 32
    n_step = 300
    t64 = median_time(mlcore_step_fn(params, batches, np.float64), number=n_step, repeat=rep)
    t32 = median_time(mlcore_step_fn(params, batches, np.float32), number=n_step, repeat=rep)
    if torch is not None:
        tt32 = median_time(torch_step_fn(torch, params, batches, torch.float32), number=n_step,
                           repeat=rep)  # fmt: skip
        tt64 = median_time(torch_step_fn(torch, params, batches, torch.float64), number=n_step,
                           repeat=rep)  # fmt: skip
        add("SGD step B=32, float64", t64, "PyTorch eager float64", tt64, ">= 3x faster",
            tt64 / t64 >= 3)  # fmt: skip
        add("SGD step B=32, float32", t32, "PyTorch eager float32", tt32, ">= 3x faster",
            tt32 / t32 >= 3)  # fmt: skip
    jax_loss = None
    if jax is not None:
        for name, dtype, t_ml in (("float64", np.float64, t64), ("float32", np.float32, t32)):
            run, block, jax_loss = jax_step_fn(jax, params, batches, dtype, sync_every_step=False)
            tj = median_time(run, number=n_step, repeat=rep, warmup=20, finish=block)
            add(f"SGD step B=32, {name}", t_ml, f"JAX jit {name}, async", tj,
                "<= 1.5x JAX time", t_ml / tj <= 1.5)  # fmt: skip
            run, block, _ = jax_step_fn(jax, params, batches, dtype, sync_every_step=True)
            tj = median_time(run, number=n_step, repeat=rep, warmup=20, finish=block)
            add(f"SGD step B=32, {name}", t_ml, f"JAX jit {name}, sync each step", tj,
                "(info)", None)  # fmt: skip
    if torch is None and jax is None:
        add("SGD step B=32, float64", t64, "—", None, "", None)
        add("SGD step B=32, float32", t32, "—", None, "", None)

    # 1b. the same step inside the real loop: train() without epoch-loss evaluations
    for name, dtype in (("float64", np.float64), ("float32", np.float32)):
        p0 = [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in params]

        def loop(p0=p0):
            mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=5,
                     batch_size=B, rng=np.random.default_rng(0),
                     track_epoch_loss=False)  # fmt: skip

        steps = 5 * len(mc.batch_schedule(Xtr.shape[0], B))
        t_loop = median_time(loop, number=1, repeat=rep, warmup=1) / steps
        add(f"SGD step B=32, {name}, inside train()", t_loop, "—", None, "(info)", None)

    # 2. per-example gradients
    for Bp in (256, 1797):
        Xp, yp = X_all[:Bp], y_all[:Bp]
        Xc, Yc = mc.check_model(params, Xp, yp, ACTS, LOSS)
        t_pe = median_time(
            lambda Xc=Xc, Yc=Yc: mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False),
            number=10 if Bp == 256 else 3, repeat=rep,
        )  # fmt: skip

        def loop(Xc=Xc, Yc=Yc):
            return [mc.gradient(params, Xc[n : n + 1], Yc[n : n + 1], ACTS, LOSS, "sum",
                                check=False) for n in range(Xc.shape[0])]  # fmt: skip

        buf = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        t_buf = median_time(
            lambda Xc=Xc, Yc=Yc, buf=buf: mc.per_example_gradients(
                params, Xc, Yc, ACTS, LOSS, out=buf, check=False
            ),
            number=10 if Bp == 256 else 3, repeat=rep,
        )  # fmt: skip
        t_loop = median_time(loop, number=1, repeat=max(3, rep // 3), warmup=1)
        add(f"per-example grads B={Bp}, reused `out=`", t_buf, "loop over examples (mlcore)",
            t_loop, ">= 10x faster", t_loop / t_buf >= 10)  # fmt: skip
        add(f"per-example grads B={Bp}", t_pe, "loop over examples (mlcore)", t_loop,
            ">= 10x faster", t_loop / t_pe >= 10)  # fmt: skip
        if torch is not None:
            t_tv = median_time(torch_vmap_fn(torch, params, Xp, yp), number=3, repeat=rep)
            add(f"per-example grads B={Bp}", t_pe, "torch.func.vmap(grad) float64", t_tv,
                ">= 3x faster", t_tv / t_pe >= 3)  # fmt: skip
        if jax is not None:
            t_jv = median_time(jax_vmap_fn(jax, jax_loss, params, Xp, yp), number=3,
                               repeat=rep, warmup=5)  # fmt: skip
            add(f"per-example grads B={Bp}", t_pe, "jax.jit(vmap(grad)) float64", t_jv,
                "(info)", None)  # fmt: skip

    # 3. per-example norms without materialising, B = 1797
    Xc, Yc = mc.check_model(params, X_all, y_all, ACTS, LOSS)
    t_norm = median_time(
        lambda: mc.per_example_grad_norms(params, Xc, Yc, ACTS, LOSS, check=False),
        number=10, repeat=rep,
    )  # fmt: skip

    def materialised():
        per = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        sq = sum((g["W"] ** 2).sum(axis=(1, 2)) + (g["b"] ** 2).sum(axis=1) for g in per)
        return np.sqrt(sq)

    t_mat = median_time(materialised, number=3, repeat=rep)
    add("per-example norms B=1797", t_norm, "materialise, then norm", t_mat, ">= 5x faster",
        t_mat / t_norm >= 5)  # fmt: skip

    # 4. 10 epochs of minibatch SGD on digits (the whole public train() call)
    accs = []

    def ten_epochs():
        r = np.random.default_rng(1)
        p0 = mc.init_params(SIZES, r)
        trained, _ = mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=10,
                              batch_size=32, rng=r)  # fmt: skip
        accs.append(mc.accuracy(trained, Xte, yte))

    t_train = median_time(ten_epochs, number=1, repeat=rep, warmup=1)
    acc = accs[-1]
    add("10 epochs SGD B=32 (train())", t_train, f"test accuracy {acc:.3f}", None,
        "< 50 ms, acc >= 0.93", t_train < 0.05 and acc >= 0.93, ratio="—")  # fmt: skip

    # ------------------------------------------------------------------ report
    blas = ", ".join(f"{i['internal_api']} {i.get('version')}" for i in threadpool_info())
    print("## mlcore benchmark\n")
    cpu = platform.processor() or "cpu"
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
          f"{platform.system()} {platform.release()}")  # fmt: skip
    print(f"- Python {sys.version.split()[0]}, numpy {np.__version__} ({blas}), 1 thread"
          + (f", torch {torch.__version__}" if torch else "")
          + (f", jax {jax.__version__}" if jax else ""))  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"- medians of {rep} repeats; network 64-64-10 tanh, softmax cross-entropy, digits")
    print(f"- load average at the end of the run (1, 5, 15 min): {load}\n")
    print("| task | mlcore | compared with | their time | ratio | target | met |")
    print("|---|---:|---|---:|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if skipped:
        print("\nSkipped columns: " + "; ".join(skipped))


if __name__ == "__main__":
    main()
