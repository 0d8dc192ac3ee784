"""Outputs: scores.csv, grades.csv (nbgrader export's columns), HTML feedback, the nbgrader gradebook."""
from __future__ import annotations

import csv
import html
import io
import os
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


def write_feedback(folder: Path, assignment, result, unsafe: bool) -> Path:
    """feedback/<student_id>/<notebook>.html: each task, each check and its message. No hidden inputs
    or reference values appear (check messages are written not to reveal them)."""
    out_dir = folder / result.student_id
    out_dir.mkdir(parents=True, exist_ok=True)

    def e(text):   # text that may come from the submission: escaped for HTML, control characters visible
        return html.escape(protocol.escape_text(str(text)))

    total = sum(t.score for t in result.tasks)
    auto_max = sum(t.max_score for t in result.tasks)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(assignment.name)}: feedback for "
             f"{e(result.student_id)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(assignment.name)}: feedback for {e(result.student_id)}</h1>",
             f"<p>Autograded score: <b>{_fmt(total)} / {_fmt(auto_max)}</b>"
             + (f" (written questions, graded by hand: {_fmt(assignment.manual_points)} more points)"
                if assignment.manual_points else "") + "</p>"]
    if unsafe:
        parts.append("<p class='warn'>This submission was graded WITHOUT the sandbox (--unsafe-no-sandbox).</p>")
    for note in result.notes:
        parts.append(f"<p class='warn'>{e(note)}</p>")
    for t in result.tasks:
        parts.append(f"<h2>{e(t.task)}: {_fmt(t.score)} / {_fmt(t.max_score)} ({e(t.status)})</h2>")
        parts.append(f"<p><samp>{e(t.message)}</samp></p>")
        if t.checks:
            parts.append("<table><tr><th>check</th><th>weight</th><th>result</th><th>message</th></tr>")
            for name, weight, passed, message in t.checks:
                cls, word = ("pass", "passed") if passed else ("fail", "failed")
                parts.append(f"<tr><td>{e(name)}</td><td>{weight:g}</td><td class='{cls}'>{word}</td><td><samp>{e(message)}</samp></td></tr>")
            parts.append("</table>")
        parts.extend(figures_html(getattr(t, "figures", None) or []))
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


def record_of(assignment, result, feedback: Path | None = None) -> dict:
    """A student's full result as JSON (scores, statuses, every check, the figures' data): what the
    dashboard reads. Only text that already went into the feedback, and figures of public inputs."""
    return {"student_id": result.student_id, "assignment": assignment.name, "notebook": result.notebook,
            "notes": [protocol.clean_text(n, 2 * protocol.MAX_MESSAGE) for n in result.notes],
            "feedback": feedback.relative_to(feedback.parents[2]).as_posix() if feedback else None,
            "tasks": [{"task": t.task, "score": t.score, "max_score": t.max_score, "status": t.status,
                       "message": protocol.clean_text(t.message, 2 * protocol.MAX_MESSAGE),
                       "checks": [[n, w, bool(p), protocol.clean_text(m)] for n, w, p, m in t.checks],
                       "figures": list(getattr(t, "figures", None) or [])} for t in result.tasks]}


def write_record(folder: Path, assignment, result, feedback: Path | None = None) -> Path:
    """records/<student_id>.json (see record_of), written whole (a reader sees the old or the new)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student_id}.json"
    _replace(path, json.dumps(record_of(assignment, result, feedback), sort_keys=True, separators=(",", ":")))
    return path


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


def record_gradebook(db_path: Path, assignment, results) -> None:
    """Write the assignment's structure and every student's per-test-cell scores into nbgrader's
    gradebook, so formgrader, `nbgrader export` and `nbgrader generate_feedback` see our grades."""
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
            for task in names:
                cells = [(gid, pts) for gid, pts, _ in graded if notebooks.task_of_grade_id(gid, names) == task]
                parts = _distribute(by_task[task].score, cells)
                for gid, value in parts.items():
                    grade = gb.find_grade(gid, nb_name, assignment.name, r.student_id)
                    grade.auto_score = value
                    grade.manual_score = None
                    grade.needs_manual_grade = False
            gb.db.commit()


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
