"""The grading pipeline on the fixture assignment: outputs, determinism, gradebook, check, refusals."""
import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import collect, notebooks, report, sandbox  # noqa: E402
from autograder.cli import main  # noqa: E402

HAVE_BWRAP = sandbox.bwrap_available()
needs_bwrap = pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap is not installed")
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tc.make_course(tmp_path_factory.mktemp("course"))
    (root / "nbgrader_config.py").write_text((Path(__file__).resolve().parents[1] / "nbgrader_config.py").read_text())
    os.environ["AUTOGRADER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    subs = root / "submitted"
    tc.write_submission(subs, "ada", tc.student_notebook())
    tc.write_submission(subs, "bea", tc.build(tc.BLANK))
    tc.write_submission(subs, "cy", tc.student_notebook({"square": tc.MUTANTS["square"]["cube"]}))
    nested = subs / "dee" / "fx_tiny"            # nbgrader's <student>/<assignment>/<notebook> layout
    nested.mkdir(parents=True)
    import nbformat
    nbformat.write(tc.student_notebook({"row_softmax": tc.MUTANTS["row_softmax"]["unnormalized"]}), nested / "fx_tiny.ipynb")
    (subs / "eve").mkdir()
    return root


def _grade(course, out, *extra):
    args = ["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(course / "submitted"),
            "--out", str(out), "--workers", "2", "--timeout", "60", "--quiet", *extra]
    return main(args)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    out1, out2 = tmp_path_factory.mktemp("out1"), tmp_path_factory.mktemp("out2")
    assert _grade(course, out1, "--gradebook", str(course / "gradebook.db")) == 0
    assert _grade(course, out2, "--no-gradebook", "--workers", "1") == 0
    return out1, out2


@needs_bwrap
def test_scores_csv(graded):
    out, _ = graded
    text = (out / "scores.csv").read_text()
    assert text.splitlines()[0] == "student_id,assignment,task,score,max_score,status,message"
    rows = {(r["student_id"], r["task"]): r for r in csv.DictReader(text.splitlines())}
    assert rows[("ada", "square")]["score"] == "2.00" and rows[("ada", "row_softmax")]["score"] == "3.00"
    assert rows[("bea", "square")]["score"] == "0.00" and "NotImplementedError" in rows[("bea", "square")]["message"]
    assert rows[("cy", "square")]["status"] == "failed" and rows[("cy", "row_softmax")]["status"] == "passed"
    # partial credit: the unnormalized softmax passes neither check, dee keeps square
    assert rows[("dee", "square")]["score"] == "2.00" and rows[("dee", "row_softmax")]["score"] == "0.00"
    assert rows[("eve", "square")]["status"] == "no_notebook"


@needs_bwrap
def test_grades_csv_has_nbgrader_export_columns(graded):
    out, _ = graded
    lines = (out / "grades.csv").read_text().splitlines()
    assert lines[0] == ",".join(report.GRADE_COLUMNS)
    assert lines[1].split(",")[3] == "ada" and lines[1].split(",")[-2:] == ["5.00", "6.00"]
    assert len(lines) == 6


@needs_bwrap
def test_grading_twice_is_byte_identical(graded):
    a, b = graded
    assert (a / "scores.csv").read_bytes() == (b / "scores.csv").read_bytes()
    assert (a / "grades.csv").read_bytes() == (b / "grades.csv").read_bytes()


@needs_bwrap
def test_feedback_and_log(graded):
    out, _ = graded
    page = (out / "feedback" / "cy" / "fx_tiny.html").read_text()
    assert "square" in page and "failed" in page and "the squares are wrong" in page
    assert "grading" in (out / "grading.log").read_text()


@needs_bwrap
def test_nbgrader_export_agrees_with_grades_csv(course, graded, tmp_path):
    out, _ = graded
    export = tmp_path / "export.csv"
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    subprocess.run([str(VENV_BIN / "nbgrader"), "export", "--to", str(export)], cwd=course, env=env,
                   check=True, capture_output=True)
    ours = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    theirs = {r["student_id"]: r for r in csv.DictReader(open(export))}
    assert set(ours) == set(theirs)
    for sid in ours:
        for col in ("raw_score", "score", "max_score"):
            assert abs(float(ours[sid][col]) - float(theirs[sid][col])) < 1e-6, (sid, col)


@needs_bwrap
def test_gradebook_per_cell_scores(course, graded):
    from nbgrader.api import Gradebook
    os.environ["PATH"] = f"{VENV_BIN}:{os.environ['PATH']}"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission("fx_tiny", "cy")
        assert abs(sub.score - 3.0) < 1e-9 and sub.max_score == 6.0
        g = gb.find_grade("row_softmax_hidden", "fx_tiny", "fx_tiny", "ada")
        assert abs(g.score - 2.0) < 1e-9


@needs_bwrap
def test_check_command_on_fixture(course, capsys):
    rc = main(["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "check", "fx_tiny", "--workers", "2"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "PASSED" in printed and "mutant cube" in printed


@needs_bwrap
def test_a_batch_grades_each_notebook_as_it_would_be_graded_alone(course, tmp_path):
    """`check` probes its notebooks in batches (one process for many): every notebook must get the
    rows it gets alone, also after a neighbour that killed its process or poisoned numpy."""
    from autograder.grade import Course, grade_all, grade_in_batches, load_assignment

    exits = "import os\nos._exit(3)\n" + tc.SOLUTIONS["square"]
    poisons = "np.asarray = lambda *a, **k: 0\n" + tc.MUTANTS["square"]["cube"]
    subs_dir = tmp_path / "subs"
    for sid, answers in [("a-exits", {"square": exits}), ("b-poisons", {"square": poisons}), ("c-solution", {}),
                         ("d-mutant", {"row_softmax": tc.MUTANTS["row_softmax"]["wrong_axis"]}), ("e-blank", None)]:
        tc.write_submission(subs_dir, sid, tc.build(tc.BLANK) if answers is None else tc.student_notebook(answers))
    assignment = load_assignment("fx_tiny", Course(course, tasks_dir=tc.TASKS_DIR))
    subs = collect.from_folder(subs_dir, "fx_tiny", assignment.notebook_name, lambda m: None)
    limits = sandbox.Limits(wall_s=60, probe_s=30, cell_s=10)

    def rows(results):
        return {(r.student_id, t.task): (t.score, t.status, t.message) for r in results for t in r.tasks}

    alone = rows(grade_all(assignment, subs, limits, False, workers=2, log=lambda m: None))
    batched = rows(grade_in_batches(assignment, subs, limits, False, workers=1, log=lambda m: None))
    assert batched == alone
    assert alone[("c-solution", "square")][1] == "passed" and alone[("a-exits", "square")][1] == "crashed"
    assert alone[("b-poisons", "square")][0] < 2 and alone[("d-mutant", "row_softmax")][0] < 3


@needs_bwrap
def test_check_fails_when_a_mutant_survives(course, tmp_path, capsys):
    import shutil
    other = tmp_path / "course"
    shutil.copytree(course, other, ignore=shutil.ignore_patterns("gradebook.db", "submitted"))
    (other / "tests" / "mutants" / "fx_tiny.py").write_text(
        "MUTANTS = {'square': {'same_as_solution': 'def square(x):\\n    return np.asarray(x, dtype=np.float64) ** 2\\n'},"
        " 'row_softmax': {'dim_minus_one': 'def row_softmax(logits):\\n    return torch.softmax(logits, -1)\\n'}}\n")
    rc = main(["--course-root", str(other), "--tasks-dir", str(tc.TASKS_DIR), "check", "fx_tiny", "--workers", "2"])
    printed = capsys.readouterr().out
    assert rc == 1 and "NOT caught" in printed


def test_refuses_without_sandbox(course, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bwrap was not found")
    rc = _grade(course, tmp_path / "out", "--no-gradebook")
    assert rc == 2 and "--unsafe-no-sandbox" in capsys.readouterr().err
    assert not (tmp_path / "out" / "scores.csv").exists()


def test_unsafe_mode_marks_every_report(course, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bwrap was not found")
    subs = tmp_path / "subs"
    tc.write_submission(subs, "ada", tc.student_notebook())
    args = ["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(subs),
            "--out", str(tmp_path / "out"), "--no-gradebook", "--unsafe-no-sandbox", "--quiet"]
    assert main(args) == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "scores.csv")))
    assert rows and all(r["message"].startswith("NOT SANDBOXED") for r in rows)
    assert all(r["score"] == r["max_score"] for r in rows)
    assert "WITHOUT the sandbox" in (tmp_path / "out" / "feedback" / "ada" / "fx_tiny.html").read_text()


# ---------------------------------------------------------------- pieces


def test_points_come_from_the_source_notebook(course):
    nb = notebooks.read_notebook(course / "solutions" / "fx_tiny" / "fx_tiny.ipynb")
    assert notebooks.task_points(nb, ["square", "row_softmax"]) == {"square": 2.0, "row_softmax": 3.0}
    assert notebooks.manual_points(nb, ["square", "row_softmax"]) == 1.0
    assert notebooks.task_of_grade_id("made_masks_tests", ["MADE", "made_masks"]) == "made_masks"


@pytest.mark.parametrize("data,fragment", [(b"", "empty"), (b"{oops", "not valid JSON"), (b"\xff\xfe", "UTF-8"),
                                           (b"[1, 2]", "not a Jupyter notebook")])
def test_notebook_errors(tmp_path, data, fragment):
    p = tmp_path / "x.ipynb"
    p.write_bytes(data)
    with pytest.raises(notebooks.NotebookError) as err:
        notebooks.read_notebook(p)
    assert fragment in err.value.message


def test_zip_id_pattern_is_configurable(tmp_path):
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("Submission-4711-attempt-1.ipynb", "{}")
        zf.writestr("folder_student/fx_tiny.ipynb", "{}")
    subs = collect.from_zip(z, "fx_tiny", "fx_tiny.ipynb", tmp_path / "x", print,
                            id_pattern=r"Submission-(?P<student_id>\d+)-")
    ids = {s.student_id for s in subs}
    assert ids == {"4711", "folder_student"}


def test_symlinked_notebook_in_folder_is_refused(tmp_path, course):
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "fx_tiny.ipynb").symlink_to(course / "solutions" / "fx_tiny" / "fx_tiny.ipynb")
    subs = collect.from_folder(tmp_path, "fx_tiny", "fx_tiny.ipynb", print)
    assert subs[0].status == "rejected_file"


@needs_bwrap
def test_nbgrader_generate_feedback_agrees(course, graded):
    import re
    out, _ = graded
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    subprocess.run([str(VENV_BIN / "nbgrader"), "generate_feedback", "fx_tiny", "--force"], cwd=course, env=env,
                   check=True, capture_output=True)
    ours = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    for sid in ("ada", "bea", "cy", "dee"):
        page = (course / "grading" / "feedback" / sid / "fx_tiny" / "fx_tiny.html").read_text()
        got, total = map(float, re.search(r"Score: ([0-9.]+) / ([0-9.]+)", page).groups())
        assert abs(got - float(ours[sid]["score"])) < 1e-6 and abs(total - float(ours[sid]["max_score"])) < 1e-6


@needs_bwrap
def test_feedback_and_dashboard_show_figures_of_public_inputs_only(course, graded, tmp_path):
    """ada's row_softmax figure reaches her feedback and the class dashboard, which reads the store;
    no hidden input of any task appears in either (the figure's labels are the display logits)."""
    import json
    import re

    from autograder import dashboard
    from autograder.grade import Course, display_inputs, load_assignment, task_inputs

    out, _ = graded
    assignment = load_assignment("fx_tiny", Course(course, tc.TASKS_DIR))
    page = dashboard.build(assignment, out, tmp_path / "dashboard.html")
    text = page.read_text()
    data = json.loads(re.search(r"<script type='application/json' id='data'>(.*?)</script>", text, re.S).group(1)
                      .replace("<\\/", "</"))
    students = {s["id"]: s for s in data["students"]}
    assert set(students) == {"ada", "bea", "cy", "dee", "eve"}
    ada = {t["task"]: t for t in students["ada"]["tasks"]}
    [fig] = ada["row_softmax"]["figures"]
    public = display_inputs(assignment)["row_softmax__display"]["logits"].ravel()
    assert fig["kind"] == "values" and fig["labels"] == [f"{v:.6f}" for v in public]
    assert students["ada"]["feedback"] == "feedback/ada/fx_tiny.html"
    [blank] = students["bea"]["tasks"][1]["figures"]    # a blank answer: the figure says why it is missing
    assert (blank["kind"], blank["message"]) == ("error", "no figure: raised NotImplementedError")
    feedback = (out / "feedback" / "ada" / "fx_tiny.html").read_text()
    assert feedback.count("<figure class='autograder-figure'") == 1
    hidden = [v for name, arrays in task_inputs(assignment).items() if not name.endswith("__display")
              for arr in arrays.values() for v in np.asarray(arr, dtype=float).ravel()]
    assert hidden
    for v in hidden:
        for shown in (f"{v:.6f}", f"{v:.4f}", repr(float(v))):
            assert shown not in text and shown not in feedback, f"hidden input {shown} leaked"
