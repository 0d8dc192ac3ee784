"""`make student-bundle`: dist/student-course.zip with what students get and nothing instructors keep.

Included: lectures/, assignments/ (student versions), course_lib/, environment.yml, requirements.txt,
pyproject.toml, STYLE.md, scripts/setup_lab.py, a student README and a student Makefile (`make lab`, `make validate`; the
instructor Makefile's grading targets would fail there). Left out: solutions/, autograder/ (task
definitions, hidden inputs), tests/ (mutants, fixtures), bench/, the gradebook, grading output,
nbgrader_config.py.

`solution_leaks()` looks for each solution and hidden-test block of the solution notebooks in every
piece of code of the bundle with the similarity report's normalisation (autograder/similarity.py:
docstrings, comments, formatting and names ignored), so a copy with renamed variables or reordered
lines is found too. The lecture library's reference models (`REFERENCE_CODE`) implement graded
tasks on purpose (the lectures train them); matches there are listed as such, not counted as leaks,
and the student README says so plainly.
"""
from __future__ import annotations

import ast
import re
import sys
import zipfile
from pathlib import Path

import nbformat

from autograder import protocol

ROOT = Path(__file__).resolve().parents[1]
INCLUDE_DIRS = ["lectures", "assignments", "course_lib"]
INCLUDE_FILES = ["environment.yml", "requirements.txt", "pyproject.toml", "STYLE.md", "scripts/setup_lab.py"]
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
# Bundle paths whose code may match solutions: the reference models the lectures use. The grader
# hides these modules from submissions.
REFERENCE_CODE = tuple(m.replace(".", "/") + ("/" if (ROOT / m.replace(".", "/")).is_dir() else ".py")
                       for m in protocol.HIDDEN_MODULES)
LEAK_SHARE = 0.7   # share of a solution block found in one piece of bundled code that counts as a leak

STUDENT_MAKEFILE = """# The student edition's commands. `make lab` sets up .venv the first time.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_ARGS ?=
A ?=

.PHONY: setup lab validate

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.txt
\t@test -x $(PY) || $(PYTHON) -m venv $(VENV)
\t$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
\t$(PY) -m pip install --disable-pip-version-check -q -e .
\t$(PY) scripts/setup_lab.py   # the course kernel (thread policy) and JupyterLab settings
\t@touch $@

lab: setup  ## open the course in JupyterLab; e.g. make lab LAB_ARGS="--no-browser --ip=0.0.0.0 --port=8890"
\t$(VENV)/bin/jupyter lab --notebook-dir=. $(ROOT_FLAG) $(LAB_ARGS)

validate: setup  ## run the visible tests of every assignment (or one: make validate A=a2_nade_made)
\t$(VENV)/bin/nbgrader validate $(if $(A),assignments/$(A)/$(A).ipynb,assignments/*/*.ipynb)
"""

STUDENT_README = """# Deep autoregressive generative models: student edition

```bash
make lab        # set up .venv (first time only) and open the course in JupyterLab
make validate   # run the visible tests of your assignments (make validate A=a2_nade_made for one)
```

On a headless server: `make lab LAB_ARGS="--no-browser --ip=0.0.0.0 --port=8890"`.

- `lectures/`: the lecture notebooks; run them top to bottom, play with the widgets.
- `assignments/<name>/<name>.ipynb`: your assignments. Fill in the cells marked `# YOUR CODE HERE`
  (remove the `raise NotImplementedError()`), answer the written questions, and run the visible
  tests (`make validate`, or "Validate" in the Nbgrader toolbar) before you submit.
- Submit the notebook itself, with its original name and without renaming or deleting cells: each
  answer cell is graded by its nbgrader id, and only the answer cells are graded. Define each graded
  function or class in its own answer cell: a definition placed in another cell is not credited.
  Test cells are replaced by the graders' own checks, so editing them does not change your grade.
- Grading calls your functions on hidden inputs in a sandbox: answer cells must not depend on code
  in other (non-answer) cells, and printing or warnings never cost points.
- **The lecture library contains reference models.** `course_lib/models/` (and
  `course_lib/receptive_field.py`) hold the course's own implementations of NADE, MADE, PixelCNN,
  WaveNet, VRNN, STCN and more, some of them answers to graded tasks: the lectures need them to train
  and compare full models. They are not available during grading, and the instructors compare every
  answer cell with them and with each other (names and formatting do not hide a copy). Write your
  own answers.

Everything runs on a CPU, offline. The pins are for Python 3.11 (`PYTHON=python3.11 make lab`).
"""


def bundle_files(root: Path = ROOT) -> list[Path]:
    files = []
    for d in INCLUDE_DIRS:
        for p in sorted((root / d).rglob("*")):
            if p.is_file() and not (SKIP_PARTS & set(p.parts)) and p.suffix not in (".pyc", ".db"):
                files.append(p)
    files += [root / f for f in INCLUDE_FILES if (root / f).exists()]
    return files


def build(out: Path = ROOT / "dist" / "student-course.zip", root: Path = ROOT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in bundle_files(root):
            info = zipfile.ZipInfo(f"student-course/{p.relative_to(root).as_posix()}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, p.read_bytes())
        for name, text in (("README.md", STUDENT_README), ("Makefile", STUDENT_MAKEFILE)):
            info = zipfile.ZipInfo(f"student-course/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return out


_BLOCK = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def solution_snippets(root: Path = ROOT, min_chars: int = 60) -> list[tuple[str, str]]:
    """(where, code) for every solution and hidden-test block of every solution notebook. Blocks
    shorter than `min_chars` (whitespace collapsed; e.g. a one-line `return torch.sigmoid(x)`) are
    skipped: such a line can honestly appear in a lecture, and it gives nothing away."""
    out = []
    for src in sorted((root / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(src, as_version=4)
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
            for kind, block in _BLOCK.findall(cell.source):
                if len(_norm(block)) >= min_chars:
                    out.append((f"{src.name} {gid} ({kind.lower()})", block))
    return out


def _norm(text: str) -> str:
    return " ".join(text.replace("\\n", "\n").replace('\\"', '"').split())


def _dedent_block(block: str) -> str:
    """A solution block as code that parses: its common indentation removed."""
    import textwrap

    return textwrap.dedent(block)


def bundle_units(zip_path: Path) -> list:
    """Each piece of code in the bundle as a similarity unit: every top-level function and class of
    a .py file (and the rest of the file), and every code cell of a notebook."""
    from autograder import notebooks, similarity

    units = []
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            try:
                text = zf.read(name).decode("utf-8")
            except UnicodeDecodeError:
                continue
            pieces = []
            if name.endswith(".ipynb"):
                try:
                    nb = nbformat.reads(text, as_version=4)
                except Exception:
                    pieces = [text]
                else:
                    pieces = [notebooks.to_python(c.source) for c in nb.cells if c.get("cell_type") == "code"]
            elif name.endswith(".py"):
                try:
                    tree = ast.parse(text)
                    pieces = [ast.get_source_segment(text, n) or "" for n in tree.body
                              if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
                except SyntaxError:
                    pass
                pieces.append(text)
            else:
                pieces = [text]
            for i, piece in enumerate(pieces):
                if piece.strip():
                    units.append(similarity.fingerprint(f"{name}#{i}", piece))
    return units


def find_solution_code(zip_path: Path, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(leaks, reference matches): each solution block whose normalised code is found, at least
    LEAK_SHARE of it, in one piece of the bundle; matches in REFERENCE_CODE are the second list."""
    from autograder import similarity

    units = bundle_units(zip_path)
    leaks, reference = [], []
    for where, snippet in solution_snippets(root):
        block = similarity.fingerprint(where, _dedent_block(snippet))
        hits = {}
        for u in units:
            m = similarity.compare(block, u)
            if m is None:
                continue
            _, sims, _ = similarity.compare_files(block.fp, u.fp)
            if sims[0] >= LEAK_SHARE:
                path = u.label.rsplit("#", 1)[0]
                hits[path] = max(hits.get(path, 0.0), float(sims[0]))
        for path, share in sorted(hits.items()):
            line = f"{where} found in {path} ({share:.0%} of it): {snippet.strip()[:60]!r}"
            # paths inside the student bundle start with its folder; a Gradescope zip has none
            in_course = path.removeprefix("student-course/")
            (reference if in_course.startswith(REFERENCE_CODE) else leaks).append(line)
    return leaks, reference


def solution_leaks(zip_path: Path, root: Path = ROOT) -> list[str]:
    """Every solution block found in the bundle outside the reference models (see find_solution_code)."""
    return find_solution_code(zip_path, root)[0]


def main() -> int:
    out = build()
    leaks, reference = find_solution_code(out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    print(f"wrote {out} ({len(names)} files, {out.stat().st_size / 1024:.0f} KB)")
    print(f"The lecture library contains reference models: {len(reference)} solution block(s) match code in "
          f"{', '.join(REFERENCE_CODE)} (shipped on purpose for the lectures; hidden "
          "during grading; the student README says so; the similarity report compares answers with them).")
    for line in reference[:40]:
        print("  " + line)
    if leaks:
        print(f"WARNING: {len(leaks)} solution block(s) appear elsewhere in the bundle (renamed or reordered "
              "copies count):")
        for leak in leaks[:20]:
            print("  " + leak)
        return 1
    print("no solution code found outside the reference models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
