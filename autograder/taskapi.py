"""What a task definition is made of: inputs (judge side), a probe (sandbox side), checks (judge side).

An assignment module in `autograder/tasks/<assignment>.py` defines `TASKS = [Task(...), ...]`.
See autograder/README.md for a worked example. In short:

- `inputs(rng) -> dict[str, np.ndarray]`: the hidden inputs, drawn by the judge from a seeded
  generator. They are written to an .npz and loaded by the probe before any student code runs.
- `probe(target, inputs, record)`: runs INSIDE the sandbox, so its module is not there: its source
  is shipped, together with the task's `helpers` (module-level functions, their source shipped
  before the probe's) and `constants` (plain literals such as case tables, written as assignments),
  and it may use only those names, `np`, `torch` and its arguments. `target` is the student's
  function or class; `record(key, lambda: ...)` calls the lambda, converts what it returns to plain
  arrays and remembers any exception, so one failing call costs one record. Case tables that the
  judge draws (sizes, orderings) travel in the inputs instead.
- `checks`: named `Check(name, weight, fn, requires=())`s; `fn(ctx)` returns a `(passed, message)`
  pair or a `course_lib.checks.CheckResult`, or raises `Fail(message)`. `ctx.get(key)` returns the
  student's array after strict validation, `ctx.ref(key)` the reference array computed from the
  solution notebook, `ctx.inputs` the hidden inputs. A check that `requires` other checks (named,
  listed earlier in the task) is judged only when they passed, and fails otherwise: property
  checks (formats, normalization, structure, call counts) are gated on a check that the code does
  the work (values against the reference, outputs that depend on the inputs), so that a do-nothing
  answer cannot collect them. The task's score is
  points * (sum of weights of passed checks) / (sum of all weights).

Messages must not reveal hidden inputs or reference values: say what property failed.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class Fail(Exception):
    """Raised by a check (or by ctx.get) to fail the check with a message for the student."""


@dataclass
class Check:
    name: str
    weight: float
    fn: Callable[["Context"], Any]
    requires: tuple[str, ...] = ()   # names of earlier checks of the task that must pass first


@dataclass
class Task:
    name: str
    inputs: Callable[[np.random.Generator], dict]
    probe: Callable
    checks: list[Check]
    target: str | None = None      # the name the answer cell defines (default: the task name)
    timeout: float | None = None   # seconds for this task's probe (default: the grade command's)
    doc: str = ""
    helpers: tuple = ()            # module-level functions the probe calls (their source is shipped)
    constants: dict = field(default_factory=dict)   # plain literals the probe reads (case tables)
    display: "Display | None" = None   # public inputs whose results become the feedback's figures

    def __post_init__(self):
        self.target = self.target or self.name
        total = sum(c.weight for c in self.checks)
        if not self.checks or total <= 0:
            raise ValueError(f"task {self.name} needs checks with positive weights")
        seen = set()
        for c in self.checks:
            unknown = [r for r in c.requires if r not in seen]
            if unknown:
                raise ValueError(f"task {self.name}: check {c.name!r} requires {unknown}, which are not earlier checks")
            seen.add(c.name)
        if len(seen) != len(self.checks):
            raise ValueError(f"task {self.name}: duplicate check names")
        # read now, while the module file on disk is the one that was imported
        self._probe_source = self._ship(self.constants, self.helpers, self.probe)
        if self.display is not None:
            self.display.source = self._ship({**self.constants, **self.display.constants},
                                             (*self.helpers, *self.display.helpers), self.display.probe)

    def _ship(self, constants, helpers, probe) -> str:
        """The probe's source as the sandbox runs it: constants, helpers, then the probe itself."""
        parts = []
        for key, value in constants.items():
            if not key.isidentifier():
                raise ValueError(f"task {self.name}: constant name {key!r} is not an identifier")
            text = repr(value)
            try:
                same = ast.literal_eval(text) == value
            except (ValueError, SyntaxError):
                same = False
            if not same:
                raise ValueError(f"task {self.name}: constant {key} is not a plain literal")
            parts.append(f"{key} = {text}\n")
        for fn in (*helpers, probe):
            if not inspect.isfunction(fn):
                raise ValueError(f"task {self.name}: {fn!r} is not a plain function")
            parts.append(textwrap.dedent(inspect.getsource(fn)))
        return "\n".join(parts)

    @property
    def probe_source(self) -> str:
        return self._probe_source

    @property
    def probe_name(self) -> str:
        return self.probe.__name__


DISPLAY_SUFFIX = "__display"


@dataclass
class Display:
    """What a task shows in the feedback: figures of the student's results on PUBLIC inputs.

    `inputs(rng)` draws the display inputs from a generator seeded by the task's name alone (the
    same for every student, computable by anyone who reads the task module: nothing hidden), the
    sandbox runs `probe(target, inputs, record)` on them in a child of its own after the graded
    probes (a crash or timeout there costs a figure, never points), the reference's results come
    from the solution like the graded ones, and each `figures` entry `(title, fn)` turns them into
    one figure: `fn(ctx) -> dict` (see autograder/figures.py), with `ctx.get`'s strict checks;
    a `Fail` becomes an "error" figure with its message. The task's `helpers` and `constants` are
    shipped with the display probe too."""
    inputs: Callable[[np.random.Generator], dict]
    probe: Callable
    figures: list
    helpers: tuple = ()
    constants: dict = field(default_factory=dict)
    timeout: float = 15.0          # seconds for the display probe (at most the task's)
    source: str = ""               # filled in by Task

    @property
    def probe_name(self) -> str:
        return self.probe.__name__


KIND_NAMES = {"tensor": "a torch.Tensor", "ndarray": "a numpy array", "python_float": "a Python float",
               "python_int": "a Python int", "python_bool": "a Python bool", "numpy_scalar": "a numpy scalar",
               "list": "a list", "tuple": "a tuple", "none": "None"}


class Context:
    """What a check sees: the student's validated results, the reference and the hidden inputs."""

    def __init__(self, student_meta, student_arrays, ref_meta, ref_arrays, inputs):
        self._meta = student_meta or {}
        self._arrays = student_arrays or {}
        self._ref_meta = ref_meta or {}
        self._ref_arrays = ref_arrays or {}
        self.inputs = inputs
        self.outcomes: dict[str, bool] = {}   # check name -> passed, for the checks judged so far

    # -- student side
    def _lookup(self, key: str):
        entry = self._meta.get(key)
        if entry is None and "/" in key:  # an item of a returned list: "key/0", "key/1/2"
            head, *rest = key.split("/")
            entry = self._meta.get(head)
            for part in rest:
                items = entry.get("items") if isinstance(entry, dict) else None
                if not isinstance(items, list) or not part.isdigit() or int(part) >= len(items):
                    return None
                entry = items[int(part)]
        return entry

    def meta(self, key: str) -> dict:
        entry = self._lookup(key)
        if entry is None:
            raise Fail("one of the grader's calls produced no result (the task crashed or timed out before it)")
        if not isinstance(entry, dict) or not entry.get("ok"):
            err = entry.get("error") if isinstance(entry, dict) else None
            raise Fail(f"raised {err}" if err and not str(err).startswith("returned") else str(err or "invalid result"))
        return entry

    def get(self, key: str, kinds=None, dtype=None, shape=None) -> np.ndarray:
        """The student's array for `key`, after strict checks (kind, dtype, shape) on both the
        probe's description and the array itself."""
        entry = self.meta(key)
        kind = entry.get("kind")
        if kinds is not None and kind not in kinds:
            want = " or ".join(KIND_NAMES.get(k, k) for k in kinds)
            raise Fail(f"returned {KIND_NAMES.get(kind, kind)}; expected {want}")
        if kind in ("list", "tuple", "none"):
            raise Fail(f"returned {KIND_NAMES[kind]}; expected an array")
        arr = self._arrays.get(key)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc":
            raise Fail("the result could not be read as a numeric array")
        if list(arr.shape) != list(entry.get("shape", [])):
            raise Fail("the result's shape is inconsistent")
        if dtype is not None:
            wanted = dtype if isinstance(dtype, (list, tuple)) else (dtype,)
            if entry.get("dtype") not in wanted:
                raise Fail(f"has dtype {entry.get('dtype')}; expected {' or '.join(wanted)}")
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise Fail(f"has shape {tuple(arr.shape)}; expected {tuple(shape)}")
        return arr

    def items(self, key: str, kinds=("list", "tuple")) -> list[str]:
        """Keys of the items of a returned list/tuple (for functions that return several arrays)."""
        entry = self.meta(key)
        if entry.get("kind") not in kinds:
            raise Fail(f"returned {KIND_NAMES.get(entry.get('kind'), entry.get('kind'))}; expected a list")
        return [f"{key}/{i}" for i in range(len(entry.get("items", [])))]

    def has(self, key: str) -> bool:
        entry = self._lookup(key)
        return isinstance(entry, dict) and bool(entry.get("ok"))

    # -- reference side (trusted)
    def ref(self, key: str) -> np.ndarray:
        if key not in self._ref_arrays:
            raise RuntimeError(f"the reference has no result '{key}' (is the solution notebook broken?)")
        return self._ref_arrays[key]

    def ref_meta(self, key: str) -> dict:
        return self._ref_meta[key]


def run_check(check: Check, ctx: Context) -> tuple[bool, str]:
    """Judge one check (the task's checks are judged in order, on one Context)."""
    failed = [r for r in check.requires if not ctx.outcomes.get(r)]
    if failed:
        passed, message = False, (f"not judged: this counts only once '{failed[0]}' passes, and it did not")
    else:
        passed, message = _judge(check, ctx)
    ctx.outcomes[check.name] = passed
    return passed, message


def _judge(check: Check, ctx: Context) -> tuple[bool, str]:
    try:
        out = check.fn(ctx)
    except Fail as err:
        return False, str(err)
    except Exception as err:  # a judge-side error on strange data: fail the check, say so
        return False, f"could not be judged ({type(err).__name__})"
    if hasattr(out, "passed") and hasattr(out, "message"):
        return bool(out.passed), str(out.message)
    passed, message = out
    return bool(passed), str(message)


# ---------------------------------------------------------------- check builders used by task modules


def close_to_reference(key: str, kinds=None, dtype=None, rtol: float = 1e-6, atol: float = 1e-8,
                       what: str = "the values"):
    """Check: the student's array has the reference's shape and matches it within tolerances
    (inf and nan must appear where the reference has them)."""

    def fn(ctx: Context):
        ref = ctx.ref(key)
        got = ctx.get(key, kinds=kinds, dtype=dtype, shape=ref.shape)
        if not np.allclose(got.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True):
            bad = ~np.isclose(got.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
            return False, f"{what} are wrong at {int(bad.sum())} of {bad.size} entries"
        return True, f"{what} are correct"

    return fn


def equal_to_reference(key: str, kinds=None, dtype=None, what: str = "the values"):
    def fn(ctx: Context):
        ref = ctx.ref(key)
        got = ctx.get(key, kinds=kinds, dtype=dtype, shape=ref.shape)
        if not np.array_equal(got, ref):
            return False, f"{what} are wrong at {int((got != ref).sum())} of {ref.size} entries"
        return True, f"{what} are correct"

    return fn
