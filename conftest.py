"""Loads the project's pytest plugins for every run in this repository.

A conftest.py in the repository's root is read whatever paths are given (``pytest``,
``pytest book/``, ``pytest book/first_look.ipynb``), so every nbval run of a notebook
also compares its PNG images (``tests/nbval_png.py``).
"""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

pytest_plugins = ["nbval_png"]
