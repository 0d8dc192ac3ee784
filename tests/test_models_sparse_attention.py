"""Sparse attention patterns and SparseTransformer (course_lib.models.sparse_attention)."""
import numpy as np
import pytest
import torch

from course_lib.checks import all_vectors, check_autoregressive, check_normalization, dependency_map
from course_lib.models.sparse_attention import (SparseTransformer, attention_flops, attention_pattern,
                                                gathered_attention, pattern_key_index, pattern_receptive_field,
                                                reach_over_depth)


def test_patterns_match_their_definitions():
    n, s = 23, 4
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    assert np.array_equal(attention_pattern("full", n), j <= i)
    assert np.array_equal(attention_pattern("local", n, s), (j <= i) & (i - j < s))
    assert np.array_equal(attention_pattern("strided", n, s), (j <= i) & ((i - j < s) | ((i - j) % s == 0)))
    assert np.array_equal(attention_pattern("fixed", n, s), (j <= i) & ((j // s == i // s) | (j % s == s - 1)))


def test_two_sparse_layers_see_the_whole_past_and_local_does_not():
    n, s = 49, 7
    full = np.tril(np.ones((n, n), dtype=bool))
    for p in ("strided", "fixed"):
        assert not np.array_equal(reach_over_depth(attention_pattern(p, n, s), 1), full)
        assert np.array_equal(reach_over_depth(attention_pattern(p, n, s), 2), full)
    assert not np.array_equal(reach_over_depth(attention_pattern("local", n, s), 2), full)


def test_flops_grow_as_n_squared_and_n_to_the_1_5():
    ns = [64, 256, 1024]
    full = [attention_flops(attention_pattern("full", n), 8) for n in ns]
    strided = [attention_flops(attention_pattern("strided", n, int(np.sqrt(n))), 8) for n in ns]
    assert np.polyfit(np.log(ns), np.log(full), 1)[0] == pytest.approx(2, abs=0.05)
    assert np.polyfit(np.log(ns), np.log(strided), 1)[0] == pytest.approx(1.5, abs=0.1)


def test_gathered_attention_equals_dense_masked_attention():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 30, 5, generator=g) for _ in range(3))
    mask = attention_pattern("fixed", 30, 5)
    scores = (q @ k.transpose(-2, -1) / np.sqrt(5)).masked_fill(~torch.from_numpy(mask), float("-inf"))
    dense = torch.softmax(scores, -1) @ v
    assert torch.allclose(gathered_attention(q, k, v, *pattern_key_index(mask)), dense, atol=1e-6)


@pytest.mark.parametrize("pattern,layers", [("strided", 1), ("strided", 2), ("fixed", 1)])
def test_dependency_map_matches_the_pattern(pattern, layers):
    torch.manual_seed(0)
    net = SparseTransformer(16, pattern, stride=4, d_model=8, num_heads=2, num_layers=layers).eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 2, (6, 16), generator=torch.Generator().manual_seed(1)), 2).float()
    dep = dependency_map(net, x, method="gradient").reshape(16, 2, 16, 2).any(axis=(1, 3))
    expected = np.stack([pattern_receptive_field(pattern, layers, 4, d // 4, d % 4, stride=4).reshape(-1)
                         for d in range(16)])
    assert np.array_equal(dep, expected)
    assert check_autoregressive(dep)


def test_normalization_by_enumeration():
    torch.manual_seed(0)
    net = SparseTransformer(6, "strided", stride=2, d_model=8, num_heads=2).eval()
    result = check_normalization(net.log_prob, all_vectors(2, 6).long())
    assert result, result.message


def test_bad_arguments():
    with pytest.raises(ValueError, match="pattern"):
        attention_pattern("dilated", 8, 2)
    with pytest.raises(ValueError, match="stride"):
        attention_pattern("strided", 8)
