"""`python -m autograder check A` passes for every assignment that has a task module: the solution
scores full marks, the blank student version scores 0 on every autograded task, every mutant in
tests/mutants/A.py loses points on its task, and every do-nothing answer there scores at most a
quarter of its task's points. Also, without a sandbox: how gated checks and shipped probes behave."""
import ast
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import sandbox, tasks
from autograder.taskapi import Check, Context, Task, run_check

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.sandbox
@pytest.mark.skipif(not sandbox.bwrap_available(), reason="bubblewrap is not installed")
@pytest.mark.parametrize("assignment", tasks.available())
def test_check_passes(assignment):
    r = subprocess.run([sys.executable, "-m", "autograder", "check", assignment, "--workers", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert f"check {assignment}: PASSED" in r.stdout


def test_every_task_module_matches_its_notebook():
    """Task names are the notebook's answer-cell ids and each has test points (no sandbox needed)."""
    from autograder.grade import Course, load_assignment

    for name in tasks.available():
        a = load_assignment(name, Course(ROOT))
        assert all(a.points[t] > 0 for t in a.task_names), name
        for t in a.tasks:
            tree = ast.parse(t.probe_source)   # what the sandbox runs: literal constants, then functions
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    ast.literal_eval(node.value)
                else:
                    assert isinstance(node, ast.FunctionDef), f"{name}.{t.name}: the probe ships {type(node).__name__}"
            assert tree.body[-1].name == t.probe_name, f"{name}.{t.name}: the probe must come last"


@pytest.mark.parametrize("assignment", tasks.available())
def test_every_task_has_a_do_nothing_answer(assignment):
    module = runpy.run_path(str(ROOT / "tests" / "mutants" / f"{assignment}.py"))
    do_nothing = module.get("DO_NOTHING", {})
    for t in tasks.load(assignment).TASKS:
        assert do_nothing.get(t.name), f"{assignment}: no DO_NOTHING answer for task {t.name}"


def _values_then_format():
    def values(ctx):
        return bool(ctx.get("v")[0] == 1), "values"

    def fmt(ctx):
        return True, "format"
    return [Check("values", 3, values), Check("format", 1, fmt, requires=("values",))]


def _judge(checks, value):
    ctx = Context({"v": {"ok": True, "kind": "ndarray", "dtype": "int64", "shape": [1]}},
                  {"v": np.array([value])}, {}, {}, {})
    return [run_check(c, ctx) for c in checks]


def test_a_gated_check_counts_only_after_its_prerequisite():
    checks = _values_then_format()
    assert _judge(checks, 1) == [(True, "values"), (True, "format")]
    (v_ok, _), (f_ok, message) = _judge(checks, 0)
    assert not v_ok and not f_ok
    assert "not judged" in message and "'values'" in message


def test_a_check_may_only_require_earlier_checks():
    values, fmt = _values_then_format()
    with pytest.raises(ValueError, match="not earlier checks"):
        Task("t", lambda rng: {}, _probe, [fmt, values])


def _probe(target, inputs, record):
    record("v", lambda: target(SIZES[0]) + helper())


def helper():
    return 1


def test_probe_ships_its_constants_and_helpers():
    t = Task("t", lambda rng: {}, _probe, _values_then_format(), helpers=(helper,), constants={"SIZES": (4, 8)})
    ns = {}
    exec(compile(t.probe_source, "<probe>", "exec"), ns)
    got = {}
    ns[t.probe_name](lambda n: n * 10, {}, lambda key, thunk: got.setdefault(key, thunk()))
    assert got == {"v": 41}
    with pytest.raises(ValueError, match="plain literal"):
        Task("t", lambda rng: {}, _probe, _values_then_format(), constants={"SIZES": object()})


def test_a2_adam_step_takes_the_steps_of_torch_adam():
    """A2's MADE probe writes Adam's update out (torch.optim imports torch._dynamo, seconds per
    sandboxed submission): the same numbers as torch.optim.Adam, with and without weight decay."""
    import torch

    from autograder.tasks.a2_nade_made import adam_step

    for weight_decay in (0.1, 0.0):
        models = []
        for _ in range(2):
            torch.manual_seed(0)
            models.append(torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 5)))
        ours, theirs = models
        opt = torch.optim.Adam(theirs.parameters(), lr=0.1, weight_decay=weight_decay)
        params, state = list(ours.parameters()), {}
        x = torch.randn(16, 5, generator=torch.Generator().manual_seed(1))
        for _ in range(3):
            opt.zero_grad()
            theirs(x).pow(2).mean().backward()
            opt.step()
            for p in params:
                p.grad = None
            ours(x).pow(2).mean().backward()
            adam_step(params, state, lr=0.1, weight_decay=weight_decay)
        assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters()))


def test_the_work_counters_and_a2s_training_steps_do_not_import_torch_dynamo():
    """torch._dynamo costs about 2.5 CPU s to import, in every sandboxed submission that reaches it."""
    code = """
import sys, torch
from autograder.tasks import a2_nade_made as a2, a4_wavenet as a4
W, x = torch.randn(8, 4), torch.randn(2, 4)
assert a2.count_work(lambda: (x @ W.T).sigmoid().sum()) > 0
assert a4.count_work(lambda: (x @ W.T).sum())[1] > 0
layer = torch.nn.Linear(4, 4)
layer(x).sum().backward()
a2.adam_step(list(layer.parameters()), {}, lr=0.1, weight_decay=0.1)
assert "torch._dynamo" not in sys.modules, "torch._dynamo was imported"
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
