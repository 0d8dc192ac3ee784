"""The code-length explorer (lecture 12): per-pixel bits and the state the widget draws."""
import math

import numpy as np
import pytest

from course_lib.widgets.code_length_explorer import (code_length_explorer, code_length_state, draw_code_length,
                                                     per_pixel_bits)


def _data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 2, size=(5, 8, 8))
    p = rng.uniform(0.05, 0.95, size=(5, 8, 8))
    log_probs = np.log(np.where(images == 1, p, 1 - p))
    return images, {"model": per_pixel_bits(log_probs), "uniform": np.ones((5, 8, 8))}, log_probs


def test_total_is_the_nll_in_bits_and_worst_pixel_is_the_largest():
    images, bits, log_probs = _data()
    state = code_length_state(images, bits, 3, "model")
    assert state["total_bits"] == pytest.approx(-log_probs[3].sum() / math.log(2))
    assert state["bits"][state["worst_pixel"]] == state["bits"].max()
    assert code_length_state(images, bits, 0, "uniform")["total_bits"] == 64


def test_bad_inputs():
    images, bits, _ = _data()
    with pytest.raises(ValueError, match="model"):
        code_length_state(images, bits, 0, "nope")
    with pytest.raises(ValueError, match="index"):
        code_length_state(images, bits, 5, "model")
    with pytest.raises(ValueError, match="log-probabilities"):
        per_pixel_bits(np.array([0.5]))


def test_draw_and_widget():
    images, bits, _ = _data()
    fig = draw_code_length(code_length_state(images, bits, 1, "model"))
    assert all(ax.get_title() for ax in fig.axes[:2]) and fig.axes[1].get_xlabel()
    ui = code_length_explorer(images, bits)
    before = ui.png
    ui.controls["index"].value = 4
    assert ui.state["index"] == 4 and ui.png != before
