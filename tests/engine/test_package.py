"""The package as a whole: a small public API, and an engine that draws nothing."""

from __future__ import annotations

import subprocess
import sys

import mlcore


def test_import_loads_neither_matplotlib_nor_ipywidgets():
    code = (
        "import sys, mlcore; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'ipywidgets', 'mlcore') and m.split('.')[:2] != ['mlcore', 'figures']"
        " and m.split('.')[0] != 'mlcore'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"import mlcore loaded: {out.stdout}"
    figures = subprocess.run(
        [sys.executable, "-c", "import sys, mlcore; print('mlcore.figures' in sys.modules)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert figures.stdout.strip() == "False"


def test_public_api_is_small_and_every_name_exists():
    assert len(mlcore.__all__) <= 30
    assert len(set(mlcore.__all__)) == len(mlcore.__all__)
    for name in mlcore.__all__:
        assert hasattr(mlcore, name), name


#: Optional packages that engine functions import when they run, never at module level.
LAZY = {"mpi4py", "dp_accounting"}


def test_the_engine_modules_import_only_numpy_and_the_standard_library():
    """Module level: numpy and the standard library; inside a function also mpi4py, which
    only the MPI trainers load when they run, and dp_accounting, which only
    ``mlcore.privacy.epsilon`` loads when it runs."""
    import ast
    from pathlib import Path

    allowed = {"numpy"} | set(sys.stdlib_module_names)
    for path in Path(mlcore.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        lazy = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef)
            for n in ast.walk(f)
            if (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] in LAZY)
            or (isinstance(n, ast.Import) and {a.name.split(".")[0] for a in n.names} <= LAZY)
        }
        for node in ast.walk(tree):
            if id(node) in lazy:
                continue
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{path.name} imports {roots - allowed}"
