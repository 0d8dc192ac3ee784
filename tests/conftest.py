"""Shared pytest settings: no GPU, quiet matplotlib, small thread pools on the 2-core machine, and the
course's own kernel for every notebook the tests run (nbclient's and the browser tests' JupyterLab)."""
import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)  # the suite runs two workers on two cores

import pytest  # noqa: E402

from course_lib.kernel import kernel_spec  # noqa: E402

# The course's `python3` kernel (course_lib.kernel's thread policy), first on Jupyter's search path, so
# the notebook tests and the browser tests' kernels run as students' kernels do after `make setup`,
# whether or not this environment has been set up. Kernels inherit the variable from this process.
# bench/sharing.py runs the tests with other kernels: it names their folder in COURSE_TEST_JUPYTER_PATH.
_KERNELS = os.environ.get("COURSE_TEST_JUPYTER_PATH")
if not _KERNELS:
    _KERNELS = tempfile.mkdtemp(prefix="course-jupyter-path-")
    atexit.register(shutil.rmtree, _KERNELS, ignore_errors=True)
    (Path(_KERNELS) / "kernels" / "python3").mkdir(parents=True)
    (Path(_KERNELS) / "kernels" / "python3" / "kernel.json").write_text(json.dumps(kernel_spec()))
os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [_KERNELS, os.environ.get("JUPYTER_PATH")]))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so fixtures can tell whether the test failed
    # (the browser tests save a screenshot then).
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report



@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # The "jupyter" group (every notebook, then the browser tests) runs on one worker, one test after
    # another, and is the longest single piece of the suite: hand it out first, so the other worker
    # takes everything else beside it instead of the group starting when the rest is half done.
    def groups(item):
        return sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
    items.sort(key=lambda item: "jupyter" not in groups(item))   # stable: the order within each part is kept
    # pytest-xdist 3.8 marks a group by appending "@name" to `item._nodeid`, which pytest 9 no longer
    # reads (the id lives in `item._id`): without this, --dist loadgroup silently spreads a group over
    # every worker, and notebooks and browser tests run beside each other.
    if getattr(config.option, "loadgroup", False):
        from _pytest.nodeid import NodeId
        for item in items:
            if groups(item) and "@" not in item.nodeid.rsplit("]", 1)[-1]:
                item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups(item))}")
