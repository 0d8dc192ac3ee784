"""Seeded 1-D discrete distributions over 0..K-1, for the histogram lecture and assignment A1."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOY_NAMES = ("mixture", "bimodal", "gaps")


@dataclass(frozen=True)
class Toy1D:
    """A known distribution `probs` over 0..K-1 and integer samples drawn from it."""

    name: str
    probs: np.ndarray
    train: np.ndarray
    test: np.ndarray

    @property
    def num_values(self) -> int:
        return len(self.probs)


def _discretized_gaussians(num_values: int, means, stds, weights) -> np.ndarray:
    # Integrate each Gaussian over the bin [k - 0.5, k + 0.5], then renormalise on 0..K-1.
    # scipy is imported here, not with the module (course_lib.data imports this module): scipy.special
    # costs about 0.3 CPU s to import (scipy.stats about 1 s), and most processes never need it
    from scipy.special import ndtr   # the standard normal CDF

    edges = np.arange(num_values + 1) - 0.5
    probs = np.zeros(num_values)
    for m, s, w in zip(means, stds, weights):
        probs += w * np.diff(ndtr((edges - m) / s))
    return probs / probs.sum()


def toy_probs(name: str, num_values: int = 100) -> np.ndarray:
    """The exact probabilities of one of the toy distributions ("mixture", "bimodal", "gaps")."""
    K = num_values
    if name == "mixture":
        probs = _discretized_gaussians(K, [0.2 * K, 0.45 * K, 0.75 * K], [0.05 * K, 0.1 * K, 0.04 * K], [0.3, 0.4, 0.3])
    elif name == "bimodal":
        probs = _discretized_gaussians(K, [0.3 * K, 0.7 * K], [0.06 * K, 0.06 * K], [0.5, 0.5])
    elif name == "gaps":
        probs = _discretized_gaussians(K, [0.5 * K], [0.2 * K], [1.0])
        probs[(np.arange(K) // max(1, K // 10)) % 2 == 1] = 0.0  # every other band of values is impossible
        probs /= probs.sum()
    else:
        raise ValueError(f"unknown toy distribution {name!r}; choose one of {TOY_NAMES}")
    return probs


def toy_1d(name: str = "mixture", num_values: int = 100, num_train: int = 1000, num_test: int = 1000,
           seed: int = 0) -> Toy1D:
    """A toy 1-D dataset: exact probabilities plus seeded train and test samples (int64)."""
    if num_values < 2:
        raise ValueError(f"num_values must be at least 2, got {num_values}")
    probs = toy_probs(name, num_values)
    rng = np.random.default_rng(seed)
    train = rng.choice(num_values, size=num_train, p=probs).astype(np.int64)
    test = rng.choice(num_values, size=num_test, p=probs).astype(np.int64)
    return Toy1D(name=name, probs=probs, train=train, test=test)
