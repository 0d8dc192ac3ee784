"""The committed student versions in assignments/ are exactly what nbgrader generates from solutions/.

For every assignment folder under solutions/, run nbgrader's generate_assignment converter (what
`nbgrader generate_assignment NAME --force --no-db` runs, all assignments in one process) on a copy in a
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


# `nbgrader generate_assignment NAME --force --no-db` for several assignments in one process: starting
# nbgrader once instead of once per assignment makes the test several times faster. The settings are
# exactly what the command line's --force and --no-db flags set.
_GENERATE = """
import sys
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
config.BaseConverter.force = True          # --force
config.SaveCells.enabled = False           # --no-db
config.GenerateAssignment.no_database = True
for name in sys.argv[1:]:
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = name
    GenerateAssignment(coursedir=coursedir, config=config).start()
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A temporary course directory holding a fresh assignments/ generated from every solution."""
    pytest.importorskip("nbgrader")
    names = _assignment_names()
    course = tmp_path_factory.mktemp("course")
    (course / "solutions").mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for name in names:
        shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name,
                        ignore=shutil.ignore_patterns(*SKIP_PARTS))
    proc = subprocess.run([sys.executable, "-c", _GENERATE] + names, cwd=course, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"nbgrader could not generate {names}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return course / "assignments"


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
def test_committed_assignment_matches_generated(name, generated):
    committed_dir = ROOT / "assignments" / name
    if not committed_dir.is_dir():
        pytest.fail(f"assignments/{name}/ is missing: run `make assignments` or "
                    f"`nbgrader generate_assignment {name} --force --no-db`")
    fresh_dir = generated / name
    assert fresh_dir.is_dir(), f"nbgrader generated nothing for {name}"

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
