"""Assignment a1_histograms: the solution passes every test cell, and every mutant in
tests/mutants/a1_histograms.py fails at least one test cell of its task.

Cells run in-process in a fresh namespace (setup cell, then the answer cell, then the task's test
cells), as the autograder's probe would run them."""
import importlib.util
import warnings
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "a1_histograms" / "a1_histograms.ipynb"
TASKS = ["fit_histogram", "average_nll", "bits_per_dim", "sample_inverse_cdf"]


def _load_mutants():
    spec = importlib.util.spec_from_file_location("a1_mutants", ROOT / "tests" / "mutants" / "a1_histograms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS, getattr(module, "NOTEBOOK_ONLY_MUTANTS", {})


MUTANTS, NOTEBOOK_ONLY_MUTANTS = _load_mutants()
ALL_MUTANTS = [(t, n, src) for group in (MUTANTS, NOTEBOOK_ONLY_MUTANTS) for t, variants in group.items()
               for n, src in variants.items()]


def _cells():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    by_id = {}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid:
            by_id[gid] = cell
    return by_id


CELLS = _cells()


def _run_task(task, answer_source):
    """Run setup + answer + the task's test cells; return the first failure as a string, or None."""
    namespace = {"__name__": "__main__"}
    exec(compile(CELLS["setup"].source, "setup", "exec"), namespace)
    exec(compile(answer_source, task, "exec"), namespace)
    for suffix in ("_tests", "_hidden"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a warning alone is not a failure unless the test says so
                exec(compile(CELLS[task + suffix].source, task + suffix, "exec"), namespace)
        except Exception as err:  # noqa: BLE001 (any failure counts)
            return f"{task}{suffix}: {type(err).__name__}: {err}"
    return None


def test_every_task_has_cells_and_mutants():
    for task in TASKS:
        assert task in CELLS and task + "_tests" in CELLS and task + "_hidden" in CELLS
        assert len(MUTANTS[task]) >= 2
    assert set(MUTANTS) == set(TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_solution_passes(task):
    assert _run_task(task, CELLS[task].source) is None


@pytest.mark.parametrize("task,name,source", ALL_MUTANTS, ids=[f"{t}-{n}" for t, n, _ in ALL_MUTANTS])
def test_mutant_fails(task, name, source):
    failure = _run_task(task, source)
    assert failure is not None, f"mutant {task}/{name} passes every test of its task"
