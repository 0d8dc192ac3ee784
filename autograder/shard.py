"""Split a class over a cluster and put the pieces back together.

`grade A SUBMISSIONS --shard I/N` grades only the students whose id falls in shard I of N (0 <= I < N):
shard_of(id) = sha256(id) mod N, so every machine, every run and every scheduler gives the same split
without sharing anything but N. Each shard writes its own output folder with a `shard.json` that
names the students it graded.

`merge OUT SHARD_DIR...` checks that the shards are one complete set (same assignment and N, every
index once, no student twice) and writes into OUT the scores.csv, grades.csv and feedback tree that a
single run would have written, byte for byte (rows sorted by student id as grade.py sorts them, each
row's text kept as the shard wrote it), the class's store (autograder/store.py) of all shards, plus the
shards' gradebooks merged into one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

MANIFEST = "shard.json"
CSV_FILES = ("scores.csv", "grades.csv")


class ShardError(Exception):
    """A user mistake in --shard or merge; the message says what to do."""


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N) with 0 <= I < N (Slurm's array index and Kubernetes' completion index both
    start at 0)."""
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ShardError(f"--shard {text!r}: expected I/N with whole numbers, e.g. --shard 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise ShardError(f"--shard {text!r}: need N >= 1 and 0 <= I < N (shards are numbered from 0)")
    return index, count


def shard_of(student_id: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(student_id.encode("utf-8")).digest()[:8], "big") % count


def select(submissions: list, index: int, count: int) -> list:
    """The submissions of shard `index` of `count`, in their original order."""
    return [s for s in submissions if shard_of(s.student_id, count) == index]


def write_manifest(out: Path, assignment: str, index: int, count: int, student_ids) -> None:
    Path(out, MANIFEST).write_text(json.dumps({"assignment": assignment, "shard": index, "of": count,
                                               "students": sorted(student_ids)}, indent=1) + "\n")


# ---------------------------------------------------------------- merging


def _records(text: str) -> tuple[str, list[str]]:
    """(header line, [record text]) of a CSV file, each record with its line end, exactly as written.
    A record ends at a line end outside quotes (an even number of '"' so far)."""
    lines = io.StringIO(text).readlines()
    if not lines:
        return "", []
    records, chunk = [], ""
    for line in lines[1:]:
        chunk += line
        if chunk.count('"') % 2 == 0:
            records.append(chunk)
            chunk = ""
    if chunk:
        raise ShardError("a CSV file ends inside a quoted field (was the shard's grading interrupted?)")
    return lines[0], records


def _key(record: str, column: str, header: str) -> str:
    names = next(csv.reader([header]))
    return next(csv.reader([record]))[names.index(column)]


def _merge_csv(name: str, shards: list[Path], out: Path) -> None:
    header, groups = None, {}
    for shard in shards:
        path = shard / name
        if not path.is_file():
            raise ShardError(f"{path} is missing: did the shard's grading finish?")
        head, records = _records(path.read_text(encoding="utf-8"))
        if header is None:
            header = head
        elif head != header:
            raise ShardError(f"{path} has other columns than {shards[0] / name}: grade all shards with one version")
        for rec in records:  # a student's rows are contiguous and stay in the shard's (task) order
            sid = _key(rec, "student_id", head)
            groups.setdefault(sid, {}).setdefault(shard, []).append(rec)
    for sid, by_shard in groups.items():
        if len(by_shard) > 1:
            raise ShardError(f"student {sid} appears in {name} of several shards "
                             f"({', '.join(str(s) for s in by_shard)}); merge one set of shards")
    body = "".join("".join(next(iter(groups[sid].values()))) for sid in sorted(groups))
    (out / name).write_text((header or "") + body, encoding="utf-8")


def _copy_tree(src: Path, dest: Path, seen: dict) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_symlink():
            raise ShardError(f"{path} is a symbolic link; shard outputs hold plain files only")
        if not path.is_file():
            continue
        rel = path.relative_to(src)
        if rel in seen:
            raise ShardError(f"{rel} is in two shards ({seen[rel]} and {src}); merge one set of shards")
        seen[rel] = src
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _check_set(shards: list[Path]) -> dict:
    infos = []
    for shard in shards:
        try:
            infos.append(json.loads((shard / MANIFEST).read_text()))
        except (OSError, ValueError):
            raise ShardError(f"{shard} has no readable {MANIFEST}: is it the --out folder of a "
                             "`grade ... --shard I/N` run?") from None
    names = {i["assignment"] for i in infos}
    counts = {i["of"] for i in infos}
    if len(names) > 1 or len(counts) > 1:
        raise ShardError(f"the shards are of different assignments or splits: {sorted(names)} / of {sorted(counts)}")
    count = counts.pop()
    indices = sorted(i["shard"] for i in infos)
    missing = sorted(set(range(count)) - set(indices))
    if missing or len(indices) != count:
        twice = sorted({i for i in indices if indices.count(i) > 1})
        raise ShardError(f"need each shard 0..{count - 1} exactly once; missing {missing}, repeated {twice}")
    return {"assignment": names.pop(), "of": count,
            "students": sum(len(i["students"]) for i in infos)}


def merge_gradebooks(sources: list[Path], dest: Path) -> int:
    """Copy every assignment, notebook, grade cell, student, submission, grade and comment of the
    `sources` gradebooks into `dest` (created when missing). Returns the submissions copied."""
    import os
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    bindir = str(Path(sys.executable).parent)   # nbgrader runs `alembic` by name
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    warnings.filterwarnings("ignore", module="sqlalchemy")
    copied = 0
    with Gradebook(f"sqlite:///{dest}") as out:
        for src in sources:
            with Gradebook(f"sqlite:///{src}") as gb:
                for a in gb.assignments:
                    out.update_or_create_assignment(a.name, duedate=a.duedate)
                    for nb in a.notebooks:
                        try:
                            out.find_notebook(nb.name, a.name)
                        except MissingEntry:
                            out.add_notebook(nb.name, a.name)
                        for gc in nb.grade_cells:
                            out.update_or_create_grade_cell(gc.name, nb.name, a.name, max_score=gc.max_score,
                                                            cell_type=gc.cell_type)
                        for sc in nb.solution_cells:
                            out.update_or_create_solution_cell(sc.name, nb.name, a.name)
                    for sub in a.submissions:
                        st = sub.student
                        out.update_or_create_student(st.id, first_name=st.first_name, last_name=st.last_name,
                                                     email=st.email, lms_user_id=st.lms_user_id)
                        out.update_or_create_submission(a.name, st.id, timestamp=sub.timestamp)
                        for nbsub in sub.notebooks:
                            for g in nbsub.grades:
                                mine = out.find_grade(g.name, nbsub.name, a.name, st.id)
                                mine.auto_score, mine.manual_score = g.auto_score, g.manual_score
                                mine.extra_credit, mine.needs_manual_grade = g.extra_credit, g.needs_manual_grade
                            for c in nbsub.comments:
                                mine = out.find_comment(c.name, nbsub.name, a.name, st.id)
                                mine.auto_comment, mine.manual_comment = c.auto_comment, c.manual_comment
                        copied += 1
                    out.db.commit()
    return copied


def merge(out: Path, shards: list[Path], gradebook: Path | None = None) -> dict:
    """Merge shard folders into `out`; with `gradebook`, also merge the shards' gradebook.db files
    (and their grading/autograded notebooks) into that gradebook and the folder beside it."""
    shards = [Path(s).resolve() for s in shards]
    if not shards:
        raise ShardError("name at least one shard folder")
    info = _check_set(shards)
    out = Path(out).resolve()
    if out in shards:
        raise ShardError("OUT must be a new folder, not one of the shards")
    out.mkdir(parents=True, exist_ok=True)
    for name in CSV_FILES:
        _merge_csv(name, shards, out)
    for folder in ("feedback", "store"):   # the store: later batches and `feedback` add to the merged class
        seen: dict = {}
        for shard in shards:
            if (shard / folder).is_dir():
                _copy_tree(shard / folder, out / folder, seen)
    with open(out / "grading.log", "w", encoding="utf-8") as log:
        for shard in shards:
            log.write(f"===== {shard / 'grading.log'}\n")
            if (shard / "grading.log").is_file():
                log.write((shard / "grading.log").read_text(encoding="utf-8", errors="replace"))
    info["gradebook_submissions"] = 0
    if gradebook is not None:
        books = [s / "gradebook.db" for s in shards if (s / "gradebook.db").is_file()]
        if books:
            info["gradebook_submissions"] = merge_gradebooks(books, Path(gradebook))
        seen = {}
        for shard in shards:
            if (shard / "grading" / "autograded").is_dir():
                _copy_tree(shard / "grading" / "autograded", Path(gradebook).parent / "grading" / "autograded", seen)
    return info


def shard_arg(text: str) -> tuple[int, int]:
    """argparse type for --shard: the same checks, reported as a usage error."""
    import argparse

    try:
        return parse_shard(text)
    except ShardError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
