"""The committed student versions in assignments/ are exactly what nbgrader generates from solutions/.

For every assignment folder under solutions/, run `nbgrader generate_assignment` on a copy of it in a
temporary course directory and compare the result with the committed assignments/<name>/: the same
files; for notebooks the same cells (type, source, nbgrader metadata) and notebook metadata; other
files byte for byte. Cell ids and outputs are ignored (ids are random when a builder script writes a
notebook, and student versions carry no outputs).

When this fails, regenerate with `make assignments` (or
    nbgrader generate_assignment <name> --force --no-db
in the repository root) and commit assignments/<name>/.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__"}
# nbgrader metadata keys that may change between runs without any change in content: none in
# nbgrader 0.9 (the checksum is a hash of the cell's source and metadata), kept here as the one place
# to add one if a later nbgrader adds a timestamp or similar.
VOLATILE_NBGRADER_KEYS: set[str] = set()


def _assignment_names() -> list[str]:
    src = ROOT / "solutions"
    if not src.is_dir():
        return []
    return sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and any(p.glob("*.ipynb")))


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not (SKIP_PARTS & set(p.relative_to(folder).parts))}


def _nbgrader_executable() -> list[str]:
    candidate = Path(sys.executable).parent / "nbgrader"
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which("nbgrader")
    if found:
        return [found]
    pytest.skip("the nbgrader command is not installed")


def _cell_summary(cell) -> dict:
    nbg = {k: v for k, v in cell.get("metadata", {}).get("nbgrader", {}).items() if k not in VOLATILE_NBGRADER_KEYS}
    return {"cell_type": cell["cell_type"], "source": cell["source"], "nbgrader": nbg}


def _compare_notebooks(committed: Path, fresh: Path) -> list[str]:
    a = nbformat.read(committed, as_version=4)
    b = nbformat.read(fresh, as_version=4)
    problems = []
    if dict(a.metadata) != dict(b.metadata):
        problems.append(f"notebook metadata differs: committed {dict(a.metadata)} vs generated {dict(b.metadata)}")
    if len(a.cells) != len(b.cells):
        problems.append(f"{len(a.cells)} cells committed, {len(b.cells)} generated")
    for i, (ca, cb) in enumerate(zip(a.cells, b.cells)):
        sa, sb = _cell_summary(ca), _cell_summary(cb)
        for key in ("cell_type", "source", "nbgrader"):
            if sa[key] != sb[key]:
                gid = sb["nbgrader"].get("grade_id", "-")
                problems.append(f"cell {i} (grade_id {gid}): {key} differs")
    return problems


def test_every_solution_has_a_generated_assignment():
    missing = [n for n in _assignment_names() if not (ROOT / "assignments" / n).is_dir()]
    assert not missing, (f"no student version committed for {missing}: run "
                         f"`nbgrader generate_assignment NAME --force --no-db` and commit assignments/NAME/")


@pytest.mark.parametrize("name", _assignment_names())
def test_committed_assignment_matches_generated(name, tmp_path):
    committed_dir = ROOT / "assignments" / name
    if not committed_dir.is_dir():
        pytest.fail(f"assignments/{name}/ is missing: run `nbgrader generate_assignment {name} --force --no-db`")
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name,
                    ignore=shutil.ignore_patterns(*SKIP_PARTS))
    proc = subprocess.run(_nbgrader_executable() + ["generate_assignment", name, "--force", "--no-db"],
                          cwd=course, capture_output=True, text=True, timeout=300)
    fresh_dir = course / "assignments" / name
    assert proc.returncode == 0 and fresh_dir.is_dir(), \
        f"nbgrader generate_assignment {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"

    committed, fresh = _files(committed_dir), _files(fresh_dir)
    fix = (f"regenerate with `make assignments` or `nbgrader generate_assignment {name} --force --no-db` "
           f"and commit assignments/{name}/")
    assert sorted(committed) == sorted(fresh), \
        f"assignments/{name}/ holds {sorted(committed)} but nbgrader generates {sorted(fresh)}; {fix}"
    problems = []
    for rel in sorted(fresh):
        if rel.endswith(".ipynb"):
            problems += [f"{rel}: {p}" for p in _compare_notebooks(committed[rel], fresh[rel])]
        elif committed[rel].read_bytes() != fresh[rel].read_bytes():
            problems.append(f"{rel}: contents differ")
    assert not problems, f"assignments/{name}/ is out of date with solutions/{name}/; {fix}:\n" + "\n".join(problems[:20])
