"""The dilation explorer's pure function, its drawing, and its ipywidgets callback (no browser)."""
import matplotlib
import numpy as np
import pytest

from course_lib.widgets import parse_positive_ints
from course_lib.widgets.dilation_explorer import (dilation_explorer, dilation_explorer_state,
                                                  draw_dilation_explorer)

matplotlib.use("Agg")


@pytest.mark.parametrize("k,dilations,stacks", [(2, [1, 2, 4, 8], 1), (2, [1, 2, 4], 2), (3, [1, 3, 9], 1),
                                                (2, [1, 1, 1], 1), (4, [2, 1], 3)])
def test_formula_equals_measured_and_graph(k, dilations, stacks):
    s = dilation_explorer_state(k, dilations, stacks)
    all_d = dilations * stacks
    assert s["all_dilations"] == all_d
    assert s["formula"] == (k - 1) * sum(all_d) + 1 == s["measured"]
    assert s["agree"]
    # the measured dependency row is the contiguous block of the last R inputs
    expected = np.zeros(s["length"], dtype=bool)
    expected[s["length"] - s["formula"]:] = True
    assert s["dependency"].tolist() == expected.tolist()
    # the graph reaches the same inputs, and every edge spans k-1 dilations at most
    assert s["active"][0].tolist() == expected.tolist()
    assert len(s["edges"]) == len(all_d)
    for layer_edges, d in zip(s["edges"], all_d):
        assert layer_edges and all(0 <= t - src <= (k - 1) * d and (t - src) % d == 0 for src, t in layer_edges)
    assert s["active"][-1].sum() == 1 and s["active"][-1][s["output"]]


def test_without_dilation_the_field_grows_linearly():
    assert [dilation_explorer_state(2, [1] * n)["measured"] for n in (1, 2, 4, 8)] == [2, 3, 5, 9]
    assert [dilation_explorer_state(2, [2 ** i for i in range(n)])["measured"] for n in (1, 2, 4, 8)] == [2, 4, 16, 256]


def test_bad_inputs():
    with pytest.raises(ValueError, match="dilations"):
        parse_positive_ints("one, two", "dilations")
    with pytest.raises(ValueError):
        parse_positive_ints("0", "dilations")
    with pytest.raises(ValueError, match="larger"):
        dilation_explorer_state(2, [512, 512, 512])
    with pytest.raises(ValueError):
        dilation_explorer_state(1, [1])
    assert parse_positive_ints("1, 2;4", "dilations") == [1, 2, 4]


def test_draw_has_title_and_labels():
    fig = draw_dilation_explorer(dilation_explorer_state(2, [1, 2, 4], 2))
    ax = fig.axes[0]
    assert "measured 15" in ax.get_title() and "formula" in ax.get_title()
    assert ax.get_xlabel() == "time step" and ax.get_ylabel() == "layer"
    matplotlib.pyplot.close(fig)


def test_widget_redraws_on_value_change():
    ui = dilation_explorer(kernel_size=2, dilations="1, 2, 4")
    before = ui.png
    assert before[:4] == b"\x89PNG" and "= 8" in ui.message.value and "agree" in ui.message.value
    ui.controls["num_stacks"].value = 2
    assert ui.png != before and "= 15" in ui.message.value
    after = ui.png
    ui.controls["dilations"].value = "not numbers"
    assert "dilations" in ui.message.value
    assert ui.png == after  # the last good picture stays
    ui.controls["dilations"].value = "1, 1"
    ui.controls["kernel_size"].value = 3
    assert ui.state["measured"] == 2 * 2 * 2 + 1
