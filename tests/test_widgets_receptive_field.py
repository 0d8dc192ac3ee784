"""The receptive-field explorer's pure function, its drawing, and its ipywidgets callback (no browser)."""
import matplotlib
import numpy as np
import pytest

from course_lib.receptive_field import blind_spot, earlier_pixels, pixelcnn_receptive_field
from course_lib.widgets.receptive_field_explorer import (ARCHITECTURES, draw_receptive_field_explorer,
                                                         receptive_field_explorer, receptive_field_state)

matplotlib.use("Agg")


@pytest.mark.parametrize("num_layers,kernel_size,row,col", [(1, 3, 8, 8), (4, 3, 8, 8), (3, 5, 15, 2), (8, 3, 5, 15),
                                                            (2, 7, 0, 9)])
def test_pixelcnn_gradients_match_geometry_and_show_the_blind_spot(num_layers, kernel_size, row, col):
    s = receptive_field_state("pixelcnn", num_layers, kernel_size, row, col)
    assert s["matches"], s["message"]
    assert np.array_equal(s["expected"], pixelcnn_receptive_field(num_layers, kernel_size, 16, 16, row, col))
    assert np.array_equal(s["blind"], blind_spot(num_layers, kernel_size, 16, 16, row, col, within_reach=True))
    assert s["counts"]["future_seen"] == 0
    for key in ("dependency", "expected", "should_see", "blind", "past"):
        assert s[key].shape == (16, 16) and s[key].dtype == bool


def test_blind_spot_size_at_the_centre_grows_with_depth():
    sizes = [receptive_field_state("pixelcnn", L, 3, 12, 7)["counts"]["blind"] for L in range(1, 6)]
    assert sizes == [L * (L - 1) // 2 for L in range(1, 6)]


@pytest.mark.parametrize("num_layers,kernel_size", [(1, 3), (3, 3), (6, 5)])
def test_gated_pixelcnn_has_no_blind_spot(num_layers, kernel_size):
    s = receptive_field_state("gated_pixelcnn", num_layers, kernel_size, 9, 6)
    assert s["matches"], s["message"]
    assert s["counts"]["blind"] == 0 and not s["blind"].any()
    assert s["counts"]["future_seen"] == 0


def test_attention_sees_every_earlier_pixel_at_any_depth():
    s = receptive_field_state("attention", 1, 3, 6, 10)
    assert np.array_equal(s["dependency"], earlier_pixels(16, 16, 6, 10))
    assert s["matches"] and s["counts"]["blind"] == 0 and s["counts"]["seen"] == 6 * 16 + 10


def test_bad_arguments():
    with pytest.raises(ValueError, match="architecture"):
        receptive_field_state("rnn", 2, 3, 1, 1)
    with pytest.raises(ValueError):
        receptive_field_state("pixelcnn", 0, 3, 1, 1)
    with pytest.raises(ValueError):
        receptive_field_state("pixelcnn", 2, 4, 1, 1)
    with pytest.raises(ValueError):
        receptive_field_state("pixelcnn", 2, 3, 16, 1)


def test_draw_has_titles_labels_and_legend():
    fig = draw_receptive_field_explorer(receptive_field_state("pixelcnn", 3, 3, 8, 8))
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 2
    assert "gradients" in titled[0].get_title() and "Analytic" in titled[1].get_title()
    assert all(ax.get_xlabel() == "column" and ax.get_ylabel() == "row" for ax in titled)
    legends = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "blind spot" in legends
    matplotlib.pyplot.close(fig)


def test_widget_redraws_on_value_change():
    ui = receptive_field_explorer(architecture="pixelcnn", num_layers=3)
    before = ui.png
    assert before[:4] == b"\x89PNG"
    assert len(ui.output.outputs) == 1 and "image/png" in ui.output.outputs[0]["data"]
    ui.controls["num_layers"].value = 5
    assert ui.png != before and "5 layer(s)" in ui.message.value
    assert len(ui.output.outputs) == 1
    ui.controls["architecture"].value = "gated_pixelcnn"
    assert "Gated PixelCNN" in ui.message.value and ui.state["counts"]["blind"] == 0
    assert set(ui.controls) == {"architecture", "num_layers", "kernel_size", "row", "col"}
    assert set(a for _, a in ui.controls["architecture"].options) == set(ARCHITECTURES)
