"""The receptive-field explorer: which earlier pixels can one output pixel see?

Choose an architecture (PixelCNN, Gated PixelCNN, masked self-attention), its depth, the kernel
size and an output pixel on a 16x16 canvas. The explorer builds a fresh small network with random
weights, computes the dependency map of that one output from gradients (`course_lib.checks`), and
draws it next to the analytic prediction from the mask geometry (`course_lib.receptive_field`).
Earlier pixels that a stack of this depth could reach but that the network does not see form the
**blind spot**, drawn in red (blue = seen, yellow = the output pixel).

    state = receptive_field_state("pixelcnn", num_layers=4, kernel_size=3, row=8, col=8)
    state["blind"].sum()          # 6 pixels: r * L * (L - 1) / 2 with r = 1, L = 4
    receptive_field_explorer()    # the ipywidgets UI (in a notebook)
"""
from __future__ import annotations


from course_lib.viz import figure_png
import numpy as np
import torch

from ..checks import dependency_map
from ..receptive_field import earlier_pixels, gated_pixelcnn_receptive_field, pixelcnn_receptive_field, reach

ARCHITECTURES = {"pixelcnn": "PixelCNN", "gated_pixelcnn": "Gated PixelCNN", "attention": "masked self-attention",
                 "sparse_attention": "strided sparse attention"}  # stride = canvas width (Child et al., 2019)
ATTENTION = ("attention", "sparse_attention")
KERNEL_SIZES = (3, 5, 7)
MAX_LAYERS = 8
HIDDEN_CHANNELS = 8
NUM_POINTS = 8  # random inputs at which the gradients are taken (a dependency found at any counts)

__all__ = ["ARCHITECTURES", "build_network", "receptive_field_state", "draw_receptive_field_explorer",
           "receptive_field_explorer"]


def build_network(architecture: str, num_layers: int, kernel_size: int, size: int = 16, seed: int = 0):
    """A freshly initialised small network of the given kind and a function that maps a batch of
    random inputs to the logits of every pixel, (N, size, size, num_values)."""
    torch.manual_seed(seed)
    if architecture == "pixelcnn":
        from ..models.pixelcnn import PixelCNN
        net = PixelCNN(1, HIDDEN_CHANNELS, num_layers, kernel_size, num_values=2, image_size=size)
    elif architecture == "gated_pixelcnn":
        from ..models.gated_pixelcnn import GatedPixelCNN
        net = GatedPixelCNN(1, HIDDEN_CHANNELS, num_layers, kernel_size, num_values=2, image_size=size)
    elif architecture == "attention":
        from ..models.attention import CausalTransformer
        net = CausalTransformer(size * size, num_values=2, d_model=16, num_heads=2, num_layers=num_layers)
    elif architecture == "sparse_attention":
        from ..models.sparse_attention import SparseTransformer
        net = SparseTransformer(size * size, "strided", stride=size, d_model=16, num_heads=2, num_layers=num_layers)
    else:
        raise ValueError(f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
    net.eval()
    return net


def _inputs(architecture: str, size: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed + 1)
    if architecture in ATTENTION:  # one-hot float inputs (N, D, 2), so gradients exist
        bits = torch.randint(0, 2, (NUM_POINTS, size * size), generator=gen)
        return torch.nn.functional.one_hot(bits, 2).float()
    return torch.rand(NUM_POINTS, 1, size, size, generator=gen)


def receptive_field_state(architecture: str, num_layers: int, kernel_size: int, row: int, col: int,
                          size: int = 16, seed: int = 0) -> dict:
    """Everything the explorer draws, as arrays (all bool (size, size) unless said otherwise):

    dependency  the pixels output (row, col) depends on, from gradients of a fresh network
    expected    the analytic prediction for the architecture (mask geometry; attention: all earlier)
    should_see  the earlier pixels a causal stack of this depth and kernel can reach
                (attention: every earlier pixel)
    blind       should_see and not seen: the blind spot, from the gradients
    blind_expected  the same from the analytic prediction
    past        every pixel before (row, col) in raster order
    counts      dict of pixel counts; matches: dependency == expected; message: one line of text
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
    if not 1 <= num_layers <= MAX_LAYERS:
        raise ValueError(f"num_layers must be in 1..{MAX_LAYERS}, got {num_layers}")
    if kernel_size not in KERNEL_SIZES:
        raise ValueError(f"kernel_size must be one of {KERNEL_SIZES}, got {kernel_size}")
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"pixel ({row}, {col}) is outside the {size}x{size} canvas")
    net = build_network(architecture, num_layers, kernel_size, size, seed)
    x = _inputs(architecture, size, seed)
    d = row * size + col
    if architecture in ATTENTION:
        dep = dependency_map(lambda z: net(z)[:, d], x, method="gradient")      # (2, D * 2)
        dependency = dep.reshape(2, size * size, 2).any(axis=(0, 2)).reshape(size, size)
    else:
        dep = dependency_map(lambda z: net(z)[:, 0, :, row, col], x, method="gradient")  # (2, D)
        dependency = dep.any(axis=0).reshape(size, size)
    past = earlier_pixels(size, size, row, col)
    if architecture == "pixelcnn":
        expected = pixelcnn_receptive_field(num_layers, kernel_size, size, size, row, col)
    elif architecture == "gated_pixelcnn":
        expected = gated_pixelcnn_receptive_field(num_layers, kernel_size, size, size, row, col)
    elif architecture == "sparse_attention":
        from ..models.sparse_attention import pattern_receptive_field
        expected = pattern_receptive_field("strided", num_layers, size, row, col, stride=size)
    else:
        expected = past.copy()
    should_see = past.copy() if architecture in ATTENTION else reach(num_layers, kernel_size, size, size, row, col)
    blind = should_see & ~dependency
    counts = {"seen": int(dependency.sum()), "expected": int(expected.sum()), "should_see": int(should_see.sum()),
              "blind": int(blind.sum()), "past": int(past.sum()),
              "future_seen": int((dependency & ~past).sum())}
    matches = bool(np.array_equal(dependency, expected))
    name = ARCHITECTURES[architecture]
    message = (f"{name}, {num_layers} layer(s)" + ("" if architecture in ATTENTION else f", {kernel_size}x{kernel_size}")
               + f", output ({row}, {col}): sees {counts['seen']} of {counts['past']} earlier pixels; "
               f"blind spot {counts['blind']} pixel(s); gradients {'agree' if matches else 'DISAGREE'} with the analysis")
    if counts["future_seen"]:
        message += f"; {counts['future_seen']} pixel(s) at or after the output are seen: NOT autoregressive"
    return {"architecture": architecture, "num_layers": num_layers, "kernel_size": kernel_size, "row": row,
            "col": col, "size": size, "dependency": dependency, "expected": expected, "should_see": should_see,
            "blind": blind, "blind_expected": should_see & ~expected, "past": past, "counts": counts,
            "matches": matches, "message": message}


def draw_receptive_field_explorer(state: dict):
    """Two panels: the gradient dependency map with its blind spot, and the analytic prediction."""
    import matplotlib.pyplot as plt

    from ..viz import plot_receptive_field

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    target = (state["row"], state["col"])
    name = ARCHITECTURES[state["architecture"]]
    plot_receptive_field(state["dependency"], target=target, blind=state["blind"], ax=axes[0],
                         title=f"{name}: dependency map from gradients\n"
                               f"seen {state['counts']['seen']}, blind spot {state['counts']['blind']}")
    plot_receptive_field(state["expected"], target=target, blind=state["blind_expected"], ax=axes[1],
                         title=f"Analytic prediction ({'agrees' if state['matches'] else 'DIFFERS'})\n"
                               f"{state['num_layers']} layer(s)"
                               + ("" if state["architecture"] in ATTENTION else f", kernel {state['kernel_size']}"))
    fig.tight_layout()
    return fig


def receptive_field_explorer(architecture: str = "pixelcnn", num_layers: int = 3, kernel_size: int = 3,
                             row: int = 8, col: int = 8, size: int = 16, seed: int = 0):
    """The ipywidgets UI: architecture and kernel dropdowns, depth, row and column sliders.

    The figure is drawn as a PNG inside an ipywidgets.Output (`ui.output`); `ui.png` holds the
    latest PNG bytes and `ui.message` (HTML) the one-line summary. `ui.controls` names the inputs.
    """
    import ipywidgets as W
    from IPython.display import Image

    arch = W.Dropdown(options=[(label, key) for key, label in ARCHITECTURES.items()], value=architecture,
                      description="network")
    depth = W.IntSlider(value=num_layers, min=1, max=MAX_LAYERS, description="layers")
    kernel = W.Dropdown(options=list(KERNEL_SIZES), value=kernel_size, description="kernel")
    row_s = W.IntSlider(value=row, min=0, max=size - 1, description="row")
    col_s = W.IntSlider(value=col, min=0, max=size - 1, description="column")
    output = W.Output()
    message = W.HTML()
    ui = W.VBox([W.HBox([arch, kernel]), W.HBox([depth]), W.HBox([row_s, col_s]), message, output])

    def redraw(_change=None):
        state = receptive_field_state(arch.value, depth.value, kernel.value, row_s.value, col_s.value, size, seed)
        png = figure_png(draw_receptive_field_explorer(state))
        output.outputs = ()
        output.append_display_data(Image(data=png, format="png"))
        ui.png, ui.state = png, state
        colour = "#1f4e79" if state["matches"] else "#d62728"
        message.value = f"<span style='color:{colour}'>{state['message']}</span>"

    for w in (arch, depth, kernel, row_s, col_s):
        w.observe(redraw, names="value")
    ui.controls = {"architecture": arch, "num_layers": depth, "kernel_size": kernel, "row": row_s, "col": col_s}
    ui.output, ui.message = output, message
    redraw()
    return ui
