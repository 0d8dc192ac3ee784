"""The histogram explorer: the pure fit function, the figure, and the widget callback."""
import math

import matplotlib
import numpy as np
import pytest

from course_lib.widgets.histogram import draw_histogram_fit, histogram_explorer, histogram_fit


def test_fit_is_the_smoothed_count_formula():
    s = histogram_fit(50, 0.5, num_values=20)
    expected = (np.bincount(s["train"], minlength=20) + 0.5) / (50 + 0.5 * 20)
    np.testing.assert_allclose(s["probs"], expected)
    assert s["probs"].shape == (20,) and abs(s["probs"].sum() - 1) < 1e-12
    assert len(s["train"]) == 50 and len(s["test"]) == 1000


def test_nlls_are_mean_negative_log_probs_in_nats():
    s = histogram_fit(300, 1.0)
    assert math.isclose(s["train_nll"], float(-np.log(s["probs"][s["train"]]).mean()))
    assert math.isclose(s["test_nll"], float(-np.log(s["probs"][s["test"]]).mean()))
    assert math.isclose(s["true_test_nll"], float(-np.log(s["true_probs"][s["test"]]).mean()))


def test_unsmoothed_small_sample_has_infinite_test_nll_and_smoothing_fixes_it():
    raw = histogram_fit(20, 0.0)
    assert raw["unseen_test_values"] > 0 and raw["test_nll"] == math.inf
    assert raw["train_nll"] < raw["true_test_nll"]  # overfits: better on train than the truth
    smooth = histogram_fit(20, 1.0)
    assert np.isfinite(smooth["test_nll"])


def test_more_data_closes_the_gap_and_test_set_is_fixed():
    small, big = histogram_fit(100, 0.5), histogram_fit(5000, 0.5)
    np.testing.assert_array_equal(small["test"], big["test"])
    assert big["test_nll"] - big["train_nll"] < small["test_nll"] - small["train_nll"]
    assert big["test_nll"] < small["test_nll"]
    assert big["test_nll"] >= big["true_test_nll"] - 0.05


def test_other_datasets_and_bad_arguments():
    s = histogram_fit(100, 0.0, dataset="gaps", num_values=40)
    assert s["probs"].shape == (40,)
    with pytest.raises(ValueError):
        histogram_fit(0, 0.0)
    with pytest.raises(ValueError):
        histogram_fit(10, -1.0)


def test_draw_has_title_and_labels():
    fig = draw_histogram_fit(histogram_fit(20, 0.0))
    ax = fig.axes[0]
    assert "test NLL inf" in ax.get_title() and "nats" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_widget_redraws_on_value_change():
    ui = histogram_explorer(num_train=50, smoothing=0.0)
    before, text = ui.image.value, ui.message.value
    assert before[:4] == b"\x89PNG" and "test NLL inf" in text
    ui.controls["smoothing"].value = 1.0
    assert ui.image.value != before and ui.message.value != text and "inf" not in ui.message.value
    after = ui.image.value
    ui.controls["num_train"].value = 1000
    assert ui.image.value != after
