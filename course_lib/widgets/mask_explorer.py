"""The mask explorer (lecture 4): choose D, the hidden sizes, the ordering and the seed, and see MADE's
degrees, its masked connections, its mask matrices and its output-by-input dependency map.

`mask_explorer_state` is the pure function behind the widget (tests call it without a browser);
`mask_explorer()` wires ipywidgets controls to it and draws with course_lib.viz into an
`ipywidgets.Image` (PNG bytes), so the drawn picture can be compared before and after a change.
"""
from __future__ import annotations

from course_lib.viz import figure_png
from typing import Sequence

import numpy as np
import torch

from ..checks import check_autoregressive, dependency_map
from ..models.made import ORDERING_NAMES, MADE, make_ordering
from . import parse_positive_ints


def mask_explorer_state(num_inputs: int, hidden_sizes: Sequence[int], ordering_name: str = "raster",
                        seed: int = 0) -> dict:
    """Everything the mask explorer draws, as arrays.

    Returns a dict with
      - "ordering": input indices in generation order (D,)
      - "degrees": list of degree arrays, inputs first, then each hidden layer, then outputs (= inputs)
      - "masks": list of 0/1 arrays, one per layer, shaped like the nn.Linear weights (out, in)
      - "dependency": (D, D) bool, output-by-input, computed by course_lib.checks.dependency_map
      - "dependency_ordered": the same with rows and columns in generation order: strictly lower
        triangular exactly when the autoregressive property holds
      - "autoregressive": the check's verdict (bool) and "message"
      - "connections": number of kept connections per layer, and "total_connections"
    """
    D = int(num_inputs)
    if D < 2:
        raise ValueError(f"num_inputs must be at least 2, got {num_inputs}")
    hidden_sizes = [int(h) for h in hidden_sizes]
    ordering = make_ordering(ordering_name, D, seed=seed)
    model = MADE(D, hidden_sizes, ordering=ordering, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # random weights so no dependency is hidden by an accidental zero
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    points = torch.randn(64, D, generator=gen)  # many points: a dead ReLU at one is live at another
    dep = dependency_map(model, points, method="gradient")
    verdict = check_autoregressive(dep, ordering)
    masks = [m.numpy().astype(np.int64) for m in model.masks]
    return {
        "num_inputs": D,
        "hidden_sizes": hidden_sizes,
        "ordering_name": ordering_name,
        "seed": seed,
        "ordering": ordering,
        "degrees": model.degrees,
        "masks": masks,
        "dependency": dep,
        "dependency_ordered": dep[np.ix_(ordering, ordering)],
        "autoregressive": bool(verdict),
        "message": verdict.message,
        "connections": [int(m.sum()) for m in masks],
        "total_connections": int(sum(m.sum() for m in masks)),
    }


def draw_mask_explorer(state: dict):
    """One figure: the network with its masked connections, every mask, and the ordered dependency map."""
    import matplotlib.pyplot as plt

    from ..viz import plot_dependency_map, plot_made_connectivity, plot_mask

    masks = state["masks"]
    fig = plt.figure(figsize=(4 + 3.2 * (len(masks) + 1), 7.5))
    grid = fig.add_gridspec(2, len(masks) + 1, height_ratios=[1.1, 1])
    ax_net = fig.add_subplot(grid[0, :])
    plot_made_connectivity(masks, state["degrees"], ax=ax_net,
                           title=f"MADE, D = {state['num_inputs']}, hidden {state['hidden_sizes']}, "
                                 f"{state['ordering_name']} ordering, seed {state['seed']}: "
                                 f"{state['total_connections']} connections")
    names = [f"hidden {l + 1}" for l in range(len(masks) - 1)] + ["output"]
    for l, (mask, name) in enumerate(zip(masks, names)):
        plot_mask(mask, title=f"{name} mask ({int(mask.sum())} kept)", ax=fig.add_subplot(grid[1, l]))
    status = "autoregressive" if state["autoregressive"] else "NOT autoregressive"
    plot_dependency_map(state["dependency"], ordering=state["ordering"], ax=fig.add_subplot(grid[1, -1]),
                        title=f"Dependency map ({status})")
    fig.tight_layout()
    return fig


def mask_explorer(num_inputs: int = 5, hidden_sizes: str = "6, 6", ordering_name: str = "raster", seed: int = 0):
    """The ipywidgets UI: a D slider, a hidden-sizes text box, an ordering dropdown and a seed box.

    The picture lives in `ui.image` (an ipywidgets.Image holding PNG bytes); `ui.message` says
    whether the property holds. Returns the VBox; its `.controls` dict names the input widgets.
    """
    import ipywidgets as W

    d_slider = W.IntSlider(value=num_inputs, min=2, max=12, description="D")
    hidden = W.Text(value=hidden_sizes, description="hidden sizes", continuous_update=False)
    order = W.Dropdown(options=list(ORDERING_NAMES), value=ordering_name, description="ordering")
    seed_box = W.BoundedIntText(value=seed, min=0, max=10_000, description="seed")
    image = W.Image(format="png")
    message = W.HTML()

    def redraw(_change=None):
        try:
            sizes = parse_positive_ints(hidden.value, "hidden sizes")
            state = mask_explorer_state(d_slider.value, sizes, order.value, seed_box.value)
        except ValueError as err:
            message.value = f"<b style='color:#d62728'>{err}</b>"
            return
        image.value = figure_png(draw_mask_explorer(state))
        message.value = (f"{state['message']}; connections per layer: {state['connections']}")

    for w in (d_slider, hidden, order, seed_box):
        w.observe(redraw, names="value")
    redraw()
    ui = W.VBox([W.HBox([d_slider, hidden]), W.HBox([order, seed_box]), message, image])
    ui.controls = {"num_inputs": d_slider, "hidden_sizes": hidden, "ordering": order, "seed": seed_box}
    ui.image, ui.message = image, message
    return ui
