"""course_lib.data: shapes, dtypes, value ranges, seeded determinism, split sizes and disjointness."""
import numpy as np
import pytest
import torch

from course_lib import data
from course_lib.data import strokes as strokes_mod
from course_lib.data.strokes import (STROKES_SPLIT_SIZES, StrokeSet, denormalize_strokes, load_strokes,
                                     normalize_strokes, pad_strokes, stroke_stats)

# ----------------------------------------------------------------------------------------- strokes


@pytest.fixture(scope="module")
def train_strokes():
    return load_strokes("train")


def test_strokes_default_split_sizes_and_types(train_strokes):
    assert STROKES_SPLIT_SIZES == {"train": 600, "validation": 100, "test": 100}
    for split, size in STROKES_SPLIT_SIZES.items():
        s = train_strokes if split == "train" else load_strokes(split)
        assert isinstance(s, StrokeSet)
        assert len(s) == len(s.sequences) == len(s.texts) == len(s.writers) == size
        assert s.writers.dtype == np.int64
        for seq in s.sequences:
            assert seq.dtype == np.float32 and seq.ndim == 2 and seq.shape[1] == 3


def test_strokes_pen_up_column_marks_stroke_ends(train_strokes):
    for seq in train_strokes.sequences:
        assert set(np.unique(seq[:, 2])) <= {0.0, 1.0}
        assert seq[-1, 2] == 1.0, "the last point always ends a stroke"
        assert np.all(np.isfinite(seq))


def test_strokes_texts_are_short_lowercase_words(train_strokes):
    for word in train_strokes.texts:
        assert 3 <= len(word) <= 8 and word.isalpha() and word.islower()
        assert word in strokes_mod.WORDS


def test_strokes_lengths_are_moderate(train_strokes):
    lengths = train_strokes.lengths
    assert 40 <= np.median(lengths) <= 120
    assert lengths.min() >= 10 and lengths.max() <= 250
    # Uniform pen speed: the step length is about PEN_STEP * scale, never huge.
    steps = np.concatenate([np.linalg.norm(s[1:, :2], axis=1)[s[:-1, 2] == 0] for s in train_strokes.sequences])
    assert 1.5 < np.median(steps) < 6.0
    assert np.percentile(steps, 99) < 15.0


def test_strokes_writing_spans_the_word_left_to_right(train_strokes):
    for seq, word in zip(train_strokes.sequences[:50], train_strokes.texts[:50]):
        xy = np.cumsum(seq[:, :2], axis=0)
        width, height = np.ptp(xy[:, 0]), np.ptp(xy[:, 1])
        assert 4 * len(word) < width < 30 * len(word), (word, width)
        assert 5 < height < 60, (word, height)


def test_strokes_are_deterministic_under_the_seed():
    a, b = load_strokes("validation", num_samples=12, seed=3), load_strokes("validation", num_samples=12, seed=3)
    assert a.texts == b.texts
    np.testing.assert_array_equal(a.writers, b.writers)
    for x, y in zip(a.sequences, b.sequences):
        np.testing.assert_array_equal(x, y)
    c = load_strokes("validation", num_samples=12, seed=4)
    assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a.sequences, c.sequences))


def test_strokes_default_seed_is_zero_and_results_are_independent_copies():
    a = load_strokes("test", num_samples=5)
    b = load_strokes("test", num_samples=5, seed=0)
    np.testing.assert_array_equal(a.sequences[0], b.sequences[0])
    a.sequences[0][:] = 99.0  # mutating one result must not change the next call's (cached) samples
    c = load_strokes("test", num_samples=5)
    np.testing.assert_array_equal(b.sequences[0], c.sequences[0])


def test_strokes_num_samples_is_a_prefix_of_the_full_split(train_strokes):
    small = load_strokes("train", num_samples=7)
    assert small.texts == train_strokes.texts[:7]
    for x, y in zip(small.sequences, train_strokes.sequences[:7]):
        np.testing.assert_array_equal(x, y)


def test_strokes_no_two_samples_are_the_same(train_strokes):
    seen = {s.tobytes() for s in train_strokes.sequences}
    assert len(seen) == len(train_strokes)
    # The same word by the same writer still differs from one sample to the next.
    by_key = {}
    for seq, word, w in zip(train_strokes.sequences, train_strokes.texts, train_strokes.writers):
        by_key.setdefault((word, int(w)), []).append(seq)
    pairs = [v for v in by_key.values() if len(v) > 1]
    for v in pairs:
        assert not any(np.array_equal(v[0], other) for other in v[1:])


def test_strokes_splits_have_disjoint_writers(train_strokes):
    val, test = load_strokes("validation"), load_strokes("test")
    tr, va, te = set(train_strokes.writers), set(val.writers), set(test.writers)
    assert len(tr) == 60 and len(va) == 10 and len(te) == 10
    assert not (tr & va) and not (tr & te) and not (va & te)
    counts = np.bincount(train_strokes.writers)
    assert set(counts[counts > 0]) == {10}


def test_writers_differ_in_style(train_strokes):
    # Mean slant proxy: the average dx per unit dy on the way up differs across writers.
    slants = []
    for w in range(6):
        seqs = [s for s, ww in zip(train_strokes.sequences, train_strokes.writers) if ww == w]
        xy = np.concatenate([s[s[:, 2] == 0][:, :2] for s in seqs])
        slants.append(np.mean(xy[:, 0]))
    assert np.ptp(slants) > 0.1


def test_strokes_max_len_is_respected_and_keeps_the_text():
    full = load_strokes("train", num_samples=20)
    short = load_strokes("train", num_samples=20, max_len=50)
    assert short.texts == full.texts
    assert max(short.lengths) <= 50
    for s in short.sequences:
        assert s[-1, 2] == 1.0
    assert any(len(a) < len(b) for a, b in zip(short.sequences, full.sequences))


def test_strokes_bad_arguments_raise():
    with pytest.raises(ValueError, match="split"):
        load_strokes("dev")
    with pytest.raises(ValueError, match="max_len"):
        load_strokes("train", num_samples=2, max_len=1)


def test_stroke_stats_normalize_and_denormalize(train_strokes):
    mean, std = stroke_stats(train_strokes)
    assert mean.shape == (2,) and std.shape == (2,) and np.all(std > 0)
    flat = np.concatenate([normalize_strokes(s, mean, std) for s in train_strokes.sequences])
    np.testing.assert_allclose(flat[:, :2].mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(flat[:, :2].std(axis=0), 1.0, atol=1e-4)
    seq = train_strokes.sequences[0]
    norm = normalize_strokes(seq, mean, std)
    np.testing.assert_array_equal(norm[:, 2], seq[:, 2])
    np.testing.assert_allclose(denormalize_strokes(norm, mean, std), seq, atol=1e-4)
    assert np.array_equal(seq, train_strokes.sequences[0]), "normalize must not modify its input"


def test_normalize_strokes_works_on_torch_batches(train_strokes):
    mean, std = stroke_stats(train_strokes)
    x, _ = pad_strokes(train_strokes.sequences[:4])
    t = torch.from_numpy(x)
    out = normalize_strokes(t, mean, std)
    assert isinstance(out, torch.Tensor) and out.shape == t.shape
    np.testing.assert_allclose(out.numpy(), normalize_strokes(x, mean, std), atol=1e-6)
    np.testing.assert_allclose(denormalize_strokes(out, mean, std).numpy(), x, atol=1e-4)


def test_pad_strokes_shapes_mask_and_truncation(train_strokes):
    seqs = train_strokes.sequences[:5]
    x, mask = pad_strokes(seqs)
    T = max(len(s) for s in seqs)
    assert x.shape == (5, T, 3) and x.dtype == np.float32
    assert mask.shape == (5, T) and mask.dtype == bool
    for i, s in enumerate(seqs):
        assert mask[i].sum() == len(s)
        np.testing.assert_array_equal(x[i, :len(s)], s)
        assert np.all(x[i, len(s):] == 0)
    x2, mask2 = pad_strokes(seqs, length=20)
    assert x2.shape == (5, 20, 3) and mask2.all()
    x3, mask3 = pad_strokes(seqs, length=T + 5)
    assert x3.shape == (5, T + 5, 3) and not mask3[:, T:].any()
    x4, mask4 = pad_strokes([])
    assert x4.shape == (0, 0, 3) and mask4.shape == (0, 0)
