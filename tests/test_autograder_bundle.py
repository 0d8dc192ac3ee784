"""The student bundle holds what students need and nothing instructors keep."""
import zipfile

from autograder import bundle


def test_bundle_contents_and_no_solution_code(tmp_path):
    out = bundle.build(tmp_path / "student-course.zip")
    names = zipfile.ZipFile(out).namelist()
    assert "student-course/README.md" in names
    assert any(n.startswith("student-course/lectures/") for n in names)
    assert any(n.startswith("student-course/assignments/") for n in names)
    assert any(n.startswith("student-course/course_lib/") for n in names)
    assert "student-course/environment.yml" in names and "student-course/requirements.txt" in names
    for secret in ("solutions/", "autograder/", "tests/", "bench/", "gradebook.db", "nbgrader_config.py", "grading/"):
        assert not any(secret in n for n in names), secret
    assert len(bundle.solution_snippets()) > 10
    leaks = bundle.solution_leaks(out)
    assert not leaks, "solution code appears in the student bundle:\n" + "\n".join(leaks)


def test_leak_detector_finds_a_planted_solution(tmp_path):
    where, code = bundle.solution_snippets()[0]
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("student-course/notes.py", "# copied\n" + code)
    assert bundle.solution_leaks(z)
