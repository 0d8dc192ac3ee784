"""python -m autograder release|grade|check|merge|gradescope (see autograder/README.md)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import collect, report, sandbox, shard
from autograder.grade import Course, grade_all, load_assignment

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
    if not unsafe and not sandbox.bwrap_available():
        print("error: bubblewrap (bwrap) and prlimit are needed to grade safely and were not found or do not work "
              "here.\nInstall them (Debian/Ubuntu: sudo apt-get install -y bubblewrap) or, only for your own "
              "trusted tests, pass --unsafe-no-sandbox (every report is then marked as not sandboxed).",
              file=sys.stderr)
        return 2
    assignment = load_assignment(args.assignment, course)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_lines = []

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        log_lines.append(line)
        if not args.quiet:
            print(line, flush=True)

    if unsafe:
        log("WARNING: grading WITHOUT the sandbox (--unsafe-no-sandbox); every report is marked")
    limits = sandbox.Limits(wall_s=args.timeout, probe_s=min(args.probe_timeout, args.timeout),
                            cell_s=min(args.cell_timeout, args.probe_timeout), memory_mb=args.memory)
    src = Path(args.submissions)
    with tempfile.TemporaryDirectory(prefix="autograder-collect-") as tmp:
        if src.is_file() and src.suffix.lower() == ".zip":
            subs = collect.from_zip(src, assignment.name, assignment.notebook_name, Path(tmp), log, args.id_pattern)
        elif src.is_dir():
            subs = collect.from_folder(src, assignment.name, assignment.notebook_name, log)
        else:
            print(f"error: {src} is neither a folder of student folders nor a .zip", file=sys.stderr)
            return 2
        if args.shard:
            subs = shard.select(subs, *args.shard)
            log(f"shard {args.shard[0]}/{args.shard[1]}: {len(subs)} submission(s)")
        log(f"grading {len(subs)} submission(s) of {assignment.name} with {args.workers} worker(s)")
        t0 = time.monotonic()
        results = grade_all(assignment, subs, limits, unsafe, args.workers, log=log)
        log(f"graded {len(results)} submission(s) in {time.monotonic() - t0:.1f} s")
    report.write_scores(out / "scores.csv", assignment, results)
    report.write_grades(out / "grades.csv", assignment, results)
    if args.shard:
        shard.write_manifest(out, assignment.name, *args.shard, [r.student_id for r in results])
    for r in results:
        report.write_feedback(out / "feedback", assignment, r, unsafe)
    if not args.no_gradebook:
        report.record_gradebook(course.gradebook_path, assignment, results)
        report.write_autograded(course.gradebook_path.parent, assignment, results)
        log(f"recorded scores in the gradebook {course.gradebook_path}")
    with open(out / "grading.log", "w", encoding="utf-8") as fh:
        fh.write("\n".join(log_lines) + "\n")
        for r in results:
            fh.write(f"\n== {r.student_id} ({r.notebook}): sandbox wall {r.wall_s:.1f} s, "
                     f"{r.output_bytes} bytes of output; probe times {r.times}\n")
            for note in r.notes:
                fh.write(f"note: {note}\n")
            if r.output_excerpt:
                fh.write(r.output_excerpt[:2000] + ("\n[... output cut ...]\n" if len(r.output_excerpt) > 2000 else "\n"))
    if not args.quiet:
        print_table(assignment, results)
    print(f"wrote {out / 'scores.csv'}, {out / 'grades.csv'}, {out / 'feedback'}/, {out / 'grading.log'}")
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
    g.add_argument("--memory", type=int, default=2048, help="address space per process in MB (default 2048)")
    g.add_argument("--id-pattern", default=collect.DEFAULT_ID_PATTERN,
                   help="regex with a named group student_id, matched on file names in a zip")
    g.add_argument("--gradebook", default=None, help="nbgrader gradebook to record into (default <course>/gradebook.db)")
    g.add_argument("--no-gradebook", action="store_true", help="do not touch the gradebook")
    g.add_argument("--unsafe-no-sandbox", action="store_true", help="grade without bubblewrap (trusted tests only)")
    g.add_argument("--shard", type=shard.shard_arg, default=None, metavar="I/N",
                   help="grade only shard I of N (0 <= I < N, split by a hash of the student id); see merge")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(fn=cmd_grade)

    m = sub.add_parser("merge", help="combine the --out folders of grade --shard I/N runs into one")
    m.add_argument("out")
    m.add_argument("shards", nargs="+", metavar="SHARD_DIR")
    m.add_argument("--gradebook", default=None, help="gradebook to merge the shards' gradebook.db into "
                                                     "(default <course>/gradebook.db)")
    m.add_argument("--no-gradebook", action="store_true", help="do not touch the gradebook")
    m.set_defaults(fn=cmd_merge)

    s = sub.add_parser("gradescope", help="build dist/gradescope/A.zip for Gradescope's autograder")
    s.add_argument("assignment")
    s.add_argument("--out", default=str(DEFAULT_ROOT / "dist" / "gradescope"), help="folder for the zip")
    s.add_argument("--details-visibility", default="after_due_date",
                   choices=["visible", "after_due_date", "after_published", "hidden"],
                   help="when students see each check's result and message (default after_due_date)")
    s.set_defaults(fn=cmd_gradescope)

    c = sub.add_parser("check", help="self-test: solutions full marks, blank zero, every mutant loses points")
    c.add_argument("assignment")
    c.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    c.add_argument("--timeout", type=float, default=300.0)
    c.add_argument("--unsafe-no-sandbox", action="store_true")
    c.set_defaults(fn=cmd_check)

    args = p.parse_args(argv)
    return args.fn(args)
