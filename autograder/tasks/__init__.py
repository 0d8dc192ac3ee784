"""One module per assignment: `autograder/tasks/<assignment>.py` defines `TASKS` (see taskapi.py).

These modules are instructor files: they hold the hidden inputs' seeds and the checks, so they are
never visible inside the sandbox and never shipped to students.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available(tasks_dir: Path | None = None) -> list[str]:
    folder = Path(tasks_dir) if tasks_dir else HERE
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def module_path(assignment: str, tasks_dir: Path | None = None) -> Path:
    return (Path(tasks_dir) if tasks_dir else HERE) / f"{assignment}.py"


def load(assignment: str, tasks_dir: Path | None = None):
    """Import the task module of `assignment` (from `tasks_dir` when given, for tests)."""
    path = module_path(assignment, tasks_dir)
    if not path.exists():
        raise FileNotFoundError(f"no task definitions for {assignment!r}: expected {path}")
    spec = importlib.util.spec_from_file_location(f"autograder_tasks_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not getattr(module, "TASKS", None):
        raise ValueError(f"{path} defines no TASKS")
    names = [t.name for t in module.TASKS]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate task names {names}")
    return module
