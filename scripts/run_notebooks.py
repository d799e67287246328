"""Re-execute the book's notebooks in place, storing outputs and widget state.

Usage (from the repository root)::

    python scripts/run_notebooks.py                  # every notebook in _toc.yml
    python scripts/run_notebooks.py book/first_look.ipynb

Each notebook runs with ``book/`` as its working directory, as it does under
Jupyter, Binder and nbval, and is written back with its outputs and the state of
its widgets, so the HTML book can render them without a kernel.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]

# the kernels inherit this: one BLAS thread, as under pytest (see conftest.py)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(REPO / "tests"))

from book_support import KERNELSPEC, toc_notebooks  # noqa: E402


def run(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,  # no timestamps in the stored notebook: quiet diffs
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    # the name JupyterLab shows for the installed kernel: opening the notebook then
    # leaves it unmodified (another display name would be rewritten on open)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all in _toc.yml")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or toc_notebooks()
    for path in paths:
        seconds = run(path)
        print(f"{seconds:6.1f} s  {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
