"""The LMS round trip: submission file names in, a gradebook CSV out.

- Presets read the names Canvas and Moodle give the files of a "download all submissions" zip:
  Canvas `<lastfirst>_[LATE_]<user id>_<submission id>_<file>` (flat), Moodle
  `<Full Name>_<participant id>_assignsubmission_file_[<file>]` (a folder per student, or flat).
  The LMS id, not the name, identifies the student, so two Smiths never collide.
- A roster CSV (`student_id,name,email,lms_id`, optional `section`, `sis_login_id`) maps LMS ids to
  the course's student ids and gives the export its names and emails.
- A due-date CSV (`student_id,due`; the row `*` is everyone's due date, any other row an extension)
  and optionally the submission times (`student_id,submitted`) give the late penalty:

  LATE RULE. A submission is late by the number of started 24-hour periods between the student's
  due date (their extension when the due file has one) plus the grace minutes and the time it was
  submitted. Each late day costs `per_day` percent of the assignment's maximum points, at most
  `cap` percent in all; the final grade never goes below 0. Without a submission time, a file the
  LMS marked LATE counts as one day late, unless the student has an extension (the LMS measured
  against its own due date); a note says so.

- The export writes the final grades (autograded + hand-graded from the nbgrader gradebook, minus
  the late penalty) in Canvas's gradebook-import or Moodle's grading-worksheet columns: one file,
  `grading/<a>/<a>_<lms>.csv`, the one to upload.
Times are ISO 8601 (`2026-03-01T23:59`, or with an offset `2026-03-01T23:59+01:00`); a time without
an offset is UTC.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path


class LmsError(Exception):
    """A roster, due-date or submissions file the export cannot use; the message says what to fix."""


# ---------------------------------------------------------------- presets for submission file names


@dataclass(frozen=True)
class Preset:
    name: str
    pattern: str        # named groups: name, late (optional), lms_id, submission_id (optional), filename

    def parse(self, owner: str) -> dict | None:
        m = re.match(self.pattern, owner)
        if not m:
            return None
        fields = {k: (v or "") for k, v in m.groupdict().items()}
        fields["late"] = bool(fields.get("late"))
        return fields

    def student_id(self, fields: dict, roster: "Roster | None") -> str:
        if roster is not None:
            sid = roster.by_lms_id.get(fields["lms_id"])
            if sid:
                return sid
        return fields["lms_id"]


PRESETS = {
    "canvas": Preset("canvas", r"^(?P<name>[^_]+)_(?:(?P<late>LATE)_)?(?P<lms_id>\d+)_(?P<submission_id>\d+)_"
                               r"(?P<filename>.+)$"),
    "moodle": Preset("moodle", r"^(?P<name>.+?)_(?P<lms_id>\d+)_assignsubmission_[a-z]+_(?P<filename>.*)$"),
}


# ---------------------------------------------------------------- roster, due dates, submission times


@dataclass
class Student:
    student_id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    section: str = ""
    sis_login_id: str = ""


@dataclass
class Roster:
    students: dict = field(default_factory=dict)      # student_id -> Student

    @property
    def by_lms_id(self) -> dict:
        return {s.lms_id: s.student_id for s in self.students.values() if s.lms_id}


def _read_csv(path: Path, required: list[str], what: str) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise LmsError(f"the {what} file {path} does not exist")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = [h.strip() for h in (csv.reader(io.StringIO(text)).__next__() if text.strip() else [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise LmsError(f"the {what} file {path} needs the column(s) {', '.join(missing)} in its first line "
                       f"(it has: {', '.join(header) or 'nothing'})")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]


def read_roster(path: Path) -> Roster:
    """Columns: student_id (required), name, email, lms_id, section, sis_login_id."""
    roster = Roster()
    seen_lms = {}
    for i, row in enumerate(_read_csv(path, ["student_id"], "roster"), start=2):
        sid = row["student_id"]
        if not sid:
            raise LmsError(f"{path} line {i}: the student_id is empty")
        if sid in roster.students:
            raise LmsError(f"{path} line {i}: student_id {sid} appears twice")
        lms_id = row.get("lms_id", "")
        if lms_id and lms_id in seen_lms:
            raise LmsError(f"{path} line {i}: lms_id {lms_id} is given to both {seen_lms[lms_id]} and {sid}")
        seen_lms[lms_id] = sid
        roster.students[sid] = Student(sid, row.get("name", ""), row.get("email", ""), lms_id,
                                       row.get("section", ""), row.get("sis_login_id", ""))
    return roster


def parse_time(text: str, where: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    except ValueError:
        raise LmsError(f"{where}: {text!r} is not a date and time like 2026-03-01T23:59 "
                       "(or 2026-03-01T23:59+01:00)") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@dataclass
class DueDates:
    default: datetime | None
    extensions: dict = field(default_factory=dict)    # student_id -> datetime

    def due(self, sid: str) -> datetime | None:
        return self.extensions.get(sid, self.default)


def read_due(path: Path) -> DueDates:
    """Columns: student_id, due. The row with student_id `*` is the due date; other rows are extensions."""
    default, ext = None, {}
    for i, row in enumerate(_read_csv(path, ["student_id", "due"], "due-date"), start=2):
        when = parse_time(row["due"], f"{path} line {i}")
        if row["student_id"] == "*":
            default = when
        elif row["student_id"]:
            ext[row["student_id"]] = when
    if default is None and not ext:
        raise LmsError(f"{path} gives no due date: add a line `*,2026-03-01T23:59`")
    return DueDates(default, ext)


def read_submitted(path: Path) -> dict:
    """Columns: student_id, submitted (the LMS's own submission times)."""
    return {row["student_id"]: parse_time(row["submitted"], f"{path} line {i}")
            for i, row in enumerate(_read_csv(path, ["student_id", "submitted"], "submission-times"), start=2)
            if row["student_id"] and row["submitted"]}


# ---------------------------------------------------------------- late penalty


@dataclass(frozen=True)
class LateRule:
    per_day: float = 10.0      # percent of the maximum points per started late day
    cap: float = 100.0         # percent, in all
    grace_minutes: float = 0.0


@dataclass
class Lateness:
    days: int
    penalty: float             # points
    note: str = ""


def late_penalty(sid: str, max_score: float, rule: LateRule, due: DueDates | None, submitted: dict,
                 flagged_late: bool) -> Lateness:
    """The penalty for one student, by the LATE RULE in this module's docstring."""
    if due is None or due.due(sid) is None:
        return Lateness(0, 0.0, "no due date given" if flagged_late else "")
    deadline = due.due(sid) + timedelta(minutes=rule.grace_minutes)
    if sid in submitted:
        late_s = (submitted[sid] - deadline).total_seconds()
        days = math.ceil(late_s / 86400) if late_s > 0 else 0
        note = f"submitted {days} day(s) late" if days else ""
    elif flagged_late and sid in due.extensions:
        days, note = 0, "marked LATE by the LMS, but the student has an extension and no submission time is known"
    elif flagged_late:
        days, note = 1, "marked LATE by the LMS, no submission time known: one day late"
    else:
        days, note = 0, ""
    percent = min(rule.cap, rule.per_day * days)
    return Lateness(days, round(max_score * percent / 100.0, 2), note)


# ---------------------------------------------------------------- what the intake learned from the zip

INTAKE_COLUMNS = ["student_id", "lms", "name", "lms_id", "submission_id", "late", "file"]


def write_intake(path: Path, preset_name: str, subs) -> None:
    """grading/<a>/submissions.csv: the LMS fields of each submission's file name. A later batch
    (late work) replaces its students' rows and keeps the others'."""
    rows = {r["student_id"]: r for r in read_intake(path)} if Path(path).exists() else {}
    for sub in subs:
        f = getattr(sub, "lms", None) or {}
        rows[sub.student_id] = {"student_id": sub.student_id, "lms": preset_name if f else "", "name": f.get("name", ""),
                                "lms_id": f.get("lms_id", ""), "submission_id": f.get("submission_id", ""),
                                "late": "yes" if f.get("late") else "", "file": f.get("filename", "")}
    buf = io.StringIO()
    w = csv.DictWriter(buf, INTAKE_COLUMNS, lineterminator="\n")
    w.writeheader()
    for sid in sorted(rows):
        w.writerow({c: rows[sid].get(c, "") for c in INTAKE_COLUMNS})
    Path(path).write_text(buf.getvalue(), encoding="utf-8")


def read_intake(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    return _read_csv(path, ["student_id"], "submissions")


# ---------------------------------------------------------------- grades from the nbgrader gradebook


@dataclass
class Final:
    student_id: str
    autograded: float
    manual: float
    max_score: float
    lateness: Lateness
    pending_manual: bool

    @property
    def score(self) -> float:
        return round(max(0.0, self.autograded + self.manual - self.lateness.penalty), 2)


def gradebook_scores(db_path: Path, assignment: str) -> dict:
    """student_id -> (autograded points, hand-graded points, max points, written answers still to grade),
    read from nbgrader's gradebook: a grade's hand-given score replaces its automatic one, as in nbgrader."""
    import os
    import sys
    import warnings

    if not Path(db_path).exists():
        raise LmsError(f"no gradebook at {db_path}: grade the assignment first (make grade A={assignment})")
    bindir = str(Path(sys.executable).parent)     # nbgrader runs `alembic` by name
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook, MissingEntry

    warnings.filterwarnings("ignore", module="sqlalchemy")
    out = {}
    with Gradebook(f"sqlite:///{db_path}") as gb:
        try:
            subs = gb.assignment_submissions(assignment)
        except MissingEntry:
            raise LmsError(f"the gradebook {db_path} has no assignment {assignment}") from None
        for sub in subs:
            auto = manual = max_score = 0.0
            pending = False
            for nb in sub.notebooks:
                for grade in nb.grades:
                    max_score += grade.max_score or 0.0
                    value = grade.manual_score if grade.manual_score is not None else (grade.auto_score or 0.0)
                    if grade.cell.cell_type == "markdown":     # a written answer, graded by hand
                        manual += value
                    else:                                      # a test cell (a TA's correction included)
                        auto += value
                    if grade.manual_score is None and (grade.needs_manual_grade or grade.cell.cell_type == "markdown"):
                        pending = True
            out[sub.student.id] = (round(auto, 4), round(manual, 4), round(max_score, 4), pending)
    return out


def finals(scores: dict, rule: LateRule, due: DueDates | None, submitted: dict, intake: dict) -> list[Final]:
    rows = []
    for sid in sorted(scores):
        auto, manual, max_score, pending = scores[sid]
        flagged = intake.get(sid, {}).get("late") == "yes"
        rows.append(Final(sid, auto, manual, max_score, late_penalty(sid, max_score, rule, due, submitted, flagged),
                          pending))
    return rows


# ---------------------------------------------------------------- the LMS's import format

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _breakdown(f: Final) -> str:
    text = f"autograded {_fmt(f.autograded)} + written {_fmt(f.manual)}"
    if f.lateness.penalty:
        text += f" - late penalty {_fmt(f.lateness.penalty)} ({f.lateness.days} day(s))"
    return text + f" = {_fmt(f.score)} of {_fmt(f.max_score)}"


def export_rows(lms: str, rows: list[Final], roster: Roster | None, intake: dict, column: str) -> list[list[str]]:
    """The CSV rows (header first) in Canvas's gradebook-import or Moodle's grading-worksheet format."""
    people = roster.students if roster else {}
    out = []
    if lms == "canvas":
        out.append(CANVAS_COLUMNS + [column])
        out.append(["Points Possible", "", "", "", "", _fmt(max((r.max_score for r in rows), default=0.0))])
        for r in rows:
            p = people.get(r.student_id, Student(r.student_id))
            lms_id = p.lms_id or intake.get(r.student_id, {}).get("lms_id", "")
            out.append([p.name or intake.get(r.student_id, {}).get("name", ""), lms_id, r.student_id,
                        p.sis_login_id, p.section, _fmt(r.score)])
    elif lms == "moodle":
        out.append(MOODLE_COLUMNS)
        for r in rows:
            p = people.get(r.student_id, Student(r.student_id))
            lms_id = p.lms_id or intake.get(r.student_id, {}).get("lms_id", "")
            out.append([f"Participant {lms_id}" if lms_id else "", p.name or intake.get(r.student_id, {}).get("name", ""),
                        p.email, "Submitted for grading", _fmt(r.score), _fmt(r.max_score), "Yes", "", "",
                        _breakdown(r)])
    else:
        raise LmsError(f"unknown LMS {lms!r}: use canvas or moodle")
    return out


def write_export(path: Path, lms: str, rows: list[Final], roster: Roster | None, intake: dict, column: str) -> list[str]:
    """Write the export; return warnings (students the LMS cannot match, written answers not yet graded)."""
    warnings = []
    table = export_rows(lms, rows, roster, intake, column)
    id_col = 1 if lms == "canvas" else 0
    body = table[2:] if lms == "canvas" else table[1:]
    for r, line in zip(rows, body):
        if not line[id_col]:
            warnings.append(f"{r.student_id}: no LMS id (add it to the roster's lms_id column); the LMS cannot "
                            "match this row")
        if r.pending_manual:
            warnings.append(f"{r.student_id}: written answers are not graded yet (formgrader); the grade counts "
                            "them as 0")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    Path(path).write_text(buf.getvalue(), encoding="utf-8")
    return warnings
