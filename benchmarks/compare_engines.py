"""Time this checkout's mlcore against another checkout's, in one interleaved run.

Usage, from the repository root::

    git worktree add /tmp/mlcore-base <commit>     # or: git archive <commit> | tar -x -C DIR
    python benchmarks/compare_engines.py /tmp/mlcore-base

Both engines run the same public calls (``train``, ``per_example_gradients``) on the
same data, pinned to one core with one BLAS thread, their blocks alternating as in
``bench_mlcore.py``, so the ratios hold under the machine's load.  It also counts the
numpy calls per step of each engine's training loop, and whether both engines return
bitwise the same arrays (``results``).  The result is a before/after table in markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mlcore as bench  # noqa: E402  (this checkout's mlcore, pinning, timing)

mc = bench.mc


def load_engine(root):
    """Import ``root/mlcore`` as the package ``mlcore_base``."""
    init = Path(root) / "mlcore" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "mlcore_base", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mlcore_base"] = module
    spec.loader.exec_module(module)
    return module


def results(e, X, y):
    """The arrays a set of calls of engine ``e`` returns, in a fixed order: ``train``
    (SGD, momentum, Adam; three batch sizes; both networks; float64 and float32;
    softmax cross-entropy and squared error) and the per-example gradients, flat and
    per layer, and their norms, at batch sizes on both sides of the engine's blocks."""
    out = []
    Y = np.eye(10)[y]
    nets = ((bench.SIZES, np.float64), (bench.SIZES, np.float32), (bench.DEEP, np.float32))
    for sizes, dtype in nets:
        p0 = e.init_params(sizes, np.random.default_rng(2), dtype=dtype)
        for opt, lr in ((e.SGD(), 0.1), (e.SGD(momentum=0.9), 0.05), (e.Adam(), 0.001)):
            for B in (32, 100, X.shape[0]):  # the last: gradient descent
                for loss, acts, targets in (
                    (bench.LOSS, bench.ACTS, y),
                    ("squared_error", "sigmoid", Y),
                ):
                    p, h = e.train(p0, X, targets, lr=lr, num_epochs=2, batch_size=B,
                                   optimizer=opt, activations=acts, loss=loss,
                                   rng=np.random.default_rng(0))  # fmt: skip
                    out += [e.flatten_params(p), np.array(h.step_loss), np.array(h.epoch_loss)]
    p0 = e.init_params(bench.SIZES, np.random.default_rng(3))
    for B in (1, 7, 256, 300, 513, X.shape[0]):
        args = (p0, X[:B], y[:B], bench.ACTS, bench.LOSS)
        per = e.per_example_gradients(*args)
        out += [g[k] for g in per for k in ("W", "b")]
        out += [e.per_example_gradients(*args, flat=True), e.per_example_gradient_norms(*args)]
    return out


def same_results(engines, X, y):
    """How many arrays both engines return, and how many of them differ in any bit."""
    a, b = (results(e, X, y) for e in engines.values())
    differ = sum(x.dtype != z.dtype or x.shape != z.shape or x.tobytes() != z.tobytes()
                 for x, z in zip(a, b, strict=True))  # fmt: skip
    return len(a), differ


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="root of the other checkout (it holds mlcore/)")
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args(argv)
    base = load_engine(args.base)
    engines = {"base": base, "this": mc}
    threadpool_limits(limits=1)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    one = {bench.idlest_cpu(cpus)} if cpus else None

    rng = np.random.default_rng(0)
    Xtr, Xte, ytr, yte = mc.load_digits(rng)
    X_all, y_all = np.vstack([Xtr, Xte]), np.concatenate([ytr, yte])
    steps5 = 5 * len(mc.batch_schedule(Xtr.shape[0], bench.B))
    rows = []

    def compare(task, make, number, scale=1.0):
        cases = {k: (make(e), number, None) for k, e in engines.items()}
        t = bench.interleaved(cases, args.repeat, cpus=one)
        tb, tt = t["base"] * scale, t["this"] * scale
        rows.append((task, bench.fmt_time(tb), bench.fmt_time(tt), f"{tb / tt:.2f}"))

    for name, sizes, dtype in (("64-64-10, float64", bench.SIZES, np.float64),
                               ("64-64-10, float32", bench.SIZES, np.float32),
                               ("Part III net, float32", bench.DEEP, np.float32)):  # fmt: skip
        p0 = mc.init_params(sizes, np.random.default_rng(2), dtype=dtype)

        def make(e, p0=p0):
            kw = dict(activations=bench.ACTS, loss=bench.LOSS, lr=bench.LR, batch_size=bench.B)
            return lambda: e.train(p0, Xtr, ytr, num_epochs=5, rng=np.random.default_rng(0),
                                   track_epoch_loss=False, **kw)  # fmt: skip

        compare(f"SGD step B=32 inside train(), {name}", make, 1, 1 / steps5)

    def ten_epochs(e):
        def run():
            r = np.random.default_rng(1)
            kw = dict(activations=bench.ACTS, loss=bench.LOSS, lr=bench.LR, batch_size=bench.B)
            e.train(e.init_params(bench.SIZES, r), Xtr, ytr, num_epochs=10, rng=r, **kw)

        return run

    compare("10 epochs SGD B=32 (train())", ten_epochs, 1)
    params = mc.init_params(bench.SIZES, rng)
    for Bp in (256, 1797):
        Xc, Yc = mc.mlp.check_model(params, X_all[:Bp], y_all[:Bp], bench.ACTS, bench.LOSS)
        buf = mc.per_example_gradients(params, Xc, Yc, bench.ACTS, bench.LOSS, check=False)
        num = 10 if Bp == 256 else 3

        def per_example(Xc=Xc, Yc=Yc, **kw):  # the same call in each engine
            def make(e):
                return lambda: e.per_example_gradients(params, Xc, Yc, bench.ACTS, bench.LOSS,
                                                       check=False, **kw)  # fmt: skip

            return make

        compare(f"per-example grads B={Bp}", per_example(), num)
        compare(f"per-example grads B={Bp}, reused `out=`", per_example(out=buf), num)
        compare(f"per-example grads B={Bp}, `flat=True` (one (B, P) matrix)",
                per_example(flat=True), num)  # fmt: skip
    for name, sizes in (("64-64-10", bench.SIZES), ("Part III net", bench.DEEP)):
        calls = [bench.numpy_calls_per_step(sizes, Xtr, ytr, e) for e in engines.values()]
        rows.append((f"numpy calls per SGD step, {name}", *(f"{c:g}" for c in calls),
                     f"{calls[0] / calls[1]:.2f}"))  # fmt: skip

    n, differ = same_results(engines, X_all, y_all)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"- base: {Path(base.__file__).parent}; this: {Path(mc.__file__).parent}")
    print(f"- pinned to core {sorted(one or [])}, 1 BLAS thread, medians of {args.repeat} "
          f"interleaved repeats; load average at the end (1, 5, 15 min): {load}")  # fmt: skip
    print(f"- results: {n} arrays from each engine, "
          + ("all bitwise the same\n" if not differ else f"**{differ} differ**\n"))  # fmt: skip
    print("| task | base | this checkout | base / this |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
