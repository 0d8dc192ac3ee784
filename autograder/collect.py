"""Find each student's notebook: a folder of student folders, or a zip exported by an LMS.

Folder: SUBMISSIONS/<student_id>/<notebook>.ipynb or SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb
(nbgrader's submitted layout). Zip: each entry's file name gives the student id through a regular
expression with a named group `student_id` (as nbgrader's zip_collect does); entries inside a
top-level folder use the folder name when the pattern does not match.

Zips are never extracted wholesale: each entry is checked (no absolute paths or '..', no symlinks,
no nested archives, size and compression-ratio limits) and copied to a path the grader names itself.
Anything refused becomes a status for that student, with a message.
"""
from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

DEFAULT_ID_PATTERN = r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.-]*)_"
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_ENTRY_BYTES = 20 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_RATIO = 200


@dataclass
class Submission:
    student_id: str
    notebook: Path | None = None
    status: str | None = None       # None: ready to grade; else a status for every task
    message: str = ""
    notes: list[str] = field(default_factory=list)


def _pick_notebook(folder: Path, assignment: str, notebook_name: str) -> Submission:
    sid = folder.name
    for base in (folder / assignment, folder):
        if base.is_dir() and not base.is_symlink():
            exact = base / notebook_name
            if exact.is_symlink():
                return Submission(sid, None, "rejected_file", f"{notebook_name} is a symbolic link; submit the file itself")
            if exact.is_file():
                return Submission(sid, exact)
    candidates = []
    for base in (folder / assignment, folder):
        if base.is_dir() and not base.is_symlink():
            candidates += [p for p in sorted(base.glob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    links = [p for p in candidates if p.is_symlink()]
    candidates = [p for p in candidates if p.is_file() and not p.is_symlink()]
    if len(candidates) == 1:
        sub = Submission(sid, candidates[0])
        sub.notes.append(f"graded {candidates[0].name} (expected the name {notebook_name})")
        return sub
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        return Submission(sid, None, "ambiguous", f"several notebooks ({names}) and none named {notebook_name}")
    if links:
        return Submission(sid, None, "rejected_file", "the notebook is a symbolic link; submit the file itself")
    return Submission(sid, None, "no_notebook", f"no notebook found (expected {notebook_name})")


def from_folder(root: Path, assignment: str, notebook_name: str, log) -> list[Submission]:
    subs = []
    for folder in sorted(Path(root).iterdir()):
        if folder.name.startswith("."):
            continue
        if folder.is_symlink():
            log(f"skipped {folder.name}: a symbolic link, not a student folder")
            if SAFE_ID.match(folder.name):
                subs.append(Submission(folder.name, None, "rejected_file", "the submission folder is a symbolic link"))
            continue
        if not folder.is_dir():
            log(f"skipped {folder.name}: not a folder")
            continue
        if not SAFE_ID.match(folder.name):
            log(f"skipped folder {folder.name!r}: not a valid student id (letters, digits, . _ -)")
            continue
        subs.append(_pick_notebook(folder, assignment, notebook_name))
    return subs


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute or Windows path"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "has a path that leaves the archive ('..')"
    if name.lower().endswith((".zip", ".tar", ".gz", ".tgz", ".7z", ".rar")):
        return "is a nested archive (upload the notebook itself)"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"is too large ({info.file_size / 2**20:.0f} MB)"
    if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO and info.file_size > 2**20:
        return "has a suspicious compression ratio (zip bomb?)"
    return None


def _id_from_name(name: str, pattern: re.Pattern) -> str | None:
    base = PurePosixPath(name).name
    m = pattern.search(base)
    if m and m.groupdict().get("student_id"):
        return m.group("student_id")
    parts = PurePosixPath(name).parts
    if len(parts) >= 2:
        return parts[0]
    return None


def from_zip(path: Path, assignment: str, notebook_name: str, extract_to: Path, log,
             id_pattern: str = DEFAULT_ID_PATTERN) -> list[Submission]:
    pattern = re.compile(id_pattern)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path} is not a readable zip file: {err}") from None
    per_student: dict[str, list] = {}
    problems: dict[str, list[str]] = {}
    total = 0
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            sid = _id_from_name(name, pattern)
            if sid is not None and not SAFE_ID.match(sid):
                log(f"zip entry {name!r}: student id {sid!r} is not valid; skipped")
                sid = None
            problem = _entry_problem(info)
            if problem:
                log(f"zip entry {name!r} {problem}; not extracted")
                if sid:
                    problems.setdefault(sid, []).append(f"the file {PurePosixPath(name).name!r} {problem}")
                continue
            if not name.lower().endswith(".ipynb") or "__MACOSX" in name or ".ipynb_checkpoints" in name:
                log(f"zip entry {name!r}: not a notebook; ignored")
                continue
            if sid is None:
                log(f"zip entry {name!r}: no student id matches the pattern {id_pattern!r}; skipped")
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"{path} holds more than {MAX_TOTAL_BYTES // 2**30} GB of notebooks; refusing")
            per_student.setdefault(sid, []).append(info)
        subs = []
        for sid in sorted(set(per_student) | set(problems)):
            entries = per_student.get(sid, [])
            if len(entries) > 1:
                names = ", ".join(PurePosixPath(e.filename).name for e in entries)
                subs.append(Submission(sid, None, "duplicate_id",
                                       f"{len(entries)} files in the zip belong to student id {sid} ({names}); "
                                       "none was graded: keep one and grade again"))
                continue
            if not entries:
                subs.append(Submission(sid, None, "rejected_file", "; ".join(problems[sid]) + "; nothing to grade"))
                continue
            info = entries[0]
            dest_dir = extract_to / sid
            dest_dir.mkdir(parents=True, exist_ok=False)
            dest = dest_dir / notebook_name
            with zf.open(info) as src, open(dest, "wb") as out:
                remaining = MAX_ENTRY_BYTES + 1
                while remaining > 0:
                    chunk = src.read(min(1 << 20, remaining))
                    if not chunk:
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
            sub = Submission(sid, dest)
            if sid in problems:
                sub.notes += problems[sid]
            base = PurePosixPath(info.filename).name
            if not base.endswith(notebook_name):
                sub.notes.append(f"graded {base}")
            subs.append(sub)
    return subs
