"""`python -m autograder similarity A GRADING_DIR`: which answer cells look copied. It flags, it never
changes a grade.

Every pair of answer cells of the same task across the class is compared, and every answer cell with
the solution notebook's cell and with each top-level function and class of `course_lib` (whose
reference models the lecture library ships to students on purpose). Code is normalised first:
parsed with `ast`, docstrings dropped and printed back with `ast.unparse` (comments, blank lines
and formatting gone); copydetect (winnowed k-gram fingerprints, PyPI) then replaces every identifier
by one token, so renamed variables and reordered lines still match. The released stub of each
answer cell is boilerplate and never counts. The score of a pair is the larger of the two shares of
each side's fingerprinted code found in the other, counted only when at least `MIN_OVERLAP`
normalised characters are shared (short answers look alike by necessity).
"""
from __future__ import annotations

import ast
import html
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

K = 20            # characters of normalised code per fingerprint (copydetect's noise threshold)
WINDOW = 1        # winnowing window: every k-gram kept (answer cells are short)
MIN_OVERLAP = 60  # shared normalised characters below which a pair is not scored


def normalise(code: str) -> str:
    """The code with docstrings, comments and formatting removed (the text as written if it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


@dataclass
class Unit:
    """One piece of code: a student's answer cell, a solution cell or a course_lib definition."""
    label: str
    code: str                      # normalised
    fp: CodeFingerprint
    is_student: bool = True


def fingerprint(label: str, code: str, boilerplate=None) -> Unit:
    text = normalise(code)
    fp = CodeFingerprint(f"{label}.py", K, WINDOW, boilerplate=boilerplate, language="python", fp=io.StringIO(text))
    return Unit(label, text, fp)


def boilerplate_of(code: str) -> list:
    """Fingerprints of a released stub: shared by every student, never evidence."""
    if not code.strip():
        return []
    return list(CodeFingerprint("stub.py", K, WINDOW, language="python", fp=io.StringIO(normalise(code))).hashes)


@dataclass
class Match:
    a: Unit
    b: Unit
    score: float
    overlap: int
    slices: tuple


def compare(a: Unit, b: Unit) -> Match | None:
    if not a.fp.hashes or not b.fp.hashes or not (a.fp.hashes & b.fp.hashes):
        return None
    overlap, sims, slices = compare_files(a.fp, b.fp)
    if overlap < MIN_OVERLAP:
        return None
    return Match(a, b, float(max(sims)), int(overlap), slices)


def library_units(root: Path) -> list[Unit]:
    """Each top-level function and class of course_lib, as a unit labelled by file and name."""
    units = []
    for path in sorted((root / "course_lib").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                segment = ast.get_source_segment(text, node)
                if segment:
                    u = fingerprint(f"{path.relative_to(root).as_posix()}: {node.name}", segment)
                    u.is_student = False
                    units.append(u)
    return units


def find_pairs(students: dict[str, str], references: list[Unit], threshold: float, stub: str = "") -> list[Match]:
    """Pairs (student, student) and (student, reference) scoring at least `threshold`, best first.
    `students`: student id -> answer cell source of one task."""
    boiler = boilerplate_of(stub)
    units = [fingerprint(sid, code, boiler) for sid, code in sorted(students.items())]
    refs = list(references)   # the stub's fingerprints are gone from the students' side, so never shared
    found = []
    for i, a in enumerate(units):
        for b in units[i + 1:] + refs:
            m = compare(a, b)
            if m is not None and m.score >= threshold:
                found.append(m)
    found.sort(key=lambda m: (-m.score, m.a.label, m.b.label))
    return found


# ---------------------------------------------------------------- the HTML report

_CSS = """body{font-family:sans-serif;max-width:90em;margin:2em auto}table{border-collapse:collapse;width:100%}
td{vertical-align:top;border:1px solid #ccc;padding:.4em;width:50%}pre{white-space:pre-wrap;font-size:.85em;margin:0}
mark{background:#ffd27f}h3{margin-bottom:.2em}.note{background:#eef;padding:.6em;border:1px solid #99c}"""


def _side(unit: Unit, slices) -> str:
    if len(slices) and np.asarray(slices).shape[-1] > 0:
        text, _ = highlight_overlap(unit.code, np.asarray(slices), "\x00", "\x01")
    else:
        text = unit.code
    return html.escape(text).replace("\x00", "<mark>").replace("\x01", "</mark>")


def write_report(path: Path, assignment: str, by_task: dict[str, list[Match]], threshold: float, n_students: int) -> Path:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(assignment)}: similar answers</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(assignment)}: similar answer cells</h1>",
             f"<p class='note'>{n_students} submissions; pairs of answer cells whose similarity is at least "
             f"{threshold:.0%} after normalisation (names, comments, docstrings and formatting ignored). This report "
             "flags pairs for a person to read; it never changes a grade. Short answers look alike by necessity, "
             "and course_lib's reference models are given to students with the lectures.</p>"]
    for task, matches in by_task.items():
        parts.append(f"<h2>{e(task)}: {len(matches)} pair(s)</h2>")
        for m in matches:
            kind = "classmate" if m.b.is_student else "course code"
            parts.append(f"<h3>{e(m.a.label)} and {e(m.b.label)} ({kind}): {m.score:.0%}</h3>")
            parts.append(f"<table><tr><td><pre>{_side(m.a, m.slices[0])}</pre></td>"
                         f"<td><pre>{_side(m.b, m.slices[1])}</pre></td></tr></table>")
    parts.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the command


def _student_answers(source: Path, assignment, course_root: Path, log, preset=None) -> dict[str, dict[str, str]]:
    """student -> task -> answer cell source, from a folder of student folders, an LMS zip, or the grade
    command's output folder (then the answers recorded in <course>/grading/autograded/)."""
    from autograder import collect, notebooks

    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        if source.is_file() and source.suffix.lower() == ".zip":
            subs = collect.from_zip(source, assignment.name, assignment.notebook_name, Path(tmp), log, preset=preset)
        elif source.is_dir():
            folder = source
            if (source / "scores.csv").exists():
                folder = course_root / "grading" / "autograded"
                if not folder.is_dir():
                    raise FileNotFoundError(f"{source} holds grading results but no notebooks, and {folder} does not "
                                            "exist: pass the submissions folder or zip instead")
            subs = collect.from_folder(folder, assignment.name, assignment.notebook_name, log)
        else:
            raise FileNotFoundError(f"{source} is neither a folder of submissions nor a .zip")
        out = {}
        for sub in subs:
            if sub.status or sub.notebook is None:
                continue
            try:
                nb = notebooks.read_notebook(sub.notebook)
            except notebooks.NotebookError:
                continue
            cells = {}
            for cell in notebooks.answer_cells(nb, assignment.task_names):
                cells[cell.task] = cell.raw
            out[sub.student_id] = cells
    return out


def run_command(name: str, grading_dir: Path, course, threshold: float, out: Path | None, preset=None) -> int:
    """`preset`: an autograder.lms preset for an LMS zip (Canvas, Moodle names)."""
    import sys

    from autograder import notebooks
    from autograder.grade import load_assignment

    if not 0 < threshold <= 1:
        print("error: --threshold is a share between 0 and 1, e.g. 0.8", file=sys.stderr)
        return 2
    assignment = load_assignment(name, course)
    try:
        answers = _student_answers(Path(grading_dir), assignment, course.root, lambda m: None, preset)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    library = library_units(course.root)
    solution = {c.task: c.raw for c in notebooks.answer_cells(assignment.source_nb, assignment.task_names)}
    released_path = course.assignments / name / assignment.notebook_name
    stubs = {}
    if released_path.exists():
        stubs = {c.task: c.raw for c in notebooks.answer_cells(notebooks.read_notebook(released_path),
                                                                   assignment.task_names)}
    by_task = {}
    for task in assignment.task_names:
        refs = list(library)
        if task in solution:
            sol = fingerprint(f"solution {task}", solution[task])
            sol.is_student = False
            refs.append(sol)
        cells = {sid: c[task] for sid, c in answers.items() if c.get(task, "").strip()}
        by_task[task] = find_pairs(cells, refs, threshold, stubs.get(task, ""))
    path = write_report(out or Path(grading_dir if Path(grading_dir).is_dir() else Path(grading_dir).parent)
                        / "similarity.html", name, by_task, threshold, len(answers))
    for task, matches in by_task.items():
        for m in matches[:10]:
            print(f"{task}: {m.a.label} ~ {m.b.label} {m.score:.0%}")
    print(f"wrote {path} ({sum(len(v) for v in by_task.values())} pair(s) at or above {threshold:.0%}; "
          "nothing was changed in any grade)")
    return 0
