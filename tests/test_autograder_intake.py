"""What is graded is what the reviewer sees, and each zip entry belongs to the right student.

Cells become Python through IPython's own transformer (a continuation line starting with `!=` stays
code); only answer cells (nbgrader `solution: true` and the task's grade_id) are graded; a task
defined in another task's cell is not credited; in a zip, an entry inside a folder is that folder's.
"""
import os
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import collect, notebooks, sandbox  # noqa: E402
from autograder.grade import Course, grade_all, load_assignment  # noqa: E402

NAMES = ["square", "row_softmax"]
TARGETS = {"square": "square", "row_softmax": "row_softmax"}

# a correct square() whose comparison continues on a line starting with `!=`, plus IPython syntax
NEQ_SQUARE = ("%matplotlib inline\n"
              "!echo this shell escape does nothing while grading\n"
              "def square(x):\n"
              "    x = np.asarray(x, dtype=np.float64)\n"
              "    has_nan = bool(np.any(x\n"
              "                   != x))\n"
              "    return x ** 2\n")
ELSEWHERE_SQUARE = tc.PLAIN["row_softmax"] + "\n\ndef square(x):\n    return np.asarray(x, dtype=np.float64) ** 2\n"


def _nb_with(cell_edits):
    """The plain solution as a submission, with cells edited by grade_id: (source, solution flag)."""
    nb = tc.student_notebook()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in cell_edits:
            source, solution = cell_edits[gid]
            cell.source = source
            cell.metadata["nbgrader"]["solution"] = solution
    return nb


# ---------------------------------------------------------------- cells as Python (pure functions)


def test_continuation_line_starting_with_not_equal_stays_code():
    cell = notebooks.answer_cells(_nb_with({"square": (NEQ_SQUARE, True)}), NAMES)[0]
    assert "!= x))" in cell.source
    ns = {}
    exec(notebooks.SHELL_STANDIN, ns)
    exec("import numpy as np", ns)
    exec(compile(cell.source, "<cell>", "exec"), ns)
    assert ns["square"](3.0) == 9.0
    assert "square" in cell.binds


def test_python_body_cell_magic_is_graded_other_cell_magics_are_not():
    assert notebooks.bound_names(notebooks.to_python("%%time\ndef square(x):\n    return x\n")) == {"square"}
    assert notebooks.bound_names(notebooks.to_python("%%bash\ndef square(x):\n    echo\n")) == set()


def test_bound_names_sees_top_level_bindings_only():
    code = ("import numpy as np\nfrom math import pi as PI\nif True:\n    class MADE: pass\n"
            "def helper():\n    inner = 1\n    global LATE\n    LATE = 2\nfor k in range(2): pass\n")
    assert notebooks.bound_names(code) == {"np", "PI", "MADE", "helper", "LATE", "k"}


def test_cell_without_solution_flag_is_not_an_answer_cell():
    nb = _nb_with({"square": (tc.PLAIN["square"], False)})
    cells = notebooks.answer_cells(nb, NAMES)
    assert [c.task for c in cells] == ["row_softmax"]
    placed = notebooks.placement(nb, cells, TARGETS)
    assert "solution" in placed.notes["square"][0] and "not graded" in placed.notes["square"][0]


def test_task_defined_in_another_tasks_cell_is_not_credited():
    # the own cell is the blank stub; the working definition sits at the bottom of row_softmax's cell
    nb = _nb_with({"square": (tc.BLANK["square"], True), "row_softmax": (ELSEWHERE_SQUARE, True)})
    placed = notebooks.placement(nb, notebooks.answer_cells(nb, NAMES), TARGETS)
    assert set(placed.uncredited) == {"square"}
    assert "answer cell of row_softmax" in placed.uncredited["square"]
    # an own cell that defines nothing, the definition only in the other cell
    nb = _nb_with({"square": ("# see below\n", True), "row_softmax": (ELSEWHERE_SQUARE, True)})
    placed = notebooks.placement(nb, notebooks.answer_cells(nb, NAMES), TARGETS)
    assert "not in its own answer cell" in placed.uncredited["square"]
    # a helper defined earlier in another cell and redefined in the own cell is fine
    nb = _nb_with({"square": (tc.PLAIN["square"], True)})
    assert not notebooks.placement(nb, notebooks.answer_cells(nb, NAMES), TARGETS).uncredited


# ---------------------------------------------------------------- the same, graded end to end


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tc.make_course(tmp_path_factory.mktemp("course"))
    os.environ["AUTOGRADER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    subs_dir = root / "submitted"
    tc.write_submission(subs_dir, "neq", _nb_with({"square": (NEQ_SQUARE, True)}))
    stub_plus_hidden = _nb_with({"square": (tc.BLANK["square"], True)})
    hidden = nbformat.v4.new_code_cell(tc.PLAIN["square"], metadata={"nbgrader": {
        "grade_id": "square", "solution": False, "grade": False, "locked": False, "schema_version": 3}})
    stub_plus_hidden.cells.insert(3, hidden)
    tc.write_submission(subs_dir, "flagless", stub_plus_hidden)
    tc.write_submission(subs_dir, "elsewhere", _nb_with({"square": (tc.BLANK["square"], True),
                                                         "row_softmax": (ELSEWHERE_SQUARE, True)}))
    assignment = load_assignment("fx_tiny", Course(root, tc.TASKS_DIR))
    subs = collect.from_folder(subs_dir, "fx_tiny", "fx_tiny.ipynb", print)
    # the sandbox is not what these tests are about: the probe runs as a plain subprocess
    results = grade_all(assignment, subs, sandbox.Limits(wall_s=120), True, 1, log=lambda m: None)
    return {r.student_id: {t.task: t for t in r.tasks} for r in results}


def test_not_equal_continuation_is_graded_correctly(graded):
    assert graded["neq"]["square"].status == "passed" and graded["neq"]["square"].score == 2.0


def test_graded_grade_id_without_solution_flag_earns_nothing(graded):
    row = graded["flagless"]["square"]
    assert row.score == 0.0
    assert "solution' flag is off" in row.message


def test_definition_in_another_tasks_cell_earns_nothing_and_says_why(graded):
    row = graded["elsewhere"]["square"]
    assert row.score == 0.0 and row.status == "defined_elsewhere"
    assert "each task is graded from its own answer cell" in row.message.lower()
    assert graded["elsewhere"]["row_softmax"].score == 3.0     # the cell's own task keeps its points


# ---------------------------------------------------------------- zip intake


def _zip(tmp_path, entries):
    tmp_path.mkdir(parents=True, exist_ok=True)
    z = tmp_path / "class.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return z


def _collect(tmp_path, entries, **kw):
    subs = collect.from_zip(_zip(tmp_path, entries), "fx_tiny", "fx_tiny.ipynb", tmp_path / "x", lambda m: None, **kw)
    return {s.student_id: s for s in subs}


def test_folder_per_student_zip(tmp_path):
    subs = _collect(tmp_path, {"alice/fx_tiny.ipynb": "alice's", "bob/fx_tiny.ipynb": "bob's"})
    assert set(subs) == {"alice", "bob"}
    assert subs["alice"].notebook.read_text() == "alice's" and subs["bob"].notebook.read_text() == "bob's"


def test_file_named_after_another_student_belongs_to_its_folder(tmp_path):
    subs = _collect(tmp_path, {"alice/bob_fx_tiny.ipynb": "alice's", "bob/fx_tiny.ipynb": "bob's"})
    assert set(subs) == {"alice", "bob"}
    assert subs["alice"].status is None and subs["alice"].notebook.read_text() == "alice's"
    assert subs["bob"].notebook.read_text() == "bob's"


def test_same_named_files_in_different_folders_are_different_students(tmp_path):
    subs = _collect(tmp_path, {"alice/fx_tiny.ipynb": "a", "carol/fx_tiny.ipynb": "c", "dan/fx_tiny/fx_tiny.ipynb": "d"})
    assert set(subs) == {"alice", "carol", "dan"} and all(s.status is None for s in subs.values())


def test_a_folder_wrapping_the_class_is_looked_through(tmp_path):
    subs = _collect(tmp_path, {"export/alice/fx_tiny.ipynb": "a", "export/bob_fx_tiny.ipynb": "b"})
    assert set(subs) == {"alice", "bob"}
    # but one student's nbgrader layout <id>/<assignment>/<notebook> is that student's
    assert set(_collect(tmp_path / "one", {"dan/fx_tiny/fx_tiny.ipynb": "d"})) == {"dan"}


def test_flat_zip_keeps_the_file_name_rule(tmp_path):
    subs = _collect(tmp_path, {"alice_fx_tiny.ipynb": "a", "bob_fx_tiny.ipynb": "b"})
    assert set(subs) == {"alice", "bob"}
