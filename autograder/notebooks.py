"""Notebooks as data (nbformat, never imported or executed here): answer cells, points, validation."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class NotebookError(Exception):
    """A submission that cannot be read as a notebook; `status` is the scores.csv status."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _source(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(str(s) for s in src)
    return str(src)


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {})
    nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbg if isinstance(nbg, dict) else {}


def read_notebook(path: Path):
    """Read a notebook strictly: size, UTF-8, JSON, nbformat 4. Raises NotebookError."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise NotebookError("invalid_notebook", "the notebook file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError("invalid_notebook", f"the notebook is {size / 2**20:.0f} MB, over the "
                                                f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotebookError("invalid_notebook", f"the notebook is not UTF-8 text (byte {err.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise NotebookError("invalid_notebook", f"the notebook is not valid JSON (line {err.lineno}: {err.msg}); "
                                                "was it saved completely?") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("invalid_notebook", "the file is JSON but not a Jupyter notebook (no cell list)")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat's own errors vary
        raise NotebookError("invalid_notebook", f"the notebook could not be read by nbformat: {err}") from None
    return nb


@dataclass
class AnswerCell:
    task: str
    source: str
    index: int


def answer_cells(nb, task_names) -> list[AnswerCell]:
    """The code cells whose nbgrader grade_id is a task name, in notebook order (duplicates kept)."""
    names = set(task_names)
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = _nbgrader(cell).get("grade_id")
        if gid in names:
            found.append(AnswerCell(gid, _source(cell), i))
    return found


def setup_source(nb) -> str:
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and _nbgrader(cell).get("grade_id") == "setup":
            return _source(cell)
    raise NotebookError("invalid_source", "the solution notebook has no setup cell (grade_id 'setup')")


def grade_cells(nb) -> list[tuple[str, float, str]]:
    """(grade_id, points, cell_type) of every graded cell (test cells and manually graded answers)."""
    out = []
    for cell in nb.cells:
        nbg = _nbgrader(cell)
        if nbg.get("grade"):
            out.append((str(nbg.get("grade_id")), float(nbg.get("points", 0) or 0), cell.get("cell_type")))
    return out


def task_of_grade_id(grade_id: str, task_names) -> str | None:
    """The task a test cell belongs to: the longest task name followed by '_' that starts its id."""
    best = None
    for name in task_names:
        if grade_id.startswith(name + "_") and (best is None or len(name) > len(best)):
            best = name
    return best


def task_points(nb, task_names) -> dict[str, float]:
    points = {name: 0.0 for name in task_names}
    for gid, pts, _ in grade_cells(nb):
        task = task_of_grade_id(gid, task_names)
        if task is not None:
            points[task] += pts
    return points


def manual_points(nb, task_names) -> float:
    return sum(pts for gid, pts, _ in grade_cells(nb) if task_of_grade_id(gid, task_names) is None)


def notebook_assignment_hint(nb) -> set[str]:
    """All grade_ids in a notebook (used to tell a notebook of another assignment)."""
    return {str(_nbgrader(c).get("grade_id")) for c in nb.cells if _nbgrader(c).get("grade_id")}


def solution_sources(nb) -> dict[str, str]:
    """grade_id -> source of every answer cell (nbgrader solution cells: code and written answers);
    for duplicated ids the last one wins, as when the notebook runs top to bottom."""
    out = {}
    for cell in nb.cells:
        nbg = _nbgrader(cell)
        if nbg.get("solution") and nbg.get("grade_id"):
            out[str(nbg["grade_id"])] = _source(cell)
    return out
