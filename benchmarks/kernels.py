"""The numpy kernels under mlcore's slowest rows, against the other ways to write them.

Usage, from the repository root::

    python benchmarks/kernels.py            # about half a minute
    python benchmarks/kernels.py --quick    # a few seconds: every row runs, no meaning

Three questions that ``benchmarks/README.md`` answers with these numbers:

1. **Per-example outer products** ``out[n] = outer(Delta[n], x[n])`` (the bulk of
   ``per_example_gradients``): the engine's ``einsum`` in blocks of 256 examples
   against the same ``einsum`` on the whole batch, smaller blocks, a broadcast
   ``np.multiply``, a batched ``matmul`` with inner dimension 1, an example-last
   result ``(n_out, n_in, B)`` (before any transposition back), and a block-diagonal
   ``matmul`` that multiplies zeros to write ``k`` examples' products in one product;
   a ``fill`` of as many bytes is the machine's reference.  Every variant is checked
   to give the engine's numbers.
2. **The layer products** ``X @ W.T`` (forward) and ``Delta @ W`` (backward): with
   ``W`` stored row-major (the engine) or column-major, per layer shape of the book's
   networks at B = 32, and whether the forward products are bitwise the same.
3. **The cross-entropy's** ``sum_k y_nk s_nk``: ``np.einsum("bk,bk->b")`` against
   ``np.vecdot``, bitwise for one-hot and for soft targets.

Times are medians of interleaved blocks on one core with one BLAS thread, as in
``bench_mlcore.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mlcore as bench  # noqa: E402  (this checkout's mlcore, pinning, timing)

from mlcore.per_example import _CHUNK, _outer_products  # noqa: E402

mc = bench.mc


# ------------------------------------------------------------------- 1. outer products
def einsum_blocks(block):
    def run(D, x, out):
        _outer_products(D, x, out=out, chunk=block)

    return run


def broadcast_multiply(D, x, out):
    np.multiply(D[:, :, None], x[:, None, :], out=out)


def batched_matmul(D, x, out):
    np.matmul(D[:, :, None], x[:, None, :], out=out)


def example_last(D, x, out):
    """The result laid out (n_out, n_in, B); ``out`` is that array."""
    np.einsum("ib,jb->ijb", np.ascontiguousarray(D.T), np.ascontiguousarray(x.T), out=out)


def block_diagonal(k):
    """``k`` examples per product: rows n*m..n*m+m of the (k*m, k) factor hold delta_n in
    column n and zeros elsewhere, so (k*m, k) @ (k, n_in) writes k outer products."""
    factors = {}

    def run(D, x, out):
        B, m = D.shape
        nb = B // k
        key = (nb, m, D.dtype)
        if key not in factors:
            factors[key] = np.zeros((nb, k, m, k), dtype=D.dtype)
        M = factors[key]
        i = np.arange(k)
        M[:, i, :, i] = D[: nb * k].reshape(nb, k, m).transpose(1, 0, 2)
        np.matmul(M.reshape(nb, k * m, k), x[: nb * k].reshape(nb, k, -1),
                  out=out[: nb * k].reshape(nb, k * m, -1))  # fmt: skip
        np.einsum("bi,bj->bij", D[nb * k :], x[nb * k :], out=out[nb * k :])

    return run


def outer_rows(batches, repeat, one):
    """Time every variant at each batch size of the 64-64-10 net's real deltas."""
    rng = np.random.default_rng(0)
    Xtr, _, ytr, _ = mc.load_digits(rng)
    params = mc.init_params(bench.SIZES, rng)
    rows = []
    for B in batches:
        X, Y = mc.mlp.check_model(params, Xtr[:B], ytr[:B], bench.ACTS, bench.LOSS)
        _, cache = mc.forward(params, X, bench.ACTS, check=False)
        layers = list(zip(mc.deltas(params, cache, Y, bench.ACTS, bench.LOSS, check=False),
                          cache.x, strict=True))  # fmt: skip
        want = [_outer_products(D, x) for D, x in layers]
        variants = {
            f"engine: `einsum` in blocks of {_CHUNK} (`_outer_products`)":
                lambda D, x, o: _outer_products(D, x, out=o),
            "`einsum`, the whole batch at once": einsum_blocks(B),
            "`einsum` in blocks of 64": einsum_blocks(64),
            "broadcast `np.multiply`": broadcast_multiply,
            "batched `matmul` (inner dimension 1)": batched_matmul,
            "example-last result (n_out, n_in, B), not transposed back": example_last,
            "block-diagonal `matmul`, 2 examples per product": block_diagonal(2),
            "block-diagonal `matmul`, 4 examples per product": block_diagonal(4),
        }  # fmt: skip
        cases = {}
        for name, fn in variants.items():
            last = name.startswith("example-last")
            outs = [np.empty(w.shape[1:] + w.shape[:1] if last else w.shape) for w in want]

            def fn_all(fn=fn, outs=outs, layers=layers):
                for (D, x), o in zip(layers, outs, strict=True):
                    fn(D, x, o)

            fn_all()
            for o, w in zip(outs, want, strict=True):  # the same numbers as the engine's
                got = np.moveaxis(o, -1, 0) if last else o
                if not np.array_equal(got, w):
                    raise RuntimeError(f"{name} does not give the engine's outer products")
            cases[name] = (fn_all, 3, None)
        fill = np.empty(sum(w.size for w in want))
        cases["`fill` of as many bytes"] = (lambda fill=fill: fill.fill(0.5), 3, None)
        t = bench.interleaved(cases, repeat, cpus=one)
        engine = t[next(iter(variants))]
        loops = B * sum(D.shape[1] for D, _ in layers)  # einsum's inner-loop calls
        for name, tv in t.items():
            per_loop = f"{tv / loops * 1e9:.0f} ns" if "einsum" in name else ""
            rows.append((f"B={B}", name, bench.fmt_time(tv), f"{tv / engine:.2f}", per_loop))
    return rows


# ------------------------------------------------------------------- 2. X @ W.T layout
def layout_rows(repeat, one):
    """Forward ``X @ W.T`` and backward ``Delta @ W`` with ``W`` row- or column-major."""
    rng = np.random.default_rng(1)
    rows = []
    for dtype in (np.float64, np.float32):
        for n_out, n_in in ((64, 64), (10, 64), (32, 64), (32, 32), (10, 32)):
            X = rng.random((bench.B, n_in)).astype(dtype)
            D = rng.standard_normal((bench.B, n_out)).astype(dtype)
            W = (0.1 * rng.standard_normal((n_out, n_in))).astype(dtype)
            Wc = np.asfortranarray(W)  # the same matrix stored column-major
            cases = {
                "fwd row": (lambda X=X, W=W: X @ W.T, 200, None),
                "fwd col": (lambda X=X, Wc=Wc: X @ Wc.T, 200, None),
                "bwd row": (lambda D=D, W=W: D @ W, 200, None),
                "bwd col": (lambda D=D, Wc=Wc: D @ Wc, 200, None),
            }
            t = bench.interleaved(cases, repeat, cpus=one)
            same = "yes" if np.array_equal(X @ W.T, X @ Wc.T) else "no"
            rows.append((f"{np.dtype(dtype).name} ({n_out}x{n_in})",
                         us(t["fwd row"]), us(t["fwd col"]), same,
                         us(t["bwd row"]), us(t["bwd col"])))  # fmt: skip
    return rows


# ----------------------------------------------------------------- 3. y_n . s_n in the loss
def loss_rows(repeat, one):
    rng = np.random.default_rng(2)
    rows = []
    for dtype in (np.float64, np.float32):
        S = rng.standard_normal((bench.B, 10)).astype(dtype)
        hot = np.eye(10, dtype=dtype)[rng.integers(0, 10, bench.B)]
        soft = rng.dirichlet(np.ones(10), bench.B).astype(dtype)
        cases = {"einsum": (lambda Y=hot, S=S: np.einsum("bk,bk->b", Y, S), 500, None),
                 "vecdot": (lambda Y=hot, S=S: np.vecdot(Y, S), 500, None)}  # fmt: skip
        t = bench.interleaved(cases, repeat, cpus=one)
        same = [np.array_equal(np.einsum("bk,bk->b", Y, S), np.vecdot(Y, S)) for Y in (hot, soft)]
        ratio = f"{t['einsum'] / t['vecdot']:.2f}"
        rows.append((np.dtype(dtype).name, us(t["einsum"]), us(t["vecdot"]), ratio,
                     *("yes" if s else "no" for s in same)))  # fmt: skip
    return rows


def us(t):
    """Microseconds with one decimal (the times here are a few µs)."""
    return f"{t * 1e6:,.1f} µs"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds, no meaning")
    args = ap.parse_args(argv)
    threadpool_limits(limits=1)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    one = {bench.idlest_cpu(cpus)} if cpus else None
    repeat = 3 if args.quick else 15
    batches = (256, 300) if args.quick else (256, 1797)
    out = [
        f"- numpy {np.__version__}, 1 BLAS thread, pinned to core {sorted(one or [])}, "
        f"medians of {repeat} interleaved repeats",
        "\n### Per-example outer products (64-64-10, float64)\n",
        table(
            ("batch", "variant", "time", "/ engine", "per inner loop"),
            outer_rows(batches, repeat, one),
        ),
        f"\n### `X @ W.T` (forward) and `Delta @ W` (backward) at B = {bench.B}\n",
        table(
            (
                "W",
                "X @ W.T, W row-major",
                "column-major",
                "bitwise the same",
                "Delta @ W, W row-major",
                "column-major",
            ),
            layout_rows(repeat, one),
        ),
        f"\n### `sum_k y_nk s_nk` in the cross-entropy, B = {bench.B}, 10 classes\n",
        table(
            ("dtype", "einsum", "vecdot", "ratio", "same: one-hot", "same: soft"),
            loss_rows(repeat, one),
        ),
    ]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    out.append(f"\n- load average at the end (1, 5, 15 min): {load}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
