"""Outputs: scores.csv, grades.csv (nbgrader export's columns), HTML feedback, the nbgrader gradebook."""
from __future__ import annotations

import csv
import html
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder import protocol

SCORE_COLUMNS = ["student_id", "assignment", "task", "score", "max_score", "status", "message"]
GRADE_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                 "raw_score", "late_submission_penalty", "score", "max_score"]


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _csv_text(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def score_lines(assignment, results, header: bool = True) -> str:
    """scores.csv text for `results` (with or without the header line). Messages are one line,
    control characters escaped (protocol.clean_text), at most 2 x MAX_MESSAGE characters."""
    rows = []
    for r in sorted(results, key=lambda r: r.student_id):
        for t in r.tasks:  # task order of the task module
            msg = protocol.clean_text(" ".join(str(t.message).split()), 2 * protocol.MAX_MESSAGE)
            rows.append([r.student_id, assignment.name, t.task, _fmt(t.score), _fmt(t.max_score), t.status, msg])
    text = _csv_text(SCORE_COLUMNS, rows)
    return text if header else text.split("\n", 1)[1]


def _replace(path: Path, text: str) -> None:
    """Write a whole file at once: a reader (or a crash) sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_scores(path: Path, assignment, results) -> None:
    _replace(path, score_lines(assignment, results))


def total_max(assignment) -> float:
    return sum(assignment.points.values()) + assignment.manual_points


def write_grades(path: Path, assignment, results) -> None:
    """One row per student in `nbgrader export`'s columns. The score is the autograded total; the
    manually graded written questions count in max_score and add to the score once graded in
    formgrader (then `nbgrader export` gives the final numbers)."""
    rows = []
    for r in sorted(results, key=lambda r: r.student_id):
        score = round(sum(t.score for t in r.tasks), 2)
        rows.append([assignment.name, "", "", r.student_id, "", "", "", _fmt(score), _fmt(0.0), _fmt(score),
                     _fmt(total_max(assignment))])
    _replace(path, _csv_text(GRADE_COLUMNS, rows))


_CSS = """body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
figure{margin:1em 0}figure img{max-width:100%}figcaption{font-size:.9em;color:#444}
.pass{color:#17612b}.fail{color:#a31515}.warn{background:#fff3cd;padding:.5em;border:1px solid #e0c36b}"""


def write_feedback(folder: Path, assignment, result, unsafe: bool, hand=None) -> Path:
    """feedback/<student_id>/<notebook>.html: each task, each check and its message, and the written
    questions (graded by hand, or pending) from `hand` (a HandGrades from the gradebook). No hidden
    inputs or reference values appear (check messages are written not to reveal them)."""
    out_dir = folder / result.student_id
    out_dir.mkdir(parents=True, exist_ok=True)

    def e(text):   # text that may come from the submission: escaped for HTML, control characters visible
        return html.escape(protocol.escape_text(str(text)))

    total = sum(t.score for t in result.tasks)
    auto_max = sum(t.max_score for t in result.tasks)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(assignment.name)}: feedback for "
             f"{e(result.student_id)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(assignment.name)}: feedback for {e(result.student_id)}</h1>",
             _score_header_html(assignment, result, hand)]
    if unsafe:
        parts.append("<p class='warn'>This submission was graded WITHOUT the sandbox (--unsafe-no-sandbox).</p>")
    for note in result.notes:
        parts.append(f"<p class='warn'>{e(note)}</p>")
    for t in result.tasks:
        parts.append(f"<h2>{e(t.task)}: {_fmt(t.score)} / {_fmt(t.max_score)} ({e(t.status)})</h2>")
        parts.append(f"<p><samp>{e(t.message)}</samp></p>")
        parts += _task_hand_html(t, hand)
        if t.checks:
            parts.append("<table><tr><th>check</th><th>weight</th><th>result</th><th>message</th></tr>")
            for name, weight, passed, message in t.checks:
                cls, word = ("pass", "passed") if passed else ("fail", "failed")
                parts.append(f"<tr><td>{e(name)}</td><td>{weight:g}</td><td class='{cls}'>{word}</td><td><samp>{e(message)}</samp></td></tr>")
            parts.append("</table>")
        parts.extend(figures_html(getattr(t, "figures", None) or []))
    parts += _written_html(assignment, hand)
    parts.append("<p>Grades come from hidden probes of your functions run in a sandbox; the visible tests in the "
                 "notebook check the same properties on other inputs.</p></body></html>")
    path = out_dir / f"{assignment.source_path.stem}.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def figure_html(fig: dict) -> str:
    """One figure of a task as a self-contained <figure> (PNG data URI; an error figure as text).
    Drawn from the figure's data alone (autograder/figures.py), so a stored record redraws it."""
    from autograder import figures

    fig = figures.validate(fig)
    title = html.escape(fig["title"])
    png = figures.draw(fig)
    if png is None:
        return f"<figure class='figure-error'><figcaption>{title}: {html.escape(fig.get('message', ''))}</figcaption></figure>"
    note = ""
    if fig["kind"] in ("dependency", "field"):
        note = f" ({fig['violations']} violation(s), {fig['missing']} missing)"
    return (f"<figure class='autograder-figure' data-kind='{fig['kind']}'><img alt='{title}' src='{figures.data_uri(png)}'>"
            f"<figcaption>{title}{note}; drawn on public display inputs, not the hidden ones</figcaption></figure>")


def figures_html(figs: list) -> list[str]:
    return [figure_html(f) for f in figs]


# ---------------------------------------------------------------- nbgrader gradebook


def _distribute(score: float, cells: list[tuple[str, float]]) -> dict[str, float]:
    """Split a task's score over its test cells in proportion to their points; the parts sum to it."""
    total = sum(p for _, p in cells)
    out, used = {}, 0.0
    for i, (gid, pts) in enumerate(cells):
        if i == len(cells) - 1:
            out[gid] = round(score - used, 4)
        else:
            out[gid] = round(score * pts / total, 4)
            used += out[gid]
    return out


def record_gradebook(db_path: Path, assignment, results) -> dict:
    """Write the assignment's structure, every student's per-test-cell scores and each task's
    autograder messages (as the comment of its answer cell) into nbgrader's gradebook, so
    formgrader, `nbgrader export` and `nbgrader generate_feedback` see our grades. Returns the
    students' hand grades found there (HandGrades by student id), for their feedback."""
    import os
    import sys

    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader runs the `alembic` command to check the database schema; it lives next to python.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")

    from autograder import notebooks

    nb_name = assignment.source_path.stem
    names = assignment.task_names
    graded = notebooks.grade_cells(assignment.source_nb)
    import warnings

    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    with Gradebook(f"sqlite:///{db_path}") as gb:
        gb.update_or_create_assignment(assignment.name)
        try:
            gb.find_notebook(nb_name, assignment.name)
        except MissingEntry:
            gb.add_notebook(nb_name, assignment.name)
        for gid, pts, ctype in graded:
            gb.update_or_create_grade_cell(gid, nb_name, assignment.name, max_score=pts, cell_type=ctype)
        for cell in assignment.source_nb.cells:
            nbg = cell.get("metadata", {}).get("nbgrader", {})
            if nbg.get("solution") and nbg.get("grade_id"):
                gb.update_or_create_solution_cell(nbg["grade_id"], nb_name, assignment.name)
        for r in results:
            try:
                gb.find_student(r.student_id)
            except MissingEntry:
                gb.add_student(r.student_id)
            try:
                gb.find_submission(assignment.name, r.student_id)
            except MissingEntry:
                gb.add_submission(assignment.name, r.student_id)
            by_task = {t.task: t for t in r.tasks}
            for gid, _, _ in graded:   # written answers: formgrader lists them as waiting for a grader
                if notebooks.task_of_grade_id(gid, names) is None:
                    grade = gb.find_grade(gid, nb_name, assignment.name, r.student_id)
                    grade.needs_manual_grade = grade.manual_score is None
            for task in names:
                cells = [(gid, pts) for gid, pts, _ in graded if notebooks.task_of_grade_id(gid, names) == task]
                parts = _distribute(by_task[task].score, cells)
                for gid, value in parts.items():
                    grade = gb.find_grade(gid, nb_name, assignment.name, r.student_id)
                    grade.auto_score = value
                    grade.manual_score = None
                    grade.needs_manual_grade = False
                try:   # formgrader shows it in the comment box of the task's answer cell, above its test cells
                    gb.find_comment(task, nb_name, assignment.name, r.student_id).auto_comment = \
                        autograder_comment(by_task[task])
                except MissingEntry:
                    pass
            gb.db.commit()
        return hand_grades_in(gb, assignment, {r.student_id for r in results})


def write_autograded(course_root: Path, assignment, results) -> None:
    """grading/autograded/<id>/<a>/<nb>.ipynb for formgrader and `nbgrader generate_feedback`: the
    released student version (test cells as released) with the student's answer cells filled in."""
    import nbformat

    released = assignment.course.assignments / assignment.name / assignment.source_path.name
    if not released.exists():
        return
    base = nbformat.read(released, as_version=4)
    for r in results:
        nb = nbformat.from_dict(json_copy(base))
        for cell in nb.cells:
            nbg = cell.get("metadata", {}).get("nbgrader", {})
            gid = nbg.get("grade_id")
            if nbg.get("solution") and gid in r.answers:
                cell.source = r.answers[gid]
            if cell.get("cell_type") == "code":
                cell.outputs = []
                cell.execution_count = None
        dest = Path(course_root) / "grading" / "autograded" / r.student_id / assignment.name / assignment.source_path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)


def json_copy(obj):
    import json

    return json.loads(json.dumps(obj))


# ---------------------------------------------------------------- hand grading back to students


def autograder_comment(task) -> str:
    """A task's result as the gradebook comment of its answer cell (formgrader shows it in the
    cell's comment box until a grader types their own). nbgrader's own feedback renders comments as
    Markdown, raw HTML included, so a '<' from a message becomes a look-alike that opens no tag."""
    lines = [f"Autograder: {_fmt(task.score)} / {_fmt(task.max_score)} points ({task.status}). {task.message}"]
    for name, weight, passed, message in task.checks:
        lines.append(f"- {'passed' if passed else 'FAILED'} ({weight:g}) {name}: {message}")
    text = "\n".join(protocol.clean_text(line, 2 * protocol.MAX_MESSAGE) for line in lines)
    return text.replace("<", "\u2039")


@dataclass
class Written:
    grade_id: str
    max_score: float
    score: float | None      # None: not graded yet
    comment: str | None


@dataclass
class HandGrades:
    """What graders gave one student in formgrader: the written questions' points and comments,
    comments on answer cells, and test-cell points they changed (task -> the task's points)."""
    written: dict = field(default_factory=dict)          # grade_id -> Written
    comments: dict = field(default_factory=dict)         # task -> the grader's comment
    task_scores: dict = field(default_factory=dict)      # task -> points after a grader's change


def _written_ids(assignment) -> list[tuple[str, float]]:
    from autograder import notebooks

    return [(gid, pts) for gid, pts, _ in notebooks.grade_cells(assignment.source_nb)
            if notebooks.task_of_grade_id(gid, assignment.task_names) is None]


def read_hand_grades(db_path: Path, assignment) -> dict:
    """student_id -> HandGrades, read with nbgrader's Gradebook API (formgrader writes a grade's
    `manual_score` and a comment's `manual_comment`)."""
    import sys
    import warnings

    bindir = str(Path(sys.executable).parent)   # nbgrader runs `alembic` by name
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook, MissingEntry

    warnings.filterwarnings("ignore", module="sqlalchemy")
    with Gradebook(f"sqlite:///{db_path}") as gb:
        try:
            gb.find_assignment(assignment.name)
        except MissingEntry:
            return {}
        return hand_grades_in(gb, assignment)


def hand_grades_in(gb, assignment, student_ids=None) -> dict:
    """read_hand_grades on an open Gradebook, for all students or those in `student_ids`."""
    from autograder import notebooks

    names = assignment.task_names
    written_ids = dict(_written_ids(assignment))
    nb_name = assignment.source_path.stem
    out = {}
    for sub in gb.assignment_submissions(assignment.name):
        if student_ids is not None and sub.student.id not in student_ids:
            continue
        hand = HandGrades()
        for nb in sub.notebooks:
            if nb.name != nb_name:
                continue
            comments = {c.name: c.manual_comment for c in nb.comments}
            per_task: dict = {}
            for g in nb.grades:
                if g.name in written_ids:
                    hand.written[g.name] = Written(g.name, float(g.max_score or 0.0), g.manual_score,
                                                   comments.get(g.name) or None)
                    continue
                task = notebooks.task_of_grade_id(g.name, names)
                if task is not None:
                    value = g.manual_score if g.manual_score is not None else (g.auto_score or 0.0)
                    changed, total = per_task.get(task, (False, 0.0))
                    per_task[task] = (changed or g.manual_score is not None, total + value)
            hand.task_scores = {t: round(v, 2) for t, (changed, v) in per_task.items() if changed}
            hand.comments = {t: comments[t] for t in names if comments.get(t)}
        out[sub.student.id] = hand
    return out


def _pts(x: float) -> str:
    return f"{x:g}"


def _points(x: float) -> str:
    return f"{_pts(x)} point{'' if x == 1 else 's'}"


def _score_header_html(assignment, result, hand) -> str:
    """The page's first line: the autograded points, then the written questions as awarded or
    pending (never a number that reads as awarded when it is not)."""
    auto = sum((hand.task_scores.get(t.task, t.score) if hand else t.score) for t in result.tasks)
    auto_max = sum(t.max_score for t in result.tasks)
    text = f"<p>Autograded: <b>{_fmt(auto)} / {_fmt(auto_max)}</b>"
    written = _written_ids(assignment)
    if not written:
        return text + "</p>"
    graded = [(w.score, w.max_score) for w in (hand.written.values() if hand else []) if w.score is not None]
    given, given_max = sum(s for s, _ in graded), sum(m for _, m in graded)
    pending = sum(p for _, p in written) - given_max
    if not graded:
        return text + f". Written questions: not graded yet ({_points(pending)} pending).</p>"
    text += f". Written questions, graded by hand: <b>{_fmt(given)} / {_fmt(given_max)}</b>"
    if pending > 0:
        return text + f"; not graded yet: {_points(pending)} pending.</p>"
    return text + f". Total: <b>{_fmt(auto + given)} / {_fmt(auto_max + given_max)}</b>.</p>"


def _comment_html(comment: str | None) -> list[str]:
    if not comment:
        return []
    return [f"<blockquote style='white-space:pre-wrap'>Grader's comment: {html.escape(comment)}</blockquote>"]


def _task_hand_html(task, hand) -> list[str]:
    if hand is None:
        return []
    parts = []
    if task.task in hand.task_scores:
        parts.append(f"<p>A grader changed this task's points by hand to <b>{_fmt(hand.task_scores[task.task])} / "
                     f"{_fmt(task.max_score)}</b> (the autograder gave {_fmt(task.score)}).</p>")
    return parts + _comment_html(hand.comments.get(task.task))


def _written_html(assignment, hand) -> list[str]:
    written = _written_ids(assignment)
    if not written:
        return []
    parts = ["<h2>Written questions (graded by hand)</h2>", "<ul>"]
    for gid, pts in written:
        w = hand.written.get(gid) if hand else None
        if w is None or w.score is None:
            parts.append(f"<li>{html.escape(gid)}: written question: not graded yet ({_points(pts)} pending)</li>")
        else:
            parts.append(f"<li>{html.escape(gid)}: written question: {_pts(w.score)} / {_points(w.max_score)}, "
                         "graded by hand" + "".join(_comment_html(w.comment)) + "</li>")
    return parts + ["</ul>"]


def regenerate_feedback(out: Path, assignment, db_path: Path | None, student_ids=None, log=print,
                        hand: dict | None = None) -> list[Path]:
    """feedback/<id>/<nb>.html again for every student in the class's store (or those in
    `student_ids`), with the hand grades and comments of the gradebook at `db_path` (or `hand`)."""
    from autograder import store

    stored = store.load(out, assignment, log)
    if hand is None:
        hand = read_hand_grades(db_path, assignment) if db_path is not None and Path(db_path).exists() else {}
    paths = []
    for sid in sorted(stored):
        if student_ids is not None and sid not in student_ids:
            continue
        s = stored[sid]
        paths.append(write_feedback(Path(out) / "feedback", assignment, s.result, s.unsafe, hand.get(sid)))
    return paths
