"""`make demo-grade`: a small demo class for A2, graded in the sandbox, with its score table.

Students: perfect (the solution), partial (two realistic mistakes), blank (the student version),
crashing (os._exit and a segfault), looping (an endless loop), memory_hungry (allocates until the
memory limit), cheating (monkeypatches torch.allclose, returns a tensor subclass with a lying
__eq__, reads the solutions, imports course_lib.models, writes the gradebook).
"""
from __future__ import annotations

import copy
import runpy
import shutil
import sys
from pathlib import Path

import nbformat

from autograder.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
A = "a2_nade_made"


def _replace(nb, task, source):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == task:
            cell.source = source
    return nb


def build_class(folder: Path) -> Path:
    src = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "assignments" / A / f"{A}.ipynb", as_version=4)
    mutants = runpy.run_path(str(ROOT / "tests" / "mutants" / f"{A}.py"))["MUTANTS"]
    first = lambda task: next(iter(sorted(mutants[task].items())))[1]  # noqa: E731
    students = {
        "perfect": src,
        "partial": _replace(_replace(src, "made_masks", first("made_masks")), "autoregressive_sample",
                            first("autoregressive_sample")),
        "blank": blank,
        "crashing": _replace(_replace(src, "MADE", "import os\nos._exit(1)\n"), "nade_log_prob",
                             "def nade_log_prob(x, W, V, b, c):\n    import ctypes\n    return ctypes.string_at(0)\n"),
        "looping": _replace(src, "autoregressive_sample",
                            "def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):\n"
                            "    while True:\n        pass\n"),
        "memory_hungry": _replace(src, "nade_log_prob",
                                  "def nade_log_prob(x, W, V, b, c):\n    hoard = []\n    while True:\n"
                                  "        hoard.append(bytearray(100 * 2**20))\n"),
        "cheating": _replace(_replace(_replace(src, "bernoulli_log_prob",
            "torch.allclose = lambda *a, **k: True\nimport numpy\nnumpy.allclose = lambda *a, **k: True\n"
            "class Always(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
            "def bernoulli_log_prob(logits, x):\n    return torch.zeros(logits.shape[:-1]).as_subclass(Always)\n"),
            "MADE", "from course_lib.models.made import MADE as _M\nMADE = _M\n"),
            "made_masks",
            "import glob\nLEAK = glob.glob('/work/**/solutions/**/*.ipynb', recursive=True)\n"
            "try:\n    open('/work/main/gradebook.db', 'w').write('hacked')\nexcept OSError:\n    pass\n"
            "def made_masks(input_degrees, hidden_degrees):\n    return [open(LEAK[0]).read()]\n"),
    }
    if folder.exists():
        shutil.rmtree(folder)
    for sid, nb in students.items():
        (folder / sid).mkdir(parents=True)
        nbformat.write(nb, folder / sid / f"{A}.ipynb")
    return folder


def main() -> int:
    demo = ROOT / "grading" / "demo"
    subs = build_class(demo / "submissions")
    print(f"demo class for {A} in {subs}: {', '.join(sorted(p.name for p in subs.iterdir()))}")
    return cli_main(["grade", A, str(subs), "--out", str(demo / "out"), "--gradebook", str(demo / "gradebook.db"),
                     "--timeout", "120", "--probe-timeout", "30"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
