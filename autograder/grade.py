"""Grading: probe each submission in the sandbox, judge outside, collect one row per student and task."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import threading
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import figures, notebooks, protocol, sandbox, tasks as task_registry
from autograder.collect import Submission
from autograder.taskapi import DISPLAY_SUFFIX, Context, Fail, run_check

MAX_RESULT_BYTES = protocol.MAX_NPZ_BYTES
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

    @property
    def display_tasks(self) -> list:
        return [t for t in self.tasks if t.display is not None]

    @property
    def probe_names(self) -> list[str]:
        """What the sandbox runs: every task, then the display probe of each task that has one."""
        return self.task_names + [t.name + DISPLAY_SUFFIX for t in self.display_tasks]


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
    out.update(display_inputs(assignment))
    return out


def display_inputs(assignment: Assignment) -> dict[str, dict[str, np.ndarray]]:
    """The public inputs of the feedback's figures, keyed `<task>__display`: seeded by the task's
    name alone, so they are the same for every student and year, and anyone can recompute them."""
    out = {}
    for task in assignment.display_tasks:
        seed = zlib.crc32(f"display\0{task.name}".encode())
        raw = task.display.inputs(np.random.default_rng(seed))
        out[task.name + DISPLAY_SUFFIX] = {k: np.asarray(v) for k, v in raw.items()}
    return out


# ---------------------------------------------------------------- one run of the probe


@dataclass
class ProbeOutput:
    status: dict
    results: dict            # task -> (meta dict, arrays dict) or None
    run: sandbox.RunResult | None
    error: str | None = None


def seed_for(assignment: Assignment, task: str, student_id: str) -> int:
    """The seed a task's probe starts from: the same for the same assignment, task and student."""
    digest = hashlib.sha256(f"{assignment.name}\0{task}\0{student_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def build_job(assignment: Assignment, cells: list[notebooks.AnswerCell], inputs_dir: str, limits: sandbox.Limits,
              threads: int = 1, student_id: str = "") -> dict:
    return {
        "threads": threads,
        "cell_timeout": limits.cell_s,
        "seed": seed_for(assignment, "", student_id),
        "setup": assignment.setup,
        "cells": [{"task": c.task, "source": c.source} for c in cells],
        "tasks": [{"name": t.name, "target": t.target, "probe_source": t.probe_source, "probe_name": t.probe_name,
                   "inputs": f"{inputs_dir}/{t.name}.npz", "timeout": t.timeout or limits.probe_s,
                   "seed": seed_for(assignment, t.name, student_id)}
                  for t in assignment.tasks]
        + [{"name": t.name + DISPLAY_SUFFIX, "display_of": t.name, "target": t.target, "probe_source": t.display.source,
            "probe_name": t.display.probe_name, "inputs": f"{inputs_dir}/{t.name}{DISPLAY_SUFFIX}.npz",
            "timeout": min(t.display.timeout, t.timeout or limits.probe_s), "seed": seed_for(assignment, t.name, "")}
           for t in assignment.display_tasks],
    }


def _npz_from_bytes(body) -> dict | None:
    """Arrays of an untrusted .npz: size-capped, zip bomb refused before numpy inflates anything,
    numeric dtypes only, no pickle."""
    if not isinstance(body, (bytes, bytearray)) or len(body) > protocol.MAX_NPZ_BYTES:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            infos = zf.infolist()
            if len(infos) > protocol.MAX_ARRAYS or sum(i.file_size for i in infos) > 4 * protocol.MAX_NPZ_BYTES:
                return None
        out = {}
        with np.load(io.BytesIO(body), allow_pickle=False) as data:
            for key in data.files:
                arr = data[key]
                if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc" or len(key) > 4 * protocol.MAX_KEY:
                    continue
                out[key.replace("__", "/")] = np.array(arr)
        return out
    except Exception:  # a corrupt or hostile file: no results
        return None


def parse_results(data: bytes, task_names: list[str], n_cells: int) -> tuple[dict, dict]:
    """(status, {task: (meta, arrays) or None}) from the runner's frames; anything outside the
    protocol is dropped, as if it had not been sent."""
    frames = protocol.decode_frames(data, task_names)
    status = protocol.loads(frames.get("status.json"), protocol.MAX_STATUS_BYTES)
    if not protocol.valid_status(status, task_names, n_cells):
        status = {}
    results = {}
    for name in task_names:
        meta = protocol.loads(frames.get(f"{name}.json"), protocol.MAX_META_BYTES)
        arrays = _npz_from_bytes(frames.get(f"{name}.npz")) if protocol.valid_meta(meta) else None
        results[name] = (meta, arrays) if arrays is not None else None
    return status, results


def run_probe(assignment: Assignment, cells, inputs, limits: sandbox.Limits, unsafe: bool,
              threads: int = 1, student_id: str = "") -> ProbeOutput:
    work = Path(tempfile.mkdtemp(prefix="autograder-"))   # only the grader writes here: the hidden inputs
    written = []
    try:
        for name, arrays in inputs.items():
            written.append(work / f"{name}.npz")
            np.savez(written[-1], **arrays)
        job = build_job(assignment, cells, str(work) if unsafe else "/grader/inputs", limits, threads, student_id)
        env = None
        if unsafe:
            job["lib"] = str(sandbox.COURSE_LIB.parent)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "OMP_NUM_THREADS": str(threads),
                   "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        run = sandbox.run_sandboxed(job, written, limits, unsafe=unsafe, threads=threads, env=env)
        status, results = parse_results(run.results, assignment.probe_names, len(cells))
        run.results = b""           # nothing of the sandbox's output is kept beyond what was parsed
        return ProbeOutput(status, results, run)
    finally:
        for f in written:
            f.unlink(missing_ok=True)
        work.rmdir()


def _load_json(path: Path):
    """The grader's own cache files (never the sandbox's)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _load_arrays(path: Path) -> dict | None:
    try:
        return _npz_from_bytes(path.read_bytes())
    except OSError:
        return None


# ---------------------------------------------------------------- references (solution notebook)


def _cache_dir() -> Path:
    base = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "course-autograder")
    return Path(base)


def reference_key(assignment: Assignment) -> str:
    h = hashlib.sha256()
    h.update(assignment.source_path.read_bytes())
    h.update(task_registry.module_path(assignment.name, assignment.course.tasks_dir).read_bytes())
    for f in (sandbox.RUNNER, sandbox.PROTOCOL, Path(sandbox.__file__), Path(notebooks.__file__)):  # notebooks: how cells become Python
        h.update(f.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:20]


def reference(assignment: Assignment, inputs, limits: sandbox.Limits, unsafe: bool, log=print) -> dict:
    """Per task (meta, arrays) from the solution's answer cells, run in a separate clean process
    and cached by a hash of the solution notebook, the task module and the probe runner."""
    folder = _cache_dir() / f"{assignment.name}-{reference_key(assignment)}"
    if folder.exists():
        out = {}
        for name in assignment.probe_names:
            meta = _load_json(folder / f"{name}.json")
            arrays = _load_arrays(folder / f"{name}.npz")
            if meta is None or arrays is None:
                break
            out[name] = (meta, arrays)
        else:
            return out
    log(f"computing reference results for {assignment.name} from {assignment.source_path}")
    cells = notebooks.answer_cells(assignment.source_nb, assignment.task_names)
    ref_limits = sandbox.Limits(**{**limits.__dict__, "wall_s": max(limits.wall_s, 600.0)})
    probe = run_probe(assignment, cells, inputs, ref_limits, unsafe)
    problems = []
    for name in assignment.probe_names:
        res = probe.results.get(name)
        st = probe.status.get("tasks", {}).get(name, {})
        if res is None:
            problems.append(f"{name}: {st.get('status')} {st.get('detail')}")
            continue
        meta, _ = res
        bad = {k: v.get("error") for k, v in meta.get("records", {}).items() if not v.get("ok")}
        if meta.get("missing") or meta.get("probe_error") or bad or meta.get("cell_errors"):
            problems.append(f"{name}: missing={meta.get('missing')} probe_error={meta.get('probe_error')} "
                            f"cell_errors={meta.get('cell_errors')} failed records={bad}")
    if problems:
        tail = probe.run.output[-3000:] if probe.run else ""
        raise RuntimeError("the solution notebook fails its own probes:\n  " + "\n  ".join(problems) +
                           (f"\nprobe output:\n{tail}" if tail else ""))
    tmp = Path(tempfile.mkdtemp(prefix="ref-", dir=_ensure(_cache_dir())))
    for name in assignment.probe_names:
        meta, arrays = probe.results[name]
        (tmp / f"{name}.json").write_text(json.dumps(meta))
        np.savez(tmp / f"{name}.npz", **{k.replace("/", "__"): v for k, v in arrays.items()})
    try:
        tmp.rename(folder)
    except OSError:  # another process cached it first
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    return {name: probe.results[name] for name in assignment.probe_names}


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
    figures: list = field(default_factory=list)  # figure dicts on public display inputs (autograder/figures.py)


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
    return [TaskResult(sid, t.name, 0.0, assignment.points[t.name], status, protocol.clean_text(message))
            for t in assignment.tasks]


def _clean(text, limit: int = protocol.MAX_MESSAGE) -> str:
    return protocol.clean_text(text, limit)


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
        if st.get("status") in ("timeout", "crashed", "memory_limit"):
            status, msg = st["status"], _clean(st.get("detail", ""), 200)
        elif probe.run and probe.run.timed_out:
            status, msg = "submission_timeout", "the whole submission ran past its time limit before this task finished"
        elif probe.run and (probe.run.memory_exceeded or probe.run.oom_kills):
            status, msg = "memory_limit", "the submission went over its memory limit and was stopped"
        elif probe.status.get("setup"):
            status, msg = "setup_error", f"the setup cell failed: {_clean(probe.status['setup'], 100)}"
        else:
            status, msg = "crashed", "the task produced no results (the process was killed or exited early)"
        return TaskResult(sid, task.name, 0.0, max_score, status, _clean("; ".join(notes + [msg])))
    meta, arrays = res
    if meta.get("missing"):
        errs = meta.get("cell_errors") or []
        why = f" (the answer cell raised {_clean(errs[0], 80)})" if errs else ""
        return TaskResult(sid, task.name, 0.0, max_score, "not_defined",
                          _clean("; ".join(notes + [f"the answer cell does not define {task.target}{why}"])))
    if meta.get("cell_errors"):
        notes.append(f"the answer cell raised {_clean(meta['cell_errors'][0], 80)}")
    if meta.get("probe_error"):
        notes.append(f"probing stopped early: it raised {_clean(meta['probe_error'], 80)}")
    records = meta.get("records") if isinstance(meta.get("records"), dict) else {}
    ref_meta, ref_arrays = ref[task.name]
    ctx = Context(records, arrays, ref_meta.get("records", {}), ref_arrays, inputs[task.name])
    outcomes = []
    for check in task.checks:
        passed, message = run_check(check, ctx)
        outcomes.append((check.name, check.weight, passed, _clean(message)))
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
    return TaskResult(sid, task.name, score, max_score, status, _clean("; ".join(notes + [summary]), 2 * protocol.MAX_MESSAGE),
                      outcomes)


def task_figures(task, probe: ProbeOutput, ref, inputs) -> list[dict]:
    """The task's figures from its display probe's results (public inputs only) and the
    reference's; each validated and bounded (autograder/figures.py). No display results (the task
    crashed, timed out or the display probe did): no figures."""
    name = task.name + DISPLAY_SUFFIX
    res = probe.results.get(name)
    if res is None or name not in ref or res[0].get("missing"):
        return []
    meta, arrays = res
    records = meta.get("records") if isinstance(meta.get("records"), dict) else {}
    ref_meta, ref_arrays = ref[name]
    ctx = Context(records, arrays, ref_meta.get("records", {}), ref_arrays, inputs[name])
    stopped = f"no figure: drawing it raised {_clean(meta['probe_error'], 80)}" if meta.get("probe_error") else None
    out = []
    for title, fn in task.display.figures[:figures.MAX_FIGURES]:
        try:
            fig = fn(ctx)
        except Fail as err:
            fig = figures.error(title, stopped or f"no figure: {err}")
        except Exception as err:  # strange data: say so, never fail the grading
            fig = figures.error(title, f"no figure: the results could not be drawn ({type(err).__name__})")
        fig.setdefault("title", title)
        out.append(figures.validate(fig))
    return out


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
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, "invalid_notebook",
                                                          f"unreadable ({type(err).__name__})"), sub.notes)
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
    if len(cells) > protocol.MAX_CELLS:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, "invalid_notebook",
                                                          f"more than {protocol.MAX_CELLS} answer cells"), sub.notes)
    probe = run_probe(assignment, cells, inputs, limits, unsafe, student_id=sid)
    rows = [judge_task(assignment, t, sid, probe, ref, inputs, [c for c in cells if c.task == t.name])
            for t in assignment.tasks]
    placed = notebooks.placement(nb, cells, {t.name: t.target for t in assignment.tasks})
    for row in rows:
        if row.task in placed.uncredited:
            row.score, row.status, row.message = 0.0, "defined_elsewhere", placed.uncredited[row.task]
        elif placed.notes.get(row.task):
            row.message = "; ".join(placed.notes[row.task] + [row.message])
    for task, row in zip(assignment.tasks, rows):
        if task.display is not None and row.status not in ("missing_cell", "not_defined", "defined_elsewhere"):
            row.figures = task_figures(task, probe, ref, inputs)
    notes = list(sub.notes)
    if probe.run and probe.run.output_bytes > limits.output_kb * 1024:
        notes.append(f"printed {probe.run.output_bytes / 2**20:.1f} MB of output; only the first "
                     f"{limits.output_kb} KB were kept (output never costs points)")
    if probe.run and (probe.run.memory_exceeded or probe.run.oom_kills):
        notes.append(f"went over its memory limit of {limits.memory_mb} MB (all its processes together)")
    if probe.run and probe.run.results_bytes > protocol.MAX_STREAM_BYTES:
        notes.append("its probes sent back more results than the grader accepts; they were dropped")
    res = StudentResult(sid, nb_label, rows, notes)
    res.answers = answers
    if probe.run:
        res.wall_s = probe.run.wall_s
        res.output_excerpt = probe.run.output[:4000]
        res.output_bytes = probe.run.output_bytes
        times = probe.status.get("times")
        res.times = times if isinstance(times, dict) else {}
    return res


def submission_digest(assignment: Assignment, sub: Submission, limits: sandbox.Limits, unsafe: bool) -> str:
    """What a finished grade depends on: the file, how it was collected, the grader, the limits."""
    h = hashlib.sha256()
    h.update(reference_key(assignment).encode())
    h.update(json.dumps([sub.student_id, sub.status, sub.message, sorted(sub.notes), unsafe,
                         sorted(limits.__dict__.items())], default=str).encode())
    if sub.notebook is not None:
        try:
            h.update(Path(sub.notebook).read_bytes())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


class Progress:
    """scores.csv written as each submission finishes, with a journal (`.graded`: student id and the
    digest of what was graded), so a crash or a kill loses no finished grade and a re-run resumes:
    a student whose submission, grader and limits are unchanged keeps the rows already written."""

    def __init__(self, out: Path, assignment: Assignment):
        from autograder import report

        self.scores, self.journal = out / "scores.csv", out / ".graded"
        self.assignment, self.report = assignment, report
        self.lock = threading.Lock()
        self.done: dict[str, str] = {}
        rows: dict[str, list] = {}
        try:
            for line in self.journal.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                self.done[str(entry["student_id"])] = str(entry["digest"])
            with open(self.scores, newline="", encoding="utf-8") as fh:
                for r in csv.DictReader(fh):
                    if r.get("assignment") == assignment.name:
                        rows.setdefault(r["student_id"], []).append(r)
        except (OSError, ValueError, KeyError, TypeError):
            self.done = {}
        self.rows = rows
        names = assignment.task_names
        # keep only complete students; start the files again with them
        self.kept = {sid: rs for sid, rs in rows.items() if sid in self.done and sorted(r["task"] for r in rs) == sorted(names)}
        self.done = {sid: d for sid, d in self.done.items() if sid in self.kept}
        with open(self.scores, "w", encoding="utf-8") as fh:
            fh.write(report.score_lines(assignment, [self._from_rows(sid) for sid in sorted(self.kept)], header=True))
        with open(self.journal, "w", encoding="utf-8") as fh:
            for sid in sorted(self.done):
                fh.write(json.dumps({"student_id": sid, "digest": self.done[sid]}) + "\n")

    def _from_rows(self, sid: str) -> StudentResult:
        by = {r["task"]: r for r in self.kept[sid]}
        tasks = [TaskResult(sid, t, float(by[t]["score"]), float(by[t]["max_score"]), by[t]["status"], by[t]["message"])
                 for t in self.assignment.task_names]
        return StudentResult(sid, self.assignment.notebook_name, tasks, ["resumed: unchanged since the last run"])

    def resumed(self, sub: Submission, digest: str) -> StudentResult | None:
        if self.done.get(sub.student_id) == digest:
            return self._from_rows(sub.student_id)
        return None

    def finished(self, result: StudentResult, digest: str) -> None:
        with self.lock:
            with open(self.scores, "a", encoding="utf-8") as fh:
                fh.write(self.report.score_lines(self.assignment, [result], header=False))
                fh.flush()
                os.fsync(fh.fileno())
            with open(self.journal, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"student_id": result.student_id, "digest": digest}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())


def grade_all(assignment: Assignment, subs: list[Submission], limits: sandbox.Limits, unsafe: bool,
              workers: int, log=print, on_result=None, progress: Progress | None = None) -> list[StudentResult]:
    """Grade every submission. With `on_result`, each result is handed over as soon as it is final
    (feedback, log) and then reduced to its scores; with `progress`, each is written to scores.csv
    at once and unchanged ones are resumed."""
    inputs = task_inputs(assignment)
    ref = reference(assignment, inputs, limits, unsafe, log=log)
    lock = threading.Lock()

    def one(sub):
        t0 = time.monotonic()
        digest = submission_digest(assignment, sub, limits, unsafe) if progress else ""
        r = progress.resumed(sub, digest) if progress else None
        if r is not None:
            log(f"{protocol.clean_text(sub.student_id, 80)}: resumed (unchanged since the last run)")
            return r
        try:
            r = grade_submission(assignment, sub, inputs, ref, limits, unsafe)
        except Exception as err:  # never lose a submission
            r = StudentResult(sub.student_id, assignment.notebook_name,
                              _rows_for_all(assignment, sub.student_id, "grader_error",
                                            f"the grader failed on this submission ({type(err).__name__})"), [])
        if unsafe:
            for t in r.tasks:
                t.message = f"{UNSAFE_NOTE}; {t.message}"
        log(f"{protocol.clean_text(sub.student_id, 80)}: {sum(t.score for t in r.tasks):g}/"
            f"{sum(t.max_score for t in r.tasks):g} in {time.monotonic() - t0:.1f} s "
            f"({', '.join(f'{t.task}={t.status}' for t in r.tasks)})")
        with lock:
            if progress:
                progress.finished(r, digest)
            if on_result:
                on_result(r)
                r.answers, r.output_excerpt = {}, ""
                for t in r.tasks:
                    t.checks, t.figures = [], []
        return r

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, subs))
    results.sort(key=lambda r: r.student_id)
    return results
