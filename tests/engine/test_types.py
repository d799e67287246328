"""The engine's type hints: mypy (pinned in requirements-dev.txt) finds no error in mlcore.

The settings are ``[tool.mypy]`` of pyproject.toml (every engine function annotated; the
figures subpackage is not type-checked).  mypy keeps its cache in ``.mypy_cache/``, so a
second run only re-checks the modules that changed.
"""

from __future__ import annotations

import importlib.util
import inspect
import pkgutil
import subprocess
import sys
import typing

import pytest

import mlcore
from book_support import REPO
from mlcore import _types
from mlcore.activations import ACTIVATIONS
from mlcore.averaging import WEIGHTINGS
from mlcore.losses import LOSSES, REDUCTIONS
from mlcore.params import INITS
from mlcore.training import LAST_BATCH, RECORDS, SHUFFLES

#: Seconds; a run without cache takes a few seconds, a cached one well under a second.
MYPY_TIMEOUT = 300

#: The public modules of the engine (every module of mlcore but the figures subpackage).
ENGINE_MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(mlcore.__path__)
    if not info.ispkg and not info.name.startswith("_")
)


def test_mypy_finds_no_error_in_the_engine():
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is not installed (pip install -r requirements-dev.txt)")
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=MYPY_TIMEOUT)
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"


def _public_objects():
    for name in ENGINE_MODULES:
        module = importlib.import_module(f"mlcore.{name}")
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield pytest.param(obj, id=f"{name}.{attr}")


@pytest.mark.parametrize("obj", _public_objects())
def test_annotations_resolve_at_run_time(obj):
    """Every name in a public signature or field exists at run time (not only for mypy)."""
    hints = typing.get_type_hints(obj)
    if inspect.isfunction(obj):
        params = inspect.signature(obj).parameters
        assert set(params) | {"return"} == set(hints), f"unannotated in {obj.__qualname__}"


@pytest.mark.parametrize(
    ("alias", "accepted"),
    [
        (_types.ActivationName, tuple(ACTIVATIONS)),
        (_types.LossName, tuple(LOSSES)),
        (_types.Reduction, REDUCTIONS),
        (_types.Init, INITS),
        (_types.Shuffle, SHUFFLES),
        (_types.LastBatch, LAST_BATCH),
        (_types.Record, RECORDS),
        (_types.Weighting, WEIGHTINGS),
    ],
)
def test_literal_types_list_the_names_the_checks_accept(alias, accepted):
    assert typing.get_args(alias) == tuple(accepted)
