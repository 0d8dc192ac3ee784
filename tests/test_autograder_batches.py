"""A semester's grading of one assignment: batches add up to the class (a first batch, a late batch,
one student graded again), the autograder's messages reach formgrader through the gradebook's
comments, hand grades reach the students' regenerated feedback, and a helper defined in another cell
gets the stand-alone rule. One module-scope class of the fixture course, graded in four runs."""
import csv
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import sandbox  # noqa: E402
from autograder.cli import main  # noqa: E402
from autograder.grade import Course, load_assignment  # noqa: E402
from autograder.store import load as load_store  # noqa: E402

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")]
VENV_BIN = Path(sys.executable).parent
HELPER_ELSEWHERE = "def row_softmax(logits):\n    return _softmax(logits)\n"


def _grade(root, subs, *extra):
    rc = main(["--course-root", str(root), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(subs),
               "--out", str(root / "grading" / "fx_tiny"), "--workers", "2", "--timeout", "120", "--quiet", *extra])
    return rc, (root / "grading" / "fx_tiny" / "grading.log").read_text()


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    root = tc.make_course(tmp_path_factory.mktemp("course"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUTOGRADER_CACHE", str(tmp_path_factory.mktemp("cache")))
        env.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")   # nbgrader runs alembic by name
        yield _semester(root)


def _semester(root):
    first, late, again = root / "first", root / "late", root / "again"
    tc.write_submission(first, "ada", tc.student_notebook())
    tc.write_submission(first, "bea", tc.student_notebook({"square": tc.MUTANTS["square"]["cube"]}))
    scratch = tc.student_notebook({"row_softmax": HELPER_ELSEWHERE})   # the helper sits in a scratch cell
    scratch.cells.insert(2, nbformat.v4.new_code_cell("def _softmax(z):\n    return torch.softmax(z, dim=-1)\n"))
    tc.write_submission(first, "cy", scratch)
    tc.write_submission(first, "dee", tc.build(tc.BLANK))
    tc.write_submission(late, "eve", tc.student_notebook())
    tc.write_submission(late, "fay", tc.student_notebook({"row_softmax": tc.MUTANTS["row_softmax"]["unnormalized"]}))
    shutil.copytree(first / "ada", late / "ada")            # the LMS's late zip holds ada's file again
    tc.write_submission(again, "bea", tc.student_notebook())  # bea's corrected resubmission
    logs = {}
    for name, subs, extra in [("first", first, ()), ("late", late, ()), ("only_bea", again, ("--only", "bea")),
                              ("only_cy", first, ("--only", "cy"))]:
        rc, logs[name] = _grade(root, subs, *extra)
        assert rc == 0, logs[name][-3000:]
    return root, root / "grading" / "fx_tiny", logs


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_batches_add_up_and_the_log_says_what_changed(semester):
    root, out, logs = semester
    grades = {r["student_id"]: float(r["score"]) for r in _rows(out / "grades.csv")}
    scores = {(r["student_id"], r["task"]): float(r["score"]) for r in _rows(out / "scores.csv")}
    assert sorted(grades) == ["ada", "bea", "cy", "dee", "eve", "fay"]
    assert len(scores) == 6 * 2
    assert grades["ada"] == grades["eve"] == grades["bea"] == 5.0      # bea's corrected file replaced the cube
    assert grades["dee"] == 0.0
    assert scores[("cy", "square")] == 2.0 and scores[("cy", "row_softmax")] == 0.0
    assert scores[("fay", "square")] == 2.0 and 0.0 <= scores[("fay", "row_softmax")] < 3.0
    for sid, total in grades.items():   # grades.csv is the sum of the class's scores.csv rows
        assert total == pytest.approx(scores[(sid, "square")] + scores[(sid, "row_softmax")])

    assert all(f"{s}: added to the class" in logs["first"] for s in ("ada", "bea", "cy", "dee"))
    assert "eve: added to the class (5/5)" in logs["late"] and "fay: added to the class" in logs["late"]
    assert "ada: resumed" in logs["late"] and "ada: 5/5 in" not in logs["late"]   # not graded again
    assert "this run: added 2 (eve, fay); replaced 0; unchanged 1 (ada)" in logs["late"]
    assert "the class has 6 student(s)" in logs["late"]
    assert "bea: replaced (was 3, now 5/5; a new file)" in logs["only_bea"]
    assert "eve:" not in logs["only_bea"] and "ada:" not in logs["only_bea"]
    # --only grades the student again even when nothing changed; same file, same scores: unchanged
    assert "cy: 2/5 in" in logs["only_cy"] and "cy: unchanged (the same file and the same scores, 2/5)" in logs["only_cy"]
    assert sorted(p.parent.name for p in (out / "store").glob("*/result.json")) == sorted(grades)


def test_only_an_unknown_student_says_who_is_there(semester, capsys):
    root, out, _ = semester
    before = (out / "scores.csv").read_bytes()
    rc = main(["--course-root", str(root), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(root / "late"),
               "--out", str(out), "--only", "zed", "--quiet", "--no-gradebook"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--only zed: no submission of that student" in err and "ada, eve, fay" in err
    assert (out / "scores.csv").read_bytes() == before


def test_a_helper_from_another_cell_gets_the_stand_alone_rule(semester):
    _, out, _ = semester
    row = next(r for r in _rows(out / "scores.csv") if r["student_id"] == "cy" and r["task"] == "row_softmax")
    assert "each answer cell must stand alone: copy the helper `_softmax` into this cell" in row["message"]
    assert "defined in cell 3" in row["message"]
    assert row["message"].count("stand alone") == 1    # both checks fail for it: named together, said once


def _gradebook(root):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{root / 'gradebook.db'}")


def test_the_autograders_messages_are_the_answer_cells_comments(semester):
    root, out, _ = semester
    assignment = load_assignment("fx_tiny", Course(root, tc.TASKS_DIR))
    stored = load_store(out, assignment)
    with _gradebook(root) as gb:
        for sid in ("dee", "cy", "bea"):
            for task in stored[sid].result.tasks:
                comment = gb.find_comment(task.task, "fx_tiny", "fx_tiny", sid).auto_comment
                assert comment.startswith(f"Autograder: {task.score:.2f} / {task.max_score:.2f} points ({task.status})")
                assert task.checks
                for name, _, passed, message in task.checks:
                    assert f"{'passed' if passed else 'FAILED'}" in comment and f"{name}: {message}" in comment
        assert "copy the helper `_softmax`" in gb.find_comment("row_softmax", "fx_tiny", "fx_tiny", "cy").auto_comment
        # bea's record was replaced: the comment is the new grade's
        assert gb.find_comment("square", "fx_tiny", "fx_tiny", "bea").auto_comment.startswith(
            "Autograder: 2.00 / 2.00 points (passed)")
        assert gb.find_grade("written_why", "fx_tiny", "fx_tiny", "ada").needs_manual_grade


def test_regenerated_feedback_shows_the_hand_grades_and_what_is_pending(semester):
    root, out, _ = semester
    page = out / "feedback" / "ada" / "fx_tiny.html"
    assert "written question: not graded yet (1 point pending)" in page.read_text()
    with _gradebook(root) as gb:   # what formgrader stores when a TA grades
        gb.find_grade("written_why", "fx_tiny", "fx_tiny", "ada").manual_score = 0.5
        gb.find_comment("written_why", "fx_tiny", "fx_tiny", "ada").manual_comment = "Say why the <sum> is one."
        gb.find_comment("row_softmax", "fx_tiny", "fx_tiny", "fay").manual_comment = "Divide by the row sums."
        gb.db.commit()
    assert main(["--course-root", str(root), "--tasks-dir", str(tc.TASKS_DIR), "feedback", "fx_tiny",
                 "--out", str(out)]) == 0
    ada = page.read_text()
    assert "written_why: written question: 0.5 / 1 point, graded by hand" in ada
    assert "Grader's comment: Say why the &lt;sum&gt; is one." in ada
    assert "Written questions, graded by hand: <b>0.50 / 1.00</b>" in ada and "Total: <b>5.50 / 6.00</b>" in ada
    assert "not graded yet" not in ada
    fay = (out / "feedback" / "fay" / "fx_tiny.html").read_text()
    assert "Grader's comment: Divide by the row sums." in fay
    assert "written question: not graded yet (1 point pending)" in fay and "Written questions: not graded yet" in fay
    # the regenerated page still has every check of the stored record
    assignment = load_assignment("fx_tiny", Course(root, tc.TASKS_DIR))
    for task in load_store(out, assignment)["fay"].result.tasks:
        for name, *_ in task.checks:
            assert f"<td>{name}</td>" in fay
