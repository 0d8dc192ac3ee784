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


# ------------------------------------------------------------------------------------------- mnist

from course_lib.data.mnist import DownloadError, load_binarized_mnist, load_mnist, load_mnist_idx  # noqa: E402


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    return header + array.astype(dtype).tobytes()


@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    return tmp_path, images, labels


def test_idx_raw_and_gzip_round_trip(tiny_mnist):
    import gzip

    tmp, images, labels = tiny_mnist
    (tmp / "imgs.idx").write_bytes(_idx_bytes(images))
    (tmp / "labels.idx.gz").write_bytes(gzip.compress(_idx_bytes(labels)))
    x = load_mnist_idx(tmp / "imgs.idx")
    y = load_mnist_idx(str(tmp / "labels.idx.gz"))
    assert x.dtype == np.uint8 and x.shape == (7, 28, 28)
    assert y.dtype == np.uint8 and y.shape == (7,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_idx_other_types_are_read_big_endian(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000
    (tmp_path / "a.idx").write_bytes(_idx_bytes(a, 0x0C))
    out = load_mnist_idx(tmp_path / "a.idx")
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, a)
    f = np.linspace(-1, 1, 5).astype(np.float32)
    (tmp_path / "f.idx").write_bytes(_idx_bytes(f, 0x0D))
    np.testing.assert_array_equal(load_mnist_idx(tmp_path / "f.idx"), f)


def test_load_mnist_reads_the_standard_file_names(tiny_mnist):
    import gzip

    tmp, images, labels = tiny_mnist
    (tmp / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    (tmp / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(labels))  # already unpacked works too
    ds = load_mnist(tmp, split="test")
    assert ds.images.shape == (7, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.labels, labels)


def test_load_mnist_rejects_mismatched_images_and_labels(tiny_mnist):
    tmp, images, labels = tiny_mnist
    (tmp / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(labels[:5]))
    with pytest.raises(ValueError, match="do not match"):
        load_mnist(tmp, split="test")


@pytest.mark.parametrize("corrupt, message", [
    (b"\x12\x34\x08\x03" + b"\x00" * 12, "magic number"),          # wrong leading bytes
    (b"\x00\x00\x07\x03" + b"\x00" * 12, "magic number"),          # unknown type code
    (b"\x00\x00\x08", "not an IDX file"),                            # shorter than a header
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),  # header cut short
])
def test_idx_corrupt_headers_give_clear_errors(tmp_path, corrupt, message):
    (tmp_path / "bad.idx").write_bytes(corrupt)
    with pytest.raises(ValueError, match=message):
        load_mnist_idx(tmp_path / "bad.idx")


def test_idx_truncated_data_and_broken_gzip(tiny_mnist):
    import gzip

    tmp, images, _ = tiny_mnist
    good = _idx_bytes(images)
    (tmp / "short.idx").write_bytes(good[:-10])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_mnist_idx(tmp / "short.idx")
    (tmp / "broken.gz").write_bytes(gzip.compress(good)[:100])
    with pytest.raises(ValueError, match="gzip"):
        load_mnist_idx(tmp / "broken.gz")


def test_missing_idx_file_says_what_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist_idx(tmp_path / "train-images-idx3-ubyte.gz")
    text = str(info.value)
    assert "train-images-idx3-ubyte.gz" in text and str(tmp_path) in text and "http" in text
    assert "download=True" in text


def _offline(monkeypatch):
    import urllib.error
    import urllib.request

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_download_offline_fails_with_instructions(tmp_path, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path, split="train", download=True)
    text = str(info.value)
    assert "offline" in text and "train-images-idx3-ubyte.gz" in text and str(tmp_path) in text
    with pytest.raises(DownloadError, match="binarized_mnist_valid"):
        load_binarized_mnist(tmp_path, split="validation", download=True)
    assert not any(tmp_path.iterdir()), "a failed download must leave no partial files"


def test_no_network_is_used_by_default(tmp_path, monkeypatch):
    import urllib.request

    def forbidden(*args, **kwargs):
        raise AssertionError("the loader touched the network without download=True")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path, split="test")
    with pytest.raises(FileNotFoundError, match="binarized_mnist_test"):
        load_binarized_mnist(tmp_path, split="test")


def test_download_success_path_is_used_when_asked(tmp_path, monkeypatch):
    import io
    import urllib.request

    rows = np.random.default_rng(1).integers(0, 2, size=(3, 784))
    text = "\n".join(" ".join(str(v) for v in r) for r in rows).encode()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(text))
    x = load_binarized_mnist(tmp_path, split="test", download=True)
    np.testing.assert_array_equal(x, rows)
    assert (tmp_path / "binarized_mnist_test.amat").exists()


def test_binarized_mnist_mat_files(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(2)
    for split, n in [("train", 5), ("valid", 3), ("test", 4)]:
        savemat(tmp_path / f"binarized_mnist_{split}.mat", {"X": rng.integers(0, 2, size=(n, 784)).astype(np.uint8)})
    x = load_binarized_mnist(tmp_path)  # a folder, default split train
    assert x.shape == (5, 784) and x.dtype == np.uint8 and set(np.unique(x)) <= {0, 1}
    assert load_binarized_mnist(tmp_path, split="validation").shape == (3, 784)
    assert load_binarized_mnist(tmp_path / "binarized_mnist_test.mat", split="test").shape == (4, 784)
    with pytest.raises(ValueError, match="split"):
        load_binarized_mnist(tmp_path, split="dev")


def test_binarized_mnist_corrupt_files(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "wrong_key.mat", {"images": np.zeros((2, 784), np.uint8)})
    with pytest.raises(ValueError, match="'X'"):
        load_binarized_mnist(tmp_path / "wrong_key.mat")
    savemat(tmp_path / "wrong_shape.mat", {"X": np.zeros((2, 28), np.uint8)})
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        load_binarized_mnist(tmp_path / "wrong_shape.mat")
    savemat(tmp_path / "grey.mat", {"X": np.full((2, 784), 7, np.uint8)})
    with pytest.raises(ValueError, match="0 or 1"):
        load_binarized_mnist(tmp_path / "grey.mat")
    good = tmp_path / "good.mat"
    savemat(good, {"X": np.ones((50, 784), np.uint8)})
    (tmp_path / "cut.mat").write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="corrupt"):
        load_binarized_mnist(tmp_path / "cut.mat")
    (tmp_path / "junk.amat").write_text("hello world\n")
    with pytest.raises(ValueError, match="neither"):
        load_binarized_mnist(tmp_path / "junk.amat")


# ------------------------------------------------------------------------------------------ digits


def test_digits_split_sizes_disjoint_and_complete():
    sizes = {s: len(data.load_digits(s)) for s in data.SPLIT_SIZES}
    assert sizes == {"train": 1197, "validation": 300, "test": 300} == data.SPLIT_SIZES
    flat = [data.load_digits(s).images.reshape(-1, 64) for s in data.SPLIT_SIZES]
    from sklearn.datasets import load_digits as sk

    everything = sk().images.reshape(-1, 64).astype(np.uint8)
    assert sum(len(f) for f in flat) == len(everything)
    # Disjoint as index sets: matching every split row back to sklearn's rows covers each row once.
    joined = np.concatenate(flat)
    assert sorted(map(bytes, joined)) == sorted(map(bytes, everything))


def test_digits_seventeen_levels_and_binarization():
    grey, binary = data.load_digits("train"), data.load_digits("train", binarized=True)
    assert grey.images.shape == (1197, 8, 8) and grey.images.dtype == np.uint8
    assert grey.images.min() == 0 and grey.images.max() == 16
    assert binary.images.dtype == np.uint8 and set(np.unique(binary.images)) == {0, 1}
    np.testing.assert_array_equal(binary.images, (grey.images >= 8).astype(np.uint8))
    np.testing.assert_array_equal(grey.labels, binary.labels)
    assert grey.labels.dtype == np.int64 and set(np.unique(grey.labels)) == set(range(10))
    assert grey.flat().shape == (1197, 64) and grey.flat().dtype == np.float32


def test_digits_are_deterministic_and_reject_unknown_splits():
    np.testing.assert_array_equal(data.load_digits("test").images, data.load_digits("test").images)
    with pytest.raises(ValueError, match="split"):
        data.load_digits("dev")


# ---------------------------------------------------------------------------------------------- toy


@pytest.mark.parametrize("name", data.TOY_NAMES)
def test_toy_1d_probabilities_and_samples(name):
    toy = data.toy_1d(name, num_values=50, num_train=400, num_test=300, seed=1)
    assert toy.num_values == 50 and toy.probs.shape == (50,)
    assert np.all(toy.probs >= 0) and np.isclose(toy.probs.sum(), 1.0)
    assert toy.train.shape == (400,) and toy.test.shape == (300,) and toy.train.dtype == np.int64
    assert toy.train.min() >= 0 and toy.train.max() < 50
    assert np.all(toy.probs[toy.train] > 0), "samples only take values of positive probability"
    again = data.toy_1d(name, num_values=50, num_train=400, num_test=300, seed=1)
    np.testing.assert_array_equal(toy.train, again.train)
    other = data.toy_1d(name, num_values=50, num_train=400, num_test=300, seed=2)
    assert not np.array_equal(toy.train, other.train)


def test_toy_shapes_of_the_distributions():
    gaps = data.toy_probs("gaps", 100)
    assert (gaps == 0).sum() >= 30, "the gaps distribution has impossible values"
    bimodal = data.toy_probs("bimodal", 100)
    assert bimodal[30] > 10 * bimodal[50] and bimodal[70] > 10 * bimodal[50]
    with pytest.raises(ValueError):
        data.toy_probs("nope")
    with pytest.raises(ValueError):
        data.toy_1d("mixture", num_values=1)


# ------------------------------------------------------------------------------------------- shapes


def test_shapes_sizes_values_and_determinism():
    tr = data.load_shapes("train")
    assert tr.images.shape == (2000, 20, 20) and tr.images.dtype == np.uint8
    assert set(np.unique(tr.images)) == {0, 1} and set(np.unique(tr.labels)) == {0, 1, 2}
    assert len(data.load_shapes("validation")) == 500 and len(data.load_shapes("test")) == 500
    assert tr.images.reshape(2000, -1).sum(axis=1).min() > 0, "every image has a shape in it"
    small = data.load_shapes("test", size=12, num_images=10)
    assert small.images.shape == (10, 12, 12)
    np.testing.assert_array_equal(small.images, data.load_shapes("test", size=12, num_images=10).images)
    assert not np.array_equal(data.load_shapes("train", num_images=10).images,
                              data.load_shapes("test", num_images=10).images)
    with pytest.raises(ValueError):
        data.load_shapes("dev")


def test_shapes_squares_are_filled_squares():
    ds = data.load_shapes("train", num_images=200)
    for img in ds.images[ds.labels == 0][:20]:
        rows, cols = np.nonzero(img)
        h, w = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert h == w and img.sum() == h * w


# ---------------------------------------------------------------------------------------- waveforms


def test_waveforms_shapes_range_and_determinism():
    x = data.load_waveforms("train", length=256, num_signals=9)
    assert x.shape == (9, 256) and x.dtype == np.float32
    assert np.abs(x).max() <= 1.0
    peaks = np.abs(x).max(axis=1)
    assert np.all(peaks >= 0.3 - 1e-6) and np.all(peaks <= 0.95 + 1e-6)
    np.testing.assert_array_equal(x, data.load_waveforms("train", length=256, num_signals=9))
    assert not np.array_equal(x, data.load_waveforms("test", length=256, num_signals=9))
    assert data.load_waveforms("validation", length=64).shape == (64, 64)
    with pytest.raises(ValueError):
        data.load_waveforms("dev")
    with pytest.raises(ValueError):
        data.load_waveforms("train", length=1)
