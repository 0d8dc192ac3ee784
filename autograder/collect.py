"""Find each student's notebook: a folder of student folders, or a zip exported by an LMS.

Folder: SUBMISSIONS/<student_id>/<notebook>.ipynb or SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb
(nbgrader's submitted layout). Zip: an entry inside a folder belongs to that folder (one folder per
student, as LMSs export them; a single folder wrapping the whole archive is looked through), so a file
named after another student inside alice's folder is alice's. The owner's name (the folder, or the
file name for a flat zip) gives the student id through a regular expression with a named group
`student_id` (as nbgrader's zip_collect does) or an LMS preset (`autograder.lms.PRESETS`: Canvas and
Moodle names, with the LMS user id, submission id and LATE flag). Without a pattern a folder's name is
the id itself (also when the pattern does not match it), and a flat file's id is the part of its name
before the first `_`.

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
    lms: dict = field(default_factory=dict)   # what the LMS file name said: name, lms_id, submission_id, late


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


def _owners(names: list[str], assignment: str) -> dict[str, tuple[str, bool]]:
    """entry name -> (the name that identifies its owner, whether that is a folder). A folder per
    student owns everything inside it. One top folder that wraps every notebook of the archive and
    holds several of them (in folders or not) is looked through; nbgrader's <id>/<assignment>/ is not."""
    # a path that is absolute or leaves the archive is refused later; its file name says whose it claims to be
    split = {n: ((PurePosixPath(n).name or n,) if n.startswith("/") or ".." in PurePosixPath(n).parts
                 else PurePosixPath(n).parts) for n in names}
    notebooks = [p for n, p in split.items() if n.lower().endswith(".ipynb")]
    wrapped = (bool(notebooks) and all(len(p) >= 2 for p in notebooks) and len({p[0] for p in notebooks}) == 1
               and len({p[1] for p in notebooks}) >= 2 and all(p[1] != assignment for p in notebooks))
    out = {}
    for n, parts in split.items():
        if wrapped and len(parts) >= 2:
            parts = parts[1:]
        out[n] = (parts[0], True) if len(parts) >= 2 else (parts[-1], False)
    return out


def _resolve(owner: str, is_folder: bool, pattern, preset, roster) -> tuple[str | None, dict]:
    """The student id (None: no match) and the LMS fields read from an owner's name."""
    if preset is not None:
        fields = preset.parse(owner)
        if fields is None:
            return None, {}
        return preset.student_id(fields, roster), fields
    if pattern is None:
        if is_folder:
            return owner, {}
        pattern = re.compile(DEFAULT_ID_PATTERN)
    m = pattern.search(owner)
    if m and m.groupdict().get("student_id"):
        return m.group("student_id"), {}
    return (owner if is_folder else None), {}


def _canonical(filename: str) -> str:
    """A file name without an LMS's resubmission suffix (Canvas: name-1.ipynb)."""
    return re.sub(r"-\d+(\.ipynb)$", r"\1", filename)


def from_zip(path: Path, assignment: str, notebook_name: str, extract_to: Path, log,
             id_pattern: str | None = None, preset=None, roster=None) -> list[Submission]:
    """`preset`: an `autograder.lms.Preset` (Canvas, Moodle) instead of `id_pattern`; `roster`: an
    `autograder.lms.Roster`, whose LMS ids map to the course's student ids."""
    pattern = re.compile(id_pattern) if id_pattern else None
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path} is not a readable zip file: {err}") from None
    per_student: dict[str, list] = {}
    problems: dict[str, list[str]] = {}
    lms_fields: dict[str, dict] = {}
    total = 0
    how = (f"the {preset.name} preset" if preset is not None else
           f"the pattern {id_pattern!r}" if id_pattern else "the default pattern (folder name, or file name up to '_')")
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        owners = _owners([i.filename for i in infos], assignment)
        for info in infos:
            name = info.filename
            owner, is_folder = owners[name]
            sid, fields = _resolve(owner, is_folder, pattern, preset, roster)
            if sid is not None and not SAFE_ID.match(sid):
                log(f"zip entry {name!r}: student id {sid!r} is not valid (letters, digits, . _ -); skipped"
                    + ("" if preset else "; an LMS zip? try --preset canvas or --preset moodle"))
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
                log(f"zip entry {name!r}: no student id from {how}; skipped")
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"{path} holds more than {MAX_TOTAL_BYTES // 2**30} GB of notebooks; refusing")
            per_student.setdefault(sid, []).append(info)
            if fields:
                fields = dict(fields)
                fields["entry_time"] = "%04d-%02d-%02dT%02d:%02d:%02d" % info.date_time
                if fields.get("late") or not lms_fields.get(sid, {}).get("late"):
                    lms_fields[sid] = fields
        subs = []
        for sid in sorted(set(per_student) | set(problems)):
            entries = per_student.get(sid, [])
            if len(entries) > 1:
                exact = [e for e in entries if _canonical(_preset_filename(e.filename, owners, preset)) == notebook_name]
                if len(exact) == 1:
                    entries = exact
            if len(entries) > 1:
                names = ", ".join(e.filename for e in entries)
                subs.append(Submission(sid, None, "duplicate_id",
                                       f"{len(entries)} notebooks in the zip belong to student {sid} ({names}) and none is "
                                       f"named {notebook_name}; none was graded: remove all but the final one from the "
                                       "zip (or put it in a folder of its own) and grade again", lms=lms_fields.get(sid, {})))
                continue
            if not entries:
                subs.append(Submission(sid, None, "rejected_file", "; ".join(problems[sid]) + "; nothing to grade",
                                       lms=lms_fields.get(sid, {})))
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
            sub = Submission(sid, dest, lms=lms_fields.get(sid, {}))
            if sid in problems:
                sub.notes += problems[sid]
            base = PurePosixPath(info.filename).name
            if not base.endswith(notebook_name):
                sub.notes.append(f"graded {base}")
            subs.append(sub)
    return subs


def _preset_filename(name: str, owners, preset) -> str:
    """The student's own file name inside an LMS entry name (the preset's prefix removed)."""
    owner, is_folder = owners[name]
    base = PurePosixPath(name).name
    if preset is not None and not is_folder:
        fields = preset.parse(base) or {}
        return fields.get("filename") or base
    return base
