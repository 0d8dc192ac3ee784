"""The histogram explorer of lecture 1: how the number of training samples and additive smoothing
change a histogram fit, its training NLL and its test NLL.

`histogram_fit(...)` is the pure function behind the widget: it fits a smoothed histogram

    p_k = (n_k + alpha) / (N + alpha K)

to N seeded training samples of a toy 1-D distribution (course_lib.data.toy_1d) and scores it on a
fixed test set of 1000 samples. `histogram_explorer()` wires two sliders to it and draws the fit with
the true distribution into an `ipywidgets.Image` (PNG bytes), so a test can see the picture change.
"""
from __future__ import annotations


from course_lib.viz import figure_png
import numpy as np

NUM_TEST = 1000


def _average_nll(probs: np.ndarray, samples: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(-np.log(probs[samples]).mean())


def histogram_fit(num_train: int, smoothing: float, dataset: str = "mixture", num_values: int = 100,
                  seed: int = 0) -> dict:
    """Fit a histogram with additive smoothing `smoothing` (alpha >= 0) to `num_train` samples.

    Returns a dict with
      probs (num_values,) the fitted probabilities, true_probs the distribution the data came from,
      counts (num_values,) the training counts, train (num_train,) and test (1000,) samples,
      train_nll, test_nll: average NLL in nats per sample (test_nll is inf when a test value has
      probability 0, which happens without smoothing), true_test_nll: the test NLL of the true
      distribution (the floor any model can hope for), unseen_test_values: how many distinct test
      values never occur in the training set, and the arguments.
    The test set is the same for every num_train, so the curves are comparable.
    """
    from ..data import toy_1d

    if num_train < 1:
        raise ValueError(f"num_train must be at least 1, got {num_train}")
    if smoothing < 0:
        raise ValueError(f"smoothing (alpha) must be >= 0, got {smoothing}")
    test_set = toy_1d(dataset, num_values, num_train=1, num_test=NUM_TEST, seed=seed)
    train_set = toy_1d(dataset, num_values, num_train=num_train, num_test=0, seed=seed + 1)
    counts = np.bincount(train_set.train, minlength=num_values).astype(np.float64)
    probs = (counts + smoothing) / (num_train + smoothing * num_values)
    seen = counts > 0
    return {
        "dataset": dataset, "num_values": num_values, "num_train": num_train, "smoothing": float(smoothing),
        "seed": seed, "probs": probs, "true_probs": test_set.probs, "counts": counts,
        "train": train_set.train, "test": test_set.test,
        "train_nll": _average_nll(probs, train_set.train),
        "test_nll": _average_nll(probs, test_set.test),
        "true_test_nll": _average_nll(test_set.probs, test_set.test),
        "unseen_test_values": int(len(np.setdiff1d(np.unique(test_set.test), np.flatnonzero(seen)))),
    }


def draw_histogram_fit(state: dict):
    """The fitted histogram over the true distribution, with the NLLs in the title."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    k = np.arange(state["num_values"])
    ax.bar(k, state["probs"], width=1.0, color="#9ecae1", edgecolor="#3182bd", lw=0.3,
           label=f"histogram (N = {state['num_train']}, alpha = {state['smoothing']:g})")
    ax.plot(k, state["true_probs"], color="black", lw=1.5, label="true distribution")
    test_nll = state["test_nll"]
    test_text = "inf" if not np.isfinite(test_nll) else f"{test_nll:.3f}"
    ax.set_title(f"train NLL {state['train_nll']:.3f}, test NLL {test_text} nats/sample "
                 f"(true distribution: {state['true_test_nll']:.3f})")
    ax.set_xlabel("value x")
    ax.set_ylabel("probability p(x)")
    ax.set_ylim(0, max(1.3 * float(state["true_probs"].max()), 1.05 * float(state["probs"].max())))
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def histogram_explorer(num_train: int = 200, smoothing: float = 0.0, dataset: str = "mixture",
                       num_values: int = 100, seed: int = 0):
    """Sliders for the number of training samples and the smoothing alpha; redraws the fit and the
    train/test NLL. Returns a VBox with `.controls` (the sliders), `.image` and `.message`."""
    import ipywidgets as W

    n_slider = W.IntSlider(value=num_train, min=5, max=5000, step=5, description="N train",
                           continuous_update=False)
    a_slider = W.FloatSlider(value=smoothing, min=0.0, max=5.0, step=0.05, description="alpha",
                             continuous_update=False)
    image = W.Image(format="png")
    message = W.HTML()

    def redraw(_change=None):
        state = histogram_fit(n_slider.value, a_slider.value, dataset, num_values, seed)
        image.value = figure_png(draw_histogram_fit(state))
        gap = state["test_nll"] - state["train_nll"]
        message.value = (f"train NLL {state['train_nll']:.3f} nats, test NLL {state['test_nll']:.3f} nats "
                         f"(gap {gap:.3f}); {state['unseen_test_values']} test value(s) never seen in training")

    for w in (n_slider, a_slider):
        w.observe(redraw, names="value")
    redraw()
    ui = W.VBox([W.HBox([n_slider, a_slider]), message, image])
    ui.controls = {"num_train": n_slider, "smoothing": a_slider}
    ui.image, ui.message = image, message
    return ui
