"""The seeded train/validation/test splits of the synthetic datasets."""
import numpy as np


def split_size_and_rng(split: str, sizes: dict, seeds: dict, count: int | None) -> tuple[int, np.random.Generator]:
    """How many items `split` has (its default size unless `count` is given) and the generator that
    draws them: each split has its own seed, so the splits never share an item."""
    if split not in sizes:
        raise ValueError(f"split must be one of {sorted(sizes)}, got {split!r}")
    return (sizes[split] if count is None else int(count)), np.random.default_rng(seeds[split])
