"""scikit-learn's bundled handwritten digits (1797 images, 8x8, grey levels 0..16), split once and for all.

The split is a seeded permutation, so every notebook, test and assignment sees the same images:
train 1197, validation 300, test 300.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLIT_SIZES = {"train": 1197, "validation": 300, "test": 300}
NUM_LEVELS = 17  # grey levels 0..16
BINARIZE_THRESHOLD = 8  # pixel >= 8 -> 1
_SPLIT_SEED = 0


@dataclass(frozen=True)
class ImageSet:
    """Images (N, H, W) as uint8 and integer labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def flat(self) -> np.ndarray:
        """Images flattened in raster order, (N, H * W) as float32: what most models take."""
        return self.images.reshape(len(self.images), -1).astype(np.float32)


def _check_split(split: str) -> None:
    if split not in SPLIT_SIZES:
        raise ValueError(f"split must be one of {sorted(SPLIT_SIZES)}, got {split!r}")


def load_digits(split: str = "train", binarized: bool = False) -> ImageSet:
    """The digits of one split: 17 grey levels (0..16), or binarized with pixel >= 8 -> 1.

    >>> d = load_digits("train", binarized=True); d.images.shape
    (1197, 8, 8)
    """
    from sklearn.datasets import load_digits as sklearn_digits  # bundled with scikit-learn: no network

    _check_split(split)
    bunch = sklearn_digits()
    images = bunch.images.astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(images))
    start = 0
    for name, size in SPLIT_SIZES.items():
        if name == split:
            idx = order[start:start + size]
            break
        start += size
    images, labels = images[idx], labels[idx]
    if binarized:
        images = (images >= BINARIZE_THRESHOLD).astype(np.uint8)
    return ImageSet(images=images, labels=labels)
