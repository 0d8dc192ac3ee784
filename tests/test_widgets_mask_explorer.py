"""The mask explorer's pure function, its drawing, and its ipywidgets callback (no browser)."""
import matplotlib
import numpy as np
import pytest

from course_lib.models.made import ORDERING_NAMES
from course_lib.widgets import parse_positive_ints
from course_lib.widgets.mask_explorer import draw_mask_explorer, mask_explorer, mask_explorer_state

matplotlib.use("Agg")


@pytest.mark.parametrize("name", ORDERING_NAMES)
def test_state_is_autoregressive_and_triangular(name):
    s = mask_explorer_state(6, [8, 8], name, seed=1)
    D = 6
    assert sorted(s["ordering"].tolist()) == list(range(D))
    assert [m.shape for m in s["masks"]] == [(8, 6), (8, 8), (6, 8)]
    assert s["dependency"].shape == (D, D)
    assert s["autoregressive"], s["message"]
    # in generation order the map is strictly lower triangular
    assert not np.triu(s["dependency_ordered"]).any()
    assert np.array_equal(s["dependency_ordered"], s["dependency"][np.ix_(s["ordering"], s["ordering"])])
    assert s["total_connections"] == sum(int(m.sum()) for m in s["masks"])


def test_degrees_and_masks_agree():
    s = mask_explorer_state(5, [7], "random", seed=3)
    d_in, d_h, d_out = s["degrees"]
    assert sorted(d_in.tolist()) == [1, 2, 3, 4, 5] and d_h.min() >= 1 and d_h.max() <= 4
    assert np.array_equal(s["masks"][0], (d_h[:, None] >= d_in[None, :]).astype(int))
    assert np.array_equal(s["masks"][1], (d_out[:, None] > d_h[None, :]).astype(int))
    assert np.array_equal(d_out, d_in)


def test_seed_changes_hidden_degrees_and_dependency_follows_masks():
    a = mask_explorer_state(8, [10], "raster", seed=0)
    b = mask_explorer_state(8, [10], "raster", seed=1)
    assert not np.array_equal(a["degrees"][1], b["degrees"][1])
    # the dependency map equals the reachability through the masks
    for s in (a, b):
        reach = (s["masks"][1] @ s["masks"][0]) > 0
        assert np.array_equal(reach, s["dependency"])


def test_parse_positive_ints():
    assert parse_positive_ints("8, 8", "hidden sizes") == [8, 8]
    with pytest.raises(ValueError, match="hidden sizes"):
        parse_positive_ints("eight", "hidden sizes")
    with pytest.raises(ValueError):
        parse_positive_ints("0", "hidden sizes")


def test_draw_has_titles_and_labels():
    fig = draw_mask_explorer(mask_explorer_state(4, [5, 5], "even_odd", 0))
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) >= 4
    assert any("Dependency map" in ax.get_title() for ax in fig.axes)
    matplotlib.pyplot.close(fig)


def test_widget_redraws_on_value_change():
    ui = mask_explorer(num_inputs=4, hidden_sizes="5")
    before = ui.image.value
    assert before[:4] == b"\x89PNG"
    ui.controls["ordering"].value = "reversed"
    after = ui.image.value
    assert after != before
    assert "autoregressive" in ui.message.value
    ui.controls["hidden_sizes"].value = "not a number"
    assert "hidden sizes" in ui.message.value
    assert ui.image.value == after  # the last good picture stays
