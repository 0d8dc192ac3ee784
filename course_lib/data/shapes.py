"""A seeded binary image set: squares, circles and triangles at random sizes and places (20x20)."""
from __future__ import annotations

import numpy as np

from ._splits import split_size_and_rng
from .digits import ImageSet

SHAPE_NAMES = ("square", "circle", "triangle")
SHAPES_SPLIT_SIZES = {"train": 2000, "validation": 500, "test": 500}
_SPLIT_SEEDS = {"train": 1, "validation": 2, "test": 3}


def _draw(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((size, size), dtype=np.uint8)
    extent = int(rng.integers(size // 4, size // 2 + 1))  # side length / diameter
    top = int(rng.integers(0, size - extent + 1))
    left = int(rng.integers(0, size - extent + 1))
    rows, cols = np.mgrid[0:size, 0:size]
    if kind == 0:
        img[top:top + extent, left:left + extent] = 1
    elif kind == 1:
        r = extent / 2
        cy, cx = top + r - 0.5, left + r - 0.5
        img[(rows - cy) ** 2 + (cols - cx) ** 2 <= r ** 2] = 1
    else:
        # An upright isosceles triangle: row i of the shape spans a width growing with i.
        for i in range(extent):
            half = (i + 1) * extent / (2 * extent)
            centre = left + extent / 2
            c0, c1 = int(np.floor(centre - half)), int(np.ceil(centre + half))
            img[top + i, max(c0, 0):min(c1, size)] = 1
    return img


def load_shapes(split: str = "train", size: int = 20, num_images: int | None = None) -> ImageSet:
    """Binary images (N, size, size) uint8 with labels 0 square, 1 circle, 2 triangle.

    Each split comes from its own seed: train 2000, validation 500, test 500 images by default.
    """
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    n, rng = split_size_and_rng(split, SHAPES_SPLIT_SIZES, _SPLIT_SEEDS, num_images)
    labels = rng.integers(0, len(SHAPE_NAMES), size=n).astype(np.int64)
    images = np.stack([_draw(int(k), size, rng) for k in labels]) if n else np.zeros((0, size, size), np.uint8)
    return ImageSet(images=images, labels=labels)
