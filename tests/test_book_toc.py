"""The table of contents and the notebooks on disk agree, and each notebook is set up alike."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from book_support import REPO, config, notebooks_on_disk, toc_notebooks, toc_sources


def test_every_toc_entry_exists():
    missing = [str(p.relative_to(REPO)) for p in toc_sources() if not p.exists()]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    listed = {p.resolve() for p in toc_notebooks()}
    extra = [str(p.relative_to(REPO)) for p in notebooks_on_disk() if p.resolve() not in listed]
    assert not extra, f"notebooks not listed in _toc.yml (so neither built nor read): {extra}"


def colab_setup_source(extra: str | None = None) -> str:
    """The first code cell every notebook must have: install mlcore (with one of its
    optional extras, such as ``privacy``, where a chapter needs it), on Colab only."""
    url = config()["repository"]["url"]
    branch = config()["repository"]["branch"]
    package = f"mlcore[{extra}]" if extra else "mlcore"
    return (
        "# On Colab, which does not clone the repository, install the book's package.\n"
        "# Everywhere else (locally, on Binder) this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "{package} @ git+{url}@{branch}"'
    )


def optional_extras() -> list[str]:
    """The extras of ``pyproject.toml`` (``pip install "mlcore[privacy]"``)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(project.get("optional-dependencies", {}))


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_first_code_cell_installs_mlcore_on_colab_only(notebook):
    nb = json.loads(notebook.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{notebook.name} has no code cell"
    first = code[0]
    allowed = [colab_setup_source()] + [colab_setup_source(e) for e in optional_extras()]
    assert "".join(first["source"]) in allowed, "".join(first["source"])
    assert first.get("outputs") == [], "the set-up cell must be silent outside Colab"
    assert "remove-cell" in first.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_hygiene(notebook):
    """Python 3 kernel, no visible nbval comments, no untrusted-by-design state."""
    nb = json.loads(notebook.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        assert "NBVAL_" not in source, "use the cell tag nbval-ignore-output, not a comment"
        if cell["cell_type"] == "code":
            assert cell.get("execution_count") is not None or not cell.get("outputs"), (
                f"{notebook.name}: a cell has outputs but was never executed"
            )


def test_nbval_collects_every_toc_notebook():
    """Ask pytest itself, with the project's configuration, which notebooks it collects."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "book"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}
    expected = {p.relative_to(REPO).as_posix() for p in toc_notebooks()}
    assert collected == expected


def test_intro_clones_the_configured_repository():
    """The intro's clone command names the repository of ``_config.yml``."""
    url = config()["repository"]["url"].rstrip("/")
    intro = (REPO / "book" / "intro.md").read_text()
    assert f"git clone {url}.git\ncd {url.rsplit('/', 1)[-1]}\n" in intro


def test_notebooks_name_the_installed_kernel():
    """JupyterLab rewrites a notebook on open when its kernel's display name differs."""
    import json

    from jupyter_client.kernelspec import KernelSpecManager

    from book_support import KERNELSPEC

    installed = KernelSpecManager().get_kernel_spec("python3").display_name
    assert installed == KERNELSPEC["display_name"]
    for nb in toc_notebooks():
        spec = json.loads(nb.read_text())["metadata"].get("kernelspec")
        assert spec == KERNELSPEC, f"{nb.name}: kernelspec {spec}"
