"""Sparse attention patterns (Child, Gray, Radford & Sutskever, 2019, "Generating long sequences with
sparse transformers") and a causal transformer that uses them.

A pattern is a boolean (n, n) matrix: query i may attend to key j. Every pattern here is causal
(j <= i) and lets a position see itself:

- "full":    j <= i                                                  (n (n + 1) / 2 pairs)
- "local":   i - j < stride                                          (the previous `stride` positions)
- "strided": i - j < stride  or  (i - j) % stride == 0              (local + every stride-th step back)
- "fixed":   j // stride == i // stride  or  j % stride == stride - 1
             (the same block, plus the last position of every earlier block: the "summary" cells)

With stride about sqrt(n), a strided or fixed layer has O(n sqrt(n)) pairs instead of O(n^2), and
two layers reach every earlier position: `reach_over_depth` composes the pattern over layers (the
residual path keeps what a position saw before, so reach grows monotonically).

    mask = attention_pattern("strided", 64, 8)
    reach = reach_over_depth(mask, 2)          # all True on and below the diagonal
    model = SparseTransformer(64, pattern="strided", stride=8)
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .attention import CausalTransformer

PATTERNS = ("full", "local", "strided", "fixed")

__all__ = ["PATTERNS", "attention_pattern", "reach_over_depth", "attention_flops", "pattern_receptive_field",
           "pattern_key_index", "gathered_attention", "PatternSelfAttention", "SparseTransformer"]


def attention_pattern(pattern: str, seq_len: int, stride: int | None = None) -> np.ndarray:
    """Boolean (seq_len, seq_len) matrix: entry (i, j) is True when query i may attend to key j."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    if seq_len < 1:
        raise ValueError(f"seq_len must be positive, got {seq_len}")
    if pattern != "full" and (stride is None or stride < 1):
        raise ValueError(f"the {pattern!r} pattern needs a positive stride, got {stride!r}")
    i = np.arange(seq_len)[:, None]
    j = np.arange(seq_len)[None, :]
    causal = j <= i
    if pattern == "full":
        return causal
    if pattern == "local":
        return causal & (i - j < stride)
    if pattern == "strided":
        return causal & ((i - j < stride) | ((i - j) % stride == 0))
    return causal & ((j // stride == i // stride) | (j % stride == stride - 1))


def reach_over_depth(mask: np.ndarray, num_layers: int) -> np.ndarray:
    """Which positions each position's output depends on after `num_layers` layers of `mask`
    (with residual connections): the boolean matrix power of (mask | identity)."""
    mask = np.asarray(mask, dtype=bool)
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    step = mask | np.eye(len(mask), dtype=bool)
    reach = step.copy()
    for _ in range(num_layers - 1):
        reach = (reach.astype(np.int64) @ step.astype(np.int64)) > 0
    return reach


def attention_flops(mask: np.ndarray, d_model: int) -> int:
    """Multiply-adds x 2 of one attention layer's scores and weighted sum: 4 * d_model per allowed
    (query, key) pair (q.k is d_model multiply-adds, and so is weights @ v)."""
    return int(4 * d_model * np.asarray(mask, dtype=bool).sum())


def pattern_receptive_field(pattern: str, num_layers: int, size: int, row: int, col: int,
                            stride: int | None = None) -> np.ndarray:
    """Bool (size, size): the pixels that the output at (row, col) of a `SparseTransformer` over the
    raster-ordered size x size image depends on. The model reads the sequence shifted one step right
    (a start token first), so output d sees pixel j when position d reaches position j + 1."""
    n = size * size
    reach = reach_over_depth(attention_pattern(pattern, n, stride), num_layers)
    d = row * size + col
    seen = np.zeros(n, dtype=bool)
    seen[:d] = reach[d, 1:d + 1]
    return seen.reshape(size, size)


def pattern_key_index(mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """For a sparse pattern, the keys of every query as an index table (n, K) padded to the widest
    row, and a bool table of which entries are real. K is the most keys any query has."""
    mask = np.asarray(mask, dtype=bool)
    width = int(mask.sum(1).max())
    index = np.zeros((len(mask), width), dtype=np.int64)
    valid = np.zeros((len(mask), width), dtype=bool)
    for i, row in enumerate(mask):
        keys = np.flatnonzero(row)
        index[i, :len(keys)] = keys
        valid[i, :len(keys)] = True
    return torch.from_numpy(index), torch.from_numpy(valid)


def gathered_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, index: torch.Tensor,
                       valid: torch.Tensor) -> torch.Tensor:
    """Attention that computes only the allowed pairs: q, k, v (B, n, d); index, valid (n, K) from
    `pattern_key_index`. Cost O(n K d) instead of O(n^2 d)."""
    keys = k[:, index]                                     # (B, n, K, d)
    values = v[:, index]
    scores = (q[:, :, None, :] * keys).sum(-1) / math.sqrt(q.shape[-1])   # (B, n, K)
    scores = scores.masked_fill(~valid, float("-inf"))
    return (torch.softmax(scores, dim=-1)[..., None] * values).sum(2)


class PatternSelfAttention(nn.Module):
    """Multi-head self-attention restricted to a fixed boolean pattern (dense masked computation)."""

    def __init__(self, d_model: int, num_heads: int, mask: np.ndarray):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.num_heads, self.head_dim = num_heads, d_model // num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.register_buffer("allowed", torch.as_tensor(np.asarray(mask, dtype=bool)), persistent=False)

    def forward(self, h: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        if cache is not None:
            raise NotImplementedError("PatternSelfAttention has no key/value cache; sample with use_cache=False")
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)
        q, k, v = (t.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~self.allowed[:T, :T], float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class SparseTransformer(CausalTransformer):
    """`CausalTransformer` whose every layer attends through `attention_pattern(pattern, D, stride)`
    instead of the full causal mask. Same inputs, outputs and log_prob; sampling without a cache."""

    def __init__(self, num_inputs: int, pattern: str = "strided", stride: int | None = None, num_values: int = 2,
                 d_model: int = 32, num_heads: int = 2, num_layers: int = 2):
        super().__init__(num_inputs, num_values, d_model, num_heads, num_layers)
        self.pattern, self.stride = pattern, stride
        mask = attention_pattern(pattern, num_inputs, stride)
        for block in self.blocks:
            block.attn = PatternSelfAttention(d_model, num_heads, mask)

    def sample(self, num_samples: int, generator: torch.Generator | None = None, use_cache: bool = False
               ) -> torch.Tensor:
        if use_cache:
            raise ValueError("SparseTransformer samples without a cache: pass use_cache=False")
        return super().sample(num_samples, generator, use_cache=False)
