"""Sharing the CPU: one lecture alone against two copies at once, and the notebook tests beside the
browser tests, for each kernel thread policy.

    python bench/sharing.py                          # lecture 05 and both test groups, default and course policy
    python bench/sharing.py --skip-tests --policies default passive one-thread course
    python bench/sharing.py --tests-filter "00_course or nbgrader_extension"   # a quick smoke run

Each policy is a `python3` kernel spec put first on JUPYTER_PATH (so nbconvert, nbclient and
JupyterLab all start it): *default* is ipykernel as installed (torch takes one thread per core and
OpenMP spins while it waits), *passive* adds OMP_WAIT_POLICY=PASSIVE, *one-thread* sets
OMP_NUM_THREADS=1, *course* is the kernel `make setup` installs (course_lib.kernel). Thread variables
of this shell are removed first. Prints a markdown table and writes it to bench/results/sharing.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_lib.kernel import kernel_spec  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sharing.md"
TARGET = 2.5  # issue 15: two lectures at once take at most 2.5x one alone
THREAD_VARS = ("OMP_", "GOMP_", "KMP_", "MKL_", "OPENBLAS_")
POLICIES = {
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "one-thread": {"OMP_NUM_THREADS": "1"},
    "course": None,  # course_lib.kernel's own policy
}


def spec_for(policy: str) -> dict:
    if POLICIES[policy] is None:
        return kernel_spec()
    return {**kernel_spec(), "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "env": POLICIES[policy]}


def policy_env(policy: str, work: Path) -> dict:
    """This process's environment without thread settings, with the policy's kernel spec first."""
    jupyter = work / f"jupyter-{policy}"
    (jupyter / "kernels" / "python3").mkdir(parents=True, exist_ok=True)
    (jupyter / "kernels" / "python3" / "kernel.json").write_text(json.dumps(spec_for(policy)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(THREAD_VARS)}
    bin_dir = str(Path(sys.executable).parent)
    env.update(JUPYTER_PATH=str(jupyter), COURSE_TEST_JUPYTER_PATH=str(jupyter), MPLBACKEND="Agg",
               PATH=bin_dir + os.pathsep + env.get("PATH", ""),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def run_together(commands: list[list[str]], env: dict, cwd: Path) -> list[dict]:
    """Start the commands at once; per command: wall seconds until it ended, CPU seconds of it and of
    the processes it waited for (its kernels), exit code and the last line it printed."""
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for cmd in commands]
    outputs = {p.pid: [] for p in procs}
    # Read each output in a thread, so a full pipe never stalls a command.
    import threading

    readers = [threading.Thread(target=lambda p=p: outputs[p.pid].extend(p.stdout), daemon=True) for p in procs]
    for r in readers:
        r.start()
    results = {}
    while len(results) < len(procs):
        pid, status, usage = os.wait4(-1, 0)
        if pid in outputs:
            results[pid] = {"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
                            "rc": os.waitstatus_to_exitcode(status)}
    for r in readers:
        r.join()
    for p in procs:
        p.returncode = results[p.pid]["rc"]
        lines = [line.strip() for line in outputs[p.pid] if line.strip()]
        results[p.pid]["last"] = lines[-1] if lines else ""
    return [results[p.pid] for p in procs]


def nbconvert(notebook: Path, out: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
            "--ExecutePreprocessor.timeout=1200", "--output-dir", str(out), str(notebook)]


def pytest_group(marker: str, path: str, filter_: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", marker, path]
    return cmd + (["-k", filter_] if filter_ else [])


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    import torch

    return (f"{platform.system()} {platform.machine()}, {len(os.sched_getaffinity(0))} CPU cores, Python "
            f"{platform.python_version()}, torch {torch.__version__}; load average {load}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "lectures" / "05_pixelcnn.ipynb",
                        help="the lecture to run alone and twice at once (lectures/05_pixelcnn.ipynb)")
    parser.add_argument("--policies", nargs="+", choices=list(POLICIES), default=["default", "course"])
    parser.add_argument("--skip-tests", action="store_true", help="leave out the test groups side by side")
    parser.add_argument("--tests-filter", metavar="EXPR", help="pytest -k expression for both test groups")
    parser.add_argument("--note", default="", help="a line for the results file (for example the machine's load)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    notebook = args.notebook.resolve()

    header = ["# Sharing the CPU: thread policies", "",
              f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
              f"- machine at start: {machine()}",
              f"- command: `python bench/sharing.py {' '.join(argv if argv is not None else sys.argv[1:])}`".rstrip()]
    if args.note:
        header.append(f"- note: {args.note}")
    rows = ["| what | policy | wall s | CPU s | two at once / alone | result |", "|---|---|---:|---:|---:|---|"]
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-sharing-") as tmp:
        work = Path(tmp)
        for policy in args.policies:
            env = policy_env(policy, work)
            alone = run_together([nbconvert(notebook, work / "alone")], env, notebook.parent)[0]
            two = run_together([nbconvert(notebook, work / f"two{i}") for i in range(2)], env, notebook.parent)
            ratio = max(r["wall_s"] for r in two) / alone["wall_s"]
            ok = all(r["rc"] == 0 for r in [alone, *two])
            failed |= not ok
            verdict = ("PASS" if ratio <= TARGET else "FAIL") + f" (target <= {TARGET}x)" if ok else "ERROR"
            rows.append(f"| {notebook.name} alone | {policy} | {alone['wall_s']:.1f} | {alone['cpu_s']:.1f} |  | "
                        f"{'ok' if alone['rc'] == 0 else alone['last'][:80]} |")
            rows.append(f"| {notebook.name}, two at once | {policy} | {max(r['wall_s'] for r in two):.1f} | "
                        f"{sum(r['cpu_s'] for r in two):.1f} | {ratio:.2f}x | {verdict} |")
            print(rows[-2], rows[-1], sep="\n", flush=True)
            if not args.skip_tests:
                groups = run_together([pytest_group("notebook", "tests/test_notebooks.py", args.tests_filter),
                                       pytest_group("browser", "tests/test_browser.py", args.tests_filter)],
                                      env, ROOT)
                for name, r in zip(("notebook tests", "browser tests"), groups):
                    summary = re.sub(r"\s+", " ", r["last"])[:90]
                    failed |= r["rc"] not in (0, 5)  # 5: nothing selected by --tests-filter
                    rows.append(f"| {name}, beside the {'browser' if name[0] == 'n' else 'notebook'} tests | "
                                f"{policy} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} |  | {summary} |")
                print(rows[-2], rows[-1], sep="\n", flush=True)
    header.append(f"- load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    text = "\n".join(header) + "\n\n" + "\n".join(rows) + "\n\n" + (
        "wall s: from start to the end of that run (for two at once, until both ended); CPU s: CPU seconds "
        "of the run and of its kernels together (two at once: both copies). On a busy machine the wall "
        "times grow with the other load while the CPU seconds show what each policy itself costs: "
        "spinning OpenMP threads burn CPU without doing work. The target (issue 15): two at once take at "
        f"most {TARGET}x the wall time of one alone.\n")
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
