"""Benchmark: grade N A2 submissions with our sandboxed autograder and with stock `nbgrader autograde`.

    .venv/bin/python bench/autograder_vs_nbgrader.py [--n 50] [--workers 2] [--skip-nbgrader] [--skip-notebook]

Submissions are copies of the student version with the solution's answers filled in; every fourth
one has a realistic mistake in one task (from tests/mutants/a2_nade_made.py). Stock nbgrader runs in
a temporary course folder (generate_assignment, then autograde of all students, serial as it is).
Prints both wall times, the ratio, the notebook's own run time, and the per-submission time
beyond it, and the CPU seconds each grading used (user + system of the grader and everything it
started): on a machine shared with other work, CPU time is the figure to compare. Not part of the
test suite.
"""
from __future__ import annotations

import argparse
import copy
import os
import resource
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
A = "a2_nade_made"
BIN = Path(sys.executable).parent


def make_submissions(folder: Path, n: int, nbgrader_layout: bool) -> None:
    student = nbformat.read(ROOT / "assignments" / A / f"{A}.ipynb", as_version=4)
    source = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    mutants = runpy.run_path(str(ROOT / "tests" / "mutants" / f"{A}.py"))["MUTANTS"]
    tasks = sorted(mutants)
    for i in range(n):
        nb = copy.deepcopy(student)
        wrong = {}
        if i % 4 == 3:
            task = tasks[(i // 4) % len(tasks)]
            wrong[task] = sorted(mutants[task].values())[0]
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = wrong.get(gid, answers[gid])
        sid = f"s{i:03d}"
        dest = folder / sid / (A if nbgrader_layout else "") / f"{A}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)


def notebook_runtime() -> float:
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "solutions" / A)}}).execute()
    return time.perf_counter() - t0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def timed(cmd, **kw) -> tuple[float, float]:
    """Run cmd; (wall s, CPU s of it and everything it started). The CPU time comes from a cpuacct
    cgroup where one can be made (sandboxed processes are not always reaped by their parent, so
    RUSAGE_CHILDREN misses them), else from RUSAGE_CHILDREN."""
    group = None
    if os.access(CPUACCT, os.W_OK):
        group = Path(tempfile.mkdtemp(prefix="bench-", dir=CPUACCT))
        cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs"), *cmd]
    t0, c0 = time.perf_counter(), _children_cpu()
    subprocess.run(cmd, check=True, **kw)
    wall = time.perf_counter() - t0
    if group is None:
        return wall, _children_cpu() - c0
    cpu = int((group / "cpuacct.usage").read_text()) / 1e9
    group.rmdir()
    return wall, cpu


def run_ours(n: int, workers: int, tmp: Path) -> tuple[float, float]:
    subs = tmp / "ours"
    make_submissions(subs, n, nbgrader_layout=False)
    # compute (or find) the cached reference results first, so the timing covers submissions only
    warm = tmp / "warm"
    make_submissions(warm, 1, nbgrader_layout=False)
    subprocess.run([str(BIN / "python"), "-m", "autograder", "grade", A, str(warm), "--out", str(tmp / "warm-out"),
                    "--no-gradebook", "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return timed([str(BIN / "python"), "-m", "autograder", "grade", A, str(subs), "--out", str(tmp / "ours-out"),
                  "--no-gradebook", "--quiet", "--workers", str(workers)], cwd=ROOT, stdout=subprocess.DEVNULL)


def run_nbgrader(n: int, tmp: Path) -> tuple[float, float]:
    course = tmp / "nbgrader-course"
    (course / "source").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / A, course / "source" / A)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.course_id = 'bench'\n"
        "c.CourseDirectory.db_url = 'sqlite:///gradebook.db'\nc.ExecutePreprocessor.timeout = 600\n")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", A, "--force"], cwd=course, env=env, check=True,
                   capture_output=True)
    make_submissions(course / "submitted", n, nbgrader_layout=True)
    return timed([str(BIN / "nbgrader"), "autograde", A, "--create", "--force"], cwd=course, env=env,
                  capture_output=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--skip-nbgrader", action="store_true")
    p.add_argument("--skip-notebook", action="store_true", help="do not time the solution notebook's own run")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        nb_s = float("nan")
        if not args.skip_notebook:
            nb_s = notebook_runtime()
            print(f"the notebook's own run time (solution, nbclient): {nb_s:.1f} s")
        load = os.getloadavg()[0]
        ours, ours_cpu = run_ours(args.n, args.workers, tmp)
        print(f"ours: {args.n} submissions in {ours:.1f} s with {args.workers} workers, sandboxed "
              f"({ours / args.n:.2f} s per submission wall; {ours * args.workers / args.n:.2f} s per submission per worker; "
              f"{ours_cpu / args.n:.2f} CPU s per submission; load average {load:.1f} -> {os.getloadavg()[0]:.1f})")
        if not args.skip_nbgrader:
            stock, stock_cpu = run_nbgrader(args.n, tmp)
            print(f"stock nbgrader autograde: {args.n} submissions in {stock:.1f} s (serial; "
                  f"{stock / args.n:.2f} s per submission, {stock / args.n - nb_s:.2f} s beyond the notebook's run time; "
                  f"{stock_cpu / args.n:.2f} CPU s per submission)")
            print(f"ratio ours / stock: {ours / stock:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
