"""`python -m autograder check A`: the instructor's self-test of an assignment's grading.

Grades, in `workers` sandboxed processes (batches: these notebooks are the instructor's own, so
they may share a process; students' submissions never do): the solution notebook (must score full marks on every task), the
blank student version assignments/A/A.ipynb (must score 0 on every autograded task), one
submission per mutant in tests/mutants/A.py (`MUTANTS`: the solution with one answer cell replaced
by a realistic wrong answer; must lose points on its task), and one per do-nothing answer
(`DO_NOTHING`: constant outputs, outputs that ignore the input, a sampler that ignores the model,
all-zero or all-one masks, an import of a library function; each must score at most a quarter of
its task's points, and every task needs at least one). Prints a table; exit code 1 on any failure.
"""
from __future__ import annotations

import copy
import runpy
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import collect, notebooks, sandbox
from autograder.grade import Course, grade_in_batches, load_assignment


DO_NOTHING_SHARE = 0.25   # the most a do-nothing answer may score, as a share of its task's points


def load_mutant_sets(course: Course, name: str) -> tuple[dict, dict]:
    """(MUTANTS, DO_NOTHING) of tests/mutants/<name>.py, each {task: {mutant name: source}}."""
    path = course.root / "tests" / "mutants" / f"{name}.py"
    if not path.exists():
        return {}, {}
    module = runpy.run_path(str(path))
    return module.get("MUTANTS", {}), module.get("DO_NOTHING", {})


def load_mutants(course: Course, name: str) -> dict:
    return load_mutant_sets(course, name)[0]


def _with_cell(nb, task: str, source: str):
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == task:
            cell.source = source
    return out


def run_check_command(name: str, course: Course, unsafe: bool = False, workers: int = 2,
                      timeout: float = 300.0, quiet: bool = False) -> int:
    if not unsafe and not sandbox.bwrap_available():
        print("error: bubblewrap is needed (or pass --unsafe-no-sandbox)")
        return 2
    assignment = load_assignment(name, course)
    mutants, do_nothing = load_mutant_sets(course, name)
    blank_path = course.assignments / name / assignment.notebook_name
    limits = sandbox.Limits(wall_s=timeout, probe_s=min(60.0, timeout), cell_s=10.0)
    expectations = {}   # student id -> (kind, task, mutant)
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        root = Path(tmp)

        def put(sid, nb):
            (root / sid).mkdir()
            nbformat.write(nb, root / sid / assignment.notebook_name)

        put("solution", assignment.source_nb)
        expectations["solution"] = ("solution", None, None)
        if blank_path.exists():
            put("blank", notebooks.read_notebook(blank_path))
            expectations["blank"] = ("blank", None, None)
        for kind, group in (("mutant", mutants), ("do-nothing", do_nothing)):
            for task, variants in sorted(group.items()):
                for mname, source in sorted(variants.items()):
                    sid = f"{kind}-{task}-{mname}".replace("_", "-")
                    if len(sid) > 60:   # student ids are at most 64 characters (collect.SAFE_ID)
                        sid = f"{sid[:55]}-{len(expectations):03d}"
                    put(sid, _with_cell(assignment.source_nb, task, source))
                    expectations[sid] = (kind, task, mname)
        subs = collect.from_folder(root, name, assignment.notebook_name, lambda m: None)
        t0 = time.monotonic()
        results = grade_in_batches(assignment, subs, limits, unsafe, workers, log=(lambda m: None) if quiet else print)
        elapsed = time.monotonic() - t0
    failures = []
    lines = []
    for r in results:
        kind, task, mname = expectations[r.student_id]
        by = {t.task: t for t in r.tasks}
        if kind == "solution":
            bad = [t for t in r.tasks if t.score < t.max_score]
            ok = not bad
            what = "full marks" if ok else "NOT full marks: " + "; ".join(f"{t.task} {t.score:g}/{t.max_score:g} ({t.message})" for t in bad)
            lines.append(("solution", "all", ok, what))
        elif kind == "blank":
            bad = [t for t in r.tasks if t.score > 0]
            ok = not bad
            what = "0 on every task" if ok else "NOT zero: " + "; ".join(f"{t.task} {t.score:g}" for t in bad)
            lines.append(("blank student version", "all", ok, what))
        elif kind == "do-nothing":
            t = by.get(task)
            if t is None:
                ok, what = False, f"unknown task {task} in the do-nothing set"
            else:
                ok = t.score <= DO_NOTHING_SHARE * t.max_score + 1e-9
                what = f"{t.score:g}/{t.max_score:g}" + ("" if ok else f", MORE than a quarter of the points")
            lines.append((f"do-nothing {mname}", task, ok, what))
        else:
            t = by.get(task)
            waived = getattr(assignment.module, "NOT_PENALIZED", {}).get(task, {}).get(mname)
            if waived and t is not None:
                lines.append((f"mutant {mname}", task, True, f"{t.score:g}/{t.max_score:g}, not penalized by design: {waived}"))
                continue
            if t is None:
                ok, what = False, f"unknown task {task} in the mutant set"
            else:
                ok = t.score < t.max_score
                failed = [n for n, _, p, m in t.checks if not p and not m.startswith("not judged")]
                what = (f"{t.score:g}/{t.max_score:g}, caught by: {', '.join(failed) or t.status}" if ok
                        else f"NOT caught: {t.score:g}/{t.max_score:g}")
            lines.append((f"mutant {mname}", task, ok, what))
        if not lines[-1][2]:
            failures.append(lines[-1])
    graded = {r.student_id for r in results}
    for sid, (kind, task, mname) in expectations.items():
        if sid not in graded:   # never let a submission of the self-test go missing silently
            lines.append((f"{kind} {mname or ''}".strip(), task or "all", False, "NOT graded (skipped when collected)"))
            failures.append(lines[-1])
    if not blank_path.exists():
        lines.append(("blank student version", "all", False, f"missing {blank_path} (run release)"))
        failures.append(lines[-1])
    if not mutants:
        lines.append(("mutants", "all", False, f"no mutant set at tests/mutants/{name}.py"))
        failures.append(lines[-1])
    else:
        for t in assignment.tasks:
            if len(mutants.get(t.name, {})) < 1:
                lines.append(("mutants", t.name, False, "no mutants for this task"))
                failures.append(lines[-1])
    for t in assignment.tasks:
        if len(do_nothing.get(t.name, {})) < 1:
            lines.append(("do-nothing answers", t.name, False,
                          f"no DO_NOTHING entry for this task in tests/mutants/{name}.py"))
            failures.append(lines[-1])
    w0 = max(len(l[0]) for l in lines)
    w1 = max(len(l[1]) for l in lines)
    print(f"check {name}: {len(results)} notebooks graded in {elapsed:.1f} s")
    for who, task, ok, what in lines:
        print(f"  {'ok  ' if ok else 'FAIL'}  {who:<{w0}}  {task:<{w1}}  {what}")
    print(f"check {name}: {'PASSED' if not failures else f'FAILED ({len(failures)} problem(s))'}")
    return 0 if not failures else 1
