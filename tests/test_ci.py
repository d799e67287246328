"""CI runs the tests with the Python of runtime.txt and publishes the book they built."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from book_support import REPO

WORKFLOW = REPO / ".github" / "workflows" / "book.yml"


def steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["test-and-build"]["steps"]


def test_the_workflow_publishes_the_book_the_tests_built():
    (test,) = [s for s in steps() if ".ci/run" in s.get("run", "")]
    (upload,) = [s for s in steps() if s.get("uses", "").startswith("actions/upload-pages")]
    assert test["env"]["BOOK_HTML_DIR"] == "${{ github.workspace }}/" + upload["with"]["path"]
    assert not [s for s in steps() if "jupyter-book build" in s.get("run", "")]


def test_the_workflow_sets_up_the_python_of_runtime_txt():
    (setup,) = [s for s in steps() if s.get("uses", "").startswith("actions/setup-python")]
    (runtime,) = [s for s in steps() if s.get("id") == "runtime"]
    assert setup["with"]["python-version"] == "${{ steps.runtime.outputs.version }}"
    assert "runtime.txt" in runtime["run"]


@pytest.mark.parametrize(
    ("runtime", "message"),
    [
        ("python-3.99\n", "error: python3.99 (runtime.txt: python-3.99) is not installed"),
        ("3.11\n", "error: runtime.txt should read like python-3.11, not '3.11'"),
    ],
)
def test_ci_run_stops_without_the_python_of_runtime_txt(tmp_path, runtime, message):
    """Checked before anything is installed: the copy of .ci/run exits at once."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "runtime.txt").write_text(runtime)
    result = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_ci_run_makes_a_cleared_venv_with_that_python():
    script = (REPO / ".ci" / "run").read_text()
    assert '"$python" -m venv --clear .venv' in script
