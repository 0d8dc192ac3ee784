"""`python -m autograder check A` passes for every assignment that has a task module: the solution
scores full marks, the blank student version scores 0 on every autograded task, and every mutant in
tests/mutants/A.py loses points on its task."""
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import sandbox, tasks

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.sandbox
@pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")
@pytest.mark.parametrize("assignment", tasks.available())
def test_check_passes(assignment):
    r = subprocess.run([sys.executable, "-m", "autograder", "check", assignment, "--workers", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert f"check {assignment}: PASSED" in r.stdout


def test_every_task_module_matches_its_notebook():
    """Task names are the notebook's answer-cell ids and each has test points (no sandbox needed)."""
    from autograder.grade import Course, load_assignment

    for name in tasks.available():
        a = load_assignment(name, Course(ROOT))
        assert all(a.points[t] > 0 for t in a.task_names), name
        for t in a.tasks:
            assert t.probe_source.startswith("def "), f"{name}.{t.name}: the probe must be a plain function"
