"""The dataset browser of the course tour: the pure view function, the drawing, and the widget wiring."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.widgets.tour import DATASETS, dataset_browser, dataset_view, draw_view, num_items


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_every_dataset_has_a_view_of_the_right_shape():
    expected = {"digits": (8, 8), "digits_binarized": (8, 8), "shapes": (20, 20), "toy_1d": (100,),
                "waveforms": (512,)}
    for name in DATASETS:
        last = num_items(name) - 1
        for index in (0, last):
            view = dataset_view(name, index)
            assert view["name"] == name and view["index"] == index
            assert view["caption"] and view["title"]
            if name == "strokes":
                assert view["array"].ndim == 2 and view["array"].shape[1] == 3
            else:
                assert view["array"].shape == expected[name]


def test_views_match_the_data_module():
    from course_lib import data

    assert num_items("digits") == 1197 and num_items("toy_1d") == len(data.TOY_NAMES)
    np.testing.assert_array_equal(dataset_view("digits", 5)["array"], data.load_digits("train").images[5])
    binary = dataset_view("digits_binarized", 5)["array"]
    assert set(np.unique(binary)) <= {0, 1}
    np.testing.assert_array_equal(binary, dataset_view("digits", 5)["array"] >= 8)
    toy = dataset_view("toy_1d", 2)
    assert "gaps" in toy["caption"] and toy["counts"].sum() == 1000
    np.testing.assert_allclose(toy["array"].sum(), 1.0)
    s = dataset_view("strokes", 7)
    strokes = data.load_strokes("train")
    np.testing.assert_array_equal(s["array"], strokes.sequences[7])
    assert repr(strokes.texts[7]) in s["caption"]


def test_views_are_copies():
    a = dataset_view("shapes", 0)
    a["array"][:] = 7
    assert dataset_view("shapes", 0)["array"].max() == 1


def test_bad_names_and_indices_are_explained():
    with pytest.raises(ValueError, match="unknown dataset"):
        dataset_view("mnist", 0)
    with pytest.raises(IndexError, match="0..2"):
        dataset_view("toy_1d", 3)
    with pytest.raises(IndexError):
        dataset_view("digits", -1)


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_view_draws_with_title_and_labels(name):
    ax = draw_view(dataset_view(name, 1))
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    if name == "digits":
        assert any(a.get_label() == "<colorbar>" for a in ax.figure.axes), "grey levels need a colour bar"


def test_browser_callbacks_run_without_a_browser():
    ui = dataset_browser()
    assert ui.view["name"] == "digits" and ui.view["index"] == 0
    ui.controls["index"].value = 4
    assert ui.view["index"] == 4 and "example 4" in ui.caption.value
    ui.controls["dataset"].value = "toy_1d"  # only 3 items: the slider shrinks and the index is clamped
    assert ui.controls["index"].max == 2
    assert ui.view["name"] == "toy_1d" and ui.view["index"] == 2
    ui.controls["dataset"].value = "strokes"
    assert ui.controls["index"].max == 599 and ui.view["name"] == "strokes"
    assert len(ui.output.outputs) <= 1
