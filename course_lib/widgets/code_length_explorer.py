"""The code-length explorer: where in a digit does a model spend its bits?

A model that gives pixel d the conditional probability p(x_d | x_<d) lets an entropy coder store it
in -log2 p(x_d | x_<d) bits, so the heat map of those numbers over the image shows what the model
finds surprising. Pick an image and a model; the explorer draws the image and its per-pixel code
length, with the total (= the model's NLL of that image in bits).

    bits = {"MADE": per_pixel_bits(log_probs)}          # log_probs: (N, H, W) natural-log conditionals
    state = code_length_state(images, bits, index=3, model="MADE")
    state["total_bits"], state["bits"]                    # a float, an (H, W) array
    code_length_explorer(images, bits)                    # the ipywidgets UI (in a notebook)
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["per_pixel_bits", "code_length_state", "draw_code_length", "code_length_explorer"]


def per_pixel_bits(log_probs) -> np.ndarray:
    """-log2 p from natural-log probabilities (any shape), as float64."""
    lp = np.asarray(log_probs, dtype=np.float64)
    if (lp > 1e-9).any():
        raise ValueError("log_probs must be log-probabilities (<= 0); did you pass probabilities or NLLs?")
    return -lp / math.log(2)


def code_length_state(images, bits_by_model: dict, index: int, model: str) -> dict:
    """What the explorer draws: the image (H, W), the code length per pixel in bits (H, W), the
    total in bits, the model's most expensive pixel, and a one-line message."""
    images = np.asarray(images)
    if model not in bits_by_model:
        raise ValueError(f"model must be one of {sorted(bits_by_model)}, got {model!r}")
    bits = np.asarray(bits_by_model[model], dtype=np.float64)
    if bits.shape != images.shape:
        raise ValueError(f"bits for {model!r} have shape {bits.shape}, the images {images.shape}: give one "
                         "number per pixel")
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in 0..{len(images) - 1}, got {index}")
    b = bits[index]
    worst = np.unravel_index(int(np.argmax(b)), b.shape)
    total = float(b.sum())
    message = (f"{model}, image {index}: {total:.1f} bits in all ({total / b.size:.3f} bits/pixel); the most "
               f"expensive pixel is ({worst[0]}, {worst[1]}) at {b[worst]:.2f} bits")
    return {"image": images[index], "bits": b, "total_bits": total, "worst_pixel": tuple(int(v) for v in worst),
            "model": model, "index": index, "message": message}


def draw_code_length(state: dict, vmax: float | None = None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    axes[0].imshow(state["image"], cmap="gray_r", vmin=0, vmax=max(1, int(np.max(state["image"]))))
    axes[0].set_title(f"test image {state['index']}")
    im = axes[1].imshow(state["bits"], cmap="magma", vmin=0, vmax=vmax or max(1.0, float(state["bits"].max())))
    axes[1].set_title(f"{state['model']}: -log2 p(x_d | x_<d)\n{state['total_bits']:.1f} bits in all")
    for ax in axes:
        ax.set_xlabel("column j")
        ax.set_ylabel("row i")
    fig.colorbar(im, ax=axes[1], label="code length (bits)")
    fig.tight_layout()
    return fig


def code_length_explorer(images, bits_by_model: dict, index: int = 0, model: str | None = None):
    """The ipywidgets UI: an image slider and a model dropdown; `ui.png`, `ui.state`, `ui.controls`."""
    import ipywidgets as W
    from IPython.display import Image

    from ..viz import figure_png

    names = list(bits_by_model)
    pick = W.Dropdown(options=names, value=model or names[0], description="model")
    idx = W.IntSlider(value=index, min=0, max=len(images) - 1, description="image")
    output, message = W.Output(), W.HTML()
    ui = W.VBox([W.HBox([pick, idx]), message, output])
    vmax = max(float(np.max(b)) for b in bits_by_model.values())

    def redraw(_change=None):
        state = code_length_state(images, bits_by_model, idx.value, pick.value)
        png = figure_png(draw_code_length(state, vmax=vmax))
        output.outputs = ()
        output.append_display_data(Image(data=png, format="png"))
        ui.png, ui.state = png, state
        message.value = state["message"]

    for w in (pick, idx):
        w.observe(redraw, names="value")
    ui.controls = {"model": pick, "index": idx}
    redraw()
    return ui
