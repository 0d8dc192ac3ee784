"""The course on a JupyterHub: nbgrader's exchange, played with nbgrader's own CLI by real Unix users.

One instructor and two students (created here with useradd, removed after) share an exchange folder
configured by deploy/nbgrader_config_exchange.py: the instructor releases A1, each student fetches,
answers and submits it as themselves, the instructor collects, grades the collected folder with
`autograder grade` and exports with `nbgrader export`; the scores agree.

Each user's commands run under their own uid and groups (setpriv). Where the Python environment
lives in a folder other users cannot enter (root's pyenv here), they also get CAP_DAC_READ_SEARCH,
which lets them read and enter any folder but writes nothing: every file they create or change is
still checked against their own uid, which is what the exchange's permissions are about.
"""
import copy
import csv
import os
import pwd
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder import sandbox

ROOT = Path(__file__).resolve().parents[1]
A = "a1_histograms"
VENV_BIN = Path(sys.executable).parent
TAG = f"agx{os.getpid() % 100000}"
USERS = {"instructor": f"{TAG}i", "alice": f"{TAG}a", "bob": f"{TAG}b"}

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd"), reason="needs root and useradd"),
    pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed"),
]


def _as(user: str, base: Path, args: list[str], cwd: Path, extra_env: dict | None = None):
    home = base / "home" / user
    env = {"HOME": str(home), "USER": user, "LOGNAME": user, "PATH": f"{VENV_BIN}:/usr/bin:/bin",
           "JUPYTER_CONFIG_PATH": str(base / "etc-jupyter"), "NBGRADER_EXCHANGE_ROOT": str(base / "exchange"),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(extra_env or {})}
    caps = [] if _reachable() else ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *caps, "--",
           "env", "-i", *[f"{k}={v}" for k, v in env.items()], *args]
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{' '.join(args)} as {user}:\n{r.stdout}\n{r.stderr}"
    return r


def _reachable() -> bool:
    """Can an ordinary user run this environment's Python?"""
    return subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", "pass"],
                          capture_output=True).returncode == 0


def _answered(released: Path, answers_from: Path, override: dict) -> nbformat.NotebookNode:
    """The released notebook with the answer cells of `answers_from` (and `override`) filled in."""
    nb = nbformat.read(released, as_version=4)
    src = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
           for c in nbformat.read(answers_from, as_version=4).cells}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and gid in src:
            cell.source = override.get(gid, src[gid])
    return nb


@pytest.fixture(scope="module")
def hub():
    base = Path(tempfile.mkdtemp(prefix="nbgrader-hub-", dir="/tmp"))
    base.chmod(0o755)
    created = []
    try:
        (base / "home").mkdir(mode=0o755)
        for user in USERS.values():
            subprocess.run(["useradd", "--create-home", "--home-dir", str(base / "home" / user), "--shell",
                            "/bin/bash", "--user-group", user], check=True, capture_output=True)
            created.append(user)
        (base / "etc-jupyter").mkdir()
        shutil.copy(ROOT / "deploy" / "nbgrader_config_exchange.py", base / "etc-jupyter" / "nbgrader_config.py")
        (base / "exchange").mkdir()
        (base / "exchange").chmod(0o777)
        yield base
    finally:
        for user in created:
            subprocess.run(["userdel", "--remove", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_release_fetch_submit_collect_grade_export(hub):
    base, instr = hub, USERS["instructor"]
    course = base / "home" / instr / "course"
    for part in ("nbgrader_config.py", f"solutions/{A}", f"assignments/{A}"):
        (course / part).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy)(ROOT / part, course / part)
    subprocess.run(["chown", "-R", f"{instr}:{instr}", str(course)], check=True)

    _as(instr, base, ["nbgrader", "db", "assignment", "add", A], course)
    _as(instr, base, ["nbgrader", "release_assignment", A], course)

    mutants = runpy.run_path(str(ROOT / "tests" / "mutants" / f"{A}.py"))["MUTANTS"]
    work = {"alice": {}, "bob": {"average_nll": mutants["average_nll"]["sum_not_mean"]}}
    for who, override in work.items():
        user = USERS[who]
        home = base / "home" / user
        _as(user, base, ["nbgrader", "fetch_assignment", A], home)
        fetched = home / A / f"{A}.ipynb"
        assert fetched.is_file() and pwd.getpwuid(fetched.stat().st_uid).pw_name == user
        answered = Path(tempfile.mkdtemp(dir=base)) / f"{A}.ipynb"
        nbformat.write(_answered(fetched, ROOT / "solutions" / A / f"{A}.ipynb", override), answered)
        answered.parent.chmod(0o755)
        answered.chmod(0o644)
        _as(user, base, ["cp", str(answered), str(fetched)], home)   # the student saves their work
        _as(user, base, ["nbgrader", "submit", A], home)

    _as(instr, base, ["nbgrader", "collect", A], course)
    collected = course / "grading" / "submitted"
    assert sorted(p.name for p in collected.iterdir()) == sorted([USERS["alice"], USERS["bob"]])

    # grading as root, as a grading service or `sudo make grade` would (the sandbox drops privileges)
    out = course / "grading" / A
    graded = subprocess.run([sys.executable, "-m", "autograder", "--course-root", str(course), "grade", A,
                             str(collected), "--out", str(out), "--workers", "2", "--quiet"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    subprocess.run(["chown", "-R", f"{instr}:{instr}", str(course)], check=True)
    _as(instr, base, ["nbgrader", "export", "--to", str(course / "export.csv")], course)

    ours = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    theirs = {r["student_id"]: r for r in csv.DictReader(open(course / "export.csv"))}
    assert set(ours) == set(theirs) == {USERS["alice"], USERS["bob"]}
    for sid in ours:
        for col in ("raw_score", "score", "max_score"):
            assert abs(float(ours[sid][col]) - float(theirs[sid][col])) < 1e-6, (sid, col)
    assert float(ours[USERS["alice"]]["score"]) == 14.0
    assert 0 < float(ours[USERS["bob"]]["score"]) < 14.0
