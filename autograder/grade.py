"""Grading: probe each submission in the sandbox, judge outside, collect one row per student and task."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import notebooks, sandbox, tasks as task_registry
from autograder.collect import Submission
from autograder.taskapi import Context, run_check

MAX_RESULT_BYTES = 64 * 2**20
UNSAFE_NOTE = "NOT SANDBOXED: graded with --unsafe-no-sandbox"


# ---------------------------------------------------------------- the course and its assignment


@dataclass
class Course:
    root: Path
    tasks_dir: Path | None = None      # tests point this at a fixture folder
    gradebook: Path | None = None      # default: <root>/gradebook.db

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def gradebook_path(self) -> Path:
        return self.gradebook or (self.root / "gradebook.db")


@dataclass
class Assignment:
    name: str
    course: Course
    module: object
    source_path: Path
    source_nb: object
    tasks: list
    points: dict
    manual_points: float
    setup: str
    seed: int

    @property
    def notebook_name(self) -> str:
        return self.source_path.name

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]


def load_assignment(name: str, course: Course) -> Assignment:
    module = task_registry.load(name, course.tasks_dir)
    nb_name = getattr(module, "NOTEBOOK", f"{name}.ipynb")
    source_path = course.solutions / name / nb_name
    if not source_path.exists():
        raise FileNotFoundError(f"no solution notebook at {source_path}")
    source_nb = notebooks.read_notebook(source_path)
    task_list = list(module.TASKS)
    names = [t.name for t in task_list]
    points = notebooks.task_points(source_nb, names)
    for t in task_list:
        if points[t.name] <= 0:
            raise ValueError(f"{source_path.name}: task {t.name} has no test cells with points "
                             f"(grade_ids starting with '{t.name}_')")
    cells = notebooks.answer_cells(source_nb, names)
    missing = sorted(set(names) - {c.task for c in cells})
    if missing:
        raise ValueError(f"{source_path.name}: no answer cell for task(s) {missing}")
    return Assignment(name, course, module, source_path, source_nb, task_list, points,
                      notebooks.manual_points(source_nb, names), notebooks.setup_source(source_nb),
                      int(getattr(module, "SEED", 0)))


def task_inputs(assignment: Assignment) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for task in assignment.tasks:
        seed = (assignment.seed * 1_000_003 + zlib.crc32(task.name.encode())) % 2**32
        raw = task.inputs(np.random.default_rng(seed))
        out[task.name] = {k: np.asarray(v) for k, v in raw.items()}
    return out


# ---------------------------------------------------------------- one run of the probe


@dataclass
class ProbeOutput:
    status: dict
    results: dict            # task -> (meta dict, arrays dict) or None
    run: sandbox.RunResult | None
    error: str | None = None


def build_job(assignment: Assignment, cells: list[notebooks.AnswerCell], root: str, limits: sandbox.Limits,
              threads: int = 1) -> dict:
    return {
        "out_dir": f"{root}/out",
        "threads": threads,
        "cell_timeout": limits.cell_s,
        "setup": assignment.setup,
        "cells": [{"task": c.task, "source": c.source} for c in cells],
        "tasks": [{"name": t.name, "target": t.target, "probe_source": t.probe_source, "probe_name": t.probe_name,
                   "inputs": f"{root}/inputs/{t.name}.npz", "timeout": t.timeout or limits.probe_s}
                  for t in assignment.tasks],
    }


def _safe_file(path: Path) -> bool:
    """A regular file, not a symbolic link, in a folder that is not one either (the sandbox can
    write into the results folder, so links could point the judge at files outside it)."""
    try:
        return (not path.parent.is_symlink() and not path.is_symlink() and path.is_file()
                and path.stat().st_size <= MAX_RESULT_BYTES)
    except OSError:
        return False


def _load_json(path: Path):
    try:
        if not _safe_file(path):
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _load_arrays(path: Path) -> dict | None:
    try:
        if not _safe_file(path):
            return None
        import zipfile
        with zipfile.ZipFile(path) as zf:   # refuse zip bombs before numpy inflates anything
            if sum(i.file_size for i in zf.infolist()) > 4 * MAX_RESULT_BYTES or len(zf.infolist()) > 10000:
                return None
        out = {}
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                arr = data[key]
                if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc":
                    continue
                out[key.replace("__", "/")] = np.array(arr)
        return out
    except Exception:  # a corrupt or hostile file: no results
        return None


def run_probe(assignment: Assignment, cells, inputs, limits: sandbox.Limits, unsafe: bool,
              threads: int = 1) -> ProbeOutput:
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    try:
        (work / "inputs").mkdir()
        (work / "out").mkdir()
        for name, arrays in inputs.items():
            np.savez(work / "inputs" / f"{name}.npz", **arrays)
        root = str(work) if unsafe else "/results"
        job = build_job(assignment, cells, root, limits, threads)
        cmd = sandbox.unsafe_command(work, limits) if unsafe else sandbox.sandbox_command(work, limits, threads)
        env = None
        if unsafe:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "OMP_NUM_THREADS": str(threads),
                   "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        run = sandbox.run_sandboxed(cmd, json.dumps(job).encode(), work, limits, env=env)
        out = work / "out"
        status = _load_json(out / "status.json")
        if not isinstance(status, dict):
            status = {}
        results = {}
        for t in assignment.tasks:
            meta = _load_json(out / f"{t.name}.json")
            arrays = _load_arrays(out / f"{t.name}.npz")
            results[t.name] = (meta, arrays) if isinstance(meta, dict) and arrays is not None else None
        return ProbeOutput(status, results, run)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- references (solution notebook)


def _cache_dir() -> Path:
    base = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "course-autograder")
    return Path(base)


def reference_key(assignment: Assignment) -> str:
    h = hashlib.sha256()
    h.update(assignment.source_path.read_bytes())
    h.update(task_registry.module_path(assignment.name, assignment.course.tasks_dir).read_bytes())
    h.update(sandbox.RUNNER.read_bytes())
    h.update(Path(notebooks.__file__).read_bytes())   # how cells become Python
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:20]


def reference(assignment: Assignment, inputs, limits: sandbox.Limits, unsafe: bool, log=print) -> dict:
    """Per task (meta, arrays) from the solution's answer cells, run in a separate clean process
    and cached by a hash of the solution notebook, the task module and the probe runner."""
    folder = _cache_dir() / f"{assignment.name}-{reference_key(assignment)}"
    if folder.exists():
        out = {}
        for t in assignment.tasks:
            meta = _load_json(folder / f"{t.name}.json")
            arrays = _load_arrays(folder / f"{t.name}.npz")
            if meta is None or arrays is None:
                break
            out[t.name] = (meta, arrays)
        else:
            return out
    log(f"computing reference results for {assignment.name} from {assignment.source_path}")
    cells = notebooks.answer_cells(assignment.source_nb, assignment.task_names)
    ref_limits = sandbox.Limits(**{**limits.__dict__, "wall_s": max(limits.wall_s, 600.0)})
    probe = run_probe(assignment, cells, inputs, ref_limits, unsafe)
    problems = []
    for t in assignment.tasks:
        res = probe.results.get(t.name)
        st = probe.status.get("tasks", {}).get(t.name, {})
        if res is None:
            problems.append(f"{t.name}: {st.get('status')} {st.get('detail')}")
            continue
        meta, _ = res
        bad = {k: v.get("error") for k, v in meta.get("records", {}).items() if not v.get("ok")}
        if meta.get("missing") or meta.get("probe_error") or bad or meta.get("cell_errors"):
            problems.append(f"{t.name}: missing={meta.get('missing')} probe_error={meta.get('probe_error')} "
                            f"cell_errors={meta.get('cell_errors')} failed records={bad}")
    if problems:
        tail = probe.run.output[-3000:] if probe.run else ""
        raise RuntimeError("the solution notebook fails its own probes:\n  " + "\n  ".join(problems) +
                           (f"\nprobe output:\n{tail}" if tail else ""))
    tmp = Path(tempfile.mkdtemp(prefix="ref-", dir=_ensure(_cache_dir())))
    for t in assignment.tasks:
        meta, arrays = probe.results[t.name]
        (tmp / f"{t.name}.json").write_text(json.dumps(meta))
        np.savez(tmp / f"{t.name}.npz", **{k.replace("/", "__"): v for k, v in arrays.items()})
    try:
        tmp.rename(folder)
    except OSError:  # another process cached it first
        shutil.rmtree(tmp, ignore_errors=True)
    return {t.name: probe.results[t.name] for t in assignment.tasks}


def _ensure(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


# ---------------------------------------------------------------- judging


@dataclass
class TaskResult:
    student_id: str
    task: str
    score: float
    max_score: float
    status: str
    message: str
    checks: list = field(default_factory=list)   # (name, weight, passed, message)


@dataclass
class StudentResult:
    student_id: str
    notebook: str
    tasks: list
    notes: list
    wall_s: float = 0.0
    output_excerpt: str = ""
    output_bytes: int = 0
    times: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)   # grade_id -> source of every answer cell (code and written)


def _rows_for_all(assignment, sid, status, message) -> list[TaskResult]:
    return [TaskResult(sid, t.name, 0.0, assignment.points[t.name], status, message) for t in assignment.tasks]


def judge_task(assignment: Assignment, task, sid: str, probe: ProbeOutput, ref, inputs, cells_for_task) -> TaskResult:
    max_score = assignment.points[task.name]
    if not cells_for_task:
        return TaskResult(sid, task.name, 0.0, max_score, "missing_cell",
                          f"no answer cell with grade_id '{task.name}' (was it deleted or its metadata changed?)")
    notes = []
    if len(cells_for_task) > 1:
        notes.append(f"{len(cells_for_task)} answer cells carry grade_id '{task.name}'; the last definition was graded")
    st = probe.status.get("tasks", {}).get(task.name) if isinstance(probe.status.get("tasks"), dict) else None
    st = st if isinstance(st, dict) else {}
    res = probe.results.get(task.name)
    if res is None:
        if st.get("status") in ("timeout", "crashed"):
            status, msg = st["status"], str(st.get("detail", ""))[:300]
        elif probe.run and probe.run.timed_out:
            status, msg = "submission_timeout", "the whole submission ran past its time limit before this task finished"
        elif probe.run and probe.run.disk_exceeded:
            status, msg = "disk_limit", "the submission wrote more than the disk quota; it was stopped"
        elif probe.status.get("setup"):
            status, msg = "setup_error", f"the setup cell failed: {probe.status['setup']}"
        else:
            status, msg = "crashed", "the task produced no results (the process was killed or exited early)"
        return TaskResult(sid, task.name, 0.0, max_score, status, "; ".join(notes + [msg]))
    meta, arrays = res
    if meta.get("missing"):
        errs = meta.get("cell_errors") or []
        why = f" (the answer cell raised {errs[0]})" if errs else ""
        return TaskResult(sid, task.name, 0.0, max_score, "not_defined",
                          "; ".join(notes + [f"the answer cell does not define {task.target}{why}"]))
    if meta.get("cell_errors"):
        notes.append(f"the answer cell raised {str(meta['cell_errors'][0])[:200]}")
    if meta.get("probe_error"):
        notes.append(f"probing stopped early: {str(meta['probe_error'])[:200]}")
    records = meta.get("records") if isinstance(meta.get("records"), dict) else {}
    ref_meta, ref_arrays = ref[task.name]
    ctx = Context(records, arrays, ref_meta.get("records", {}), ref_arrays, inputs[task.name])
    outcomes = []
    for check in task.checks:
        passed, message = run_check(check, ctx)
        outcomes.append((check.name, check.weight, passed, message[:300]))
    total = sum(c.weight for c in task.checks)
    got = sum(w for _, w, p, _ in outcomes if p)
    score = round(max_score * got / total, 2)
    if got == total:
        status = "passed"
    elif got == 0:
        status = "failed"
    else:
        status = "partial"
    failed = [f"{n}: {m}" for n, _, p, m in outcomes if not p]
    summary = f"{sum(p for *_, p, _ in outcomes)}/{len(outcomes)} checks passed"
    if failed:
        summary += "; " + "; ".join(failed[:3]) + (" ..." if len(failed) > 3 else "")
    return TaskResult(sid, task.name, score, max_score, status, "; ".join(notes + [summary]), outcomes)


def grade_submission(assignment: Assignment, sub: Submission, inputs, ref, limits, unsafe) -> StudentResult:
    sid = sub.student_id
    nb_label = sub.notebook.name if sub.notebook else assignment.notebook_name
    if sub.status:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, sub.status, sub.message), sub.notes)
    try:
        nb = notebooks.read_notebook(sub.notebook)
    except notebooks.NotebookError as err:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, err.status, err.message), sub.notes)
    except OSError as err:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, "invalid_notebook", f"unreadable: {err}"), sub.notes)
    cells = notebooks.answer_cells(nb, assignment.task_names)
    answers = notebooks.solution_sources(nb)
    if not cells:
        ids = notebooks.notebook_assignment_hint(nb)
        if ids - {"setup"}:
            status, msg = "wrong_assignment", (f"the notebook has none of this assignment's answer cells; it looks like "
                                               f"another assignment's notebook (submit {assignment.notebook_name})")
        else:
            status, msg = "no_answer_cells", ("no cell carries this assignment's nbgrader metadata; work in the "
                                              f"distributed {assignment.notebook_name} and submit it")
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, status, msg), sub.notes)
    probe = run_probe(assignment, cells, inputs, limits, unsafe)
    rows = [judge_task(assignment, t, sid, probe, ref, inputs, [c for c in cells if c.task == t.name])
            for t in assignment.tasks]
    placed = notebooks.placement(nb, cells, {t.name: t.target for t in assignment.tasks})
    for row in rows:
        if row.task in placed.uncredited:
            row.score, row.status, row.message = 0.0, "defined_elsewhere", placed.uncredited[row.task]
        elif placed.notes.get(row.task):
            row.message = "; ".join(placed.notes[row.task] + [row.message])
    notes = list(sub.notes)
    if probe.run and probe.run.output_bytes > limits.output_kb * 1024:
        notes.append(f"printed {probe.run.output_bytes / 2**20:.1f} MB of output; only the first "
                     f"{limits.output_kb} KB were kept (output never costs points)")
    if probe.run and probe.run.disk_exceeded:
        notes.append(f"wrote more than {limits.disk_mb} MB into its work folder and was stopped")
    res = StudentResult(sid, nb_label, rows, notes)
    res.answers = answers
    if probe.run:
        res.wall_s = probe.run.wall_s
        res.output_excerpt = probe.run.output[:4000]
        res.output_bytes = probe.run.output_bytes
        times = probe.status.get("times")
        res.times = times if isinstance(times, dict) else {}
    return res


def grade_all(assignment: Assignment, subs: list[Submission], limits: sandbox.Limits, unsafe: bool,
              workers: int, log=print) -> list[StudentResult]:
    inputs = task_inputs(assignment)
    ref = reference(assignment, inputs, limits, unsafe, log=log)
    results = []

    def one(sub):
        t0 = time.monotonic()
        try:
            r = grade_submission(assignment, sub, inputs, ref, limits, unsafe)
        except Exception as err:  # never lose a submission
            r = StudentResult(sub.student_id, assignment.notebook_name,
                              _rows_for_all(assignment, sub.student_id, "grader_error",
                                            f"the grader failed on this submission ({type(err).__name__}: {err})"), [])
        log(f"{sub.student_id}: {sum(t.score for t in r.tasks):g}/{sum(t.max_score for t in r.tasks):g} "
            f"in {time.monotonic() - t0:.1f} s ({', '.join(f'{t.task}={t.status}' for t in r.tasks)})")
        return r

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, subs))
    if unsafe:
        for r in results:
            for t in r.tasks:
                t.message = f"{UNSAFE_NOTE}; {t.message}"
    results.sort(key=lambda r: r.student_id)
    return results
