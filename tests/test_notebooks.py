"""Execute every lecture and solution notebook top to bottom in a fresh kernel, within its budget.

The budget is 120 s per notebook unless its metadata sets `course.time_budget_s` (seconds). It bounds
the CPU seconds the notebook's kernel uses (on an idle machine, about its wall time less a second or
two), because wall time also counts whatever the other pytest worker runs on the same 2 cores: a
browser test beside lecture 09 once stretched its 36 s to 156 s. Every cell still has the whole
budget as a wall-clock limit, so a hang fails too. A failure names the notebook, the cell and the error.

The kernels are the course's own (`course_lib.kernel`, installed by conftest.py as `make setup` does):
passive OpenMP waiting and half the cores. The notebooks run in the same xdist group as the browser
tests, one after another on one worker, so that no notebook trains beside a browser test's kernels.
"""
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "lectures").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))
DEFAULT_BUDGET_S = 120
# Appended in memory (never saved) to read the kernel's own CPU seconds at the end.
CPU_CELL = "import resource as _r\n_u = _r.getrusage(_r.RUSAGE_SELF)\nprint(_u.ru_utime + _u.ru_stime)"


def budget_of(nb) -> float:
    return float(nb.metadata.get("course", {}).get("time_budget_s", DEFAULT_BUDGET_S))


def test_there_are_notebooks():
    assert any(p.parent.name == "lectures" for p in NOTEBOOKS), "no lecture notebooks found"


@pytest.mark.notebook
@pytest.mark.xdist_group("jupyter")  # with tests/test_browser.py: never beside a browser test
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_notebook_runs_within_budget(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    budget = budget_of(nb)
    os.environ["MPLBACKEND"] = "Agg"
    nb.cells.append(nbformat.v4.new_code_cell(CPU_CELL))
    client = NotebookClient(nb, timeout=budget, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError:
        pytest.fail(f"{path.name}: a cell ran past the notebook's budget of {budget:.0f} s")
    except DeadKernelError as err:
        pytest.fail(f"{path.name}: the kernel died ({err})")
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell failed:\n{err}")
    elapsed = time.perf_counter() - start
    cpu_s = float(nb.cells[-1].outputs[-1]["text"])
    assert cpu_s <= budget, (f"{path.name} used {cpu_s:.1f} s of CPU ({elapsed:.1f} s of wall time), over its "
                             f"budget of {budget:.0f} s")
    # A training run cut short by its max_seconds safety net makes the printed numbers (and the
    # notebook's own asserts) depend on the machine's speed instead of the seeds alone.
    cut = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
           for out in cell.get("outputs", []) if "fit stopped at the time limit" in out.get("text", "")]
    assert not cut, (f"{path.name}: training in cell(s) {cut} stopped at its max_seconds cap; raise the cap "
                     "so it stays a safety net, or train fewer epochs")
