"""Every model module's `python -m course_lib.models.<name>` self-check passes, and the verdict
helper really fails (exit status 1) on a map that breaks the autoregressive property."""
import runpy

import numpy as np
import pytest

from course_lib.models.selfcheck import print_verdict

MODULES = ["attention", "baselines", "gated_pixelcnn", "handwriting", "logistic_mixture", "made", "nade", "pixelcnn",
           "pixelcnn_pp", "rnn", "stcn", "stroke_output", "tcn", "vrnn", "wavenet"]


@pytest.mark.parametrize("name", MODULES)
def test_self_check_passes(name, capsys):
    runpy.run_module(f"course_lib.models.{name}", run_name="__main__")  # SystemExit(1) would fail the test
    out = capsys.readouterr().out
    assert "autoregressive: every output depends only on earlier inputs" in out or "normalized" in out, out


def test_verdict_exits_on_a_violation(capsys):
    dep = np.eye(3, dtype=bool)  # every output sees its own input
    with pytest.raises(SystemExit) as stop:
        print_verdict("identity", dep)
    assert stop.value.code == 1 and "violation" in capsys.readouterr().out
