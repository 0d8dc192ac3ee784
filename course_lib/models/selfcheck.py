"""The verdict each model module prints when run as `python -m course_lib.models.<name>`.

As karpathy/pytorch-made's file does, every model module checks its own autoregressive property on
a small random instance: the dependency map (`course_lib.checks.dependency_map`) must only link each
output to inputs earlier in the ordering. The command exits with status 1 when the check fails.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from course_lib.checks import CheckResult, check_autoregressive


def print_verdict(name: str, dep: np.ndarray, ordering: Sequence[int] | None = None,
                  output_site: Sequence[int] | None = None) -> CheckResult:
    """Print `name`, the map's size and the check's message; exit with status 1 when it fails."""
    result = check_autoregressive(dep, ordering, output_site)
    print(f"{name}: dependency map of {dep.shape[0]} outputs x {dep.shape[1]} inputs; {result.message}")
    if not result.passed:
        raise SystemExit(1)
    return result


def sequence_sites(num_steps: int, num_features: int, outputs_per_step: int) -> np.ndarray:
    """output_site for a flattened (T, F) input and (T, outputs_per_step) outputs: step t predicts
    the features of step t, whose first input index is t * F."""
    return np.repeat(np.arange(num_steps) * num_features, outputs_per_step)
