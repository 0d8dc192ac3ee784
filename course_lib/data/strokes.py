"""Handwriting-like pen strokes built from the Hershey stroke fonts: the offline stand-in for IAM-OnDB.

Each sample is one short lowercase word (3-8 letters, drawn from the fixed list `WORDS`) written by
a "writer". A writer has its own font (joined-up `cursive` or print-like `futural`), slant, size,
width, letter spacing, baseline wobble, jitter, smoothing and pen speed; every sample adds its own
noise on top, so no two samples are the same, not even the same word by the same writer.

A sample is a float32 array of shape (T, 3) with rows (dx, dy, pen_up), the format of Graves (2013):
(dx, dy) is the pen offset from the previous point in pen units (1 pen unit = 1 Hershey font unit;
a lowercase letter is about 9 units tall, y points up), and pen_up = 1 on the last point of each
stroke (the pen is lifted after it). The first row is the offset of the first point from the start
of the baseline. Strokes are resampled to a roughly uniform pen speed (one point every ~3.6 units of
path), so T is about 12-18 points per letter: typically 40-120 points per word.

Splits are by writer and seeded: train 60 writers x 10 = 600 samples, validation 10 writers x 10 =
100, test 10 writers x 10 = 100 (writer ids 0-59, 60-69, 70-79). Writers never appear in two splits.

    train = load_strokes("train")
    mean, std = stroke_stats(train)              # of (dx, dy), on the training split
    x, mask = pad_strokes([normalize_strokes(s, mean, std) for s in train.sequences])
    plot_strokes(train.sequences[0], title=train.texts[0])   # course_lib.viz
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Sizes per split: (number of writers, samples per writer). Writer ids are consecutive across splits.
STROKES_WRITERS = {"train": 60, "validation": 10, "test": 10}
STROKES_SAMPLES_PER_WRITER = 10
STROKES_SPLIT_SIZES = {k: v * STROKES_SAMPLES_PER_WRITER for k, v in STROKES_WRITERS.items()}
FONTS = ("cursive", "futural")
PEN_STEP = 3.6  # target path length between consecutive points, in pen units (before the writer's speed)

_DEFAULT_SEED = 0

# A fixed word list (lowercase, 3-8 letters). Samples pick words from it with a seeded generator.
WORDS = (
    "cat", "dog", "sun", "map", "pen", "ink", "owl", "fox", "zip", "jam", "key", "box", "web", "sky",
    "tree", "moon", "rain", "wind", "leaf", "bird", "fish", "star", "lamp", "road", "word", "note",
    "quiz", "jazz", "wave", "hand", "apple", "bread", "chair", "dream", "earth", "fruit", "grape",
    "house", "light", "music", "night", "ocean", "paper", "river", "stone", "table", "water", "zebra",
    "garden", "yellow", "planet", "bridge", "candle", "forest", "letter", "pocket", "silver", "window",
    "kitchen", "morning", "picture", "quickly", "weather", "journey", "blanket", "example", "harvest",
    "notebook", "sequence", "language", "mountain", "painting", "sentence", "keyboard", "question",
)


@dataclass
class StrokeSet:
    """Pen-stroke samples: `sequences[i]` is a (T_i, 3) float32 array of (dx, dy, pen_up),
    `texts[i]` the word it writes, `writers[i]` the integer id of the writer."""

    sequences: list[np.ndarray]
    texts: list[str]
    writers: np.ndarray
    split: str = "train"

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def lengths(self) -> np.ndarray:
        """Number of points T_i of every sample, int64 (N,)."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)


@lru_cache(maxsize=None)
def _glyphs(font: str) -> dict:
    """Per letter: (strokes as float arrays in font units with y up, left side, width)."""
    from HersheyFonts import HersheyFonts  # pip package hershey-fonts (MIT); fonts embedded, no network

    f = HersheyFonts()
    f.load_default_font(font)
    out = {}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        g = next(iter(f.glyphs_for_text(ch)))
        strokes = [np.array(s, dtype=np.float64) * np.array([1.0, -1.0]) + np.array([0.0, 9.0])
                   for s in g.strokes]  # flip y (font y points down) and put the baseline (font y = 9) at 0
        out[ch] = (strokes, float(g.left_offset), float(g.char_width))
    return out


def _writer_style(writer: int, seed: int) -> dict:
    """The fixed habits of one writer (same writer id and seed, same habits)."""
    rng = np.random.default_rng([seed, 7919, writer])
    return {
        "font": FONTS[int(rng.random() < 0.35)],  # about a third of the writers print
        "slant": rng.uniform(-0.15, 0.45),  # shear: x += slant * y
        "scale": rng.uniform(0.8, 1.25),
        "width": rng.uniform(0.85, 1.15),  # horizontal stretch
        "spacing": rng.uniform(-1.5, 4.0),  # extra space between letters, font units
        "wobble": rng.uniform(0.0, 1.5),  # baseline wobble amplitude, font units
        "jitter": rng.uniform(0.15, 0.6),  # pen tremor, font units
        "smooth": rng.uniform(0.5, 2.5),  # smoothing length, font units
        "speed": rng.uniform(0.9, 1.15),  # multiplies PEN_STEP
    }


def _densify(points: np.ndarray, step: float = 0.5) -> np.ndarray:
    """Insert points along each segment so no two neighbours are more than `step` apart."""
    if len(points) < 2:
        return points
    seg = np.diff(points, axis=0)
    n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / step)).astype(np.int64)
    which = np.repeat(np.arange(len(seg)), n)  # the segment each new point lies on
    k = np.arange(len(which)) - np.repeat(np.cumsum(n) - n, n) + 1  # 1..n within its segment
    inner = points[which] + seg[which] * (k / n[which])[:, None]
    return np.concatenate([points[:1], inner])


def _smooth(points: np.ndarray, width: float) -> np.ndarray:
    """Gaussian smoothing along a dense polyline (0.5 units apart), end points kept in place."""
    sigma = width / 0.5
    if len(points) < 3 or sigma < 0.5:
        return points
    half = int(np.ceil(2.5 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([np.repeat(points[:1], half, 0), points, np.repeat(points[-1:], half, 0)])
    out = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(2)], axis=1)
    out[0], out[-1] = points[0], points[-1]
    return out


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """Points at (roughly) equal path length `step` along a polyline, both ends kept."""
    if len(points) < 2:
        return points
    d = np.diff(points, axis=0)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    n = max(1, int(round(arc[-1] / step)))
    where = np.linspace(0.0, arc[-1], n + 1)
    return np.stack([np.interp(where, arc, points[:, k]) for k in range(2)], axis=1)


def _write(word: str, style: dict, rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """One sample: the word in the writer's style plus this sample's own noise, as dense pen paths
    (one (n, 2) array per stroke) and the distance between points that gives the writer's pen speed."""
    glyphs = _glyphs(style["font"])
    slant = style["slant"] + rng.normal(0, 0.04)
    scale = style["scale"] * np.exp(rng.normal(0, 0.04))
    width = style["width"] * np.exp(rng.normal(0, 0.03))
    phase, period = rng.uniform(0, 2 * np.pi), rng.uniform(60, 140)
    joined = style["font"] == "cursive"

    strokes: list[np.ndarray] = []
    x, x_font = 0.0, 0.0  # pen position with this writer's spacing, and in the plain font
    last_end_font = None  # where the previous stroke ended in the plain font
    for ch in word:
        letter_strokes, left, char_width = glyphs[ch]
        size = np.exp(rng.normal(0, 0.05))  # letters of one word differ a little in size
        lift = rng.normal(0, 0.4)
        gap = style["spacing"] + rng.normal(0, 0.5)
        for k, s in enumerate(letter_strokes):
            p = (s - np.array([left, 0.0])) * size + np.array([x, lift])
            start_font = s[0] - np.array([left - x_font, 0.0])
            # Joined-up writing: a stroke that starts where the previous letter's stroke ended continues it.
            if joined and k == 0 and last_end_font is not None and np.allclose(start_font, last_end_font):
                strokes[-1] = np.concatenate([strokes[-1], p])
            else:
                strokes.append(p)
            last_end_font = s[-1] - np.array([left - x_font, 0.0])
        x += char_width * size + gap
        x_font += char_width

    paths = []
    for s in strokes:
        p = _densify(s)
        p = p + np.cumsum(rng.normal(0, style["jitter"] * 0.3, size=p.shape), axis=0) * 0.2 \
            + rng.normal(0, style["jitter"], size=p.shape)
        p = _smooth(p, style["smooth"])
        p[:, 1] += style["wobble"] * np.sin(2 * np.pi * p[:, 0] / period + phase)
        paths.append(np.stack([scale * width * (p[:, 0] + slant * p[:, 1]), scale * p[:, 1]], axis=1))
    return paths, PEN_STEP * style["speed"] * scale


def _to_offsets(paths: list[np.ndarray], step: float) -> np.ndarray:
    """Resample each pen path every `step` units and write the (T, 3) rows (dx, dy, pen_up)."""
    out = []
    for path in paths:
        p = _resample(path, step)
        pen = np.zeros((len(p), 1))
        pen[-1] = 1.0
        out.append(np.concatenate([p, pen], axis=1))
    seq = np.concatenate(out)
    seq[1:, :2] = np.diff(seq[:, :2], axis=0)
    return seq.astype(np.float32)


def load_strokes(split: str = "train", num_samples: int | None = None, max_len: int | None = None,
                 seed: int | None = None) -> StrokeSet:
    """Seeded handwriting samples of one split (train 600, validation 100, test 100 by default).

    `num_samples` overrides the size (samples go to the split's writers in turn). With `max_len`, a
    sample longer than `max_len` points is resampled more coarsely until it fits (cut to `max_len`
    only as a last resort). `seed` (default 0) picks the writers' habits, the words and the noise:
    the same arguments give the same samples, and a different seed gives a different data set.
    """
    if split not in STROKES_WRITERS:
        raise ValueError(f"split must be one of {sorted(STROKES_WRITERS)}, got {split!r}")
    if max_len is not None and max_len < 2:
        raise ValueError(f"max_len must be at least 2 points, got {max_len}")
    seed = _DEFAULT_SEED if seed is None else int(seed)
    n = STROKES_SPLIT_SIZES[split] if num_samples is None else int(num_samples)
    if n < 0:
        raise ValueError(f"num_samples must be >= 0, got {num_samples}")
    sequences, texts, writers = _generate(split, n, None if max_len is None else int(max_len), seed)
    return StrokeSet(sequences=[s.copy() for s in sequences], texts=list(texts), writers=writers.copy(),
                     split=split)


@lru_cache(maxsize=16)
def _generate(split: str, n: int, max_len: int | None, seed: int):
    """The samples of `load_strokes`, cached (a split takes about a second to write); callers copy."""
    first = sum(STROKES_WRITERS[s] for s in list(STROKES_WRITERS)[:list(STROKES_WRITERS).index(split)])
    writer_ids = np.arange(first, first + STROKES_WRITERS[split])
    styles = {int(w): _writer_style(int(w), seed) for w in writer_ids}
    rng = np.random.default_rng([seed, 104729, int(first)])
    sequences, texts, writers = [], [], np.empty(n, dtype=np.int64)
    for i in range(n):
        w = int(writer_ids[i % len(writer_ids)])
        word = WORDS[int(rng.integers(len(WORDS)))]
        sample_seed = int(rng.integers(2**63))
        paths, step = _write(word, styles[w], np.random.default_rng(sample_seed))
        factor = 1.0
        while True:
            seq = _to_offsets(paths, step * factor)
            if max_len is None or len(seq) <= max_len or factor > 8:
                break
            factor *= 1.1 * len(seq) / max_len
        if max_len is not None and len(seq) > max_len:
            seq = seq[:max_len].copy()
            seq[-1, 2] = 1.0
        sequences.append(seq)
        texts.append(word)
        writers[i] = w
    return tuple(sequences), tuple(texts), writers


def stroke_stats(stroke_set: StrokeSet | list) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (each shape (2,), float32) of (dx, dy) over all points.

    Compute them on the training split and use the same numbers for every split.
    """
    seqs = stroke_set.sequences if isinstance(stroke_set, StrokeSet) else stroke_set
    xy = np.concatenate([np.asarray(s)[:, :2] for s in seqs]).astype(np.float64)
    return xy.mean(axis=0).astype(np.float32), xy.std(axis=0).astype(np.float32)


def _apply(seq, fn):
    """Apply fn to the (dx, dy) columns of a (..., 3) numpy array or torch tensor, pen_up untouched."""
    if hasattr(seq, "detach"):  # torch tensor
        out = seq.clone()
        out[..., :2] = fn(seq[..., :2], lambda a: seq.new_tensor(np.asarray(a)))
        return out
    out = np.array(seq, dtype=np.float32, copy=True)
    out[..., :2] = fn(out[..., :2], lambda a: np.asarray(a, dtype=np.float32))
    return out


def normalize_strokes(seq, mean, std):
    """(dx, dy) -> ((dx, dy) - mean) / std for a (T, 3) or (N, T, 3) array or tensor; pen_up unchanged.

    Normalise before padding (padding rows would otherwise stop being zero), or ignore them via the mask.
    """
    return _apply(seq, lambda xy, conv: (xy - conv(mean)) / conv(std))


def denormalize_strokes(seq, mean, std):
    """The inverse of `normalize_strokes`: (dx, dy) -> (dx, dy) * std + mean."""
    return _apply(seq, lambda xy, conv: xy * conv(std) + conv(mean))


def pad_strokes(sequences, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack (T_i, 3) sequences into one (N, T, 3) float32 array, zero-padded at the end, and a (N, T)
    bool mask that is True on real points. T = `length` or the longest sequence; longer ones are cut."""
    seqs = [np.asarray(s.detach().cpu() if hasattr(s, "detach") else s, dtype=np.float32) for s in sequences]
    T = max((len(s) for s in seqs), default=0) if length is None else int(length)
    x = np.zeros((len(seqs), T, 3), dtype=np.float32)
    mask = np.zeros((len(seqs), T), dtype=bool)
    for i, s in enumerate(seqs):
        k = min(len(s), T)
        x[i, :k] = s[:k]
        mask[i, :k] = True
    return x, mask
