"""The student bundle holds what students need and nothing instructors keep; its leak check sees
through renamed variables and reordered lines."""
import zipfile

import pytest

from autograder import bundle


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = bundle.build(tmp_path_factory.mktemp("bundle") / "student-course.zip")
    return out, bundle.find_solution_code(out)


def test_bundle_contents_and_no_solution_code(built):
    out, (leaks, reference) = built
    zf = zipfile.ZipFile(out)
    names = zf.namelist()
    assert "student-course/README.md" in names
    assert any(n.startswith("student-course/lectures/") for n in names)
    assert any(n.startswith("student-course/assignments/") for n in names)
    assert any(n.startswith("student-course/course_lib/") for n in names)
    assert "student-course/environment.yml" in names and "student-course/requirements.txt" in names
    for secret in ("solutions/", "autograder/", "tests/", "bench/", "gradebook.db", "nbgrader_config.py", "grading/"):
        assert not any(secret in n for n in names), secret
    assert len(bundle.solution_snippets()) > 10
    assert not leaks, "solution code appears in the student bundle:\n" + "\n".join(leaks)
    # the reference models match solutions, and that is said, not hidden
    assert any("made_masks" in r and "course_lib/models/made.py" in r for r in reference)
    readme = zf.read("student-course/README.md").decode()
    assert "The lecture library contains reference models" in readme


def test_bundle_has_the_student_makefile(built):
    out, _ = built
    makefile = zipfile.ZipFile(out).read("student-course/Makefile").decode()
    targets = {line.split(":")[0] for line in makefile.splitlines() if line and not line[0].isspace() and ":" in line
               and "=" not in line.split(":")[0]}
    assert {"lab", "validate", "setup"} <= targets
    assert not {"grade", "check", "test", "student-bundle"} & targets
    assert "$(LAB_ARGS)" in makefile


def _made_masks_block():
    return next(code for where, code in bundle.solution_snippets() if "made_masks (solution)" in where)


def test_leak_detector_finds_a_planted_solution(tmp_path):
    where, code = bundle.solution_snippets()[0]
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("student-course/notes.py", "# copied\n" + code)
    assert bundle.solution_leaks(z)


def test_leak_detector_finds_a_renamed_and_reordered_copy(tmp_path):
    block = _made_masks_block()
    assert "d_in" in block and "prev" in block
    renamed = (block.replace("d_in", "first").replace("prev", "last").replace("masks", "out")
               .replace("deg", "level"))
    lines = renamed.strip("\n").split("\n")
    lines[0], lines[1] = lines[1], lines[0]          # two lines swapped
    copy = "def helper(input_degrees, hidden_degrees):\n    # my own\n" + "\n".join(lines) + "\n"
    assert copy.count("first") >= 2 and "d_in" not in copy
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("student-course/lectures/extra.py", copy)
        zf.writestr("student-course/lectures/other.py", "def area(r):\n    return 3.14159 * r * r\n")
    leaks = bundle.solution_leaks(z)
    assert any("made_masks" in leak and "lectures/extra.py" in leak for leak in leaks)
    assert not any("other.py" in leak for leak in leaks)
