"""Hostile and broken submissions, graded together in one sandboxed run of the fixture assignment.

Each student attacks or breaks one thing (usually the `square` task, worth 2 points) and answers
`row_softmax` (3 points) correctly, so each row shows both that the attack earns nothing and that
it costs nothing else. Every student must get a row with a status and a message; the good student
in the same run must get full marks.
"""
import csv
import json
import os
import socket
import sys
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import sandbox  # noqa: E402
from autograder.cli import main  # noqa: E402

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")]

GOOD_SOFTMAX = tc.PLAIN["row_softmax"]
CORRECT = "    return np.asarray(x, dtype=np.float64) ** 2\n"


def sq(body: str, prelude: str = "") -> str:
    return prelude + "def square(x):\n" + body


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tc.make_course(tmp_path_factory.mktemp("course"))
    os.environ["AUTOGRADER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    return root


@pytest.fixture(scope="module")
def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                hits.append(1)
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1], hits
    stop.set()
    srv.close()


def _secrets(course: Path, subs: Path, out: Path, gradebook: Path) -> list[str]:
    return [str(course / "solutions" / "fx_tiny" / "fx_tiny.ipynb"), str(tc.TASKS_DIR / "fx_tiny.py"),
            str(Path(__file__).resolve().parents[1] / "autograder" / "tasks" / "a2_nade_made.py"),
            str(Path(__file__).resolve().parents[1] / "solutions"), str(gradebook),
            str(subs / "good" / "fx_tiny.ipynb"), str(out)]


def hostile_students(course, subs, out, gradebook, port):
    secrets = _secrets(course, subs, out, gradebook)
    s = {}
    s["good"] = tc.student_notebook()
    s["loop_in_function"] = tc.student_notebook({"square": sq("    while True:\n        pass\n")})
    s["loop_top_level"] = tc.student_notebook({"square": "while True:\n    pass\n"})
    s["memory_hog"] = tc.student_notebook({"square": sq("    blocks = []\n    while True:\n"
                                                        "        blocks.append(np.ones(10**7))\n")})
    s["fork_bomb"] = tc.student_notebook({"square": sq(
        "    import os\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n")})
    s["disk_fill"] = tc.student_notebook({"square": sq(
        "    chunk = b'0' * 2**20\n    for name in ('/submission/big', '/tmp/big', 'big2'):\n"
        "        try:\n            with open(name, 'wb') as fh:\n                while True:\n"
        "                    fh.write(chunk)\n        except OSError:\n            pass\n" + CORRECT)})
    s["os_exit"] = tc.student_notebook({"square": sq("    import os\n    os._exit(0)\n")})
    s["segfault"] = tc.student_notebook({"square": sq("    import ctypes\n    return ctypes.string_at(0)\n")})
    s["system_exit"] = tc.student_notebook({"square": sq("    raise SystemExit(0)\n"),
                                            "row_softmax": "def row_softmax(logits):\n    raise KeyboardInterrupt\n"})
    s["print_flood"] = tc.student_notebook({"square": sq("    import sys\n    sys.stdout.write('x' * 100_000_000)\n"
                                                         "    sys.stderr.write('warning: noisy\\n')\n" + CORRECT)})
    s["monkeypatch"] = tc.student_notebook({"square": (
        "import math, builtins\nimport numpy\nnumpy.allclose = lambda *a, **k: True\n"
        "numpy.isclose = lambda a, b, **k: numpy.ones(numpy.shape(a), bool)\nnumpy.array_equal = lambda *a, **k: True\n"
        "torch.allclose = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: numpy.ndarray\n"
        "def square(x):\n    return np.zeros(np.shape(x))\n")})
    s["lying_objects"] = tc.student_notebook({
        "square": ("class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
                   "    __ne__ = lambda self, other: False\n"
                   "def square(x):\n    return np.zeros(np.shape(x)).view(Liar)\n"),
        "row_softmax": ("class Sneaky(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
                        "def row_softmax(logits):\n    return torch.zeros_like(logits).as_subclass(Sneaky)\n")})
    s["ipython_hooks"] = tc.student_notebook({"square": (
        "try:\n    get_ipython().events.register('post_run_cell', lambda r: None)\nexcept NameError:\n    pass\n"
        "import sys\nsys.settrace(None)\ndef square(x):\n    return np.zeros(np.shape(x))\n")})
    s["read_secrets"] = tc.student_notebook({"square": (
        f"import os\nSECRETS = {secrets!r}\n"
        "def square(x):\n    seen = [p for p in SECRETS if os.path.exists(p)]\n"
        "    if seen:\n        return np.asarray(x, dtype=np.float64) ** 2\n    return np.zeros(np.shape(x))\n")})
    s["write_outputs"] = tc.student_notebook({"square": (
        f"import os\nTARGETS = {[str(gradebook), str(out / 'scores.csv'), str(out / 'feedback' / 'x.html'), str(course / 'pwned')]!r}\n"
        "def square(x):\n    for t in TARGETS:\n        try:\n            with open(t, 'w') as fh:\n"
        "                fh.write('student,100')\n        except OSError:\n            pass\n" + CORRECT)})
    s["network"] = tc.student_notebook({"square": (
        f"import socket\ndef square(x):\n    try:\n        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        "        return np.asarray(x, dtype=np.float64) ** 2\n    except OSError:\n        return np.zeros(np.shape(x))\n")})
    edited = tc.student_notebook()
    for c in edited.cells:
        nbg = c.metadata.get("nbgrader", {})
        if nbg.get("grade") and c.cell_type == "code":
            c.source = "pass"
            nbg["points"] = 100
    s["edited_tests"] = edited
    deleted = tc.student_notebook()
    deleted.cells = [c for c in deleted.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    s["deleted_tests"] = deleted
    no_answer = tc.student_notebook()
    no_answer.cells = [c for c in no_answer.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "square"]
    s["deleted_answer"] = no_answer
    dup = tc.student_notebook()
    idx = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "square")
    wrong = nbformat.from_dict(json.loads(json.dumps(dup.cells[idx])))
    wrong.source = tc.MUTANTS["square"]["cube"]
    dup.cells.insert(idx + 1, wrong)
    s["duplicated_answer"] = dup
    s["invalid_json"] = b'{"cells": [ {"cell_type": "code", '
    s["empty"] = b""
    s["non_utf8"] = b"\xff\xfe{\x00\"\x00c\x00"
    other = tc.student_notebook()
    for c in other.cells:
        nbg = c.metadata.get("nbgrader")
        if nbg and nbg.get("grade_id") in ("square", "row_softmax"):
            nbg["grade_id"] = "fit_histogram" if nbg["grade_id"] == "square" else "average_nll"
    s["wrong_assignment"] = other
    return s


@pytest.fixture(scope="module")
def graded(course, listener, tmp_path_factory):
    port, hits = listener
    subs = tmp_path_factory.mktemp("subs")
    out = tmp_path_factory.mktemp("out")
    gradebook = tmp_path_factory.mktemp("gb") / "gradebook.db"
    students = hostile_students(course, subs, out, gradebook, port)
    for sid, nb in students.items():
        tc.write_submission(subs, sid, nb)
    tc.write_submission(subs, "renamed", tc.student_notebook(), name="my_work_final.ipynb")
    rc = main(["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(subs),
               "--out", str(out), "--gradebook", str(gradebook), "--workers", "2", "--timeout", "60",
               "--probe-timeout", "8", "--cell-timeout", "4", "--memory", "1536", "--quiet"])
    assert rc == 0
    rows = list(csv.DictReader(open(out / "scores.csv")))
    table = {(r["student_id"], r["task"]): r for r in rows}
    return {"table": table, "rows": rows, "out": out, "subs": subs, "hits": hits, "course": course,
            "gradebook": gradebook}


def score(g, sid, task):
    return float(g["table"][(sid, task)]["score"])


def status(g, sid, task):
    return g["table"][(sid, task)]["status"]


def msg(g, sid, task):
    return g["table"][(sid, task)]["message"]


def test_every_student_has_a_row_per_task(graded):
    students = {r["student_id"] for r in graded["rows"]}
    assert len(students) == 25
    assert len(graded["rows"]) == 2 * len(students)
    assert all(r["status"] and r["message"] for r in graded["rows"])


def test_good_student_gets_full_marks(graded):
    assert score(graded, "good", "square") == 2 and score(graded, "good", "row_softmax") == 3


@pytest.mark.parametrize("sid,expected", [
    ("loop_in_function", {"timeout"}), ("loop_top_level", {"timeout"}), ("memory_hog", {"failed", "crashed", "timeout", "memory_limit"}),
    ("fork_bomb", {"timeout", "crashed", "failed"}), ("os_exit", {"crashed"}), ("segfault", {"crashed"}),
])
def test_killers_cost_only_their_task(graded, sid, expected):
    assert score(graded, sid, "square") == 0
    assert status(graded, sid, "square") in expected, msg(graded, sid, "square")
    assert score(graded, sid, "row_softmax") == 3, msg(graded, sid, "row_softmax")


def test_segfault_message(graded):
    assert "SIGSEGV" in msg(graded, "segfault", "square")


def test_disk_fill_is_contained(graded):
    # writes fail at the size limits; the function then returns the right answer and keeps its points
    assert score(graded, "disk_fill", "row_softmax") == 3
    assert status(graded, "disk_fill", "square") in ("passed", "crashed"), msg(graded, "disk_fill", "square")


def test_system_exit_and_keyboard_interrupt(graded):
    assert score(graded, "system_exit", "square") == 0 and "SystemExit" in msg(graded, "system_exit", "square")
    assert score(graded, "system_exit", "row_softmax") == 0
    assert "KeyboardInterrupt" in msg(graded, "system_exit", "row_softmax")


def test_output_flood_costs_nothing(graded):
    assert score(graded, "print_flood", "square") == 2
    assert score(graded, "print_flood", "row_softmax") == 3
    assert (graded["out"] / "grading.log").stat().st_size < 2_000_000


def test_monkeypatching_does_not_fool_the_judge(graded):
    assert score(graded, "monkeypatch", "square") == 0
    assert score(graded, "monkeypatch", "row_softmax") == 3


def test_lying_eq_and_tensor_subclasses_are_rejected(graded):
    assert score(graded, "lying_objects", "square") == 0
    assert "subclass" in msg(graded, "lying_objects", "square")
    assert score(graded, "lying_objects", "row_softmax") == 0
    assert "subclass" in msg(graded, "lying_objects", "row_softmax")


def test_ipython_hooks_do_nothing(graded):
    assert score(graded, "ipython_hooks", "square") == 0
    assert score(graded, "ipython_hooks", "row_softmax") == 3


def test_instructor_files_are_invisible(graded):
    assert score(graded, "read_secrets", "square") == 0
    assert score(graded, "read_secrets", "row_softmax") == 3


def test_outputs_cannot_be_written(graded):
    out, course = graded["out"], graded["course"]
    assert not (course / "pwned").exists()
    assert not (out / "feedback" / "x.html").exists()
    assert "student,100" not in (out / "scores.csv").read_text()
    # the function is right, and trying to write costs nothing more than failing
    assert score(graded, "write_outputs", "square") == 2


def test_no_network(graded):
    assert score(graded, "network", "square") == 0
    assert graded["hits"] == []


@pytest.mark.parametrize("sid", ["edited_tests", "deleted_tests", "renamed"])
def test_test_cells_and_names_do_not_matter(graded, sid):
    assert score(graded, sid, "square") == 2 and score(graded, sid, "row_softmax") == 3
    assert float(graded["table"][(sid, "square")]["max_score"]) == 2


def test_deleted_and_duplicated_answer_cells(graded):
    assert status(graded, "deleted_answer", "square") == "missing_cell"
    assert score(graded, "deleted_answer", "row_softmax") == 3
    assert "2 answer cells" in msg(graded, "duplicated_answer", "square")
    assert score(graded, "duplicated_answer", "square") == 0   # the last definition (a wrong one) counts
    assert score(graded, "duplicated_answer", "row_softmax") == 3


@pytest.mark.parametrize("sid,st", [("invalid_json", "invalid_notebook"), ("empty", "invalid_notebook"),
                                    ("non_utf8", "invalid_notebook"), ("wrong_assignment", "wrong_assignment")])
def test_unreadable_notebooks(graded, sid, st):
    assert status(graded, sid, "square") == st and status(graded, sid, "row_softmax") == st
    assert score(graded, sid, "square") == 0


def test_feedback_for_everyone_without_hidden_values(graded):
    fb = graded["out"] / "feedback"
    for sid in {r["student_id"] for r in graded["rows"]}:
        page = (fb / sid / "fx_tiny.html").read_text()
        assert "square" in page and "row_softmax" in page
    page = (fb / "good" / "fx_tiny.html").read_text()
    assert "values" in page and "passed" in page
    assert "np.asarray(x, dtype=np.float64) ** 2" not in page


# ---------------------------------------------------------------- zips from an LMS


def test_zip_collect_is_safe(course, tmp_path):
    z = tmp_path / "lms.zip"
    good = nbformat.writes(tc.student_notebook()).encode()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("alice_fx_tiny.ipynb", good)
        zf.writestr("../../bob_fx_tiny.ipynb", good)
        info = zipfile.ZipInfo("carl_fx_tiny.ipynb")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/work/main/solutions/fx_tiny/fx_tiny.ipynb")
        inner = tmp_path / "inner.zip"
        with zipfile.ZipFile(inner, "w") as iz:
            iz.writestr("dan_fx_tiny.ipynb", good)
        zf.write(inner, "dan_fx_tiny.zip")
        zf.writestr("erin_attempt1.ipynb", good)
        zf.writestr("erin_attempt2.ipynb", good)
        zf.writestr("/etc/frank_fx_tiny.ipynb", good)
    out = tmp_path / "out"
    rc = main(["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(z),
               "--out", str(out), "--no-gradebook", "--workers", "2", "--timeout", "60", "--quiet"])
    assert rc == 0
    rows = {(r["student_id"], r["task"]): r for r in csv.DictReader(open(out / "scores.csv"))}
    assert rows[("alice", "square")]["status"] == "passed"
    assert rows[("bob", "square")]["status"] == "rejected_file" and ".." in rows[("bob", "square")]["message"]
    assert rows[("carl", "square")]["status"] == "rejected_file" and "symbolic link" in rows[("carl", "square")]["message"]
    assert rows[("dan", "square")]["status"] == "rejected_file" and "nested archive" in rows[("dan", "square")]["message"]
    assert rows[("erin", "square")]["status"] == "duplicate_id"
    assert rows[("frank", "square")]["status"] == "rejected_file"
    assert not (tmp_path.parent / "bob_fx_tiny.ipynb").exists()
    assert not Path("/etc/frank_fx_tiny.ipynb").exists()
