"""course_lib.viz: every figure has a title and labelled axes, and a colour bar where colour means a number."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_lib import viz
from course_lib.train import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _labelled(ax, xlabel=True, ylabel=True):
    assert ax.get_title(), "every figure needs a title"
    if xlabel:
        assert ax.get_xlabel(), "the x axis needs a label"
    if ylabel:
        assert ax.get_ylabel(), "the y axis needs a label"


def _colorbars(ax):
    """The colour-bar axes attached to the figure of `ax` (matplotlib keeps them as extra axes)."""
    return [a for a in ax.figure.axes if a is not ax and a.get_label() == "<colorbar>"]


def test_image_grid_tiles_images_with_title_and_label():
    images = np.random.default_rng(0).integers(0, 2, size=(10, 8, 8))
    ax = viz.image_grid(images, title="Ten digits")
    _labelled(ax, ylabel=False)
    assert ax.get_title() == "Ten digits" and "10 images" in ax.get_xlabel()
    canvas = ax.get_images()[0].get_array()
    assert canvas.shape == (4 * 9 - 1, 3 * 9 - 1)  # 4 rows x 3 columns with 1-pixel gaps


def test_image_grid_accepts_flat_torch_and_colour_images():
    viz.image_grid(torch.rand(4, 64))
    ax = viz.image_grid(np.random.rand(3, 3, 5, 5), nrow=1)
    assert ax.get_images()[0].get_array().shape == (5, 3 * 6 - 1, 3)


def test_plot_matrix_has_colour_bar_with_label():
    ax = viz.plot_matrix(np.arange(12).reshape(3, 4), "A matrix", "column j", "row i", colorbar_label="value")
    _labelled(ax)
    bars = _colorbars(ax)
    assert len(bars) == 1 and bars[0].get_ylabel() == "value"


def test_plot_mask_and_dependency_map_are_binary_with_legend():
    mask = np.tril(np.ones((5, 5)), -1)
    ax = viz.plot_mask(mask)
    _labelled(ax)
    assert len(_colorbars(ax)) == 1
    ax = viz.plot_dependency_map(mask.astype(bool), ordering=[4, 3, 2, 1, 0])
    _labelled(ax)
    assert "generation order" in ax.get_xlabel()
    shown = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(shown, mask[np.ix_([4, 3, 2, 1, 0], [4, 3, 2, 1, 0])])
    assert len(_colorbars(ax)) == 1


def test_plot_made_connectivity_draws_every_kept_connection():
    degrees = [[1, 2, 3], [1, 2], [1, 2, 3]]
    m1 = np.array([[1, 0, 0], [1, 1, 0]])  # hidden (2) x inputs (3)
    m2 = np.array([[0, 0], [1, 0], [1, 1]])  # outputs (3) x hidden (2)
    ax = viz.plot_made_connectivity([m1, m2], degrees)
    _labelled(ax)
    assert len(ax.lines) == int(m1.sum() + m2.sum())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["inputs", "hidden 1", "outputs"]


def test_plot_receptive_field_has_a_legend_for_each_colour():
    seen = np.zeros((5, 5), bool)
    seen[:2] = True
    blind = np.zeros((5, 5), bool)
    blind[2, 4] = True
    ax = viz.plot_receptive_field(seen, target=(2, 2), blind=blind)
    _labelled(ax)
    bars = _colorbars(ax)
    assert len(bars) == 1
    assert [t.get_text() for t in bars[0].get_yticklabels()] == ["not seen", "seen", "blind spot", "output pixel"]


def test_plot_heatmap_has_colour_bar_and_target_outline():
    ax = viz.plot_heatmap(np.random.rand(6, 6), "|gradient|", "magnitude", target=(3, 3))
    _labelled(ax)
    assert _colorbars(ax)[0].get_ylabel() == "magnitude"
    assert len(ax.patches) == 1


def test_plot_learning_curves_marks_the_best_epoch():
    h = History(num_dims=4, train_nll=[3.0, 2.5, 2.2], val_nll=[3.1, 2.6, 2.7], best_epoch=1)
    ax = viz.plot_learning_curves(h)
    _labelled(ax)
    assert "nats" in ax.get_ylabel()
    assert len(ax.lines) == 3  # train, validation, best-epoch line
    assert ax.lines[2].get_xdata()[0] == 2  # epochs are shown 1-based
    assert h.plot().get_title()


def test_plot_strokes_lifts_the_pen_between_strokes():
    # Two strokes: a horizontal line of 3 points, then (pen lifted) a vertical line of 2 points.
    s = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=np.float32)
    ax = viz.plot_strokes(s, title="two strokes")
    _labelled(ax)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [3, 3])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1, 2])


def test_plot_strokes_draws_a_dataset_sample():
    from course_lib.data import load_strokes

    s = load_strokes("test", num_samples=1)
    ax = viz.plot_strokes(torch.from_numpy(s.sequences[0]), title=s.texts[0])
    _labelled(ax)
    assert len(ax.lines) == int(s.sequences[0][:, 2].sum())


def test_plot_waveform_labels_and_optional_legend():
    ax = viz.plot_waveform(np.sin(np.linspace(0, 6, 100)), label="sine")
    _labelled(ax)
    assert ax.get_legend() is not None
    assert len(ax.lines[0].get_xdata()) == 100


def test_functions_draw_on_a_given_axes():
    fig, axes = plt.subplots(1, 3)
    assert viz.image_grid(np.zeros((2, 4, 4)), ax=axes[0]) is axes[0]
    assert viz.plot_waveform(np.zeros(5), ax=axes[1]) is axes[1]
    assert viz.plot_mask(np.eye(3), ax=axes[2]) is axes[2]


def test_matrix_ticks_are_whole_indices_and_grid_gaps_are_visible():
    ax = viz.plot_mask(np.tril(np.ones((4, 4)), -1))
    ax.figure.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks()), "rows and columns are indices"
    ax = viz.image_grid(np.zeros((4, 3, 3)))
    cmap = ax.get_images()[0].get_cmap()
    assert not np.allclose(cmap.get_bad()[:3], cmap(0.0)[:3]), "the gaps between tiles must not look like background"
