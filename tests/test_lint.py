"""The code base is ruff clean: lint and formatting everywhere, notebooks included.

The chapters' code is formatted at 76 characters (``book/ruff.toml``): it is read in
the book's text column."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book_support import REPO


def ruff() -> str:
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(exe).exists():
        pytest.fail("ruff is not installed (pip install -r requirements-dev.txt)")
    return exe


def test_ruff_check():
    result = subprocess.run([ruff(), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    targets = [
        p for p in ("mlcore", "tests", "scripts", "benchmarks", "book") if (REPO / p).exists()
    ]
    result = subprocess.run(
        [ruff(), "format", "--check", *targets], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
