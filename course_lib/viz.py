"""Figures for the course. Every function draws on an Axes (made if not given), sets a title and
labels its axes, adds a colour bar where colour means a number, and returns the Axes (or Figure)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

# matplotlib is imported when a figure is drawn, not with this module: pyplot costs about 0.7 CPU s to
# import, which a process that imports the course's helpers and draws nothing (the autograder's
# sandbox runs the setup cell, which imports this module, once per submission) need not pay.


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _listed_colormap(colours):
    from matplotlib.colors import ListedColormap

    return ListedColormap(colours)


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _axes(ax, figsize=(4, 4)):
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    return ax


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def image_grid(images, nrow: int | None = None, title: str = "Samples", ax=None, cmap: str = "gray_r",
               vmin: float | None = None, vmax: float | None = None, pad: int = 1):
    """Tile images (N, H, W) or (N, H*W) square or (N, C, H, W) with C = 3 into one picture."""
    images = _to_numpy(images).astype(np.float64)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        images = images.reshape(len(images), side, side)
    colour = images.ndim == 4
    if colour:
        images = images.transpose(0, 2, 3, 1)
    n = len(images)
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    ncol = int(np.ceil(n / nrow))
    h, w = images.shape[1:3]
    fill = np.nan if not colour else 1.0
    canvas = np.full((nrow * (h + pad) - pad, ncol * (w + pad) - pad) + ((3,) if colour else ()), fill)
    for k, img in enumerate(images):
        r, c = divmod(k, ncol)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    ax = _axes(ax, figsize=(min(2 + ncol, 10), min(2 + nrow, 10)))
    cm = _plt().get_cmap(cmap).with_extremes(bad="#c6d4e1")  # the gaps between tiles, so borders stay visible
    ax.imshow(canvas, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel(f"{n} images, {h}x{w} pixels")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_matrix(matrix, title: str, xlabel: str, ylabel: str, ax=None, cmap: str = "viridis",
                colorbar_label: str | None = None, binary: bool = False):
    """A matrix as an image, with a colour bar (or a two-colour legend for 0/1 matrices)."""
    m = _to_numpy(matrix).astype(np.float64)
    ax = _axes(ax)
    if binary:
        im = ax.imshow(m, cmap=_listed_colormap(["#f2f2f2", "#1f4e79"]), vmin=0, vmax=1, interpolation="nearest")
        cbar = _plt().colorbar(im, ax=ax, ticks=[0.25, 0.75], fraction=0.046)
        cbar.ax.set_yticklabels(["0", "1"])
    else:
        im = ax.imshow(m, cmap=cmap, interpolation="nearest")
        cbar = _plt().colorbar(im, ax=ax, fraction=0.046)
    if colorbar_label:
        cbar.set_label(colorbar_label)
    ax.xaxis.set_major_locator(_integer_ticks())  # rows and columns are indices
    ax.yaxis.set_major_locator(_integer_ticks())
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_mask(mask, title: str = "Mask", ax=None):
    """A 0/1 weight mask shaped like an nn.Linear weight (out_features, in_features)."""
    return plot_matrix(mask, title, "input unit", "output unit", ax=ax, binary=True, colorbar_label="connected")


def plot_dependency_map(dep, title: str = "Dependency map", ordering: Sequence[int] | None = None, ax=None):
    """Output-by-input dependencies; with `ordering`, rows and columns follow it, so an
    autoregressive model shows a strictly lower-triangular pattern."""
    dep = _to_numpy(dep).astype(np.float64)
    label = "input"
    if ordering is not None:
        order = np.asarray(ordering)
        dep = dep[np.ix_(order, order)]
        label = "input, in generation order"
    return plot_matrix(dep, title, label, label.replace("input", "output"), ax=ax, binary=True,
                       colorbar_label="depends")


def plot_made_connectivity(masks, degrees, title: str = "MADE connectivity", ax=None):
    """Draw the network: one row of units per layer, labelled with degrees, and every kept connection.

    `masks[l]` has shape (units in layer l+1, units in layer l); `degrees[l]` lists the degrees of
    layer l (inputs first, outputs last, the output layer using the input degrees).
    """
    masks = [_to_numpy(m) for m in masks]
    ax = _axes(ax, figsize=(8, 5))
    num_layers = len(degrees)
    positions = []
    for l, deg in enumerate(degrees):
        n = len(deg)
        xs = np.linspace(0, 1, n) if n > 1 else np.array([0.5])
        positions.append(np.stack([xs, np.full(n, l)], axis=1))
    for l, mask in enumerate(masks):
        src, dst = positions[l], positions[l + 1]
        for k, j in zip(*np.nonzero(mask)):
            ax.plot([src[j, 0], dst[k, 0]], [src[j, 1], dst[k, 1]], color="#1f4e79", alpha=0.35, lw=0.8)
    names = ["inputs"] + [f"hidden {l}" for l in range(1, num_layers - 1)] + ["outputs"]
    for l, (pos, deg) in enumerate(zip(positions, degrees)):
        ax.scatter(pos[:, 0], pos[:, 1], s=260, color="white", edgecolor="black", zorder=3)
        for (x, y), d in zip(pos, deg):
            ax.text(x, y, str(int(d)), ha="center", va="center", fontsize=8, zorder=4)
    ax.set_yticks(range(num_layers))
    ax.set_yticklabels(names)
    ax.set_xticks([])
    ax.set_xlabel("units (numbers are degrees)")
    ax.set_ylabel("layer")
    ax.set_title(title)
    ax.set_ylim(-0.5, num_layers - 0.5)
    return ax


def plot_receptive_field(seen, target: tuple[int, int] | None = None, blind=None, title: str = "Receptive field",
                         ax=None):
    """A (H, W) map of the pixels one output depends on; the target pixel marked; the blind spot
    (pixels that should be seen but are not) drawn in its own colour."""
    seen = _to_numpy(seen).astype(bool)
    codes = seen.astype(int)  # 0 unseen, 1 seen
    labels = ["not seen", "seen"]
    colours = ["#f2f2f2", "#1f77b4"]
    if blind is not None:
        codes[_to_numpy(blind).astype(bool)] = 2
        labels.append("blind spot")
        colours.append("#d62728")
    if target is not None:
        codes[target] = len(colours)
        labels.append("output pixel")
        colours.append("#ffbf00")
    ax = _axes(ax)
    im = ax.imshow(codes, cmap=_listed_colormap(colours), vmin=-0.5, vmax=len(colours) - 0.5, interpolation="nearest")
    cbar = _plt().colorbar(im, ax=ax, ticks=range(len(colours)), fraction=0.046)
    cbar.ax.set_yticklabels(labels)
    ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return ax


def plot_heatmap(values, title: str, colorbar_label: str, ax=None, target: tuple[int, int] | None = None,
                 cmap: str = "magma"):
    """A (H, W) map of magnitudes (for example |gradient|), with the target pixel outlined."""
    ax = plot_matrix(values, title, "column", "row", ax=ax, cmap=cmap, colorbar_label=colorbar_label)
    if target is not None:
        r, c = target
        ax.add_patch(_plt().Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="cyan", lw=2))
    return ax


def plot_learning_curves(history, ax=None, title: str = "Learning curves"):
    """Train and validation NLL per epoch (nats per example), the best epoch marked."""
    ax = _axes(ax, figsize=(6, 4))
    epochs = np.arange(1, len(history.train_nll) + 1)
    ax.plot(epochs, history.train_nll, marker="o", label="train")
    ax.plot(epochs, history.val_nll, marker="s", label="validation")
    if history.best_epoch >= 0:
        ax.axvline(history.best_epoch + 1, color="grey", ls="--", label="best epoch")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_xlabel("epoch")
    ax.set_ylabel("NLL (nats per example)")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_strokes(strokes, title: str = "Pen strokes", ax=None, color: str = "black"):
    """Draw a (T, 3) array of (dx, dy, pen_up) offsets as handwriting; pen_up = 1 ends a stroke."""
    s = _to_numpy(strokes).astype(np.float64)
    xy = np.cumsum(s[:, :2], axis=0)
    ax = _axes(ax, figsize=(8, 2))
    start = 0
    for t in range(len(s)):
        if s[t, 2] > 0.5 or t == len(s) - 1:
            ax.plot(xy[start:t + 1, 0], xy[start:t + 1, 1], color=color, lw=1.5)
            start = t + 1
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.set_xlabel("x (pen units)")
    ax.set_ylabel("y (pen units)")
    return ax


def plot_waveform(signal, title: str = "Waveform", ax=None, label: str | None = None):
    """A 1-D signal against the sample index."""
    s = _to_numpy(signal).reshape(-1)
    ax = _axes(ax, figsize=(8, 2.5))
    ax.plot(np.arange(len(s)), s, lw=0.8, label=label)
    ax.set_title(title)
    ax.set_xlabel("time step")
    ax.set_ylabel("amplitude")
    if label:
        ax.legend()
    return ax


def figure_png(fig, dpi: int = 72) -> bytes:
    """Render a figure to PNG bytes and close it (the explorers show these bytes in a widget)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    _plt().close(fig)
    return buf.getvalue()
