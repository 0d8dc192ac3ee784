"""Grading: probe each submission in the sandbox, judge outside, collect one row per student and task."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import figures, notebooks, protocol, sandbox, store, tasks as task_registry
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
              threads: int = 1, student_id: str = "", display: bool = True) -> dict:
    """The runner's job. `display=False` leaves out the figures' probes (check's batches: no feedback)."""
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
           for t in (assignment.display_tasks if display else [])],
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
    return _parse_frames(protocol.decode_frames(data, task_names), task_names, n_cells)


def _parse_frames(frames: dict, task_names: list[str], n_cells: int) -> tuple[dict, dict]:
    status = protocol.loads(frames.get("status.json"), protocol.MAX_STATUS_BYTES)
    if not protocol.valid_status(status, task_names, n_cells):
        status = {}
    results = {}
    for name in task_names:
        meta = protocol.loads(frames.get(f"{name}.json"), protocol.MAX_META_BYTES)
        arrays = _npz_from_bytes(frames.get(f"{name}.npz")) if protocol.valid_meta(meta) else None
        results[name] = (meta, arrays) if arrays is not None else None
    return status, results


def _run_in_sandbox(make_job, inputs, limits: sandbox.Limits, unsafe: bool, threads: int = 1,
                    stream_cap: int = protocol.MAX_STREAM_BYTES) -> sandbox.RunResult:
    """Write the hidden inputs where only the grader writes, run `make_job(inputs_dir)` in the sandbox."""
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    written = []
    try:
        for name, arrays in inputs.items():
            written.append(work / f"{name}.npz")
            np.savez(written[-1], **arrays)
        job = make_job(str(work) if unsafe else "/grader/inputs")
        env = None
        if unsafe:
            job["lib"] = str(sandbox.COURSE_LIB.parent)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "OMP_NUM_THREADS": str(threads),
                   "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        return sandbox.run_sandboxed(job, written, limits, unsafe=unsafe, threads=threads, env=env, stream_cap=stream_cap)
    finally:
        for f in written:
            f.unlink(missing_ok=True)
        work.rmdir()


def run_probe(assignment: Assignment, cells, inputs, limits: sandbox.Limits, unsafe: bool,
              threads: int = 1, student_id: str = "") -> ProbeOutput:
    run = _run_in_sandbox(lambda d: build_job(assignment, cells, d, limits, threads, student_id),
                          inputs, limits, unsafe, threads)
    status, results = parse_results(run.results, assignment.probe_names, len(cells))
    run.results = b""           # nothing of the sandbox's output is kept beyond what was parsed
    return ProbeOutput(status, results, run)


def run_probe_batch(assignment: Assignment, entries: list[tuple[str, list]], inputs, limits: sandbox.Limits,
                    unsafe: bool) -> list[ProbeOutput]:
    """Probe several (student id, answer cells) in ONE sandboxed process, one after the other.

    Only for notebooks the instructor trusts (`check`'s solution, blank version and mutants): the
    submissions share a process, its files and its limits, which a student's submission must never
    do. Each one's cells and probes still run in forked children with its own seeds, as alone."""
    def make_job(inputs_dir):
        job = build_job(assignment, [], inputs_dir, limits, 1, "", display=False)
        job["batch"] = [{"cells": [{"task": c.task, "source": c.source} for c in cells],
                         "seed": seed_for(assignment, "", sid),
                         "task_seeds": {t.name: seed_for(assignment, t.name, sid) for t in assignment.tasks}}
                        for sid, cells in entries]
        return job

    batch_limits = dataclasses.replace(limits, wall_s=limits.wall_s * len(entries))
    run = _run_in_sandbox(make_job, inputs, batch_limits, unsafe, stream_cap=2 * protocol.MAX_STREAM_BYTES)
    groups = protocol.decode_frame_groups(run.results, assignment.task_names, len(entries))
    run.results = b""
    outs = []
    for (sid, cells), frames in zip(entries, groups):
        status, results = _parse_frames(frames, assignment.task_names, len(cells))
        outs.append(ProbeOutput(status, results, dataclasses.replace(run, wall_s=run.wall_s / len(entries))))
    return outs


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


_NAME_ERROR = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]{0,63})' is not defined")


def name_error_explainer(nb, own_cells: list[notebooks.AnswerCell]):
    """A function that rewrites the runner's "NameError: name 'x' is not defined" for one task's
    messages: a name another cell of the notebook defines gets the rule that answer cells stand alone;
    a name the notebook's code contains (a typo, a variable never assigned) is kept; any other name
    (the submission could raise a NameError naming anything) is dropped. The notebook's cells are
    read only when a message holds such a NameError (most hold none)."""
    own = set().union(*(c.binds for c in own_cells)) if own_cells else set()
    own_index = {c.index for c in own_cells}
    names: dict = {}

    def analysis():
        if not names:
            elsewhere, written = {}, set()
            for i, cell in enumerate(nb.cells):
                if cell.get("cell_type") != "code":
                    continue
                code = notebooks.to_python(notebooks._source(cell))
                written.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
                if i not in own_index:
                    for name in notebooks.bound_names(code):
                        elsewhere.setdefault(name, i)
            names["elsewhere"], names["written"] = elsewhere, written
        return names["elsewhere"], names["written"]

    def explain(text: str) -> str:
        text = str(text)
        if _NAME_ERROR.search(text) is None:
            return text
        elsewhere, written = analysis()

        def one(m):
            name = m.group(1)
            if name in elsewhere and name not in own:
                return (f"NameError: `{name}` is defined in cell {elsewhere[name] + 1}, not in this answer cell; "
                        f"each answer cell must stand alone: copy the helper `{name}` into this cell")
            return m.group(0) if name in written else "NameError"
        return _NAME_ERROR.sub(one, text)
    return explain


def judge_task(assignment: Assignment, task, sid: str, probe: ProbeOutput, ref, inputs, cells_for_task,
               explain=lambda text: text) -> TaskResult:
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
        why = f" (the answer cell raised {explain(_clean(errs[0], 80))})" if errs else ""
        return TaskResult(sid, task.name, 0.0, max_score, "not_defined",
                          _clean("; ".join(notes + [f"the answer cell does not define {task.target}{why}"])))
    if meta.get("cell_errors"):
        notes.append(f"the answer cell raised {explain(_clean(meta['cell_errors'][0], 80))}")
    if meta.get("probe_error"):
        notes.append(f"probing stopped early: it raised {explain(_clean(meta['probe_error'], 80))}")
    records = meta.get("records") if isinstance(meta.get("records"), dict) else {}
    ref_meta, ref_arrays = ref[task.name]
    ctx = Context(records, arrays, ref_meta.get("records", {}), ref_arrays, inputs[task.name])
    outcomes = []
    for check in task.checks:
        passed, message = run_check(check, ctx)
        outcomes.append((check.name, check.weight, passed, _clean(explain(_clean(message)), 2 * protocol.MAX_MESSAGE)))
    total = sum(c.weight for c in task.checks)
    got = sum(w for _, w, p, _ in outcomes if p)
    score = round(max_score * got / total, 2)
    if got == total:
        status = "passed"
    elif got == 0:
        status = "failed"
    else:
        status = "partial"
    by_message: dict[str, list[str]] = {}    # checks failed for one reason are named together
    for n, _, p, m in outcomes:
        if not p:
            by_message.setdefault(m, []).append(n)
    failed = [f"{', '.join(names)}: {m}" for m, names in by_message.items()]
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


def _answer_cells(assignment: Assignment, sub: Submission):
    """(result, None) for a submission that cannot be run (its rows already final), else (None, (nb, cells))."""
    sid = sub.student_id
    nb_label = sub.notebook.name if sub.notebook else assignment.notebook_name
    if sub.status:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, sub.status, sub.message), sub.notes), None
    try:
        nb = notebooks.read_notebook(sub.notebook)
    except notebooks.NotebookError as err:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, err.status, err.message), sub.notes), None
    except OSError as err:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, "invalid_notebook",
                                                          f"unreadable ({type(err).__name__})"), sub.notes), None
    cells = notebooks.answer_cells(nb, assignment.task_names)
    if not cells:
        ids = notebooks.notebook_assignment_hint(nb)
        if ids - {"setup"}:
            status, msg = "wrong_assignment", (f"the notebook has none of this assignment's answer cells; it looks like "
                                               f"another assignment's notebook (submit {assignment.notebook_name})")
        else:
            status, msg = "no_answer_cells", ("no cell carries this assignment's nbgrader metadata; work in the "
                                              f"distributed {assignment.notebook_name} and submit it")
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, status, msg), sub.notes), None
    if len(cells) > protocol.MAX_CELLS:
        return StudentResult(sid, nb_label, _rows_for_all(assignment, sid, "invalid_notebook",
                                                          f"more than {protocol.MAX_CELLS} answer cells"), sub.notes), None
    return None, (nb, cells)


def _finish(assignment: Assignment, sub: Submission, nb, cells, probe: ProbeOutput, inputs, ref,
            limits: sandbox.Limits) -> StudentResult:
    """Judge what the probe sent back and put the submission's result together."""
    sid = sub.student_id
    nb_label = sub.notebook.name if sub.notebook else assignment.notebook_name
    answers = notebooks.solution_sources(nb)
    rows = []
    for t in assignment.tasks:
        own = [c for c in cells if c.task == t.name]
        rows.append(judge_task(assignment, t, sid, probe, ref, inputs, own, name_error_explainer(nb, own)))
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


def grade_submission(assignment: Assignment, sub: Submission, inputs, ref, limits, unsafe) -> StudentResult:
    done, prepared = _answer_cells(assignment, sub)
    if done is not None:
        return done
    nb, cells = prepared
    probe = run_probe(assignment, cells, inputs, limits, unsafe, student_id=sub.student_id)
    return _finish(assignment, sub, nb, cells, probe, inputs, ref, limits)


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
    """The class's store (autograder/store.py) as grading goes: each finished submission's whole
    record is written at once and scores.csv regenerated for the whole class (every student in the
    store, from this run and earlier ones), so a crash or a kill loses no finished grade and a later
    batch adds to the class. A re-run resumes a student whose submission, grader and limits are
    unchanged (the record's digest), except the students in `force` (`grade --only ID`)."""

    def __init__(self, out: Path, assignment: Assignment, unsafe: bool = False, force=(), log=print):
        from autograder import report

        self.out, self.assignment, self.unsafe, self.report = Path(out), assignment, unsafe, report
        self.force = set(force)
        self.lock = threading.Lock()
        self.stored = store.load(self.out, assignment, log)
        self.before = dict(self.stored)
        self.outcomes: dict[str, str] = {}    # student id -> added / replaced / unchanged, this run
        self.write_class()

    def class_results(self) -> list[StudentResult]:
        return [self.stored[sid].result for sid in sorted(self.stored)]

    def write_class(self) -> None:
        self.report.write_scores(self.out / "scores.csv", self.assignment, self.class_results())

    def resumed(self, sub: Submission, digest: str) -> StudentResult | None:
        prev = self.stored.get(sub.student_id)
        if sub.student_id in self.force or prev is None or prev.digest != digest:
            return None
        with self.lock:
            self.outcomes[sub.student_id] = "unchanged"
        return prev.result

    def finished(self, result: StudentResult, digest: str, sha256: str | None) -> str:
        """Store the result, regenerate scores.csv; returns what happened to the student's record,
        with the scores before and after."""
        with self.lock:
            prev = self.before.get(result.student_id)
            word = store.outcome(prev, sha256, result)
            store.save(self.out, self.assignment.name, result, sha256, digest, self.unsafe)
            self.stored[result.student_id] = store.Stored(result, sha256, digest, self.unsafe)
            self.outcomes[result.student_id] = word
            self.write_class()
        now = f"{sum(t.score for t in result.tasks):g}/{sum(t.max_score for t in result.tasks):g}"
        if word == "added":
            return f"added to the class ({now})"
        if word == "unchanged":
            return f"unchanged (the same file and the same scores, {now})"
        was = f"{sum(t.score for t in prev.result.tasks):g}"
        why = "a new file" if prev.file_sha256 != sha256 else "the same file, graded again"
        return f"replaced (was {was}, now {now}; {why})"

    def summary(self) -> str:
        by = {w: sorted(s for s, o in self.outcomes.items() if o == w) for w in ("added", "replaced", "unchanged")}
        return (f"the class has {len(self.stored)} student(s) in {self.out / store.FOLDER}; this run: "
                + "; ".join(f"{w} {len(ids)}" + (f" ({', '.join(ids)})" if ids else "") for w, ids in by.items()))


def grade_all(assignment: Assignment, subs: list[Submission], limits: sandbox.Limits, unsafe: bool,
              workers: int, log=print, on_result=None, progress: Progress | None = None) -> list[StudentResult]:
    """Grade every submission. With `on_result`, each result is handed over as soon as it is final
    (feedback, log) and then reduced to its scores; with `progress`, each is stored and scores.csv
    regenerated at once, and unchanged ones are resumed from the store."""
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
                log(f"{protocol.clean_text(sub.student_id, 80)}: "
                    f"{progress.finished(r, digest, store.file_sha256(sub.notebook))}")
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


def grade_in_batches(assignment: Assignment, subs: list[Submission], limits: sandbox.Limits, unsafe: bool,
                     workers: int, log=print) -> list[StudentResult]:
    """`check`'s grading of the instructor's own notebooks: the submissions split into `workers`
    batches, each probed in one sandboxed process (see run_probe_batch), then judged one by one
    exactly as grade_all judges them. Saves the per-process start (torch's import) per submission."""
    inputs = task_inputs(assignment)
    ref = reference(assignment, inputs, limits, unsafe, log=log)
    results, runnable = [], []
    for sub in subs:
        done, prepared = _answer_cells(assignment, sub)
        if done is not None:
            results.append(done)
        else:
            runnable.append((sub, *prepared))
    chunks = [runnable[i::max(1, workers)] for i in range(max(1, workers))]

    def one_batch(chunk):
        if not chunk:
            return []
        t0 = time.monotonic()
        probes = run_probe_batch(assignment, [(sub.student_id, cells) for sub, _, cells in chunk], inputs, limits, unsafe)
        out = [_finish(assignment, sub, nb, cells, probe, inputs, ref, limits)
               for (sub, nb, cells), probe in zip(chunk, probes)]
        log(f"a batch of {len(chunk)} submissions graded in {time.monotonic() - t0:.1f} s")
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for batch in pool.map(one_batch, chunks):
            results.extend(batch)
    for r in results:
        log(f"{protocol.clean_text(r.student_id, 80)}: {sum(t.score for t in r.tasks):g}/"
            f"{sum(t.max_score for t in r.tasks):g} ({', '.join(f'{t.task}={t.status}' for t in r.tasks)})")
    results.sort(key=lambda r: r.student_id)
    return results
