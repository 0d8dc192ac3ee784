"""The feedback's figures and the dashboard's summaries, as data (not pixels): which cells of a
dependency map are violations and which are missing, what a task's display figure shows for a
leaky answer, that untrusted figure data is bounded, and that a figure draws to the same bytes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import dashboard, figures
from autograder.taskapi import Context
from autograder.tasks import load as load_tasks
from course_lib.models.made import MADE


def _convert(value):
    """What the probe runner's recorder would send: (meta entry, {key suffix: array})."""
    if isinstance(value, (list, tuple)):
        entries, arrays = [], {}
        for i, v in enumerate(value):
            e, a = _convert(v)
            entries.append(e)
            arrays.update({f"/{i}{k}": x for k, x in a.items()})
        return {"ok": True, "kind": "list", "items": entries}, arrays
    arr = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    kind = "tensor" if isinstance(value, torch.Tensor) else "ndarray"
    return {"ok": True, "kind": kind, "dtype": arr.dtype.name, "shape": list(arr.shape)}, {"": np.array(arr)}


def run_display(task, target, inputs):
    meta, arrays = {}, {}

    def record(key, thunk):
        entry, arrs = _convert(thunk() if callable(thunk) else thunk)
        meta[key] = entry
        arrays.update({key + k: v for k, v in arrs.items()})

    task.display.probe(target, inputs, record)
    return meta, arrays


def display_context(task, student, reference):
    """The Context a display figure sees: the student's and the reference's results on the task's
    public display inputs (drawn as grade.display_inputs draws them)."""
    import zlib

    inputs = {k: np.asarray(v) for k, v in
              task.display.inputs(np.random.default_rng(zlib.crc32(f"display\0{task.name}".encode()))).items()}
    s_meta, s_arr = run_display(task, student, inputs)
    r_meta, r_arr = run_display(task, reference, inputs)
    return Context(s_meta, s_arr, r_meta, r_arr, inputs)


def a2_task(name):
    return next(t for t in load_tasks("a2_nade_made").TASKS if t.name == name)


# ---------------------------------------------------------------- the categories


def test_dependency_cells_name_violations_and_missing_connections():
    expected = np.tril(np.ones((4, 4), dtype=bool), -1)       # output d sees inputs < d
    student = expected.copy()
    student[1, 1] = True      # sees its own input: a violation
    student[3, 0] = False     # does not see an earlier input: missing
    cells = figures.dependency_cells(student, expected)
    assert cells[1, 1] == figures.VIOLATION and cells[3, 0] == figures.MISSING
    assert cells[2, 1] == figures.AS_EXPECTED and cells[0, 3] == figures.NONE
    assert (cells == figures.VIOLATION).sum() == 1 and (cells == figures.MISSING).sum() == 1
    fig = figures.dependency("t", student, expected)
    assert (fig["violations"], fig["missing"]) == (1, 1)
    with pytest.raises(ValueError):
        figures.dependency_cells(student, expected[:3])


def test_made_masks_figure_marks_the_diagonal_of_a_non_strict_output_mask():
    task = a2_task("made_masks")

    def masks(strict):
        def made_masks(input_degrees, hidden_degrees):
            degs = [np.asarray(input_degrees)] + [np.asarray(h) for h in hidden_degrees]
            out = [torch.tensor((b[:, None] >= a[None, :]).astype(np.float32)) for a, b in zip(degs[:-1], degs[1:])]
            last = degs[0][:, None] > degs[-1][None, :] if strict else degs[0][:, None] >= degs[-1][None, :]
            return out + [torch.tensor(last.astype(np.float32))]
        return made_masks

    ctx = display_context(task, masks(strict=False), masks(strict=True))
    (title, fn), = task.display.figures
    fig = fn(ctx)
    cells = np.array(fig["cells"])
    expected = np.array(fig["expected"], dtype=bool)
    # sorted by degree the allowed map is strictly lower triangular; >= lets each output see its own input
    assert np.array_equal(expected, np.tril(np.ones_like(expected), -1))
    assert fig["violations"] > 0 and fig["missing"] == 0
    assert set(zip(*np.nonzero(cells == figures.VIOLATION))) <= {(i, j) for i in range(5) for j in range(i, 5)}
    right = fn(display_context(task, masks(strict=True), masks(strict=True)))
    assert right["violations"] == 0 and right["missing"] == 0


class _SeesItsOwnInput(torch.nn.Module):
    """A MADE whose output d also reads x_d: the classic leak."""

    def __init__(self, d, hidden, ordering=None):
        super().__init__()
        self.inner = MADE(d, hidden, ordering=ordering)

    def forward(self, x):
        return self.inner(x) + x


def test_made_figure_shows_a_leak_as_violations_on_the_diagonal_only():
    task = a2_task("MADE")
    ctx = display_context(task, _SeesItsOwnInput, MADE)
    fig = task.display.figures[0][1](ctx)
    cells = np.array(fig["cells"])
    violations = set(zip(*np.nonzero(cells == figures.VIOLATION)))
    assert violations == {(i, i) for i in range(len(cells))}
    assert fig["missing"] == 0
    assert figures.validate(fig) == fig


def test_sampler_figure_counts_frequencies():
    fig = figures.sampler("s", np.array([0, 0, 1, 3, 3, 3, 7]), np.array([0.25, 0.25, 0.0, 0.5]))
    assert fig["empirical"] == [2 / 7, 1 / 7, 0.0, 3 / 7] or np.allclose(fig["empirical"], [2 / 7, 1 / 7, 0, 3 / 7])
    assert fig["n"] == 7       # the out-of-range sample counts in n, in no bar


# ---------------------------------------------------------------- untrusted data is bounded


@pytest.mark.parametrize("bad", [
    {"kind": "dependency", "title": "t", "cells": [[9]], "expected": [[0]], "violations": 0, "missing": 0},
    {"kind": "dependency", "title": "t", "cells": np.zeros((100, 100), int).tolist(), "expected": [[0]],
     "violations": 0, "missing": 0},
    {"kind": "values", "title": "t", "labels": [], "student": ["<script>"], "reference": []},
    {"kind": "sampler", "title": "t", "labels": [], "empirical": [0.1] * 10_000, "exact": [], "n": 1},
    {"kind": "unknown"}, "not a dict",
])
def test_malformed_figures_become_error_figures(bad):
    assert figures.validate(bad)["kind"] == "error"


def test_values_keep_infinities_and_nan_as_json():
    fig = figures.values("v", [np.inf, np.nan, 1.0], [0.0, 0.0, 1.0])
    assert fig["student"] == ["inf", None, 1.0]
    assert figures.validate(fig) == fig


def test_a_figure_draws_to_the_same_bytes_twice():
    fig = figures.dependency("t", np.eye(5, dtype=bool), np.tril(np.ones((5, 5), dtype=bool), -1))
    first = figures.draw(fig)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and figures.draw(fig) == first


# ---------------------------------------------------------------- the dashboard's summaries


def _student(sid, statuses):
    tasks = []
    for task, (status, failed) in statuses.items():
        checks = [["gate", 1.0, "gate" not in failed, ""], ["prop", 1.0, "prop" not in failed, ""]]
        tasks.append({"task": task, "score": 2.0 - len(failed), "max_score": 2.0, "status": status, "message": "",
                      "checks": checks if status in ("passed", "partial", "failed") else [], "figures": []})
    return {"id": sid, "tasks": tasks, "notes": [], "feedback": None}


def test_failing_checks_are_counted_most_common_first_with_examples():
    students = [_student("a", {"t1": ("partial", {"prop"}), "t2": ("passed", set())}),
                _student("b", {"t1": ("partial", {"prop"}), "t2": ("failed", {"gate", "prop"})}),
                _student("c", {"t1": ("crashed", {"gate", "prop"}), "t2": ("passed", set())})]
    fails = dashboard.failing_checks(["t1", "t2"], students)
    assert [(f["task"], f["check"], f["count"]) for f in fails] == [
        ("t1", "prop", 2), ("t1", "status: crashed", 1), ("t2", "gate", 1), ("t2", "prop", 1)]
    assert fails[0]["examples"] == ["a", "b"]
    hist = dashboard.distributions(["t1", "t2"], students)
    assert hist["t2"][10] == 2 and hist["t2"][0] == 1 and sum(hist["t1"]) == 3
