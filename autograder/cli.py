"""python -m autograder release|grade|feedback|check|export|similarity|dashboard|merge|gradescope (see autograder/README.md)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import collect, lms, protocol, report, sandbox, shard, store
from autograder.grade import Course, Progress, grade_all, load_assignment

DEFAULT_ROOT = Path(__file__).resolve().parents[1]


def _course(args) -> Course:
    root = Path(args.course_root).resolve()
    return Course(root, Path(args.tasks_dir).resolve() if args.tasks_dir else None,
                  Path(args.gradebook).resolve() if getattr(args, "gradebook", None) else None)


def cmd_release(args) -> int:
    course = _course(args)
    nbgrader = Path(sys.executable).with_name("nbgrader")
    cmd = [str(nbgrader), "generate_assignment", args.assignment, "--force", "--no-db"]
    print("$", " ".join(cmd))
    return subprocess.call(cmd, cwd=course.root)


def cmd_grade(args) -> int:
    course = _course(args)
    unsafe = args.unsafe_no_sandbox
    problem = None if unsafe else sandbox.sandbox_problem()
    if problem:
        print(f"error: grading needs a sandbox without privilege (bubblewrap with user namespaces, prlimit"
              f"{', setpriv' if os.geteuid() == 0 else ''}), and here {problem}.\nInstall them (Debian/Ubuntu: "
              "sudo apt-get install -y bubblewrap util-linux) and allow unprivileged user namespaces "
              "(sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0), or, only for your own "
              "trusted tests, pass --unsafe-no-sandbox (every report is then marked as not sandboxed).",
              file=sys.stderr)
        return 2
    assignment = load_assignment(args.assignment, course)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_file = open(out / "grading.log", "w", encoding="utf-8")
    log_lock = threading.Lock()

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        with log_lock:
            log_file.write(line + "\n")
            log_file.flush()
        if not args.quiet:
            print(line, flush=True)

    if unsafe:
        log("WARNING: grading WITHOUT the sandbox (--unsafe-no-sandbox); every report is marked")
    limits = sandbox.Limits(wall_s=args.timeout, probe_s=min(args.probe_timeout, args.timeout),
                            cell_s=min(args.cell_timeout, args.probe_timeout), memory_mb=args.memory)
    if not unsafe:
        for line in sandbox.enforcement(limits):
            log(line)
    if args.preset and args.id_pattern:
        print("error: give --preset or --id-pattern, not both", file=sys.stderr)
        log_file.close()
        return 2
    try:
        roster = lms.read_roster(Path(args.roster)) if args.roster else None
    except lms.LmsError as err:
        print(f"error: {err}", file=sys.stderr)
        log_file.close()
        return 2

    def on_result(r):
        """As each submission finishes: its feedback, its notebook for formgrader, its log section."""
        report.write_feedback(out / "feedback", assignment, r, unsafe)
        if not args.no_gradebook:
            report.write_autograded(course.gradebook_path.parent, assignment, [r])
        section = [f"== {protocol.clean_text(r.student_id, 80)} ({protocol.clean_text(r.notebook, 80)}): sandbox wall "
                   f"{r.wall_s:.1f} s, {r.output_bytes} bytes of output; probe times "
                   f"{ {protocol.clean_text(k, 64): v for k, v in r.times.items()} }"]
        section += [f"note: {protocol.clean_text(n, 2 * protocol.MAX_MESSAGE)}" for n in r.notes]
        if r.output_excerpt:
            cut = r.output_excerpt[:2000]
            section.append("output of the submission (each line behind '  | '):")
            section.append(protocol.fence(cut) + ("\n  [... output cut ...]" if len(r.output_excerpt) > 2000 else ""))
        with log_lock:
            log_file.write("\n".join(section) + "\n")
            log_file.flush()

    src = Path(args.submissions)
    try:
        with tempfile.TemporaryDirectory(prefix="autograder-collect-") as tmp:
            if src.is_file() and src.suffix.lower() == ".zip":
                subs = collect.from_zip(src, assignment.name, assignment.notebook_name, Path(tmp), log,
                                        args.id_pattern, lms.PRESETS[args.preset] if args.preset else None, roster)
                if args.preset:
                    lms.write_intake(out / "submissions.csv", args.preset, subs)
                    late = [s.student_id for s in subs if s.lms.get("late")]
                    log(f"{args.preset} names read; marked LATE by the LMS: {', '.join(late) or 'nobody'} "
                        f"(written to {out / 'submissions.csv'})")
            elif src.is_dir():
                if args.preset or args.id_pattern:
                    print("error: --preset and --id-pattern read the names in an LMS zip; a folder's student "
                          "folders are the ids (grade the zip itself)", file=sys.stderr)
                    return 2
                subs = collect.from_folder(src, assignment.name, assignment.notebook_name, log)
            else:
                print(f"error: {src} is neither a folder of student folders nor a .zip", file=sys.stderr)
                return 2
            if args.shard:
                subs = shard.select(subs, *args.shard)
                log(f"shard {args.shard[0]}/{args.shard[1]}: {len(subs)} submission(s)")
            if args.only:
                found = sorted(s.student_id for s in subs)
                subs = [s for s in subs if s.student_id == args.only]
                if not subs:
                    print(f"error: --only {args.only}: no submission of that student in {src} (its students: "
                          f"{', '.join(found[:20]) or 'none'}{' ...' if len(found) > 20 else ''})", file=sys.stderr)
                    return 2
            log(f"grading {len(subs)} submission(s) of {assignment.name} with {args.workers} worker(s)")
            t0 = time.monotonic()
            progress = Progress(out, assignment, unsafe, force=[args.only] if args.only else [], log=log)
            results = grade_all(assignment, subs, limits, unsafe, args.workers, log=log, on_result=on_result,
                                progress=progress)
            log(f"graded {len(results)} submission(s) in {time.monotonic() - t0:.1f} s")
        class_results = progress.class_results()
        report.write_scores(out / "scores.csv", assignment, class_results)
        report.write_grades(out / "grades.csv", assignment, class_results)
        log(progress.summary())
        if args.shard:
            shard.write_manifest(out, assignment.name, *args.shard, [r.student_id for r in class_results])
        if not args.no_gradebook:
            batch = store.load(out, assignment, log)
            batch = [batch[r.student_id].result for r in results if r.student_id in batch]
            hand = report.record_gradebook(course.gradebook_path, assignment, batch)
            log(f"recorded scores and the autograder's messages (as comments) in the gradebook {course.gradebook_path}")
            # a student graded again after hand grading keeps the hand-graded points in the feedback
            report.regenerate_feedback(out, assignment, None, set(hand), log, hand)
    finally:
        log_file.close()
    if not args.quiet:
        print_table(assignment, results)
    print(f"wrote {out / 'scores.csv'}, {out / 'grades.csv'} ({len(class_results)} student(s), the whole class), "
          f"{out / 'feedback'}/, {out / 'grading.log'}")
    return 0


def print_table(assignment, results) -> None:
    names = assignment.task_names
    width = max([10] + [len(r.student_id) for r in results])
    cols = [max(len(n), 6) for n in names]
    print(f"{'student':<{width}}  " + "  ".join(f"{n:>{c}}" for n, c in zip(names, cols)) + "   total  status")
    for r in results:
        by = {t.task: t for t in r.tasks}
        statuses = sorted({t.status for t in r.tasks} - {"passed"})
        print(f"{r.student_id:<{width}}  " + "  ".join(f"{by[n].score:>{c}.2f}" for n, c in zip(names, cols)) +
              f"  {sum(t.score for t in r.tasks):6.2f}  {','.join(statuses) or 'passed'}")
    print(f"{'max':<{width}}  " + "  ".join(f"{assignment.points[n]:>{c}.2f}" for n, c in zip(names, cols)) +
          f"  {sum(assignment.points.values()):6.2f}")


def cmd_export(args) -> int:
    """The final grades in the LMS's import format (see autograder/lms.py for the late rule)."""
    course = _course(args)
    out = Path(args.out or f"grading/{args.assignment}").resolve()
    try:
        roster = lms.read_roster(Path(args.roster)) if args.roster else None
        due = lms.read_due(Path(args.due)) if args.due else None
        submitted = lms.read_submitted(Path(args.submitted)) if args.submitted else {}
        intake = {r["student_id"]: r for r in lms.read_intake(out / "submissions.csv")}
        scores = lms.gradebook_scores(course.gradebook_path, args.assignment)
    except lms.LmsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rule = lms.LateRule(args.late_per_day, args.late_cap, args.grace_minutes)
    rows = lms.finals(scores, rule, due, submitted, intake)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.assignment}_{args.lms}.csv"
    warnings = lms.write_export(path, args.lms, rows, roster, intake, args.column or args.assignment)
    print(f"{'student':<16} {'auto':>7} {'written':>7} {'late':>7} {'final':>7} {'max':>7}  note")
    for r in rows:
        print(f"{r.student_id:<16} {r.autograded:7.2f} {r.manual:7.2f} {-r.lateness.penalty:7.2f} {r.score:7.2f} "
              f"{r.max_score:7.2f}  {r.lateness.note}")
    if roster:
        absent = sorted(set(roster.students) - set(scores))
        if absent:
            print(f"no submission in the gradebook (not exported, the LMS keeps its value): {', '.join(absent)}")
    for w in warnings:
        print(f"warning: {w}")
    print(f"wrote {path}: the final grades, to import into {args.lms.capitalize()}")
    return 0


def cmd_feedback(args) -> int:
    """Every student's feedback page again, after hand grading in formgrader."""
    course = _course(args)
    assignment = load_assignment(args.assignment, course)
    out = Path(args.out or f"grading/{args.assignment}").resolve()
    if not (out / store.FOLDER).is_dir():
        print(f"error: no graded class in {out} (no {store.FOLDER}/ folder): grade the assignment first "
              f"(make grade A={args.assignment}), or pass the grade command's --out folder", file=sys.stderr)
        return 2
    db = course.gradebook_path
    if not db.exists():
        print(f"warning: no gradebook at {db}: written questions are shown as not graded yet", file=sys.stderr)
    written = report.regenerate_feedback(out, assignment, db if db.exists() else None, log=print)
    print(f"wrote {len(written)} feedback page(s) under {out / 'feedback'}/")
    return 0


def cmd_similarity(args) -> int:
    from autograder import similarity

    return similarity.run_command(args.assignment, Path(args.grading_dir), _course(args), args.threshold,
                                  Path(args.out) if args.out else None, lms.PRESETS[args.preset] if args.preset else None)


def cmd_dashboard(args) -> int:
    from autograder import dashboard

    assignment = load_assignment(args.assignment, _course(args))
    return dashboard.run_command(assignment, Path(args.grading_dir), Path(args.out) if args.out else None)


def cmd_check(args) -> int:
    from autograder.check import run_check_command

    return run_check_command(args.assignment, _course(args), unsafe=args.unsafe_no_sandbox,
                             workers=args.workers, timeout=args.timeout)


def cmd_merge(args) -> int:
    gradebook = None if args.no_gradebook else _course(args).gradebook_path
    try:
        info = shard.merge(Path(args.out), [Path(d) for d in args.shards], gradebook)
    except shard.ShardError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"merged {info['of']} shard(s) of {info['assignment']} ({info['students']} students) into {args.out}"
          + (f"; {info['gradebook_submissions']} submission(s) into {gradebook}" if gradebook else ""))
    return 0


def cmd_gradescope(args) -> int:
    from autograder import gradescope

    return gradescope.build_command(args.assignment, _course(args), Path(args.out), args.details_visibility)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    p.add_argument("--course-root", default=os.environ.get("COURSE_ROOT", str(DEFAULT_ROOT)),
                   help="the course folder (solutions/, assignments/, gradebook.db); default: this repository")
    p.add_argument("--tasks-dir", default=None, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("release", help="generate assignments/A from solutions/A with nbgrader")
    r.add_argument("assignment")
    r.set_defaults(fn=cmd_release)

    g = sub.add_parser("grade", help="grade a folder of student folders or an LMS zip")
    g.add_argument("assignment")
    g.add_argument("submissions")
    g.add_argument("--out", default="grading/out", help="output folder (default grading/out)")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    g.add_argument("--timeout", type=float, default=300.0, help="wall-clock seconds per submission (default 300)")
    g.add_argument("--probe-timeout", type=float, default=60.0, help="seconds per task's probe (default 60)")
    g.add_argument("--cell-timeout", type=float, default=10.0, help="seconds to define one answer cell (default 10)")
    g.add_argument("--memory", type=int, default=2048,
                   help="MB of memory for all processes of a submission together, and of address space per process "
                        "(default 2048)")
    g.add_argument("--id-pattern", default=None,
                   help="regex with a named group student_id, matched on each zip entry's folder (or file name in a "
                        "flat zip); default: the folder's name, or a flat file's name up to the first '_'")
    g.add_argument("--preset", choices=sorted(lms.PRESETS), default=None,
                   help="read Canvas's or Moodle's submission file names (LMS id, submission id, LATE flag)")
    g.add_argument("--roster", default=None, help="roster CSV (student_id,name,email,lms_id): LMS ids become student ids")
    g.add_argument("--gradebook", default=None, help="nbgrader gradebook to record into (default <course>/gradebook.db)")
    g.add_argument("--no-gradebook", action="store_true", help="do not touch the gradebook")
    g.add_argument("--unsafe-no-sandbox", action="store_true", help="grade without bubblewrap (trusted tests only)")
    g.add_argument("--shard", type=shard.shard_arg, default=None, metavar="I/N",
                   help="grade only shard I of N (0 <= I < N, split by a hash of the student id); see merge")
    g.add_argument("--only", default=None, metavar="ID",
                   help="grade only this student's submission again (its record in the class is replaced)")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(fn=cmd_grade)

    f = sub.add_parser("feedback", help="regenerate every student's feedback HTML from the class's results "
                                        "and the gradebook's hand grades and comments")
    f.add_argument("assignment")
    f.add_argument("--out", default=None, help="the grade command's output folder (default grading/<assignment>)")
    f.add_argument("--gradebook", default=None, help="nbgrader gradebook (default <course>/gradebook.db)")
    f.set_defaults(fn=cmd_feedback)

    e = sub.add_parser("export", help="final grades (autograded + hand-graded - late penalty) for the LMS's import")
    e.add_argument("assignment")
    e.add_argument("--lms", choices=["canvas", "moodle"], required=True)
    e.add_argument("--roster", default=None, help="roster CSV: student_id,name,email,lms_id[,section,sis_login_id]")
    e.add_argument("--due", default=None, help="due dates CSV: student_id,due (the row * for everyone, others extensions)")
    e.add_argument("--submitted", default=None, help="submission times CSV: student_id,submitted")
    e.add_argument("--late-per-day", type=float, default=10.0, help="percent of the maximum per started late day (10)")
    e.add_argument("--late-cap", type=float, default=100.0, help="largest late penalty in percent (100)")
    e.add_argument("--grace-minutes", type=float, default=0.0, help="minutes after the due date still on time (0)")
    e.add_argument("--column", default=None,
                   help="Canvas: the assignment's column header, e.g. 'A2 NADE and MADE (123456)' (default: the name)")
    e.add_argument("--gradebook", default=None, help="nbgrader gradebook (default <course>/gradebook.db)")
    e.add_argument("--out", default=None, help="folder of the export (default grading/<assignment>)")
    e.set_defaults(fn=cmd_export)

    s = sub.add_parser("similarity", help="HTML report of similar answer cells (flags only, never changes a grade)")
    s.add_argument("assignment")
    s.add_argument("grading_dir", help="the grade command's output folder, e.g. grading/a2_nade_made")
    s.add_argument("--threshold", type=float, default=0.7, help="similarity from 0 to 1 from which a pair is shown (0.7)")
    s.add_argument("--out", default=None, help="report path (default <grading_dir>/similarity.html)")
    s.add_argument("--preset", choices=sorted(lms.PRESETS), default=None, help="for an LMS zip: Canvas's or Moodle's names")
    s.set_defaults(fn=cmd_similarity)

    m = sub.add_parser("merge", help="combine the --out folders of grade --shard I/N runs into one")
    m.add_argument("out")
    m.add_argument("shards", nargs="+", metavar="SHARD_DIR")
    m.add_argument("--gradebook", default=None, help="gradebook to merge the shards' gradebook.db into "
                                                     "(default <course>/gradebook.db)")
    m.add_argument("--no-gradebook", action="store_true", help="do not touch the gradebook")
    m.set_defaults(fn=cmd_merge)

    gs = sub.add_parser("gradescope", help="build dist/gradescope/A.zip for Gradescope's autograder")
    gs.add_argument("assignment")
    gs.add_argument("--out", default=str(DEFAULT_ROOT / "dist" / "gradescope"), help="folder for the zip")
    gs.add_argument("--details-visibility", default="after_due_date",
                   choices=["visible", "after_due_date", "after_published", "hidden"],
                   help="when students see each check's result and message (default after_due_date)")
    gs.set_defaults(fn=cmd_gradescope)

    d = sub.add_parser("dashboard", help="GRADING_DIR/dashboard.html: the class's scores, failing checks and figures")
    d.add_argument("assignment")
    d.add_argument("grading_dir", help="the grade command's output folder, e.g. grading/a2_nade_made")
    d.add_argument("--out", default=None, help="page path (default <grading_dir>/dashboard.html)")
    d.set_defaults(fn=cmd_dashboard)

    c = sub.add_parser("check", help="self-test: solutions full marks, blank zero, every mutant loses points")
    c.add_argument("assignment")
    c.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    c.add_argument("--timeout", type=float, default=300.0)
    c.add_argument("--unsafe-no-sandbox", action="store_true")
    c.set_defaults(fn=cmd_check)

    args = p.parse_args(argv)
    return args.fn(args)
