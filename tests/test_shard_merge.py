"""Cluster regrades: 3 shards graded separately and merged equal one run, byte for byte; and the
deployment recipes (Slurm, Kubernetes, Dockerfile) use the commands and files that exist."""
import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import sandbox, shard  # noqa: E402
from autograder.cli import main  # noqa: E402

needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")
ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tc.make_course(tmp_path_factory.mktemp("course"))
    os.environ["AUTOGRADER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    subs = root / "submitted"
    tc.write_submission(subs, "ada", tc.student_notebook())
    tc.write_submission(subs, "bea", tc.build(tc.BLANK))
    tc.write_submission(subs, "cy", tc.student_notebook({"square": tc.MUTANTS["square"]["cube"]}))
    tc.write_submission(subs, "dee", tc.student_notebook({"row_softmax": tc.MUTANTS["row_softmax"]["unnormalized"]}))
    tc.write_submission(subs, "fay", b"{not json")
    tc.write_submission(subs, "hal", tc.student_notebook({"row_softmax": "import os\nos._exit(3)\n"}))
    (subs / "eve").mkdir()   # no notebook
    return root


def _grade(course, out, *extra):
    return main(["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny",
                 str(course / "submitted"), "--out", str(out), "--workers", "2", "--timeout", "60", "--quiet",
                 "--gradebook", str(out / "gradebook.db"), *extra])


def _cell_scores(db: Path) -> dict:
    from nbgrader.api import Gradebook
    os.environ["PATH"] = f"{VENV_BIN}:{os.environ['PATH']}"
    out = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        for sub in gb.assignment_submissions("fx_tiny"):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[(sub.student.id, g.name)] = (g.auto_score, g.manual_score, g.max_score)
    return out


def test_split_is_deterministic_and_complete():
    ids = [f"s{i:04d}" for i in range(600)]
    parts = [[i for i in ids if shard.shard_of(i, 4) == k] for k in range(4)]
    assert sorted(sum(parts, [])) == ids
    assert all(110 < len(p) < 190 for p in parts), [len(p) for p in parts]   # a hash, not one bucket
    assert shard.shard_of("ada", 3) == 2 and shard.shard_of("cy", 3) == 0      # sha256: the same everywhere


@pytest.mark.parametrize("bad", ["3/3", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_argument_is_a_usage_error(bad, capsys):
    with pytest.raises(SystemExit):
        main(["grade", "fx_tiny", "x", "--shard", bad])
    assert "--shard" in capsys.readouterr().err


@pytest.mark.sandbox
@needs_bwrap
def test_three_shards_merged_equal_one_run(course, tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    assert _grade(course, single) == 0
    shards = []
    for k in range(3):
        out = tmp_path / f"shard-{k}"
        out.mkdir()
        assert _grade(course, out, "--shard", f"{k}/3") == 0
        graded = json.loads((out / "shard.json").read_text())["students"]
        assert graded and all(shard.shard_of(s, 3) == k for s in graded)
        shards.append(out)
    merged = tmp_path / "merged"
    assert main(["--course-root", str(course), "merge", str(merged), *map(str, shards[::-1]),
                 "--gradebook", str(merged / "gradebook.db")]) == 0

    for name in ("scores.csv", "grades.csv"):
        assert (merged / name).read_bytes() == (single / name).read_bytes(), name
    assert len((single / "scores.csv").read_text().splitlines()) == 1 + 7 * 2
    cmp = filecmp.dircmp(single / "feedback", merged / "feedback")
    assert sorted(cmp.common_dirs) == ["ada", "bea", "cy", "dee", "eve", "fay", "hal"]
    for sid in cmp.common_dirs:
        a, b = single / "feedback" / sid, merged / "feedback" / sid
        assert sorted(os.listdir(a)) == sorted(os.listdir(b))
        for f in os.listdir(a):
            assert (a / f).read_bytes() == (b / f).read_bytes(), (sid, f)
    assert _cell_scores(merged / "gradebook.db") == _cell_scores(single / "gradebook.db")
    assert sorted(p.relative_to(merged / "grading").as_posix() for p in (merged / "grading").rglob("*.ipynb")) == \
        sorted(p.relative_to(single / "grading").as_posix() for p in (single / "grading").rglob("*.ipynb"))

    # an incomplete or repeated set of shards is refused with a message, not merged
    assert main(["--course-root", str(course), "merge", str(tmp_path / "bad"), str(shards[0]), str(shards[1]),
                 "--no-gradebook"]) == 2
    assert main(["--course-root", str(course), "merge", str(tmp_path / "bad"), str(shards[0]), str(shards[0]),
                 str(shards[1]), "--no-gradebook"]) == 2


def test_cluster_job_files_run_one_shard_per_task():
    slurm = (ROOT / "deploy" / "slurm_grade.sh").read_text()
    assert os.access(ROOT / "deploy" / "slurm_grade.sh", os.X_OK)
    assert subprocess.run(["bash", "-n", str(ROOT / "deploy" / "slurm_grade.sh")]).returncode == 0
    assert '--shard "$I/$N"' in slurm and "SLURM_ARRAY_TASK_ID" in slurm and "SLURM_ARRAY_TASK_COUNT" in slurm
    import yaml  # noqa: F401 (jupyter's dependencies bring PyYAML)
    job = yaml.safe_load((ROOT / "deploy" / "k8s_grade_job.yaml").read_text())
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    assert '--shard "$JOB_COMPLETION_INDEX/$SHARDS"' in container["args"][0]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/submissions", "/grading"} <= mounts
    # both run the grade command with options it has
    from autograder.cli import main
    for text in (slurm, container["args"][0]):
        for opt in re.findall(r"(--[a-z][a-z-]+)", text.split("autograder grade", 1)[1]):
            assert opt in ("--shard", "--out", "--gradebook", "--workers", "--quiet"), opt
    with pytest.raises(SystemExit) as help_exit:
        main(["grade", "--help"])
    assert help_exit.value.code == 0


def test_dockerfile_builds_from_the_same_pins_and_files():
    text = (ROOT / "Dockerfile").read_text()
    stages = {m.group(1): m.start() for m in re.finditer(r"^FROM \S+ AS (\S+)$", text, re.M)}
    assert set(stages) == {"env", "lab", "grader"}
    bounds = sorted(stages.values()) + [len(text)]
    body = {name: text[start:bounds[bounds.index(start) + 1]] for name, start in stages.items()}
    for name, part in body.items():
        for line in re.findall(r"^COPY (.+)$", part, re.M):
            *sources, _dest = line.split()
            for src in sources:
                assert (ROOT / src).exists(), f"{name}: COPY {src} does not exist"
    # the lab image is what students get: no solutions, no autograder (hidden inputs), no tests
    assert not re.search(r"^COPY (solutions|autograder|tests)", body["lab"], re.M)
    assert re.search(r"^COPY solutions", body["grader"], re.M)
    # the same install steps as `make setup`
    makefile = (ROOT / "Makefile").read_text()
    for step in ("pip install", "-r requirements.txt", "scripts/setup_lab.py"):
        assert step in makefile and step in text, step
    assert "bubblewrap" in text and "python:3.11" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "grading", "gradebook.db", "dist"} <= set(ignored)
    pins = (ROOT / "deploy" / "requirements-hub.txt").read_text()
    assert re.search(r"^jupyterhub==\d", pins, re.M)
