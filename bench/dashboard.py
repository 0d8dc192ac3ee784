"""The instructor's dashboard for a synthetic class: build time, size, feedback size, browser load.

    python bench/dashboard.py                     # classes of 20 and 500 students (about a minute)
    python bench/dashboard.py --sizes 20 --no-browser

A synthetic class of A2 (NADE and MADE) is written the way `grade` writes a real one: the store
(store/<id>/result.json) and scores.csv, with every check of the real task module and figures of the real kinds and sizes
(dependency maps 5x5 and 6x6, a 32-outcome sampler, 26 and 16 values), outcomes drawn from a seeded
generator (most students pass, some partial with violations or missing connections, a few crash).
For each size it measures building dashboard.html (wall and CPU seconds), its size, the feedback
page of the first 20 students (report.write_feedback, figures drawn as PNG: mean and largest), and,
with Chromium (as tests/test_browser.py finds it), the time from opening the page from disk to the
page's script having drawn the table and the first gallery, then to a student's figures after a click.

Prints a markdown table and writes it, with the date and the machine, to bench/results/dashboard.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import dashboard, figures, report, store  # noqa: E402
from autograder.grade import Course, StudentResult, TaskResult, load_assignment  # noqa: E402

A = "a2_nade_made"
STATUSES = ("passed", "partial", "failed", "crashed")


def _map(rng, d, bad):
    expected = np.tril(np.ones((d, d), dtype=bool), -1)
    student = expected.copy()
    if bad:
        for _ in range(int(rng.integers(1, 4))):
            i, j = (int(v) for v in rng.integers(0, d, size=2))
            student[i, j] = not student[i, j]
    return student, expected


def _figures(rng, task, bad):
    if task == "made_masks":
        return [figures.dependency("dependency map of your masks", *_map(rng, 5, bad))]
    if task == "MADE":
        return [figures.dependency("dependency map of your MADE", *_map(rng, 6, bad))]
    if task == "autoregressive_sample":
        exact = rng.dirichlet(np.ones(32))
        p = exact if not bad else rng.dirichlet(np.ones(32))
        return [figures.sampler("your samples", rng.choice(32, size=4000, p=p), exact)]
    n = 26 if task == "bernoulli_log_prob" else 16
    ref = -np.abs(rng.normal(size=n)) * 5
    return [figures.values("your log-likelihoods", ref * (2 if bad else 1), ref)]


ASSIGNMENT = load_assignment(A, Course(ROOT))   # the real one: its tasks, points and notebook


def synthetic_class(folder: Path, n: int, seed: int = 0) -> Path:
    """The store (store/<id>/result.json) and scores.csv of n synthetic students of A2 in `folder`."""
    rng = np.random.default_rng(seed)
    tasks, points = ASSIGNMENT.tasks, ASSIGNMENT.points
    results = []
    for k in range(n):
        sid = f"s{k:04d}"
        rows = []
        for t in tasks:
            status = STATUSES[int(rng.choice(4, p=[0.6, 0.25, 0.1, 0.05]))]
            weights = [c.weight for c in t.checks]
            if status == "passed":
                passed = [True] * len(weights)
            elif status == "partial":
                passed = [True] + [bool(v) for v in rng.random(len(weights) - 1) < 0.6]
                if all(passed):
                    passed[-1] = False
            else:
                passed = [False] * len(weights)
            score = round(points[t.name] * sum(w for w, p in zip(weights, passed) if p) / sum(weights), 2)
            checks = [(c.name, c.weight, p, "correct" if p else "wrong for some of the cases tried")
                      for c, p in zip(t.checks, passed)] if status != "crashed" else []
            figs = _figures(rng, t.name, status != "passed") if status != "crashed" else []
            rows.append(TaskResult(sid, t.name, score, points[t.name], status,
                                   f"{sum(passed)}/{len(passed)} checks passed", checks, figs))
        results.append(StudentResult(sid, f"{A}.ipynb", rows, []))
        store.save(folder, A, results[-1], None, "synthetic", False)
    report.write_scores(folder / "scores.csv", ASSIGNMENT, results)
    return folder


def write_feedback(folder: Path, ids: list[str]) -> list[int]:
    stored = store.load(folder, ASSIGNMENT)
    return [report.write_feedback(folder / "feedback", ASSIGNMENT, stored[sid].result, False).stat().st_size
            for sid in ids]


def browser_load(page_path: Path) -> tuple[float, float]:
    """Seconds from navigation to the script's `ready` mark, and from a click on a student to its figures."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_support import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        tab.goto(page_path.resolve().as_uri())
        tab.wait_for_selector("body[data-ready='1']")
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        tab.click("#table .student-link >> nth=0")
        tab.wait_for_selector("#detail figure")
        click = time.perf_counter() - t0
        browser.close()
    return load, click


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[20, 500])
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "dashboard.md"))
    args = p.parse_args(argv)
    lines = ["| students | build wall s | build CPU s | dashboard.html KB | feedback KB per student (mean / max of 20) "
             "| browser: open to drawn s | browser: click to a student's figures s |",
             "|---|---|---|---|---|---|---|"]
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
            folder = synthetic_class(Path(tmp), n)
            w0, c0 = time.perf_counter(), time.process_time()
            path = dashboard.build(ASSIGNMENT, folder)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            sizes = write_feedback(folder, [f"s{k:04d}" for k in range(min(n, 20))])
            load = click = float("nan")
            if not args.no_browser:
                load, click = browser_load(path)
            lines.append(f"| {n} | {wall:.2f} | {cpu:.2f} | {path.stat().st_size / 1024:.0f} | "
                         f"{np.mean(sizes) / 1024:.0f} / {max(sizes) / 1024:.0f} | {load:.2f} | {click:.2f} |")
        print(lines[-1], flush=True)
    text = (f"# Dashboard ({dt.date.today()}, {platform.machine()}, {platform.processor() or 'cpu'}; "
            f"Python {platform.python_version()})\n\n"
            "Synthetic A2 classes (bench/dashboard.py). Wall seconds depend on the machine's load; CPU seconds less so.\n\n"
            + "\n".join(lines) + "\n")
    print(text)
    Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
