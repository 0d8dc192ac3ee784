"""Real MNIST from files you already have: the IDX format and the standard binarized-MNIST files.

Nothing here touches the network unless you pass `download=True`; then a missing file is fetched
once (if a network exists) and a failure says what to do instead.

- `load_mnist_idx(path)`: one IDX file (gzip-compressed or raw), for example
  `train-images-idx3-ubyte.gz` -> uint8 (60000, 28, 28), `train-labels-idx1-ubyte.gz` -> uint8 (60000,).
- `load_mnist(directory, split)`: the four standard IDX files of a folder as an `ImageSet`
  (images uint8 (N, 28, 28) in 0..255, labels int64).
- `load_binarized_mnist(path_or_dir, split)`: the fixed binarization of Larochelle & Murray (2011),
  `binarized_mnist_{train,valid,test}` (50,000 / 10,000 / 10,000 images) as uint8 (N, 784) of 0/1.
  Reads the MATLAB `.mat` files (`scipy.io.loadmat(path)["X"]`) and the original text `.amat` files.
"""
from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .digits import ImageSet

# IDX type codes (the third byte of the magic number) and their big-endian numpy dtypes.
_IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # the mirror torchvision uses
BINARIZED_SPLITS = {"train": "train", "valid": "valid", "validation": "valid", "test": "test"}
BINARIZED_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"  # text .amat files
BINARIZED_SIZES = {"train": 50000, "valid": 10000, "test": 10000}


class DownloadError(RuntimeError):
    """A download was asked for and failed (usually: no network)."""


def _download(url: str, dest: Path, timeout: float = 30.0) -> Path:
    """Fetch `url` into `dest` (atomically), or raise DownloadError saying what to do instead."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(response, out)
        os.replace(tmp, dest)
    except Exception as err:  # URLError, timeouts, HTTP errors, DNS failures...
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        raise DownloadError(
            f"Could not download {url} ({type(err).__name__}: {err}).\n"
            f"You may be offline. Download the file on a machine with a network connection and copy it "
            f"to {dest}, or pass the path of a copy you already have (download=False, the default, never "
            f"uses the network)."
        ) from err
    return dest


def _missing(path: Path, what: str, source: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"{what} not found: expected the file {path}.\nGet it from {source} and put it there, pass the "
        f"path of a copy you already have, or call again with download=True where a network exists."
    )


def _open_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path} looks gzip-compressed but cannot be decompressed ({err}); "
                             f"the file is probably truncated or corrupt: download it again.") from err
    return raw


def load_mnist_idx(path, download: bool = False) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a numpy array of the stored type and shape.

    The magic number is checked: two zero bytes, a type code (0x08 = unsigned byte for MNIST), and
    the number of dimensions; then the data must have exactly the size the header promises. MNIST
    images come back as uint8 (N, 28, 28) with values 0..255, labels as uint8 (N,).
    With `download=True`, a missing standard MNIST file (see `MNIST_FILES`) is fetched from `MNIST_URL`.
    """
    path = Path(path)
    if not path.exists():
        known = {name for pair in MNIST_FILES.values() for name in pair}
        known |= {n[:-3] for n in known}
        if download and path.name in known:
            gz = path if path.name.endswith(".gz") else path.with_name(path.name + ".gz")
            _download(MNIST_URL + gz.name, gz)
            if gz != path:
                path.write_bytes(gzip.decompress(gz.read_bytes()))
        else:
            gz_name = path.name if path.name.endswith(".gz") else path.name + ".gz"
            raise _missing(path, "MNIST IDX file", f"{MNIST_URL}{gz_name} (or http://yann.lecun.com/exdb/mnist/)")
    data = _open_maybe_gzip(path)
    if len(data) < 4:
        raise ValueError(f"{path} is not an IDX file: only {len(data)} bytes, the header alone has at least 4.")
    zero, type_code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00" or type_code not in _IDX_DTYPES or not 1 <= ndim <= 4:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number 0x{data[:4].hex()} (expected 0x0000TTDD with type "
            f"TT in {', '.join(f'{c:02x}' for c in _IDX_DTYPES)} and 1-4 dimensions DD, e.g. 0x00000803 for "
            f"MNIST images, 0x00000801 for labels). Is it an MNIST IDX file, decompressed correctly?")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, need {header}).")
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">u4"))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: the header promises shape {shape} ({expected} bytes of data) but the file "
                         f"has {len(data) - header} bytes after the header; it is truncated or corrupt.")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(directory, split: str = "train", download: bool = False) -> ImageSet:
    """MNIST from the standard IDX files in `directory` (`MNIST_FILES`; gzip or already unpacked):
    images uint8 (N, 28, 28) in 0..255 and labels int64; train has 60,000 images, test 10,000."""
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {sorted(MNIST_FILES)}, got {split!r}")
    directory = Path(directory)
    arrays = []
    for name in MNIST_FILES[split]:
        path = directory / name
        if not path.exists() and (directory / name[:-3]).exists():
            path = directory / name[:-3]
        arrays.append(load_mnist_idx(path, download=download))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{directory}: images {images.shape} and labels {labels.shape} do not match "
                         f"(expected (N, 28, 28) and (N,)).")
    return ImageSet(images=images.astype(np.uint8), labels=labels.astype(np.int64))


def _binarized_file(path_or_dir, split: str) -> Path:
    path = Path(path_or_dir)
    if path.is_dir() or not path.suffix:
        for ext in (".mat", ".amat"):
            candidate = path / f"binarized_mnist_{split}{ext}"
            if candidate.exists():
                return candidate
        return path / f"binarized_mnist_{split}.mat"
    return path


def load_binarized_mnist(path_or_dir, split: str = "train", download: bool = False) -> np.ndarray:
    """The standard binarized MNIST as uint8 (N, 784) of 0/1 pixels (raster order of 28x28 images).

    `path_or_dir` is a file, or a folder holding `binarized_mnist_{train,valid,test}.mat` (or `.amat`);
    `split` is "train" (50,000), "valid"/"validation" (10,000) or "test" (10,000). MATLAB files are
    read with `scipy.io.loadmat(path)["X"]`; text `.amat` files (one image per line) are parsed.
    With `download=True`, a missing file is fetched as text `.amat` from `BINARIZED_URL`.
    """
    if split not in BINARIZED_SPLITS:
        raise ValueError(f"split must be one of {sorted(BINARIZED_SPLITS)}, got {split!r}")
    split = BINARIZED_SPLITS[split]
    path = _binarized_file(path_or_dir, split)
    if not path.exists():
        url = f"{BINARIZED_URL}binarized_mnist_{split}.amat"
        if not download:
            raise _missing(path, f"Binarized MNIST ({split}, .mat or text .amat)", url)
        path = _download(url, path.with_suffix(".amat"))
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(b"MATLAB"):
        from scipy.io import loadmat

        try:
            contents = loadmat(path)
        except Exception as err:
            raise ValueError(f"{path} starts like a MATLAB file but cannot be read ({err}); "
                             f"it is probably truncated or corrupt: get it again.") from err
        if "X" not in contents:
            keys = sorted(k for k in contents if not k.startswith("__"))
            raise ValueError(f"{path} has no variable 'X' (it has {keys}); the binarized-MNIST files "
                             f"store the images as X, shape (N, 784).")
        x = np.asarray(contents["X"])
    else:
        try:
            x = np.loadtxt(path, dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise ValueError(f"{path} is neither a MATLAB .mat file nor a text .amat file of 0/1 pixels "
                             f"({err}).") from err
    if x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(f"{path}: expected images of shape (N, 784), found {x.shape}.")
    if not np.isin(x, (0, 1)).all():
        raise ValueError(f"{path}: pixels must be 0 or 1, found values {np.unique(x)[:5]}...")
    return x.astype(np.uint8)
