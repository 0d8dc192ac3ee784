"""Notebooks as data (nbformat, never imported or executed here): answer cells, points, validation.

Exactly the reviewed code is graded: a task's answer cell is the code cell whose nbgrader metadata has
`solution: true` and `grade_id` equal to the task's name (what formgrader shows the reviewer as the
answer). Cells become Python through IPython's own input transformer, the one the kernel uses, so a
line such as `    != b)` inside brackets stays Python while `%matplotlib` or `!pip` become calls on a
stand-in shell that does nothing during grading. `placement()` reads which top-level names each cell
binds (with `ast`, before anything runs) and withholds credit from a task whose graded definition
would come from somewhere other than its own answer cell.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
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


# ---------------------------------------------------------------- cells as Python

# Cell magics whose body is Python the kernel runs in the notebook's namespace: the body is graded.
# Any other cell magic (%%bash, %%writefile, %%html...) is not Python and does nothing here.
PYTHON_BODY_CELL_MAGICS = ("time", "capture")

# Prepended to the setup cell: what `get_ipython()` returns during grading. Magics and shell escapes
# mean nothing in the sandbox (no shell, no network, no display), so each call does nothing, and
# so do the shell's other attributes (get_ipython().events.register(...)).
SHELL_STANDIN = """class _GradingShell:
    def __getattr__(self, name):
        return self
    def __call__(self, *args, **kwargs):
        return None
    def getoutput(self, *args, **kwargs):
        return []
def get_ipython():
    return _GradingShell()
"""

_TRANSFORMER = None


def to_python(source: str) -> str:
    """A cell's source as the kernel would run it (IPython's TransformerManager)."""
    global _TRANSFORMER
    if _TRANSFORMER is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _TRANSFORMER = TransformerManager()
    try:
        code = _TRANSFORMER.transform_cell(source)
    except Exception:  # IPython could not read it: compile the text as written (its error is the student's)
        return source
    body = _python_cell_magic_body(code)
    return to_python(body) if body is not None else code


def _python_cell_magic_body(code: str) -> str | None:
    """The body of `%%time`-like cell magics: the transformer turns the whole cell into one
    `get_ipython().run_cell_magic(name, line, body)` call."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "run_cell_magic" and len(call.args) == 3
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return None
    name, _, body = (a.value for a in call.args)
    return body if name in PYTHON_BODY_CELL_MAGICS else None


def bound_names(code: str) -> set[str]:
    """The names a cell binds in the notebook's namespace: top-level def/class/import/assignment
    targets (inside if/for/while/try/with too) and names a function declares `global`. Names bound
    only dynamically (globals()[...] or exec) are not seen. A cell that does not parse binds nothing."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()

    def visit(node, top: bool):
        if isinstance(node, ast.Global):
            names.update(node.names)
        if top:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name != "*":
                        names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, ast.MatchAs) and node.name:
                names.add(node.name)
        # Function and class bodies, lambdas and comprehensions have their own scopes.
        inner = top and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                                              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    for stmt in tree.body:
        visit(stmt, True)
    return names


@dataclass
class AnswerCell:
    task: str
    source: str              # Python, as the kernel runs it (see to_python)
    index: int               # position in the notebook
    raw: str = ""            # the text the student wrote
    binds: frozenset = field(default_factory=frozenset)


def _is_answer(cell, names) -> bool:
    nbg = _nbgrader(cell)
    return cell.get("cell_type") == "code" and nbg.get("solution") is True and nbg.get("grade_id") in names


def answer_cells(nb, task_names) -> list[AnswerCell]:
    """The answer cells (code, nbgrader `solution: true`, grade_id a task name), in notebook order
    (duplicates kept), as Python."""
    names = set(task_names)
    found = []
    for i, cell in enumerate(nb.cells):
        if _is_answer(cell, names):
            raw = _source(cell)
            code = to_python(raw)
            found.append(AnswerCell(_nbgrader(cell)["grade_id"], code, i, raw, frozenset(bound_names(code))))
    return found


@dataclass
class Placement:
    """Per task: why it is not credited (the message), and notes to show with its result."""
    uncredited: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


def placement(nb, cells: list[AnswerCell], targets: dict[str, str]) -> Placement:
    """Where each task's graded name is defined, read before grading. `targets`: task -> the name
    its answer cell must define. The grader runs the answer cells in order, so the definition it
    would grade is the last answer cell that binds the name; when that cell is another task's, the
    task is not credited (the reviewer reads the task's own cell)."""
    out = Placement()
    names = set(targets)
    for i, cell in enumerate(nb.cells):
        gid = _nbgrader(cell).get("grade_id")
        if cell.get("cell_type") == "code" and gid in names and not _is_answer(cell, names):
            out.notes.setdefault(gid, []).append(
                f"cell {i + 1} (counting every cell from the top) carries grade_id '{gid}' but is not an answer cell (its nbgrader 'solution' flag "
                "is off), so it is not graded: write the answer in the answer cell you were given")
    for task, target in targets.items():
        binders = [c for c in cells if target in c.binds]
        if not binders:
            elsewhere = [i for i, cell in enumerate(nb.cells) if cell.get("cell_type") == "code"
                         and not _is_answer(cell, names) and target in bound_names(to_python(_source(cell)))]
            if elsewhere:
                out.notes.setdefault(task, []).append(
                    f"{target} is defined in cell {elsewhere[-1] + 1} (counting every cell from the top), which is not an answer cell; only answer cells "
                    f"are graded: put the definition in the answer cell with grade_id '{task}'")
            continue
        last = binders[-1]
        if last.task == task:
            continue
        own = any(c.task == task for c in binders)
        if own:
            why = (f"{target} is defined again in the answer cell of {last.task} (cell {last.index + 1}), after its "
                   f"own answer cell, so that definition would be graded instead of the one reviewed")
        else:
            why = (f"{target} is defined in the answer cell of {last.task} (cell {last.index + 1}), not in its own "
                   f"answer cell (grade_id '{task}')")
        out.uncredited[task] = (f"not credited: {why}. Each task is graded from its own answer cell, the code the "
                                f"reviewer reads: define {target} there and only there "
                                "(rename a helper copy in another cell)")
    return out


def setup_source(nb) -> str:
    """The instructor's setup cell as Python, after the stand-in for IPython's shell."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and _nbgrader(cell).get("grade_id") == "setup":
            return SHELL_STANDIN + to_python(_source(cell))
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
