"""How long the course takes: every notebook, the test suite, and a fresh set-up.

    python bench/course_timing.py                      # everything (several minutes)
    python bench/course_timing.py --only 00 --skip-setup --skip-tests

Prints one markdown table and writes it, with the date and the machine, to
bench/results/course_timing.md. Notebooks run the way tests/test_notebooks.py runs them: nbclient,
a fresh python3 kernel each, MPLBACKEND=Agg, OMP_NUM_THREADS=1, from the notebook's folder.
"""
from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is a folder of scripts, not a package
from machine import describe_machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "course_timing.md"
DEFAULT_BUDGET_S = 120  # as tests/test_notebooks.py

# Appended (in memory only) to each notebook to read the kernel's own CPU time at the end.
_CPU_CELL = ("import resource as _r, json as _j\n"
             "_u = _r.getrusage(_r.RUSAGE_SELF)\n"
             "print(_j.dumps({'cpu_s': _u.ru_utime + _u.ru_stime}))")


def notebooks(pattern: str | None) -> list[Path]:
    found = sorted((ROOT / "lectures").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if pattern:
        found = [p for p in found if fnmatch.fnmatch(str(p.relative_to(ROOT)), f"*{pattern}*")]
    return found


def time_notebook(path: Path, timeout: float) -> dict:
    """Execute one notebook in a fresh kernel; wall seconds, the kernel's CPU seconds, status."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    budget = float(nb.metadata.get("course", {}).get("time_budget_s", DEFAULT_BUDGET_S))
    nb.cells.append(nbformat.v4.new_code_cell(_CPU_CELL))
    os.environ.update({"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"})
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    row = {"what": str(path.relative_to(ROOT)), "budget_s": budget, "cpu_s": None}
    start = time.perf_counter()
    try:
        client.execute()
        status = None
    except CellTimeoutError:
        status = f"a cell ran past {timeout:.0f} s"
    except DeadKernelError as err:
        status = f"kernel died: {str(err).splitlines()[0][:80]}"
    except CellExecutionError as err:
        lines = [line for line in str(err).splitlines() if line.strip()]
        status = f"failed: {lines[-1][:100] if lines else 'error'}"
    row["wall_s"] = time.perf_counter() - start
    if status is None:
        try:
            row["cpu_s"] = json.loads(nb.cells[-1].outputs[-1]["text"])["cpu_s"]
        except (IndexError, KeyError, ValueError):
            pass
        share = row["wall_s"] / budget
        status = f"ok ({share:.0%} of budget)" if share <= 1 else f"OVER BUDGET ({share:.0%})"
    row["status"] = status
    return row


def time_tests(workers: int) -> dict:
    """The test suite without the notebooks: pytest -n WORKERS tests -m "not notebook"."""
    cmd = [sys.executable, "-m", "pytest", "-n", str(workers), "tests", "-m", "not notebook", "-q",
           "-p", "no:cacheprovider"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else "no output"
    status = ("ok: " if proc.returncode == 0 else "FAILED: ") + summary
    return {"what": f'test suite (pytest -n {workers} tests -m "not notebook")', "wall_s": wall,
            "cpu_s": None, "budget_s": None, "status": status}


def time_setup(keep: bool = False) -> dict:
    """A fresh set-up as `make setup` does it, in a temporary venv: venv, pip install -r
    requirements.txt, pip install -e ".[dev]", python scripts/setup_lab.py. Uses pip's cache as it is."""
    tmp = Path(tempfile.mkdtemp(prefix="course-setup-"))
    venv = tmp / "venv"
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    steps = [[sys.executable, "-m", "venv", str(venv)], pip + ["-r", "requirements.txt"], pip + ["-e", ".[dev]"],
             [str(py), "scripts/setup_lab.py"]]
    start = time.perf_counter()
    status = "ok"
    for cmd in steps:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()
            status = f"FAILED at `{' '.join(cmd[2:5])}`: {tail[-1][:100] if tail else proc.returncode} (offline?)"
            break
    wall = time.perf_counter() - start
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"what": "fresh set-up (venv + pip install -r requirements.txt + editable install)", "wall_s": wall,
            "cpu_s": None, "budget_s": None, "status": status}


def table(rows: list[dict]) -> str:
    def num(x):
        return "" if x is None else f"{x:.1f}"

    out = ["| what | wall s | kernel CPU s | budget s | status |", "|---|---:|---:|---:|---|"]
    out += [f"| {r['what']} | {num(r['wall_s'])} | {num(r['cpu_s'])} | {num(r['budget_s'])} | {r['status']} |"
            for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="PATTERN", help="only notebooks whose path contains PATTERN "
                        "(shell wildcards allowed, e.g. 00 or 'solutions/a2*')")
    parser.add_argument("--skip-setup", action="store_true", help="do not time a fresh set-up")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers for the test suite (2)")
    parser.add_argument("--timeout", type=float, default=600, help="per-cell timeout in seconds (600)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"where to write the table ({RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    header = ["# Course timing", "",
              f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
              f"- machine: {describe_machine(load=True)}",
              f"- command: `{' '.join(['python bench/course_timing.py'] + list(argv if argv is not None else sys.argv[1:]))}`",
              ""]
    rows = []
    paths = notebooks(args.only)
    if not paths:
        print(f"no notebooks match {args.only!r}", file=sys.stderr)
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        def tqdm(x, **_):
            return x
    for path in tqdm(paths, desc="notebooks", leave=False):
        rows.append(time_notebook(path, args.timeout))
    if not args.skip_tests:
        rows.append(time_tests(args.workers))
    if not args.skip_setup:
        rows.append(time_setup())
    text = "\n".join(header) + "\n" + table(rows) + "\n\n" + (
        "wall s: elapsed seconds; kernel CPU s: CPU seconds the notebook's kernel used (close to the wall "
        "time on an idle machine, so it shows the cost when the machine is busy); budget s: the notebook's "
        "`course.time_budget_s` (120 unless set), checked by tests/test_notebooks.py.\n")
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output}")
    failed = [r for r in rows if not r["status"].startswith(("ok", "OVER BUDGET"))]
    return 1 if failed else 0  # over budget is reported, not an error: the machine may just be busy


if __name__ == "__main__":
    sys.exit(main())
