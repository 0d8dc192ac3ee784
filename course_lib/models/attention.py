"""Masked self-attention as an autoregressive model: a small causal transformer over a flat sequence.

Vaswani et al. (2017) "Attention is all you need" introduced the decoder with a causal mask; Parmar
et al. (2018) "Image Transformer" and Chen et al. (2018) "PixelSNAIL" applied it to pixels in raster
order. The model reads x = (x_0, ..., x_(D-1)), integer values in 0..V-1, shifted one step right
behind a start token, so the input at position d is x_(d-1) (the start token at d = 0). Learned
position embeddings say where each token is. Every attention layer uses the causal mask

    A[d, e] = -inf  for  e > d,

so position d mixes only positions 0..d, i.e. x_<d, and the logits at d give p(x_d | x_<d):

    log p(x) = sum_d log softmax(logits[:, d])[x_d].

Sampling draws x_0, x_1, ... one at a time. Without a cache, step d re-runs the whole prefix (cost
O(d) per layer per position, O(D^2) positions in total); with a **key/value cache** each step feeds
only the newest token and reuses the keys and values of the earlier positions, which never change
because of the causal mask. Both paths consume the generator identically (one uniform per sample per
step, turned into a category by the inverse CDF), so they give the same samples.

    model = CausalTransformer(64, num_values=2)
    logits = model(x)                      # (B, 64, 2); logits[:, d] depends on x[:, :d] only
    nll = -model.log_prob(x)               # (B,) nats per example
    x_new = model.sample(16, generator=torch.Generator().manual_seed(0), use_cache=True)

`forward` also accepts a float tensor (B, D, V) of one-hot (or soft) inputs, so gradients with
respect to the inputs give dependency maps and receptive fields (lecture 8).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention with a causal mask and an optional key/value cache."""

    def __init__(self, d_model: int, num_heads: int):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, h: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """h: (B, T, d_model), the T newest positions. With `cache` ({} at the first step), the keys
        and values of earlier positions are read from it and the new ones appended."""
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)
        q, k, v = (t.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        past = 0
        if cache is not None:
            if "k" in cache:
                past = cache["k"].shape[2]
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)          # (B, heads, T, past + T)
        query_pos = torch.arange(past, past + T, device=h.device)[:, None]
        key_pos = torch.arange(past + T, device=h.device)[None, :]
        scores = scores.masked_fill(key_pos > query_pos, float("-inf"))     # no looking ahead
        out = torch.softmax(scores, dim=-1) @ v                               # (B, heads, T, head_dim)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """Pre-norm transformer block: h + attn(LN(h)), then h + MLP(LN(h))."""

    def __init__(self, d_model: int, num_heads: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, h: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        h = h + self.attn(self.ln1(h), cache)
        return h + self.mlp(self.ln2(h))


class CausalTransformer(nn.Module):
    """Autoregressive transformer over D integer inputs with values 0..num_values-1.

    forward(x: int64 (B, D)) -> logits (B, D, num_values), logits[:, d] a function of x[:, :d] only.
    """

    def __init__(self, num_inputs: int, num_values: int = 2, d_model: int = 32, num_heads: int = 2,
                 num_layers: int = 2):
        super().__init__()
        if num_inputs < 1 or num_values < 2 or num_layers < 1:
            raise ValueError("need num_inputs >= 1, num_values >= 2 and num_layers >= 1")
        self.num_inputs = num_inputs
        self.num_values = num_values
        self.start_token = num_values                       # an extra embedding row
        self.token_emb = nn.Embedding(num_values + 1, d_model)
        self.pos_emb = nn.Embedding(num_inputs, d_model)    # learned position embeddings
        self.blocks = nn.ModuleList(Block(d_model, num_heads) for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_values)

    # ------------------------------------------------------------------ density
    def _embed_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Token embeddings of the shifted sequence (start, x_0, ..., x_(D-2)), (B, D, d_model)."""
        B, D = x.shape[:2]
        if D != self.num_inputs:
            raise ValueError(f"expected {self.num_inputs} inputs per example, got {D}")
        start = self.token_emb.weight[self.start_token].expand(B, 1, -1)
        if x.is_floating_point():
            if x.dim() != 3 or x.shape[-1] != self.num_values:
                raise ValueError(f"float inputs must be one-hot, shape (B, D, {self.num_values}); got {tuple(x.shape)}")
            tokens = x[:, :-1] @ self.token_emb.weight[:self.num_values]
        else:
            if x.dim() != 2:
                raise ValueError(f"integer inputs must have shape (B, D), got {tuple(x.shape)}")
            if (x < 0).any() or (x >= self.num_values).any():
                raise ValueError(f"inputs must lie in 0..{self.num_values - 1}")
            tokens = self.token_emb(x[:, :-1])
        return torch.cat([start, tokens], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._embed_inputs(x) + self.pos_emb.weight[None]
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, (B,), for integer x (B, D) (floats holding integers are accepted)."""
        x = x.long() if x.is_floating_point() and x.dim() == 2 else x
        log_probs = F.log_softmax(self(x), dim=-1)
        return log_probs.gather(-1, x.unsqueeze(-1)).squeeze(-1).sum(-1)

    # ------------------------------------------------------------------ sampling
    def _step(self, token: torch.Tensor, position: int, caches: list[dict]) -> torch.Tensor:
        """Logits for position `position` given the token fed there, using and filling the caches."""
        h = self.token_emb(token)[:, None] + self.pos_emb.weight[position][None, None]
        for block, cache in zip(self.blocks, caches):
            h = block(h, cache)
        return self.head(self.ln_f(h))[:, 0]

    @staticmethod
    def _draw(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """One category per row by the inverse CDF of softmax(logits) (one uniform per row)."""
        probs = torch.softmax(logits.double(), dim=-1)
        u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
        cdf = probs.cumsum(-1)
        return (cdf < u).sum(-1).clamp_max(probs.shape[-1] - 1)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None, use_cache: bool = True
               ) -> torch.Tensor:
        """Ancestral sampling, int64 (num_samples, D). `use_cache` reuses keys and values of earlier
        positions (one new token per step); without it every step re-runs the whole prefix."""
        was_training = self.training
        self.eval()
        device = self.head.weight.device
        x = torch.zeros(num_samples, self.num_inputs, dtype=torch.long, device=device)
        start = torch.full((num_samples,), self.start_token, dtype=torch.long, device=device)
        caches = [{} for _ in self.blocks]
        for d in range(self.num_inputs):
            if use_cache:
                token = start if d == 0 else x[:, d - 1]
                logits = self._step(token, d, caches)
            else:
                prefix = torch.cat([start[:, None], x[:, :d]], dim=1)        # (B, d + 1) tokens
                h = self.token_emb(prefix) + self.pos_emb.weight[:d + 1][None]
                for block in self.blocks:
                    h = block(h)
                logits = self.head(self.ln_f(h))[:, -1]
            x[:, d] = self._draw(logits, generator)
        self.train(was_training)
        return x


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    model = CausalTransformer(10, num_values=3, d_model=8, num_heads=2, num_layers=2).eval()
    onehot = F.one_hot(torch.randint(0, 3, (4, 10)), 3).float()
    dep = dependency_map(model, onehot)                     # outputs (D, V), inputs (D, V)
    steps = dep.reshape(10, 3, 10, 3).any(axis=(1, 3))      # output step d x input step e
    print_verdict("CausalTransformer p(x_d | x_<d)", steps)
    g = lambda: torch.Generator().manual_seed(1)
    same = torch.equal(model.sample(16, generator=g(), use_cache=True), model.sample(16, generator=g(), use_cache=False))
    print(f"CausalTransformer sampling: the key/value cache gives the same samples as re-running the prefix: {same}")
    if not same:
        raise SystemExit(1)
