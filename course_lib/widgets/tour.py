"""The dataset browser of the course tour (lecture 0): pick a dataset, slide through its examples.

`dataset_view(name, index)` is the pure function behind the widget: it returns the example as an
array with a caption (and what kind of picture it is); `draw_view(view)` draws it with
course_lib.viz; `dataset_browser()` wires a dropdown and a slider to both.

    view = dataset_view("strokes", 3)       # {"array": (T, 3) float32, "caption": "...", ...}
    dataset_browser()                       # in a notebook
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

# name -> (what it is, kind of picture)
DATASETS = {
    "digits": ("scikit-learn digits, 8x8, 17 grey levels (train split)", "grey image"),
    "digits_binarized": ("scikit-learn digits, binarized with pixel >= 8 (train split)", "binary image"),
    "shapes": ("shapes: 20x20 binary squares, circles and triangles (train split)", "binary image"),
    "toy_1d": ("toy 1-D distributions over 0..99: exact probabilities and 1000 training samples", "distribution"),
    "waveforms": ("synthetic waveforms: tones, chirps and noise bursts (train split, first 512 steps)", "waveform"),
    "strokes": ("pen strokes written from Hershey fonts by 60 training writers", "strokes"),
}


@lru_cache(maxsize=None)
def _load(name: str):
    from .. import data

    if name == "digits":
        return data.load_digits("train")
    if name == "digits_binarized":
        return data.load_digits("train", binarized=True)
    if name == "shapes":
        return data.load_shapes("train")
    if name == "toy_1d":
        return [data.toy_1d(n, num_values=100, num_train=1000, num_test=0, seed=0) for n in data.TOY_NAMES]
    if name == "waveforms":
        return data.load_waveforms("train", length=512)
    if name == "strokes":
        return data.load_strokes("train")
    raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")


def num_items(name: str) -> int:
    """How many examples `dataset_view(name, index)` can show (index runs over 0..num_items - 1)."""
    d = _load(name)
    return len(d)


def dataset_view(name: str, index: int) -> dict:
    """Example `index` of dataset `name` (see `DATASETS`), ready to draw.

    Returns a dict with `name`, `index`, `kind` ("grey image", "binary image", "distribution",
    "waveform" or "strokes"), `array` (the example: (H, W) uint8 image, (K,) probabilities,
    (T,) signal or (T, 3) strokes), `caption` (one line saying what it is), `title`, and, for
    distributions, `counts` (the training histogram). The arrays are copies: change them freely.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    n = num_items(name)
    if not 0 <= int(index) < n:
        raise IndexError(f"{name} has {n} examples, index must be in 0..{n - 1}, got {index}")
    index = int(index)
    what, kind = DATASETS[name]
    d = _load(name)
    view = {"name": name, "index": index, "kind": kind}
    if name in ("digits", "digits_binarized", "shapes"):
        from ..data import SHAPE_NAMES

        label = int(d.labels[index])
        label_text = f"digit {label}" if name.startswith("digits") else SHAPE_NAMES[label]
        img = d.images[index].copy()
        view.update(array=img, title=f"{name} #{index}: {label_text}",
                    caption=f"{what}; example {index} of {n}, a {label_text}, values {int(img.min())}..{int(img.max())}")
    elif name == "toy_1d":
        toy = d[index]
        counts = np.bincount(toy.train, minlength=toy.num_values)
        view.update(array=toy.probs.copy(), counts=counts, title=f"toy_1d: {toy.name!r}",
                    caption=f"{what}; distribution {index} of {n}: {toy.name!r}, "
                            f"{int((toy.probs == 0).sum())} impossible values")
    elif name == "waveforms":
        kind_name = ("tone", "chirp", "burst")[index % 3]
        signal = d[index].copy()
        view.update(array=signal, title=f"waveform #{index}: {kind_name}",
                    caption=f"{what}; example {index} of {n}, a {kind_name}, peak {np.abs(signal).max():.2f}")
    else:  # strokes
        seq = d.sequences[index].copy()
        view.update(array=seq, title=f"strokes #{index}: {d.texts[index]!r} by writer {int(d.writers[index])}",
                    caption=f"{what}; example {index} of {n}: {d.texts[index]!r}, {len(seq)} points in "
                            f"{int(seq[:, 2].sum())} strokes, writer {int(d.writers[index])}")
    return view


def draw_view(view: dict, ax=None):
    """Draw a `dataset_view` with course_lib.viz (title, labelled axes, colour bar for grey levels)."""
    import matplotlib.pyplot as plt

    from .. import viz

    kind, arr = view["kind"], view["array"]
    if kind == "grey image":
        ax = viz.plot_matrix(arr, view["title"], "column", "row", ax=ax, cmap="gray_r", colorbar_label="grey level")
    elif kind == "binary image":
        ax = viz.image_grid(arr[None], nrow=1, title=view["title"], ax=ax, vmin=0, vmax=1)
        ax.set_ylabel("black = 1, white = 0")
    elif kind == "distribution":
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        k = np.arange(len(arr))
        ax.bar(k, view["counts"] / max(1, view["counts"].sum()), width=1.0, color="#9ecae1",
               label="training frequencies")
        ax.plot(k, arr, color="black", lw=1.5, label="exact probability")
        ax.set_title(view["title"])
        ax.set_xlabel("value x")
        ax.set_ylabel("probability p(x)")
        ax.legend(fontsize=8)
    elif kind == "waveform":
        ax = viz.plot_waveform(arr, title=view["title"], ax=ax)
    else:
        ax = viz.plot_strokes(arr, title=view["title"], ax=ax)
    return ax


def dataset_browser(name: str = "digits", index: int = 0):
    """A dropdown for the dataset, a slider for the example, and the picture with its caption.

    Returns a VBox with `.controls` ({"dataset": Dropdown, "index": IntSlider}), `.output` (the
    Output holding the figure), `.caption` (HTML) and `.view` (the last `dataset_view` dict).
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt

    dropdown = W.Dropdown(options=list(DATASETS), value=name, description="dataset")
    slider = W.IntSlider(value=index, min=0, max=num_items(name) - 1, description="index",
                         continuous_update=False)
    output = W.Output()
    caption = W.HTML()
    ui = W.VBox([W.HBox([dropdown, slider]), caption, output])

    def redraw(_change=None):
        view = dataset_view(dropdown.value, min(slider.value, num_items(dropdown.value) - 1))
        ui.view = view
        caption.value = view["caption"]
        output.clear_output(wait=True)
        with output:
            ax = draw_view(view)
            ax.figure.tight_layout()
            plt.show()
        plt.close(ax.figure)

    def new_dataset(change):
        slider.unobserve(redraw, names="value")
        slider.max = num_items(change["new"]) - 1
        slider.value = min(slider.value, slider.max)
        slider.observe(redraw, names="value")
        redraw()

    dropdown.observe(new_dataset, names="value")
    slider.observe(redraw, names="value")
    ui.controls = {"dataset": dropdown, "index": slider}
    ui.output, ui.caption = output, caption
    redraw()
    return ui
