"""Receptive fields and blind spots of masked-convolution stacks, worked out from the mask geometry.

No network runs here: each function propagates a 0/1 map of "needed positions" backwards through
the layers, one kernel offset at a time, clipped to the canvas at every layer (zero padding means a
path cannot leave the image and come back). The results are exact for generic weights, and the
tests compare them with gradient dependency maps of real networks pixel by pixel.

Conventions: a conv with kernel k = 2r + 1 and same padding computes
out[i, j] = sum_(u, v) w[u, v] in[i + u - r, j + v - r], so the input offsets (du, dv) = (u - r, v - r)
it may use are

    mask type B: every row above (du < 0, |dv| <= r) and, in the centre row, the left part and
                 the centre itself (du = 0, -r <= dv <= 0);
    mask type A: the same without the centre (du = 0, -r <= dv < 0).

A PixelCNN stack is one type-A layer followed by num_layers - 1 type-B layers (van den Oord,
Kalchbrenner & Kavukcuoglu, 2016, "Pixel Recurrent Neural Networks").

    pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col)  -> bool (H, W)
    blind_spot(num_layers, kernel_size, height, width, row, col)                -> bool (H, W)
    gated_pixelcnn_receptive_field(...)   the same for the two-stack Gated PixelCNN (no blind spot)
    reach(num_layers, kernel_size, height, width, row, col)   the earlier pixels that a causal stack
                                                              of this depth could possibly see
"""
from __future__ import annotations

import numpy as np

__all__ = ["mask_offsets", "pixelcnn_receptive_field", "blind_spot", "earlier_pixels", "reach",
           "gated_pixelcnn_receptive_field", "blind_spot_size"]


def _check(num_layers: int, kernel_size: int, height: int, width: int, row: int, col: int) -> int:
    if int(num_layers) < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"pixel ({row}, {col}) is outside the {height}x{width} canvas")
    return int(kernel_size) // 2


def mask_offsets(kernel_size: int, mask_type: str) -> list[tuple[int, int]]:
    """The input offsets (du, dv) relative to the output pixel that a masked k x k kernel connects."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    r = int(kernel_size) // 2
    offsets = [(du, dv) for du in range(-r, 0) for dv in range(-r, r + 1)]
    offsets += [(0, dv) for dv in range(-r, 0 if mask_type == "A" else 1)]
    return offsets


def _dilate(needed: np.ndarray, offsets) -> np.ndarray:
    """Positions p + (du, dv) for every needed p and offset, kept inside the canvas."""
    H, W = needed.shape
    out = np.zeros_like(needed)
    for du, dv in offsets:
        # out[i + du, j + dv] |= needed[i, j] for indices inside the canvas
        src_r = slice(max(0, -du), min(H, H - du))
        src_c = slice(max(0, -dv), min(W, W - dv))
        dst_r = slice(max(0, du), min(H, H + du))
        dst_c = slice(max(0, dv), min(W, W + dv))
        out[dst_r, dst_c] |= needed[src_r, src_c]
    return out


def pixelcnn_receptive_field(num_layers: int, kernel_size: int, height: int, width: int, row: int,
                             col: int, first_kernel_size: int | None = None) -> np.ndarray:
    """bool (height, width): the input pixels that output (row, col) of a PixelCNN stack depends on.

    The stack: one type-A masked convolution (first_kernel_size x first_kernel_size, by default
    k x k), then num_layers - 1 type-B k x k ones, same padding (1x1 type-B layers, residual
    connections around them and pointwise nonlinearities do not change the answer).
    """
    _check(num_layers, kernel_size, height, width, row, col)
    first = _check(1, first_kernel_size or kernel_size, height, width, row, col) * 2 + 1
    needed = np.zeros((height, width), dtype=bool)
    needed[row, col] = True
    offsets_b = mask_offsets(kernel_size, "B")
    for _ in range(num_layers - 1):  # the type-B layers, from the output backwards
        needed = _dilate(needed, offsets_b)
    return _dilate(needed, mask_offsets(first, "A"))


def earlier_pixels(height: int, width: int, row: int, col: int) -> np.ndarray:
    """bool (height, width): the pixels strictly before (row, col) in raster order."""
    before = np.zeros((height, width), dtype=bool)
    before.reshape(-1)[:row * width + col] = True
    return before


def reach(num_layers: int, kernel_size: int, height: int, width: int, row: int, col: int) -> np.ndarray:
    """bool (height, width): the earlier pixels within num_layers * r rows above and columns either
    side (r = kernel_size // 2): what an unmasked stack of this depth could reach, cut to the past.

    A causal stack of this depth and kernel size should see all of them; the ones it misses are its
    blind spot proper (the rest of the past is simply too far away for this depth)."""
    r = _check(num_layers, kernel_size, height, width, row, col)
    extent = num_layers * r
    box = np.zeros((height, width), dtype=bool)
    box[max(0, row - extent):row + 1, max(0, col - extent):col + extent + 1] = True
    return box & earlier_pixels(height, width, row, col)


def blind_spot(num_layers: int, kernel_size: int, height: int, width: int, row: int, col: int,
               within_reach: bool = False) -> np.ndarray:
    """bool (height, width): pixels before (row, col) in raster order that the PixelCNN stack does
    not see. With within_reach=True, only those inside `reach(...)` (too-far pixels left out)."""
    seen = pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col)
    past = reach(num_layers, kernel_size, height, width, row, col) if within_reach else \
        earlier_pixels(height, width, row, col)
    return past & ~seen


def blind_spot_size(num_layers: int, kernel_size: int, size: int | None = None) -> int:
    """Number of pixels in the blind spot (within reach) of a pixel far from every edge."""
    r = kernel_size // 2
    size = size or 2 * num_layers * r + 3
    centre = size // 2
    return int(blind_spot(num_layers, kernel_size, size, size, centre, centre, within_reach=True).sum())


def gated_pixelcnn_receptive_field(num_layers: int, kernel_size: int, height: int, width: int, row: int,
                                   col: int) -> np.ndarray:
    """bool (height, width): the input pixels output (row, col) of a Gated PixelCNN depends on.

    The geometry of `course_lib.models.gated_pixelcnn.GatedPixelCNN` (van den Oord et al., 2016,
    "Conditional Image Generation with PixelCNN Decoders"), with r = kernel_size // 2:
    the vertical stack's (r + 1) x k convolution sees rows i - r .. i, columns j - r .. j + r; the
    horizontal stack's 1 x (r + 1) convolution sees columns j - r .. j of its own row (j - r .. j - 1
    in the first layer); the horizontal stack adds the vertical features shifted down one row
    (from (i - 1, j)) and, after the first layer, its own input (the residual).
    """
    r = _check(num_layers, kernel_size, height, width, row, col)
    need_h = np.zeros((height, width), dtype=bool)
    need_h[row, col] = True
    need_v = np.zeros_like(need_h)
    v_offsets = [(du, dv) for du in range(-r, 1) for dv in range(-r, r + 1)]
    for layer in range(num_layers, 0, -1):
        first = layer == 1
        h_offsets = [(0, dv) for dv in range(-r, 0 if first else 1)]
        # the link: h at (i, j) reads the vertical conv output at (i - 1, j)
        need_vconv = need_v | _dilate(need_h, [(-1, 0)])
        new_h = _dilate(need_h, h_offsets)
        if not first:
            new_h |= need_h  # residual connection
        need_v = _dilate(need_vconv, v_offsets)
        need_h = new_h
    return need_h | need_v
