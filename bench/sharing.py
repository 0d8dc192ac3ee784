"""Sharing the CPU: one lecture alone against two copies at once, per kernel thread policy.

    python bench/sharing.py                   # lecture 05, every policy (a few minutes on 2 idle cores)
    python bench/sharing.py --policies default course
    python bench/sharing.py --quick           # a tiny in-memory notebook, to try the script (not written)
    python bench/sharing.py --with-browser    # also the lecture's notebook test beside the browser tests

Each run executes the notebook top to bottom with nbclient in a fresh kernel, from the notebook's
folder, as tests/test_notebooks.py does; "two at once" starts two kernels on two copies together and
waits for both. Each policy is a kernel spec written to a temporary folder on JUPYTER_PATH, and every
thread variable of this process (OMP_*, GOMP_*, KMP_*, MKL_NUM_THREADS) is removed first, so that the
policy alone decides:

- default: ipykernel started plainly (torch's OpenMP: one thread per core, busy waiting);
- course: the course's own kernel (course_lib.kernel.kernel_spec(), with the environment its
  thread_policy() sets), which is what `make setup` installs;
- the alternatives issue 15 asks to compare (1 thread passive, all cores passive, half the cores
  passive, 1 thread with the default wait), each left out where it is the course's environment.

Prints a markdown table and writes it, with the date and the machine, to bench/results/sharing.md.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is a folder of scripts, not a package
sys.path.insert(0, str(ROOT))
from machine import describe_machine  # noqa: E402

from course_lib.kernel import kernel_spec, thread_policy  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sharing.md"
LECTURE = ROOT / "lectures" / "05_pixelcnn.ipynb"
TARGET_RATIO = 2.5  # issue 15: two at once at most 2.5x one alone, with the course's policy
THREAD_VARS = ("OMP_", "GOMP_", "KMP_", "MKL_NUM_THREADS")
# Appended in memory (never saved) to read the kernel's own CPU seconds, all its threads, at the end.
CPU_CELL = "import resource as _r\n_u = _r.getrusage(_r.RUSAGE_SELF)\nprint(_u.ru_utime + _u.ru_stime)"
# A few seconds of multi-threaded torch work, for --quick.
QUICK_CELLS = ["import torch\ntorch.manual_seed(0)\nx = torch.randn(600, 600)",
               "for _ in range(40):\n    x = torch.tanh(x @ x.T / 600)\nprint(float(x.sum()))"]


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def env_text(env: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in env.items())


def policies() -> dict[str, tuple[dict, str]]:
    """name -> (kernel.json, its environment in words). The course's comes from course_lib.kernel."""
    plain = {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
             "display_name": "plain ipykernel", "language": "python"}
    course_env = thread_policy()
    alternatives = {
        "1 thread, passive": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"},
        "all cores, passive": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(cores())},
        "half cores, passive": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(max(1, cores() // 2))},
        "1 thread, default wait": {"OMP_NUM_THREADS": "1"},
    }
    found = {"default": (plain, "no thread variables"),
             "course": (kernel_spec(), "course_lib.kernel: " + env_text(course_env))}
    for name, env in alternatives.items():
        if env != course_env and env not in [spec.get("env") for spec, _ in found.values()]:
            found[name] = ({**plain, "env": env}, env_text(env))  # the same environment twice: timed once
    return found


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (every process), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def notebook(path: Path | None):
    import nbformat
    if path is None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in QUICK_CELLS])
    else:
        nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CPU_CELL))
    return nb


async def run_copy(path: Path | None, kernel: str, timeout: float) -> dict:
    """One execution in a fresh kernel: wall seconds, the kernel's CPU seconds, and an error if any."""
    from nbclient import NotebookClient
    nb = notebook(path)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent if path else ROOT)}})
    start = time.perf_counter()
    try:
        await client.async_execute()
    except Exception as err:  # a failing cell, a timeout, a dead kernel: reported in the table, not raised
        lines = [line for line in str(err).splitlines() if line.strip()]
        return {"wall_s": time.perf_counter() - start, "cpu_s": None,
                "error": f"{type(err).__name__}: {lines[-1][:100] if lines else ''}"}
    return {"wall_s": time.perf_counter() - start, "cpu_s": float(nb.cells[-1].outputs[-1]["text"]), "error": None}


def run_case(path: Path | None, kernel: str, copies: int, timeout: float) -> dict:
    """`copies` executions started together; wall until the last one ends, CPU of all the kernels."""
    async def together():
        return await asyncio.gather(*(run_copy(path, kernel, timeout) for _ in range(copies)))

    busy0, start = busy_cpu_s(), time.perf_counter()
    runs = asyncio.run(together())
    wall, busy = time.perf_counter() - start, busy_cpu_s() - busy0
    errors = [r["error"] for r in runs if r["error"]]
    cpu = None if errors else sum(r["cpu_s"] for r in runs)
    return {"wall_s": wall, "cpu_s": cpu, "other_cpu_s": None if cpu is None else max(0.0, busy - cpu),
            "status": "; ".join(errors) or "ok"}


def run_pytest_groups(groups: dict[str, list[str]]) -> dict:
    """pytest commands started together; wall until the last ends, CPU of them and their kernels."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, start = busy_cpu_s(), time.perf_counter()
    procs = {name: subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name, args in groups.items()}
    outputs = {name: proc.communicate()[0] for name, proc in procs.items()}
    wall, busy = time.perf_counter() - start, busy_cpu_s() - busy0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    summaries = []
    for name, text in outputs.items():
        lines = [line for line in text.splitlines() if line.strip()]
        summaries.append(f"{name}: {lines[-1].strip('= ') if lines else 'no output'}")
    ok = all(p.returncode == 0 for p in procs.values())
    return {"wall_s": wall, "cpu_s": cpu, "other_cpu_s": max(0.0, busy - cpu),
            "status": ("ok: " if ok else "FAILED: ") + "; ".join(summaries)}


def num(x) -> str:
    return "" if x is None else f"{x:.1f}"


def ratio(x) -> str:
    return "" if x is None else f"{x:.2f}x"


def table(rows: list[dict]) -> str:
    out = ["| policy | case | wall s | CPU s | ratio | other processes' CPU s | status |",
           "|---|---|---:|---:|---:|---:|---|"]
    out += [f"| {r['policy']} | {r['case']} | {num(r['wall_s'])} | {num(r['cpu_s'])} | {ratio(r.get('ratio'))} | "
            f"{num(r['other_cpu_s'])} | {r['status']} |" for r in rows]
    return "\n".join(out)


def verdicts(rows: list[dict]) -> list[str]:
    """Which policy is fastest alone and two at once, and whether the course's meets the target."""
    lines = []
    for case in ("one alone", "two at once"):
        timed = [r for r in rows if r["case"] == case and r["status"] == "ok"]
        if timed:
            best = min(timed, key=lambda r: r["wall_s"])
            lines.append(f"- fastest {case}: **{best['policy']}** ({best['wall_s']:.1f} s)")
    course = next((r for r in rows if r["policy"] == "course" and r["case"] == "two at once"), None)
    if course and course.get("ratio") is not None:
        verdict = "PASS" if course["ratio"] <= TARGET_RATIO else "FAIL"
        lines.append(f"- target, two at once at most {TARGET_RATIO}x one alone with the course's policy: "
                     f"{course['ratio']:.2f}x, **{verdict}**")
    return lines


def main(argv=None) -> int:
    every = policies()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", type=Path, default=LECTURE, help="the notebook to run (lecture 05)")
    parser.add_argument("--policies", nargs="+", choices=list(every), default=list(every), metavar="NAME",
                        help=f"which policies to time (default all: {', '.join(every)})")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny in-memory notebook instead, to try the script; nothing is written")
    parser.add_argument("--with-browser", action="store_true", help="also the notebook's test beside the "
                        "browser tests (pytest, with the course's kernel as tests/conftest.py installs it)")
    parser.add_argument("--timeout", type=float, default=600, help="per-cell timeout in seconds (600)")
    parser.add_argument("--note", default="", help="a line for the results file (for example what else ran)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the table")
    args = parser.parse_args(argv)
    path = None if args.quick else args.notebook.resolve()
    if path is not None and not path.exists():
        parser.error(f"no notebook at {args.notebook}; pass --notebook PATH")

    for name in [n for n in os.environ if n.startswith(THREAD_VARS)]:
        del os.environ[name]  # the policy alone decides the kernels' threads
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    specs = Path(tempfile.mkdtemp(prefix="course-sharing-"))
    kernels = {}
    for i, name in enumerate(args.policies):
        kernels[name] = f"sharing-{i}"
        (specs / "kernels" / kernels[name]).mkdir(parents=True)
        (specs / "kernels" / kernels[name] / "kernel.json").write_text(json.dumps(every[name][0]))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(specs), os.environ.get("JUPYTER_PATH")]))

    started = dt.datetime.now(dt.timezone.utc)
    machine_before = describe_machine(load=True)
    rows = []
    try:
        for name in args.policies:
            alone = run_case(path, kernels[name], 1, args.timeout)
            rows.append({"policy": name, "case": "one alone", **alone})
            print(table(rows[-1:]).splitlines()[-1], flush=True)
            both = run_case(path, kernels[name], 2, args.timeout)
            ok = alone["status"] == both["status"] == "ok"
            rows.append({"policy": name, "case": "two at once", **both,
                         "ratio": both["wall_s"] / alone["wall_s"] if ok else None})
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        if args.with_browser:
            test = ["-m", "notebook", "tests/test_notebooks.py", "-k", path.stem if path else "05_pixelcnn"]
            browser = ["-m", "browser", "tests/test_browser.py"]
            cases = {"notebook test alone": {"notebook": test}, "browser tests alone": {"browser": browser},
                     "notebook test beside browser tests": {"notebook": test, "browser": browser}}
            for case, groups in cases.items():
                rows.append({"policy": "course (conftest.py)", "case": case, **run_pytest_groups(groups)})
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            rows[-1]["ratio"] = rows[-1]["wall_s"] / (rows[-3]["wall_s"] + rows[-2]["wall_s"])
    finally:
        shutil.rmtree(specs, ignore_errors=True)

    what = "a tiny in-memory notebook (--quick)" if path is None else str(path.relative_to(ROOT))
    header = ["# Sharing the CPU: one lecture alone against two at once", "",
              f"- date: {started:%Y-%m-%d %H:%M} UTC",
              f"- machine: {machine_before} (at the start); load average at the end "
              + ", ".join(f"{x:.1f}" for x in os.getloadavg()),
              f"- notebook: {what}",
              f"- command: `{' '.join(['python bench/sharing.py'] + list(argv if argv is not None else sys.argv[1:]))}`",
              *([f"- note: {args.note}"] if args.note else []),
              "- policies:", *(f"  - {name}: {every[name][1]}" for name in args.policies), ""]
    notes = ["", "wall s: from starting the kernel(s) to the end of the last cell of the last copy; CPU s: the "
             "CPU seconds of the kernels themselves (all their threads, busy waiting included; for the browser "
             "rows, pytest and everything it waited for); ratio: two at once over one alone (for the browser "
             "rows: beside each other over one after the other); other processes' CPU s: what the rest of the "
             "machine used meanwhile (from /proc/stat; near 0 on an otherwise idle machine).", "",
             *verdicts(rows), ""]
    text = "\n".join(header) + "\n" + table(rows) + "\n" + "\n".join(notes)
    print("\n" + text)
    if not args.quick:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"written to {args.output}")
    return 0 if all(r["status"].startswith("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
