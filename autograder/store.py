"""The class's results, one student at a time: `<grading dir>/store/<student_id>/result.json`.

Every grading run (a batch, a late batch, `--only ID`, a shard) writes each finished student's whole
result record here, and scores.csv / grades.csv are regenerated from all the records, so batches add
up to the class. A record holds every field grade.py produced for the student and each task (checks
and messages included), the sha256 of the submitted file and the digest of what the grade depends on
(file, grader, limits), so a run can resume an unchanged student and `feedback` can re-render every
student's page later without grading again.

Only the grader writes here, from results it has already parsed and validated; nothing the sandbox
sends is stored as it came. Records are read back strictly (the assignment's tasks, numbers where
numbers belong); one that does not fit is reported and left out, never half-used.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

FOLDER = "store"
RECORD = "result.json"
FORMAT = 1
_ARRAY, _BYTES = "__store_ndarray__", "__store_bytes__"


class StoreError(Exception):
    """A record that cannot be used; the message says which and what to do."""


def file_sha256(path) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _encode(obj):
    """json.dumps default: numpy arrays and scalars, bytes, sets and paths as JSON."""
    if isinstance(obj, np.ndarray):
        return {_ARRAY: {"dtype": obj.dtype.str, "shape": list(obj.shape), "data": obj.ravel().tolist()}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (bytes, bytearray)):
        return {_BYTES: base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store a {type(obj).__name__}")


def _decode(obj: dict):
    if set(obj) == {_ARRAY}:
        spec = obj[_ARRAY]
        return np.asarray(spec["data"], dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
    if set(obj) == {_BYTES}:
        return base64.b64decode(obj[_BYTES])
    return obj


def _path(out: Path, student_id: str) -> Path:
    return Path(out) / FOLDER / student_id / RECORD


def save(out: Path, assignment_name: str, result, sha256: str | None, digest: str, unsafe: bool) -> None:
    """Write one student's record at once (a reader or a crash sees the old record or the new one)."""
    record = {"format": FORMAT, "assignment": assignment_name, "file_sha256": sha256, "digest": digest,
              "unsafe": bool(unsafe), "result": dataclasses.asdict(result)}
    path = _path(out, result.student_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{RECORD}.tmp")
    tmp.write_text(json.dumps(record, default=_encode, allow_nan=True), encoding="utf-8")
    os.replace(tmp, path)


@dataclasses.dataclass
class Stored:
    result: object            # grade.StudentResult
    file_sha256: str | None
    digest: str
    unsafe: bool

    @property
    def scores(self) -> list[tuple[str, float, str]]:
        return [(t.task, round(t.score, 2), t.status) for t in self.result.tasks]


def _build(cls, data: dict):
    """A dataclass from a stored dict: its fields by name; fields a newer or older grader wrote
    that this one does not know are kept as attributes."""
    names = {f.name for f in dataclasses.fields(cls)}
    obj = cls(**{k: v for k, v in data.items() if k in names})
    for k, v in data.items():
        if k not in names:
            setattr(obj, k, v)
    return obj


def _number(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise StoreError(f"{what} is not a number")
    return float(x)


def _load_one(path: Path, assignment) -> Stored:
    from autograder.grade import StudentResult, TaskResult

    try:
        record = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
    except (OSError, ValueError, UnicodeDecodeError, TypeError, KeyError) as err:
        raise StoreError(f"{path} cannot be read ({type(err).__name__})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("result"), dict):
        raise StoreError(f"{path} is not a result record of this grader")
    if record.get("assignment") != assignment.name:
        raise StoreError(f"{path} belongs to assignment {record.get('assignment')!r}, not {assignment.name}")
    data = dict(record["result"])
    sid = data.get("student_id")
    if not isinstance(sid, str) or sid != path.parent.name:
        raise StoreError(f"{path} is filed under {path.parent.name!r} but records student {sid!r}")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or [t.get("task") if isinstance(t, dict) else None for t in tasks] != assignment.task_names:
        raise StoreError(f"{path} does not hold the tasks {assignment.task_names} (graded with another version "
                         "of the assignment?)")
    rows = []
    for t in tasks:
        t = dict(t)
        t["score"] = _number(t.get("score"), f"{path}: {t['task']}'s score")
        t["max_score"] = _number(t.get("max_score"), f"{path}: {t['task']}'s max_score")
        if not isinstance(t.get("status"), str) or not isinstance(t.get("message"), str):
            raise StoreError(f"{path}: {t['task']} has no status or message")
        t["checks"] = [tuple(c) for c in t.get("checks") or []]
        rows.append(_build(TaskResult, t))
    data["tasks"] = rows
    return Stored(_build(StudentResult, data), record.get("file_sha256"), str(record.get("digest") or ""),
                  bool(record.get("unsafe")))


def load(out: Path, assignment, log=print) -> dict[str, Stored]:
    """student_id -> Stored for every usable record of the assignment under `out`; a record that
    does not fit is logged (with what to do) and left out."""
    folder = Path(out) / FOLDER
    found = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*/{RECORD}")):
        try:
            found[path.parent.name] = _load_one(path, assignment)
        except StoreError as err:
            log(f"warning: {err}; this student is left out of the class files until graded again "
                f"(grade ... --only {path.parent.name})")
    return found


def outcome(previous: Stored | None, sha256: str | None, result) -> str:
    """added (new to the class), unchanged (the same file and the same scores) or replaced."""
    if previous is None:
        return "added"
    now = [(t.task, round(t.score, 2), t.status) for t in result.tasks]
    if previous.file_sha256 == sha256 and previous.scores == now:
        return "unchanged"
    return "replaced"
