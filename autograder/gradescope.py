"""Gradescope's autograder: `python -m autograder gradescope A` builds dist/gradescope/A.zip.

The zip follows Gradescope's autograder specification: `setup.sh` (run once, as root, when Gradescope
builds the image: system packages, the pinned environment, the course) and `run_autograder` (run for
every submission: grades the notebook in /autograder/submission and writes
/autograder/results/results.json). Inside, run_autograder calls the same `grade` command as `make
grade`, so the probe runs in the same sandbox and the same trusted judge decides.

What the zip carries instead of the solutions: the reference results computed at build time from the
solution notebook (the probes' outputs, arrays and JSON) and the released student notebook, which
gives the points and cell ids. `solution_leaks` checks that no solution or hidden-test code is in it.

results.json: `score` is the autograded total (the same number as scores.csv), one test per check
(its share of the task's points, passed/failed, its message) with the build's details visibility
(default after_due_date), and, for a task whose checks could not run (it crashed, timed out, is not
defined...), one visible test with the reason. The summary shown on submit (top-level `output`) gives
each task's score and status. The sandbox's own output is never shown to students
(`stdout_visibility: hidden`): a submission could print its hidden inputs there.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
CONFIG = "gradescope_config.json"
STUDENT = "student"
MAX_NOTEBOOK_BYTES = 20 * 2**20
_DATE = (2026, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (the network is there then,
# not while grading). AUTOGRADER_ROOT (default /autograder) and AUTOGRADER_REUSE_VENV (an existing
# environment with requirements.txt installed, instead of installing one) are for local tests.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
PY="${PYTHON:-python3.11}"

# 1. system packages: bubblewrap (the sandbox), util-linux (prlimit, setpriv), Python 3.11
need=""
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
command -v prlimit >/dev/null 2>&1 || need="$need util-linux"
if [ -z "${AUTOGRADER_REUSE_VENV:-}" ] && ! command -v "$PY" >/dev/null 2>&1; then
    need="$need python3.11 python3.11-venv"
fi
if [ -n "$need" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi

# 2. the pinned Python environment, and the course installed into it
if [ -n "${AUTOGRADER_REUSE_VENV:-}" ]; then
    ln -sfn "$AUTOGRADER_REUSE_VENV" "$ROOT/venv"
else
    "$PY" -m venv "$ROOT/venv"
    # PIP_EXTRA_ARGS: e.g. an index with CPU-only torch wheels, to keep the image small
    "$ROOT/venv/bin/pip" install --no-cache-dir -q ${PIP_EXTRA_ARGS:-} -r "$SRC/requirements.txt"
    "$ROOT/venv/bin/pip" install --no-cache-dir -q --no-deps -e "$SRC"
fi

# 3. everything grading needs is here, offline: the sandbox, the course, the reference results
cd "$SRC"
PYTHONPATH="$SRC" OMP_NUM_THREADS=1 "$ROOT/venv/bin/python" -m autograder.gradescope selfcheck --root "$ROOT"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder. It grades the notebook in
# /autograder/submission/ and writes /autograder/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source" || exit 1
export PYTHONPATH="$ROOT/source" OMP_NUM_THREADS=1 MPLBACKEND=Agg
exec "$ROOT/venv/bin/python" -m autograder.gradescope run --root "$ROOT"
"""


# ---------------------------------------------------------------- building the zip


class BuildError(Exception):
    """The course cannot be packed for Gradescope; the message says what to fix."""


def _course_files(root: Path, assignment: str) -> list[tuple[str, Path]]:
    skip = {"__pycache__", ".ipynb_checkpoints"}
    files = []
    for p in sorted((root / "course_lib").rglob("*")):
        if p.is_file() and not skip & set(p.parts) and p.suffix != ".pyc":
            files.append((p.relative_to(root).as_posix(), p))
    for p in sorted((root / "autograder").glob("*.py")):   # the engine, not the other task modules
        files.append((f"autograder/{p.name}", p))
    for p in sorted((root / "autograder" / "tasks").glob("*.py")):
        if p.stem == assignment or p.stem.startswith("_"):
            files.append((f"autograder/tasks/{p.name}", p))
    files.append(("autograder/README.md", root / "autograder" / "README.md"))
    for name in ("requirements.txt", "pyproject.toml", "README.md"):
        files.append((name, root / name))
    return files


def build(assignment_name: str, course, out_dir: Path, details_visibility: str = "after_due_date",
          log=print) -> Path:
    """Write out_dir/<assignment>.zip and return its path."""
    from autograder import sandbox
    from autograder.grade import Course, load_assignment, reference, reference_key, task_inputs

    if details_visibility not in VISIBILITIES:
        raise BuildError(f"details visibility {details_visibility!r}: choose one of {', '.join(VISIBILITIES)}")
    root = Path(course.root)
    real = load_assignment(assignment_name, course)
    released = course.assignments / real.name / real.notebook_name
    if not released.exists():
        raise BuildError(f"no released notebook at {released}: run `make release A={real.name}` first")
    if not sandbox.bwrap_available():
        raise BuildError("the reference results are computed in the sandbox, and bubblewrap does not work here "
                         "(sudo apt-get install -y bubblewrap)")
    log(f"reference results for {real.name} (computed from the solution notebook in the sandbox, or cached)")
    refs = reference(real, task_inputs(real), sandbox.Limits(), False, log=log)

    with tempfile.TemporaryDirectory(prefix="gradescope-build-") as tmp:
        stage = Path(tmp)
        for rel, src in _course_files(root, real.name):
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, stage / rel)
        skeleton = stage / "course" / "solutions" / real.name / real.notebook_name
        skeleton.parent.mkdir(parents=True)
        shutil.copyfile(released, skeleton)
        shipped = load_assignment(real.name, Course(stage / "course", stage / "autograder" / "tasks"))
        for what in ("points", "manual_points", "setup", "task_names"):
            if getattr(shipped, what) != getattr(real, what):
                raise BuildError(f"{released} does not match {real.source_path} ({what} differ): "
                                 f"run `make release A={real.name}` and build again")
        # the grader in the zip finds these by the key of what it ships (released notebook, task module,
        # runner, grade.py), so a zip whose parts were changed by hand recomputes nothing and fails loudly
        ref_dir = stage / "references" / f"{real.name}-{reference_key(shipped)}"
        ref_dir.mkdir(parents=True)
        import numpy as np
        for name in real.probe_names:   # the display probes' too: the cache is complete or recomputed
            meta, arrays = refs[name]
            (ref_dir / f"{name}.json").write_text(json.dumps(meta))
            np.savez(ref_dir / f"{name}.npz", **{k.replace("/", "__"): v for k, v in arrays.items()})
        (stage / CONFIG).write_text(json.dumps({
            "assignment": real.name, "notebook": real.notebook_name, "details_visibility": details_visibility,
            "references": ref_dir.relative_to(stage).as_posix(),
            "autograded_max": sum(real.points.values()), "manual_points": real.manual_points,
        }, indent=1) + "\n")
        (stage / "setup.sh").write_text(SETUP_SH)
        (stage / "run_autograder").write_text(RUN_AUTOGRADER)

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        zip_path = out_dir / f"{real.name}.zip"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(stage.rglob("*")):
                if not p.is_file():
                    continue
                rel = p.relative_to(stage).as_posix()
                info = zipfile.ZipInfo(rel, date_time=_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o755 if rel in ("setup.sh", "run_autograder") else 0o644) << 16
                zf.writestr(info, p.read_bytes())
    return zip_path


def solution_leaks(zip_path: Path, course_root: Path) -> list[str]:
    from autograder.bundle import solution_leaks as leaks

    return leaks(zip_path, course_root)


def build_command(assignment: str, course, out_dir: Path, details_visibility: str) -> int:
    try:
        zip_path = build(assignment, course, out_dir, details_visibility)
    except (BuildError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    leaks = solution_leaks(zip_path, course.root)
    size = zip_path.stat().st_size / 2**20
    if leaks:
        print(f"error: {zip_path} contains solution code; not for upload:\n  " + "\n  ".join(leaks[:20]),
              file=sys.stderr)
        return 1
    print(f"wrote {zip_path} ({size:.1f} MB, no solution code in it). Upload it as the autograder of a "
          f"Gradescope programming assignment ('Zip file upload', Ubuntu 22.04); students submit {assignment}.ipynb")
    return 0


# ---------------------------------------------------------------- grading one submission (run_autograder)


class _Feedback(HTMLParser):
    """Per task, the check rows (name, passed, message) of the feedback HTML the grade command wrote,
    and its notes (the paragraphs of class 'warn')."""

    def __init__(self):
        super().__init__()
        self.tasks: dict[str, list[tuple[str, bool, str]]] = {}
        self.notes: list[str] = []
        self._task = None
        self._text = None      # text being collected inside h2, td or p.warn
        self._row = None       # cells of the current table row: (text, class)
        self._class = ""

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if tag == "tr":
            self._row = []
        elif tag in ("h2", "td") or (tag == "p" and "warn" in cls):
            self._text, self._class = [], cls

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = "".join(self._text or []).strip()
        if tag == "h2":
            self._task = text.split(":", 1)[0]
        elif tag == "td" and self._row is not None:
            self._row.append((text, self._class))
        elif tag == "p" and self._text is not None:
            self.notes.append(text)
        elif tag == "tr" and self._row and len(self._row) >= 4 and self._task is not None:
            (name, _), _, (word, cls), (message, _) = self._row[:4]
            self.tasks.setdefault(self._task, []).append((name, word == "passed" and "pass" in cls, message))
            self._row = None
        if tag in ("h2", "td", "p"):
            self._text = None


def _shares(total: float, weights: list[float]) -> list[float]:
    """`total` split in proportion to `weights`, in hundredths, adding up to `total` exactly."""
    out, used = [], 0.0
    for i, w in enumerate(weights):
        part = round(total - used, 2) if i == len(weights) - 1 else round(total * w / sum(weights), 2)
        out.append(part)
        used += part
    return out


def results_json(config: dict, tasks, rows: list[dict], feedback: _Feedback, seconds: float) -> dict:
    """Gradescope's results.json from scores.csv's rows, the feedback's check rows and the task module's
    checks (names and weights)."""
    details = config["details_visibility"]
    by_name = {t.name: t for t in tasks}
    tests, summary = [], []
    total = 0.0
    for i, row in enumerate(rows, 1):
        task, score, max_score, status = row["task"], float(row["score"]), float(row["max_score"]), row["status"]
        total += score
        checks = by_name[task].checks if task in by_name else []
        seen = feedback.tasks.get(task, [])
        ran = status in ("passed", "partial", "failed") and [c.name for c in checks] == [s[0] for s in seen]
        if ran:
            maxes = _shares(max_score, [c.weight for c in checks])
            passed = [s[1] for s in seen]
            scores = [m if p else 0.0 for m, p in zip(maxes, passed)]
            if any(passed):  # rounding: the last passed check takes the difference, so the task adds up
                last = max(j for j, p in enumerate(passed) if p)
                scores[last] = round(score - sum(s for j, s in enumerate(scores) if j != last), 2)
            for j, ((name, ok, message), s, m) in enumerate(zip(seen, scores, maxes), 1):
                tests.append({"name": f"{task}: {name}", "number": f"{i}.{j}", "score": s, "max_score": m,
                              "status": "passed" if ok else "failed", "output": message, "output_format": "text",
                              "tags": [task], "visibility": details})
            summary.append((task, score, max_score, status, f"{sum(passed)} of {len(passed)} checks passed"))
        else:
            tests.append({"name": task, "number": str(i), "score": score, "max_score": max_score,
                          "status": "passed" if status == "passed" else "failed",
                          "output": f"{status}: {row['message']}", "output_format": "text",
                          "tags": [task], "visibility": "visible"})
            summary.append((task, score, max_score, status, row["message"]))
    e = html.escape
    when = {"visible": "below", "after_due_date": "after the due date", "after_published": "once grades are published",
            "hidden": "from the course staff"}[details]
    parts = [f"<p>Autograded score: <b>{total:.2f} / {config['autograded_max']:.2f}</b>"
             + (f"; the written questions ({config['manual_points']:g} points) are graded by hand"
                if config.get("manual_points") else "") + ".</p>"]
    parts += [f"<p><b>Note:</b> {e(n)}</p>" for n in feedback.notes]
    parts.append("<table><tr><th>task</th><th>score</th><th>status</th><th>result</th></tr>")
    parts += [f"<tr><td>{e(t)}</td><td>{s:.2f} / {m:.2f}</td><td>{e(st)}</td><td>{e(msg)}</td></tr>"
              for t, s, m, st, msg in summary]
    parts.append(f"</table><p>Each check's result and message: {when}. Your functions were called on hidden "
                 "inputs in a sandbox; the notebook's visible tests check the same properties on other inputs.</p>")
    return {"score": round(total, 2), "execution_time": int(round(seconds)), "output": "\n".join(parts),
            "output_format": "html", "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"assignment": config["assignment"], "statuses": {r["task"]: r["status"] for r in rows}}}


def _error_results(message: str, seconds: float) -> dict:
    return {"score": 0.0, "execution_time": int(round(seconds)), "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [{"name": "grading", "score": 0.0, "max_score": 0.0, "status": "failed", "output": message,
                       "visibility": "visible"}]}


def _gather(submission: Path, dest: Path, notebook: str) -> None:
    """Copy the submitted notebook(s) into dest/ for the grade command: the one with the assignment's
    name if there is exactly one, else every notebook (collect then grades a single one or says
    'ambiguous'). Links and oversized files are not copied."""
    found = [p for p in sorted(submission.rglob("*.ipynb"))
             if ".ipynb_checkpoints" not in p.parts and "__MACOSX" not in p.parts
             and not p.is_symlink() and p.is_file() and p.stat().st_size <= MAX_NOTEBOOK_BYTES]
    exact = [p for p in found if p.name == notebook]
    dest.mkdir(parents=True)
    for p in (exact if len(exact) == 1 else found):
        target = dest / p.name
        if not target.exists():
            shutil.copyfile(p, target)


def run(root: Path) -> dict:
    """Grade /autograder/submission (under `root`) and write results/results.json; returns it."""
    from autograder.cli import main as cli_main
    from autograder.grade import Course, load_assignment

    start = time.monotonic()
    root = Path(root)
    src = root / "source"
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads((src / CONFIG).read_text())
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        tmp = Path(tmp)
        _gather(root / "submission", tmp / "submissions" / STUDENT, config["notebook"])
        os.environ["AUTOGRADER_CACHE"] = str(src / Path(config["references"]).parent)
        args = ["--course-root", str(src / "course"), "grade", config["assignment"], str(tmp / "submissions"),
                "--out", str(tmp / "out"), "--no-gradebook", "--workers", "1", "--quiet"]
        try:
            code = cli_main(args)
        except Exception as err:  # the grader itself failed: say so, never a silent zero
            code, why = 3, f"{type(err).__name__}: {err}"
        else:
            why = "see the autograder's stdout"
        scores = tmp / "out" / "scores.csv"
        if code != 0 or not scores.is_file():
            out = _error_results("The autograder could not grade this submission (the sandbox or the grader "
                                 f"failed: {why}). This is not your mistake; please tell the course staff.",
                                 time.monotonic() - start)
        else:
            rows = [r for r in csv.DictReader(scores.open(encoding="utf-8")) if r["student_id"] == STUDENT]
            feedback = _Feedback()
            fb = tmp / "out" / "feedback" / STUDENT / f"{Path(config['notebook']).stem}.html"
            if fb.is_file():
                feedback.feed(fb.read_text(encoding="utf-8"))
            tasks = load_assignment(config["assignment"], Course(src / "course")).tasks
            out = results_json(config, tasks, rows, feedback, time.monotonic() - start)
    results_path.write_text(json.dumps(out, indent=1))
    print(f"score {out['score']} in {out['execution_time']} s; wrote {results_path}")
    return out


def selfcheck(root: Path) -> int:
    """At image build time: the sandbox works, the course imports, the references are in place."""
    from autograder import sandbox

    src = Path(root) / "source"
    config = json.loads((src / CONFIG).read_text())
    problems = []
    if not sandbox.bwrap_available():
        problems.append("bubblewrap does not run here: grading will refuse every submission (it never grades "
                        "outside the sandbox); the image needs unprivileged user namespaces")
    if not (src / config["references"]).is_dir():
        problems.append(f"the reference results {config['references']} are missing from the zip")
    for p in problems:
        print(f"setup: PROBLEM: {p}")
    if not problems:
        print(f"setup: ready to grade {config['assignment']} offline")
    return 1 if problems else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "selfcheck"):
        s = sub.add_parser(name)
        s.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = p.parse_args(argv)
    if args.command == "run":
        run(Path(args.root))
        return 0
    return selfcheck(Path(args.root))


if __name__ == "__main__":
    sys.exit(main())
