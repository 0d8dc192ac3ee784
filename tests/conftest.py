"""Shared pytest settings: no GPU, quiet matplotlib, small thread pools on the 2-core machine."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)  # the suite runs two workers on two cores

import pytest  # noqa: E402


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so fixtures can tell whether the test failed
    # (the browser tests save a screenshot then).
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
