"""`make student-bundle`: dist/student-course.zip with what students get and nothing instructors keep.

Included: lectures/, assignments/ (student versions), course_lib/, environment.yml, requirements.txt,
pyproject.toml, Makefile, STYLE.md, scripts/setup_lab.py (run by `make setup`), and a student README.
Left out: solutions/, autograder/ (task definitions, hidden inputs), tests/ (mutants, fixtures),
bench/, the gradebook, grading output, nbgrader_config.py. `solution_leaks()` checks that no solution
cell's code appears in the bundle.
"""
from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
INCLUDE_DIRS = ["lectures", "assignments", "course_lib"]
INCLUDE_FILES = ["environment.yml", "requirements.txt", "pyproject.toml", "Makefile", "STYLE.md", "scripts/setup_lab.py"]
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}

STUDENT_README = """# Deep autoregressive generative models: student edition

```bash
make lab    # set up .venv (first time only) and open the course in JupyterLab
```

- `lectures/`: the lecture notebooks; run them top to bottom, play with the widgets.
- `assignments/<name>/<name>.ipynb`: your assignments. Fill in the cells marked `# YOUR CODE HERE`
  (remove the `raise NotImplementedError()`), answer the written questions, and run the visible
  tests (or press "Validate" in the Nbgrader toolbar) before you submit.
- Submit the notebook itself, with its original name and without renaming or deleting cells: each
  answer cell is graded by its nbgrader id. Test cells are replaced by the graders' own checks, so
  editing them does not change your grade.
- Grading calls your functions on hidden inputs in a sandbox: `course_lib.models` is not available
  there, answer cells must not depend on code in other (non-answer) cells, and printing or warnings
  never cost points.

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
        info = zipfile.ZipInfo("student-course/README.md", date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, STUDENT_README)
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


def solution_leaks(zip_path: Path, root: Path = ROOT) -> list[str]:
    """Every solution snippet found in any file of the bundle (notebook JSON is decoded first)."""
    texts = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            raw = zf.read(name)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if name.endswith(".ipynb"):
                try:
                    nb = nbformat.reads(text, as_version=4)
                    text = "\n".join(c.source for c in nb.cells)
                except Exception:
                    pass
            texts[name] = _norm(text)
    leaks = []
    for where, snippet in solution_snippets(root):
        s = _norm(snippet)
        for name, text in texts.items():
            if s and s in text:
                leaks.append(f"{where} found in {name}: {snippet.strip()[:80]!r}")
    return leaks


def main() -> int:
    out = build()
    leaks = solution_leaks(out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    print(f"wrote {out} ({len(names)} files, {out.stat().st_size / 1024:.0f} KB)")
    if leaks:
        print(f"WARNING: {len(leaks)} solution snippet(s) appear in the bundle:")
        for leak in leaks[:20]:
            print("  " + leak)
        return 1
    print("no solution code found in the bundle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
