"""Loads the project's pytest plugins for every run in this repository.

It also runs numpy's BLAS on one thread in the test process and in the notebook
kernels it starts (they inherit the environment): the book's matrices are small, and
several BLAS threads on a shared 2-core machine make them slower, not faster.

A conftest.py in the repository's root is read whatever paths are given (``pytest``,
``pytest book/``, ``pytest book/first_look.ipynb``), so every nbval run of a notebook
also compares its PNG images (``tests/nbval_png.py``), and the work is shared among
several processes without splitting a notebook (``tests/parallel.py``).
"""

import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

_TESTS = str(Path(__file__).resolve().parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

pytest_plugins = ["nbval_png", "parallel"]
