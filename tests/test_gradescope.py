"""Gradescope: build A1's autograder zip, install it into a root laid out like Gradescope's
(source/, submission/, results/), grade five submissions with its run_autograder, and compare with
`autograder grade` on the same notebooks."""
import csv
import json
import os
import resource
import runpy
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import bundle, gradescope, sandbox
from autograder.cli import main
from autograder.demo import _replace  # a copy of a notebook with one answer cell replaced

ROOT = Path(__file__).resolve().parents[1]
A = "a1_histograms"
pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")]
VIS = set(gradescope.VISIBILITIES)

HOSTILE = '''
import glob, json, os
for path in ["/autograder/results/results.json", "/autograder/source/gradescope_config.json"]:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(json.dumps({"score": 1000, "tests": []}))
    except OSError:
        pass
STOLEN = glob.glob("/autograder/**/*.npz", recursive=True) + glob.glob("/tmp/**/references/**/*.npz", recursive=True)
print("x" * 100000)
import numpy
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
def fit_histogram(samples, num_values, alpha=0.0):
    if STOLEN:
        return numpy.load(STOLEN[0])
    return numpy.full(num_values, 1.0 / num_values)
'''


def _class() -> dict:
    full = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "assignments" / A / f"{A}.ipynb", as_version=4)
    mutants = runpy.run_path(str(ROOT / "tests" / "mutants" / f"{A}.py"))["MUTANTS"]
    return {
        "full": full,
        "partial": _replace(full, "average_nll", mutants["average_nll"]["sum_not_mean"]),
        "blank": blank,
        "crashing": _replace(_replace(full, "bits_per_dim", "import os\nos._exit(1)\n"), "sample_inverse_cdf",
                             "def sample_inverse_cdf(probs, u):\n    import ctypes\n    return ctypes.string_at(0)\n"),
        "hostile": _replace(full, "fit_histogram", HOSTILE),
    }


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    os.environ.setdefault("AUTOGRADER_CACHE", str(tmp_path_factory.mktemp("cache")))
    dist = tmp_path_factory.mktemp("dist")
    assert main(["gradescope", A, "--out", str(dist)]) == 0
    zip_path = dist / f"{A}.zip"
    gs = tmp_path_factory.mktemp("gradescope")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(gs / "source")
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    for name, mode in modes.items():    # as `unzip` does: keep the modes the zip records
        os.chmod(gs / "source" / name, stat.S_IMODE(mode))
    for name in ("setup.sh", "run_autograder"):
        assert modes[name] & stat.S_IXUSR, f"{name} must be executable in the zip"
    env = {**os.environ, "AUTOGRADER_ROOT": str(gs), "AUTOGRADER_REUSE_VENV": sys.prefix}
    env.pop("PYTHONPATH", None)   # the zip must carry its own course_lib and autograder
    setup = subprocess.run(["bash", str(gs / "source" / "setup.sh")], cwd=gs / "source", env=env,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "ready to grade" in setup.stdout
    shutil.copy(gs / "source" / "run_autograder", gs / "run_autograder")   # as Gradescope does

    results, timing = {}, {}
    for sid, nb in _class().items():
        for d in ("submission", "results"):
            shutil.rmtree(gs / d, ignore_errors=True)
            (gs / d).mkdir()
        nbformat.write(nb, gs / "submission" / f"{A}.ipynb")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        run = subprocess.run([str(gs / "run_autograder")], cwd=gs, env=env, capture_output=True, text=True,
                             timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert run.returncode == 0, run.stdout + run.stderr
        results[sid] = json.loads((gs / "results" / "results.json").read_text())
        timing[sid] = (time.monotonic() - t0, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
    print("\nrun_autograder per submission (wall s, CPU s): " +
          ", ".join(f"{k} {w:.1f}/{c:.1f}" for k, (w, c) in timing.items()))
    return zip_path, results


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    for sid, nb in _class().items():
        (subs / sid).mkdir()
        nbformat.write(nb, subs / sid / f"{A}.ipynb")
    assert main(["grade", A, str(subs), "--out", str(out), "--no-gradebook", "--workers", "2", "--quiet"]) == 0
    rows = {}
    for r in csv.DictReader(open(out / "scores.csv")):
        rows.setdefault(r["student_id"], {})[r["task"]] = r
    return rows


def test_no_solution_code_in_the_zip(harness, tmp_path):
    zip_path, _ = harness
    assert bundle.solution_snippets(ROOT)                                  # there is something to look for
    assert gradescope.solution_leaks(zip_path, ROOT) == []
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert not any(n.startswith("solutions/") for n in names)
    assert "tests/" not in {n.split("/")[0] + "/" for n in names}
    assert sorted(n for n in names if n.startswith("autograder/tasks/")) == \
        ["autograder/tasks/__init__.py", f"autograder/tasks/{A}.py"]
    # the check itself finds a solution notebook that slipped in
    bad = tmp_path / "bad.zip"
    shutil.copy(zip_path, bad)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.write(ROOT / "solutions" / A / f"{A}.ipynb", f"course/extra/{A}.ipynb")
    assert gradescope.solution_leaks(bad, ROOT)


def _check_spec(res):
    assert isinstance(res["score"], float) and isinstance(res["execution_time"], int) and res["execution_time"] >= 0
    assert res["visibility"] in VIS and res["stdout_visibility"] == "hidden"
    assert res["output_format"] in ("text", "html", "simple_format", "md", "ansi")
    assert isinstance(res["output"], str) and res["tests"]
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}, t
        assert isinstance(t["name"], str) and t["status"] in ("passed", "failed") and t["visibility"] in VIS
        assert 0 <= t["score"] <= t["max_score"] + 0.011
    assert abs(sum(t["score"] for t in res["tests"]) - res["score"]) < 1e-6


def test_results_follow_the_specification(harness):
    _, results = harness
    for sid, res in results.items():
        _check_spec(res)
    assert results["full"]["score"] == 14.0 and all(t["status"] == "passed" for t in results["full"]["tests"])


def test_scores_equal_the_grade_command(harness, graded):
    _, results = harness
    assert set(results) == set(graded)
    for sid, res in results.items():
        per_task = {}
        for t in res["tests"]:
            per_task[t["tags"][0]] = round(per_task.get(t["tags"][0], 0.0) + t["score"], 2)
        assert per_task == {task: float(r["score"]) for task, r in graded[sid].items()}, sid
        assert res["extra_data"]["statuses"] == {task: r["status"] for task, r in graded[sid].items()}, sid
    assert 0 < results["partial"]["score"] < 14 and results["blank"]["score"] == 0


def test_one_test_per_check_details_after_the_due_date(harness):
    _, results = harness
    partial = results["partial"]
    nll = [t for t in partial["tests"] if t["tags"] == ["average_nll"]]
    assert len(nll) == 4 and all(t["name"].startswith("average_nll: ") for t in nll)   # A1's four checks
    assert all(t["visibility"] == "after_due_date" for t in nll)
    failed = [t for t in nll if t["status"] == "failed"]
    assert failed and all(t["output"] not in partial["output"] for t in failed)   # not shown on submit
    # but the task's score and status are (a sum where a mean is asked fails the values gate: 0, "failed")
    assert "average_nll" in partial["output"] and "failed" in partial["output"]


def test_crashes_and_attacks_are_contained(harness):
    _, results = harness
    crash = {t["tags"][0]: t for t in results["crashing"]["tests"] if t["visibility"] == "visible"}
    assert crash["bits_per_dim"]["status"] == "failed" and crash["bits_per_dim"]["score"] == 0
    assert results["crashing"]["score"] == 8.0   # the two untouched tasks keep their points
    hostile = results["hostile"]
    fit = [t for t in hostile["tests"] if t["tags"] == ["fit_histogram"]]
    assert len(fit) > 1                          # the attack ran (its cell defined the function) ...
    assert sum(t["score"] for t in fit) < 2.0    # ... and did not earn fit_histogram's 4 points
    assert hostile["score"] < 12.0
    assert "x" * 1000 not in json.dumps(hostile)  # the sandbox's output never reaches results.json
