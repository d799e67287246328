"""Benchmark mlcore against a per-example loop, PyTorch eager and jitted JAX.

Run from the repository root::

    python benchmarks/bench_mlcore.py            # full run (~1 minute)
    python benchmarks/bench_mlcore.py --quick    # fewer repeats

Everything is measured in this one run, on one thread: BLAS is limited with
threadpoolctl, torch with ``torch.set_num_threads(1)``, XLA with ``XLA_FLAGS``.
Times are medians over repeated blocks of calls; the blocks of the variants being
compared alternate, so load from other processes affects them alike.  The network is the book's
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
from mlcore.optim import _sgd_step  # noqa: E402  (the update the training loop uses)

LOSS = "softmax_cross_entropy"
ACTS = "tanh"
SIZES = (64, 64, 10)
LR = 0.1


def interleaved(cases, repeat, warmup=3):
    """Median time per call of several functions, measured in alternating blocks.

    ``cases`` maps a name to ``(fn, number, finish)``: each block calls ``fn`` ``number``
    times, then ``finish()`` if given (inside the timing; used to wait for JAX's
    asynchronous dispatch).  Blocks of all cases alternate ``repeat`` times, so a burst
    of load elsewhere on the machine slows all of them alike and the ratios stay fair.
    Returns ``{name: median seconds per call}``.
    """
    for fn, _, finish in cases.values():
        for _ in range(warmup):
            fn()
        if finish:
            finish()
    times = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (fn, number, finish) in cases.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if finish:
                finish()
            times[name].append((time.perf_counter() - t0) / number)
    return {name: statistics.median(v) for name, v in times.items()}


def fmt_time(t):
    if t is None:
        return "—"
    return f"{t * 1e6:,.0f} µs" if t < 1e-2 else f"{t * 1e3:,.1f} ms"


# ----------------------------------------------------------------------------- mlcore
def mlcore_step_fn(params, batches, dtype):
    """One minibatch SGD step exactly as in ``mlcore.train`` (forward, deltas, Delta^T X,
    update), cycling over pre-sliced batches."""
    params = [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in params]
    data = [mc.mlp.check_model(params, Xb, yb, ACTS, LOSS) for Xb, yb in batches]
    state = {"i": 0}

    def step():
        Xb, Yb = data[state["i"] % len(data)]
        state["i"] += 1
        _, cache = mc.forward(params, Xb, ACTS, check=False)
        Deltas, E_n = mc.deltas(params, cache, Yb, ACTS, LOSS, scale=1.0 / Xb.shape[0],
                                  return_losses=True, check=False)  # fmt: skip
        grads = mc.gradient_from_deltas(cache, Deltas)
        _sgd_step(params, grads, LR, None, 0.0)
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

    # 1. one minibatch SGD step, B = 32 (all variants interleaved)
    n_step = 300
    steps5 = 5 * len(mc.batch_schedule(Xtr.shape[0], B))
    cases = {
        "ml64": (mlcore_step_fn(params, batches, np.float64), n_step, None),
        "ml32": (mlcore_step_fn(params, batches, np.float32), n_step, None),
    }
    for name, dtype in (("train64", np.float64), ("train32", np.float32)):
        p0 = [{"W": p["W"].astype(dtype), "b": p["b"].astype(dtype)} for p in params]

        def loop(p0=p0):  # the same step inside the real loop, 5 epochs, no epoch losses
            mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=5,
                     batch_size=B, rng=np.random.default_rng(0),
                     track_epoch_loss=False)  # fmt: skip

        cases[name] = (loop, 1, None)
    if torch is not None:
        cases["torch64"] = (torch_step_fn(torch, params, batches, torch.float64), n_step, None)
        cases["torch32"] = (torch_step_fn(torch, params, batches, torch.float32), n_step, None)
    jax_loss = None
    if jax is not None:
        for bits, dtype in (("64", np.float64), ("32", np.float32)):
            for mode in ("async", "sync"):
                run, block, jax_loss = jax_step_fn(jax, params, batches, dtype,
                                                   sync_every_step=mode == "sync")  # fmt: skip
                cases[f"jax{bits}{mode}"] = (run, n_step, block)
    t = interleaved(cases, rep)
    for bits in ("64", "32"):
        name = f"float{bits}"
        t_ml = t[f"ml{bits}"]
        if torch is not None:
            add(f"SGD step B=32, {name}", t_ml, f"PyTorch eager {name}", t[f"torch{bits}"],
                ">= 3x faster", t[f"torch{bits}"] / t_ml >= 3)  # fmt: skip
        if jax is not None:
            tj = t[f"jax{bits}async"]
            add(f"SGD step B=32, {name}", t_ml, f"JAX jit {name}, async dispatch", tj,
                "<= 1.5x JAX time", t_ml / tj <= 1.5)  # fmt: skip
            add(f"SGD step B=32, {name}", t_ml, f"JAX jit {name}, sync every step",
                t[f"jax{bits}sync"], "(info)", None)  # fmt: skip
        if torch is None and jax is None:
            add(f"SGD step B=32, {name}", t_ml, "—", None, "(no reference installed)", None)
        add(f"SGD step B=32, {name}, inside train()", t[f"train{bits}"] / steps5, "—", None,
            "(info)", None)  # fmt: skip

    # 2. per-example gradients
    for Bp in (256, 1797):
        Xp, yp = X_all[:Bp], y_all[:Bp]
        Xc, Yc = mc.mlp.check_model(params, Xp, yp, ACTS, LOSS)
        buf = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        num = 10 if Bp == 256 else 3

        def loop(Xc=Xc, Yc=Yc):
            return [mc.gradient(params, Xc[n : n + 1], Yc[n : n + 1], ACTS, LOSS, "sum",
                                check=False) for n in range(Xc.shape[0])]  # fmt: skip

        cases = {
            "fresh": (lambda Xc=Xc, Yc=Yc: mc.per_example_gradients(
                params, Xc, Yc, ACTS, LOSS, check=False), num, None),
            "out": (lambda Xc=Xc, Yc=Yc, buf=buf: mc.per_example_gradients(
                params, Xc, Yc, ACTS, LOSS, out=buf, check=False), num, None),
            "loop": (loop, 1, None),
        }  # fmt: skip
        if torch is not None:
            cases["torch"] = (torch_vmap_fn(torch, params, Xp, yp), num, None)
        if jax is not None:
            cases["jax"] = (jax_vmap_fn(jax, jax_loss, params, Xp, yp), num, None)
        t = interleaved(cases, rep)
        add(f"per-example grads B={Bp}", t["fresh"], "loop over examples (mlcore)", t["loop"],
            ">= 10x faster", t["loop"] / t["fresh"] >= 10)  # fmt: skip
        add(f"per-example grads B={Bp}, reused `out=`", t["out"], "loop over examples (mlcore)",
            t["loop"], ">= 10x faster", t["loop"] / t["out"] >= 10)  # fmt: skip
        if torch is not None:
            add(f"per-example grads B={Bp}", t["fresh"], "torch.func.vmap(grad) float64",
                t["torch"], ">= 3x faster", t["torch"] / t["fresh"] >= 3)  # fmt: skip
        if jax is not None:
            add(f"per-example grads B={Bp}", t["fresh"], "jax.jit(vmap(grad)) float64", t["jax"],
                "(info)", None)  # fmt: skip

    # 3. per-example norms without materialising, B = 1797
    Xc, Yc = mc.mlp.check_model(params, X_all, y_all, ACTS, LOSS)

    def materialised():
        per = mc.per_example_gradients(params, Xc, Yc, ACTS, LOSS, check=False)
        sq = sum((g["W"] ** 2).sum(axis=(1, 2)) + (g["b"] ** 2).sum(axis=1) for g in per)
        return np.sqrt(sq)

    t = interleaved({
        "norms": (lambda: mc.per_example_gradient_norms(params, Xc, Yc, ACTS, LOSS, check=False),
                  10, None),
        "mat": (materialised, 3, None),
    }, rep)  # fmt: skip
    add("per-example norms B=1797", t["norms"], "materialise, then norm", t["mat"],
        ">= 5x faster", t["mat"] / t["norms"] >= 5)  # fmt: skip

    # 4. 10 epochs of minibatch SGD on digits (the whole public train() call)
    accs = []

    def ten_epochs():
        r = np.random.default_rng(1)
        p0 = mc.init_params(SIZES, r)
        trained, _ = mc.train(p0, Xtr, ytr, activations=ACTS, loss=LOSS, lr=LR, num_epochs=10,
                              batch_size=32, rng=r)  # fmt: skip
        accs.append(mc.accuracy(trained, Xte, yte))

    t_train = interleaved({"t": (ten_epochs, 1, None)}, rep)["t"]
    acc = accs[-1]
    add("10 epochs SGD B=32 (train())", t_train, f"test accuracy {acc:.3f}", None,
        "< 50 ms, acc >= 0.93", t_train < 0.05 and acc >= 0.93, ratio="—")  # fmt: skip

    # 5. one epoch of the Part III network (64-32-32-32-32-10 tanh), B = 32, float32
    deep_sizes = (64, 32, 32, 32, 32, 10)
    deep0 = mc.init_params(deep_sizes, np.random.default_rng(2), dtype=np.float32)
    X32, y32 = Xtr.astype(np.float32), ytr

    def ml_epoch():
        mc.train(deep0, X32, y32, activations=ACTS, loss=LOSS, lr=LR, num_epochs=1,
                 batch_size=32, rng=np.random.default_rng(3), track_epoch_loss=False)  # fmt: skip

    cases = {"ml": (ml_epoch, 1, None)}
    if torch:
        model = torch_model(torch, deep0, torch.float32)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        Xt, yt = torch.from_numpy(X32), torch.from_numpy(y32)
        ce = torch.nn.functional.cross_entropy

        def torch_epoch():
            order = torch.from_numpy(np.random.default_rng(3).permutation(len(y32)))
            for start in range(0, len(y32), 32):
                idx = order[start : start + 32]
                opt.zero_grad()
                ce(model(Xt[idx]), yt[idx]).backward()
                opt.step()

        cases["torch"] = (torch_epoch, 1, None)
    t = interleaved(cases, rep)
    if torch:
        add("one epoch, Part III net, B=32 f32", t["ml"], "PyTorch eager float32", t["torch"],
            "(info)", None)  # fmt: skip
    else:
        add("one epoch, Part III net, B=32 f32", t["ml"], "—", None, "(no reference)", None)

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
