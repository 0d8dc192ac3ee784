"""Seeded synthetic 1-D signals in [-1, 1] for WaveNet: harmonic tones with vibrato, chirps, noise bursts."""
from __future__ import annotations

import numpy as np

from ._splits import split_size_and_rng

WAVEFORM_KINDS = ("tone", "chirp", "burst")
WAVEFORM_SPLIT_SIZES = {"train": 256, "validation": 64, "test": 64}
_SPLIT_SEEDS = {"train": 11, "validation": 12, "test": 13}


def _tone(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f0 = rng.uniform(0.01, 0.04)  # cycles per sample
    vibrato = rng.uniform(0.0, 0.1) * np.sin(2 * np.pi * rng.uniform(0.001, 0.004) * t)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato))
    amps = rng.uniform(0.2, 1.0, size=3) / np.arange(1, 4)
    return sum(a * np.sin((h + 1) * phase) for h, a in enumerate(amps))


def _chirp(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f_start, f_end = rng.uniform(0.005, 0.02), rng.uniform(0.03, 0.08)
    freq = f_start + (f_end - f_start) * t / t[-1]
    return np.sin(2 * np.pi * np.cumsum(freq))


def _burst(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    signal = 0.1 * np.sin(2 * np.pi * rng.uniform(0.01, 0.03) * t)
    for _ in range(int(rng.integers(1, 4))):
        centre, width = rng.uniform(0, t[-1]), rng.uniform(20, 80)
        envelope = np.exp(-0.5 * ((t - centre) / width) ** 2)
        signal += envelope * rng.normal(0, 0.5, size=len(t))
    return signal


def load_waveforms(split: str = "train", length: int = 1024, num_signals: int | None = None) -> np.ndarray:
    """Float32 signals (N, length) in [-1, 1]; kinds cycle tone, chirp, burst.

    Each signal is scaled to a random peak in [0.3, 0.95], so mu-law quantisation has work to do.
    """
    if length < 2:
        raise ValueError(f"length must be at least 2 samples, got {length}")
    n, rng = split_size_and_rng(split, WAVEFORM_SPLIT_SIZES, _SPLIT_SEEDS, num_signals)
    t = np.arange(length, dtype=np.float64)
    makers = (_tone, _chirp, _burst)
    out = np.zeros((n, length), dtype=np.float32)
    for i in range(n):
        s = makers[i % 3](t, rng)
        peak = np.max(np.abs(s)) or 1.0
        out[i] = (s / peak * rng.uniform(0.3, 0.95)).astype(np.float32)
    return out
