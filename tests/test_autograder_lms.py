"""The LMS round trip: Canvas and Moodle zips in (two Smiths stay two students), late penalties by
the documented rule, and the final grades out in the LMS's own import columns."""
import csv
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import collect, lms, report  # noqa: E402
from autograder.cli import main  # noqa: E402
from autograder.grade import Course, StudentResult, TaskResult, load_assignment  # noqa: E402

NB = "fx_tiny.ipynb"
ROSTER = ("student_id,name,email,lms_id,section,sis_login_id\n"
          "s-john,John Smith,john@uni.example,1001,L1,jsmith\n"
          "s-jane,Jane Smith,jane@uni.example,1002,L1,jsmith2\n"
          "s-ana,Ana Ng,ana@uni.example,1003,L2,ang\n")


def _zip(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return path


def _collect(tmp_path, entries, preset, roster=None):
    z = _zip(tmp_path / "lms.zip", entries)
    subs = collect.from_zip(z, "fx_tiny", NB, tmp_path / "x", lambda m: None, preset=lms.PRESETS[preset], roster=roster)
    return {s.student_id: s for s in subs}


@pytest.fixture
def roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text(ROSTER)
    return lms.read_roster(p)


# ---------------------------------------------------------------- intake


def test_canvas_zip_two_smiths_and_the_late_flag(tmp_path, roster):
    entries = {"smithjohn_1001_5001_fx_tiny.ipynb": "john's",
               "smithjane_LATE_1002_5002_fx_tiny-1.ipynb": "jane's"}
    subs = _collect(tmp_path, entries, "canvas")
    assert set(subs) == {"1001", "1002"} and all(s.status is None for s in subs.values())
    assert subs["1002"].lms["late"] and not subs["1001"].lms["late"]
    assert subs["1002"].lms["submission_id"] == "5002" and subs["1001"].notebook.read_text() == "john's"
    with_roster = _collect(tmp_path / "r", entries, "canvas", roster)
    assert set(with_roster) == {"s-john", "s-jane"}
    assert with_roster["s-jane"].notebook.read_text() == "jane's"


def test_moodle_zip_two_smiths_in_folders_and_flat(tmp_path, roster):
    folders = {"John Smith_1001_assignsubmission_file_/fx_tiny.ipynb": "john's",
               "Jane Smith_1002_assignsubmission_file_/fx_tiny.ipynb": "jane's",
               "Jane Smith_1002_assignsubmission_file_/scratch.txt": "notes"}
    subs = _collect(tmp_path, folders, "moodle", roster)
    assert set(subs) == {"s-john", "s-jane"}
    assert subs["s-jane"].notebook.read_text() == "jane's" and subs["s-jane"].lms["name"] == "Jane Smith"
    flat = {"John Smith_1001_assignsubmission_file_fx_tiny.ipynb": "j",
            "John Smith_1004_assignsubmission_file_fx_tiny.ipynb": "other john"}
    subs = _collect(tmp_path / "flat", flat, "moodle")
    assert set(subs) == {"1001", "1004"}       # same name, different people


def test_without_a_preset_lms_folders_are_refused_with_a_hint(tmp_path):
    z = _zip(tmp_path / "m.zip", {"John Smith_1001_assignsubmission_file_/fx_tiny.ipynb": "x"})
    lines = []
    assert collect.from_zip(z, "fx_tiny", NB, tmp_path / "x", lines.append) == []
    assert any("--preset moodle" in line for line in lines)


# ---------------------------------------------------------------- late rule


def _t(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_late_penalty_by_started_day_with_cap_grace_and_extension(tmp_path):
    due_file = tmp_path / "due.csv"
    due_file.write_text("student_id,due\n*,2026-03-01T23:59\next,2026-03-05T23:59\n")
    due = lms.read_due(due_file)
    rule = lms.LateRule(per_day=10, cap=30, grace_minutes=15)

    def pen(sid, when, flagged=False):
        return lms.late_penalty(sid, 28.0, rule, due, {sid: _t(when)} if when else {}, flagged)

    assert pen("a", "2026-03-01T23:00").penalty == 0.0
    assert pen("a", "2026-03-02T00:10").penalty == 0.0                  # inside the 15 grace minutes
    assert (pen("a", "2026-03-02T00:20").days, pen("a", "2026-03-02T00:20").penalty) == (1, 2.8)
    assert (pen("a", "2026-03-03T10:00").days, pen("a", "2026-03-03T10:00").penalty) == (2, 5.6)
    assert pen("a", "2026-03-09T10:00").penalty == 8.4                  # 8 days, capped at 30 %
    assert pen("ext", "2026-03-04T10:00").penalty == 0.0                # the extension moves the due date
    assert pen("ext", "2026-03-06T10:00").days == 1
    assert pen("a", None, flagged=True).days == 1                       # LATE flag, no time: one day
    flagged_ext = pen("ext", None, flagged=True)
    assert flagged_ext.days == 0 and "extension" in flagged_ext.note


def test_bad_roster_and_due_files_say_what_to_fix(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("id,name\n1,x\n")
    with pytest.raises(lms.LmsError, match="student_id"):
        lms.read_roster(bad)
    bad.write_text("student_id,due\n*,next friday\n")
    with pytest.raises(lms.LmsError, match="2026-03-01T23:59"):
        lms.read_due(bad)


# ---------------------------------------------------------------- export round trip


@pytest.fixture
def course_with_grades(tmp_path):
    """The fixture course with a gradebook holding three students' autograded scores, one of them
    hand-graded on the written question, and the LMS ids the intake recorded."""
    root = tc.make_course(tmp_path / "course")
    assignment = load_assignment("fx_tiny", Course(root, tc.TASKS_DIR))

    def result(sid, square, softmax):
        return StudentResult(sid, NB, [TaskResult(sid, "square", square, 2.0, "passed", ""),
                                       TaskResult(sid, "row_softmax", softmax, 3.0, "passed", "")], [])

    report.record_gradebook(root / "gradebook.db", assignment, [result("s-john", 2.0, 3.0), result("s-jane", 2.0, 1.5),
                                                                 result("s-ana", 0.0, 3.0)])
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        grade = gb.find_grade("written_why", "fx_tiny", "fx_tiny", "s-john")
        grade.manual_score = 1.0
        gb.db.commit()
    out = tmp_path / "grading" / "fx_tiny"
    out.mkdir(parents=True)
    sub = collect.Submission("s-jane", lms={"name": "smithjane", "lms_id": "1002", "submission_id": "5002",
                                            "late": True, "filename": NB})
    lms.write_intake(out / "submissions.csv", "canvas", [sub])
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "due.csv").write_text("student_id,due\n*,2026-03-01T23:59\ns-ana,2026-03-10T23:59\n")
    (tmp_path / "submitted.csv").write_text("student_id,submitted\ns-ana,2026-03-04T08:00\n")
    return root, tmp_path, out


def _export(root, tmp, out, lms_name, *extra):
    return main(["--course-root", str(root), "--tasks-dir", str(tc.TASKS_DIR), "export", "fx_tiny", "--lms", lms_name,
                 "--roster", str(tmp / "roster.csv"), "--due", str(tmp / "due.csv"),
                 "--submitted", str(tmp / "submitted.csv"), "--out", str(out), *extra])


def test_canvas_export_has_canvas_import_columns_and_final_grades(course_with_grades, capsys):
    root, tmp, out = course_with_grades
    assert _export(root, tmp, out, "canvas", "--column", "FX Tiny (4242)") == 0
    rows = list(csv.reader((out / "fx_tiny_canvas.csv").read_text().splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "FX Tiny (4242)"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "6.00"
    by_id = {r[2]: r for r in rows[2:]}
    assert by_id["s-john"] == ["John Smith", "1001", "s-john", "jsmith", "L1", "6.00"]   # 5 auto + 1 by hand
    assert by_id["s-jane"][-1] == "2.90"      # 3.5 auto, LATE flag without a time: one day, 10 % of 6
    assert by_id["s-ana"][-1] == "3.00"       # submitted inside her extension
    text = capsys.readouterr().out
    assert "written answers are not graded yet" in text and "s-jane" in text


def test_moodle_export_has_the_grading_worksheet_columns(course_with_grades):
    root, tmp, out = course_with_grades
    assert _export(root, tmp, out, "moodle") == 0
    rows = list(csv.DictReader((out / "fx_tiny_moodle.csv").read_text().splitlines()))
    assert list(rows[0]) == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                             "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                             "Feedback comments"]
    by_id = {r["Identifier"]: r for r in rows}
    assert set(by_id) == {"Participant 1001", "Participant 1002", "Participant 1003"}
    assert by_id["Participant 1001"]["Grade"] == "6.00" and by_id["Participant 1001"]["Maximum Grade"] == "6.00"
    assert by_id["Participant 1002"]["Grade"] == "2.90" and "late penalty 0.60" in by_id["Participant 1002"]["Feedback comments"]
    assert by_id["Participant 1003"]["Email address"] == "ana@uni.example"


def test_export_without_a_gradebook_says_grade_first(tmp_path, capsys):
    root = tc.make_course(tmp_path / "course")
    assert main(["--course-root", str(root), "--tasks-dir", str(tc.TASKS_DIR), "export", "fx_tiny", "--lms", "canvas",
                 "--out", str(tmp_path / "o")]) == 2
    assert "grade the assignment first" in capsys.readouterr().err
