"""The dilation explorer (lecture 9): choose the kernel size, the dilation of each layer and the number
of stacks, and see which inputs one output of a stack of causal convolutions is connected to, with the
formula (k - 1) * sum(dilations) + 1 next to the receptive field measured on a real network.

`dilation_explorer_state` is the pure function behind the widget (tests call it without a browser);
`dilation_explorer()` wires ipywidgets controls to it and draws with matplotlib into an
`ipywidgets.Output` (as a PNG image), so the picture can be compared before and after a change.
"""
from __future__ import annotations

from course_lib.viz import figure_png
from typing import Sequence

import numpy as np
import torch

from ..checks import dependency_map
from ..models.tcn import CausalConv1d, receptive_field_size
from . import parse_positive_ints

MAX_RECEPTIVE_FIELD = 1024  # keeps the picture readable and the measurement fast


def measured_receptive_field(kernel_size: int, dilations: Sequence[int], length: int, seed: int = 0) -> np.ndarray:
    """bool (length,): the inputs that the last output of a stack of one-channel causal convolutions
    with random weights depends on, from course_lib.checks.dependency_map (gradients)."""
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for d in dilations:
        conv = CausalConv1d(1, 1, kernel_size, dilation=d)
        with torch.no_grad():
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=gen) + 0.5)  # no cancellation
        layers.append(conv)
    stack = torch.nn.Sequential(*layers)

    def last_output(x):  # x (N, T) -> (N, 1): output at the last time step
        return stack(x[:, None])[:, 0, -1:]

    return dependency_map(last_output, torch.randn(2, length, generator=gen), method="gradient")[0]


def dilation_explorer_state(kernel_size: int, dilations: Sequence[int], num_stacks: int = 1,
                            extra_inputs: int = 3) -> dict:
    """Everything the dilation explorer draws.

    The network is `num_stacks` copies of the layers with the given `dilations`, each a causal
    convolution of `kernel_size`; the picture follows the last output backwards.

    Returns a dict with
      - "kernel_size", "dilations" (one stack), "num_stacks", "all_dilations" (every layer, bottom up)
      - "length": number of input steps shown (receptive field + `extra_inputs`), "output": its index
      - "active": list of bool arrays (length,), level 0 = inputs, level l = output of layer l; True
        where the value feeds the chosen output
      - "edges": list, one per layer l = 1..L, of (source step, target step) pairs on the path
      - "formula": (kernel_size - 1) * sum(all_dilations) + 1, and "formula_text"
      - "measured": number of inputs the output depends on, by course_lib.checks.dependency_map on a
        real stack of CausalConv1d layers; "dependency" the bool row (length,)
      - "agree": formula == measured
    """
    k = int(kernel_size)
    if k < 2:
        raise ValueError(f"kernel_size must be at least 2, got {kernel_size}")
    dilations = [int(d) for d in dilations]
    if not dilations or min(dilations) < 1:
        raise ValueError(f"give at least one dilation, each at least 1, got {dilations}")
    if int(num_stacks) < 1:
        raise ValueError(f"num_stacks must be at least 1, got {num_stacks}")
    all_d = dilations * int(num_stacks)
    formula = receptive_field_size(k, all_d)
    if formula > MAX_RECEPTIVE_FIELD:
        raise ValueError(f"receptive field {formula} is larger than {MAX_RECEPTIVE_FIELD}; use fewer or smaller dilations")
    length = formula + int(extra_inputs)
    output = length - 1
    active = [np.zeros(length, dtype=bool) for _ in range(len(all_d) + 1)]
    active[-1][output] = True
    edges: list[list[tuple[int, int]]] = [[] for _ in all_d]
    for l in range(len(all_d), 0, -1):              # from the output down to the inputs
        d = all_d[l - 1]
        for target in np.flatnonzero(active[l]):
            for j in range(k):
                source = target - j * d
                if source >= 0:
                    active[l - 1][source] = True
                    edges[l - 1].append((int(source), int(target)))
    dependency = measured_receptive_field(k, all_d, length)
    measured = int(dependency.sum())
    return {
        "kernel_size": k,
        "dilations": dilations,
        "num_stacks": int(num_stacks),
        "all_dilations": all_d,
        "length": length,
        "output": output,
        "active": active,
        "edges": edges,
        "formula": formula,
        "formula_text": f"({k} - 1) x {sum(all_d)} + 1 = {formula}",
        "measured": measured,
        "dependency": dependency,
        "agree": formula == measured,
    }


def draw_dilation_explorer(state: dict):
    """The connection graph: one row of time steps per layer, the path to the last output in blue."""
    import matplotlib.pyplot as plt

    L, T = len(state["all_dilations"]), state["length"]
    fig, ax = plt.subplots(figsize=(min(4 + 0.18 * T, 16), 1.2 + 0.55 * (L + 1)))
    marker = max(2.0, min(8.0, 600.0 / T))
    for level in range(L + 1):
        ax.plot(np.arange(T), np.full(T, level), "o", color="#d9d9d9", ms=marker, zorder=2)
        on = np.flatnonzero(state["active"][level])
        ax.plot(on, np.full(len(on), level), "o", color="#1f4e79", ms=marker, zorder=3)
    for l, layer_edges in enumerate(state["edges"]):
        for source, target in layer_edges:
            ax.plot([source, target], [l, l + 1], color="#1f77b4", lw=0.8, alpha=0.6, zorder=1)
    ax.plot([state["output"]], [L], "o", color="#ffbf00", ms=marker * 1.6, zorder=4, label="output")
    ax.set_yticks(range(L + 1))
    ax.set_yticklabels(["input"] + [f"layer {l + 1} (d={d})" for l, d in enumerate(state["all_dilations"])])
    ax.set_xlabel("time step")
    ax.set_ylabel("layer")
    ax.set_title(f"Causal convolutions, kernel {state['kernel_size']}, dilations {state['dilations']} x "
                 f"{state['num_stacks']} stack(s): receptive field formula {state['formula_text']}, "
                 f"measured {state['measured']}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def dilation_explorer(kernel_size: int = 2, dilations: str = "1, 2, 4, 8", num_stacks: int = 1):
    """The ipywidgets UI: a kernel-size slider, a dilations text box and a stacks slider.

    The picture is shown in `ui.output` (an ipywidgets.Output holding one PNG image; `ui.png` keeps
    its bytes) and `ui.message` prints the formula next to the measured receptive field. Returns
    the VBox; its `.controls` dict names the input widgets.
    """
    import ipywidgets as W
    from IPython.display import Image, display

    k_slider = W.IntSlider(value=kernel_size, min=2, max=5, description="kernel size")
    d_text = W.Text(value=dilations, description="dilations", continuous_update=False)
    s_slider = W.IntSlider(value=num_stacks, min=1, max=4, description="stacks")
    output = W.Output()
    message = W.HTML()

    def redraw(_change=None):
        try:
            dilations = parse_positive_ints(d_text.value, "dilations")
            state = dilation_explorer_state(k_slider.value, dilations, s_slider.value)
        except ValueError as err:
            message.value = f"<b style='color:#d62728'>{err}</b>"
            return
        ui.png = figure_png(draw_dilation_explorer(state))
        ui.state = state
        output.clear_output(wait=True)
        with output:
            display(Image(data=ui.png, format="png"))
        verdict = "agree" if state["agree"] else "DISAGREE"
        message.value = (f"formula (k - 1) x sum(dilations) + 1 = {state['formula_text']}; "
                         f"measured with the dependency map: {state['measured']} inputs ({verdict})")

    ui = W.VBox([W.HBox([k_slider, s_slider]), d_text, message, output])
    ui.controls = {"kernel_size": k_slider, "dilations": d_text, "num_stacks": s_slider}
    ui.output, ui.message, ui.png, ui.state = output, message, b"", None
    for w in (k_slider, d_text, s_slider):
        w.observe(redraw, names="value")
    redraw()
    return ui
