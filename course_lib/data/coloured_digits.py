"""Coloured digits: the 8x8 digits painted in colour, 4 levels (0..3) per channel, seeded.

Each image gets a random ink colour and a random paper colour (R, G, B levels 0..3 each, 64
colours, chosen so that ink and paper differ clearly); the binarized digit (grey level >= 8) is
painted in ink, the rest in paper. So every image has two colours, and the three channels of a
pixel are strongly related (once R is known, G and B are nearly determined): the reason PixelCNN
predicts R, then G given R, then B given R and G (van den Oord et al., 2016). With `blend=True`
the grey levels mix ink and paper instead, pixel = round(paper + (ink - paper) * grey / 16).
The images come from `course_lib.data.load_digits` (same split, same labels); the colours come
from a fixed seed per split, so every run sees the same set.

    data = load_coloured_digits("train")   # ImageSet: images (1197, 3, 8, 8) uint8 in 0..3, labels
"""
from __future__ import annotations

import numpy as np

from .digits import BINARIZE_THRESHOLD, NUM_LEVELS, ImageSet, load_digits

NUM_COLOUR_LEVELS = 4
_SEEDS = {"train": 11, "validation": 12, "test": 13}

__all__ = ["NUM_COLOUR_LEVELS", "load_coloured_digits", "random_colours"]


def random_colours(num: int, rng: np.random.Generator, min_distance: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Ink and paper colours (num, 3) in 0..3 whose channel-wise L1 distance is at least min_distance."""
    ink = np.zeros((num, 3), dtype=np.int64)
    paper = np.zeros((num, 3), dtype=np.int64)
    for n in range(num):
        while True:
            a = rng.integers(0, NUM_COLOUR_LEVELS, size=3)
            b = rng.integers(0, NUM_COLOUR_LEVELS, size=3)
            if np.abs(a - b).sum() >= min_distance:
                ink[n], paper[n] = a, b
                break
    return ink, paper


def load_coloured_digits(split: str = "train", blend: bool = False) -> ImageSet:
    """Images (N, 3, 8, 8) uint8 with values 0..3 (R, G, B channels) and the digit labels (N,)."""
    if split not in _SEEDS:
        raise ValueError(f"split must be one of {sorted(_SEEDS)}, got {split!r}")
    digits = load_digits(split)
    if blend:
        grey = digits.images.astype(np.float64) / (NUM_LEVELS - 1)      # (N, 8, 8) in [0, 1]
    else:
        grey = (digits.images >= BINARIZE_THRESHOLD).astype(np.float64)
    ink, paper = random_colours(len(grey), np.random.default_rng(_SEEDS[split]))
    mixed = paper[:, :, None, None] + (ink - paper)[:, :, None, None] * grey[:, None, :, :]
    images = np.clip(np.rint(mixed), 0, NUM_COLOUR_LEVELS - 1).astype(np.uint8)
    return ImageSet(images=images, labels=digits.labels.copy())
