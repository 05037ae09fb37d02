"""Every notebook in notebooks/ runs top to bottom in a fresh kernel; a failing cell (each
notebook asserts its formulas against the engine) fails its test.

A notebook is found by its file name (notebooks/*.ipynb): adding one needs no change here.
Each runs with the python3 kernel in a temporary directory (so nothing is written into the
repository), MPLBACKEND=Agg and TAPEGRAD_DATA set (default <repo>/../shared/data; the
notebooks skip their data-dependent parts with a note when the files are absent), within
NOTEBOOK_BUDGET seconds in all (kernel start included).
"""
import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SOURCES = NOTEBOOK_DIR / "_src"
NOTEBOOK_BUDGET = 120          # seconds for one whole notebook
# One thread each for BLAS and numba's parallel kernels unless set by the caller: the
# notebooks' arrays are small, and on a machine shared with other processes spinning worker
# threads wait for cores (measured: a numba-parallel pooling call 35 ms instead of 0.1 ms).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def _ids(paths):
    return [p.stem for p in paths]


class _Deadline:
    """nbclient's per-cell timeout: the time left of one budget for the whole notebook."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def __call__(self, cell):
        return max(1, int(self.end - time.monotonic()))


def _kernel_env(monkeypatch, data_dir):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in THREAD_VARIABLES:
        if name not in os.environ:
            monkeypatch.setenv(name, "1")
    monkeypatch.setenv("TAPEGRAD_DATA", str(data_dir))
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(REPO) + (os.pathsep + path if path else ""))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, tmp_path, monkeypatch):
    data_dir = os.environ.get("TAPEGRAD_DATA") or REPO.parent / "shared" / "data"
    _kernel_env(monkeypatch, data_dir)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout_func=_Deadline(NOTEBOOK_BUDGET),
        resources={"metadata": {"path": str(tmp_path)}})
    start = time.monotonic()
    client.execute()
    print(f"{path.name}: {time.monotonic() - start:.1f} s")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has outputs; strip them"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"


BUILT = [p for p in NOTEBOOKS if (SOURCES / f"{p.stem}.py").exists()]


@pytest.mark.parametrize("path", BUILT, ids=_ids(BUILT))
def test_notebook_matches_its_source(path):
    """A notebook written as notebooks/_src/NAME.py is rebuilt from it by notebooks/_build.py."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_notebook_build", NOTEBOOK_DIR / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    expected = build.render(build.build(SOURCES / f"{path.stem}.py"))
    assert path.read_text(encoding="utf-8") == expected, \
        f"{path.name} is out of date: run python notebooks/_build.py {path.stem}"


def test_readme_lists_every_notebook():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if p.name not in readme]
    assert not missing, f"notebooks/README.md does not mention {missing}"
