"""MADE: the masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle, 2015).

An ordinary MLP becomes autoregressive by multiplying each weight matrix with a 0/1 mask built from
**degrees**. Input d gets degree m_0(d) = its position (1-based) in the ordering; each hidden unit k of
layer l gets a degree m_l(k) in 1..D-1, the largest ordering position it may depend on. Then

    hidden layer l:  M_l[k, j] = 1  iff  m_l(k) >= m_(l-1)(j)
    output layer:    M_out[d, k] = 1  iff  m_0(d) > m_L(k)         (strict: x_d may not see itself)

so output d depends only on inputs that come strictly before d in the ordering. The masks are
buffers multiplied into the weights in every forward pass, so they keep holding after optimiser
steps and after `load_state_dict`.

Several masks (`num_masks > 1`) give order- and connectivity-agnostic training: `next_mask()`
switches to the next set of degrees (new hidden degrees, and a new ordering with
`order_agnostic=True`); at test time `ensemble_log_prob` averages the probabilities of the masks.
`MADEWithDirectConnections` (used by the MNIST benchmark, bench/mnist_table.py, not the lectures)
also gives the output layer a masked linear path straight from the inputs (output d from every input
earlier in the ordering: an FVSBN inside the MADE), the `direct_input_connect="Output"` option of
Germain et al.'s code.

    model = MADE(64, [256], num_masks=1)
    nll = -model.log_prob(x)                 # (B,) nats per example
    samples = model.sample(16)
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ORDERING_NAMES = ("raster", "reversed", "random", "columns", "even_odd")


def make_ordering(name: str, num_inputs: int, seed: int = 0, width: int | None = None) -> np.ndarray:
    """An ordering (input indices in generation order) by name.

    raster: 0, 1, ..., D-1; reversed: D-1, ..., 0; random: a seeded permutation; columns: column by
    column of an image of `width` columns (default: the square image's side, rounded up);
    even_odd: the even indices first, then the odd ones.
    """
    D = num_inputs
    if name in ("raster", "natural"):
        return np.arange(D)
    if name == "reversed":
        return np.arange(D)[::-1].copy()
    if name == "random":
        return np.random.default_rng(seed).permutation(D)
    if name == "columns":
        w = width or int(math.ceil(math.sqrt(D)))
        idx = np.arange(D)
        return idx[np.lexsort((idx // w, idx % w))]
    if name == "even_odd":
        return np.concatenate([np.arange(0, D, 2), np.arange(1, D, 2)])
    raise ValueError(f"unknown ordering {name!r}; choose one of {ORDERING_NAMES}")


def input_degrees_from_ordering(ordering: Sequence[int]) -> np.ndarray:
    """Degree of each input = its 1-based position in the ordering (a permutation of 1..D)."""
    ordering = np.asarray(ordering, dtype=np.int64)
    D = len(ordering)
    if sorted(ordering.tolist()) != list(range(D)):
        raise ValueError(f"ordering must be a permutation of 0..{D - 1}, got {ordering.tolist()}")
    degrees = np.empty(D, dtype=np.int64)
    degrees[ordering] = np.arange(1, D + 1)
    return degrees


def hidden_degrees(num_inputs: int, hidden_sizes: Sequence[int], rng: np.random.Generator | None = None,
                   rule: str = "random") -> list[np.ndarray]:
    """Degrees of the hidden units, layer by layer, each in 1..D-1.

    rule "random" (the paper): m_l(k) uniform in [min m_(l-1), D-1], so no unit is dead.
    rule "cyclic": 1, 2, ..., D-1, 1, 2, ... so every degree appears when a layer has >= D-1 units.
    """
    top = max(num_inputs - 1, 1)
    out, low = [], 1
    for size in hidden_sizes:
        if rule == "random":
            rng = rng or np.random.default_rng(0)
            deg = rng.integers(low, top + 1, size=size)
        elif rule == "cyclic":
            deg = np.arange(size) % top + 1
        else:
            raise ValueError(f"rule must be 'random' or 'cyclic', got {rule!r}")
        out.append(deg.astype(np.int64))
        low = int(deg.min()) if size else low
    return out


def made_masks(input_degrees: Sequence[int], hidden_degrees: Sequence[Sequence[int]]) -> list[torch.Tensor]:
    """One 0/1 float mask per layer (hidden layers, then the output layer), each shaped like the
    matching nn.Linear weight (out_features, in_features)."""
    prev = torch.as_tensor(np.asarray(input_degrees), dtype=torch.long)
    d_in = prev
    masks = []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg), dtype=torch.long)
        masks.append((deg[:, None] >= prev[None, :]).float())
        prev = deg
    masks.append((d_in[:, None] > prev[None, :]).float())
    return masks


class MaskedLinear(nn.Linear):
    """nn.Linear whose weight is multiplied by a mask in every forward pass.

    It keeps a bank of masks (num_masks, out, in) as a buffer and uses the one at `mask_index`, so
    the mask is part of the state dict and cannot be undone by an optimiser step.
    """

    def __init__(self, in_features: int, out_features: int, num_masks: int = 1):
        super().__init__(in_features, out_features)
        self.register_buffer("mask_bank", torch.ones(num_masks, out_features, in_features))
        self.register_buffer("mask_index", torch.zeros((), dtype=torch.long))

    @property
    def mask(self) -> torch.Tensor:
        return self.mask_bank[int(self.mask_index)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """MADE for binary vectors: (B, D) in {0, 1} -> logits (B, D) of p(x_d = 1 | earlier inputs).

    `ordering` lists input indices in generation order (natural when None). `num_masks` sets of
    degrees are drawn once from `seed`; set 0 uses `ordering`, the others also draw a random ordering
    when `order_agnostic` is true. `degree_rule` is "random" (the paper) or "cyclic" (every degree
    present, deterministic).
    """

    def __init__(self, num_inputs: int, hidden_sizes: Sequence[int], ordering: Sequence[int] | None = None,
                 num_masks: int = 1, seed: int = 0, order_agnostic: bool = False, degree_rule: str = "random"):
        super().__init__()
        if num_inputs < 1 or num_masks < 1:
            raise ValueError("num_inputs and num_masks must be positive")
        self.num_inputs = num_inputs
        self.hidden_sizes = list(hidden_sizes)
        self.num_masks = num_masks
        sizes = [num_inputs] + self.hidden_sizes + [num_inputs]
        self.layers = nn.ModuleList(MaskedLinear(a, b, num_masks) for a, b in zip(sizes[:-1], sizes[1:]))
        base = np.arange(num_inputs) if ordering is None else np.asarray(ordering)
        rng = np.random.default_rng(seed)
        in_degrees, hid_degrees = [], []
        for i in range(num_masks):
            order = rng.permutation(num_inputs) if (order_agnostic and i > 0) else base
            d_in = input_degrees_from_ordering(order)
            d_hid = hidden_degrees(num_inputs, self.hidden_sizes, rng, rule=degree_rule)
            for layer, mask in zip(self.layers, made_masks(d_in, d_hid)):
                layer.mask_bank[i] = mask
            in_degrees.append(d_in)
            hid_degrees.append(d_hid)
        # Degrees are buffers too, so that a loaded state dict brings its own degrees with it.
        self.register_buffer("input_degree_bank", torch.as_tensor(np.stack(in_degrees), dtype=torch.long))
        for l in range(len(self.hidden_sizes)):
            bank = np.stack([d[l] for d in hid_degrees]).astype(np.int64)
            self.register_buffer(f"hidden_degree_bank_{l}", torch.as_tensor(bank))

    # ------------------------------------------------------------------ masks and degrees
    @property
    def mask_index(self) -> int:
        return int(self.layers[0].mask_index)

    def set_mask(self, index: int) -> None:
        """Use mask set `index` (0..num_masks-1) from now on."""
        if not 0 <= index < self.num_masks:
            raise IndexError(f"mask index {index} out of range 0..{self.num_masks - 1}")
        for layer in self._masked_layers():
            layer.mask_index.fill_(index)

    def _masked_layers(self) -> list[MaskedLinear]:
        return list(self.layers)

    def next_mask(self) -> int:
        """Switch to the next mask set (cyclically), as order-/connectivity-agnostic training does
        before every minibatch; returns the new index."""
        self.set_mask((self.mask_index + 1) % self.num_masks)
        return self.mask_index

    @property
    def masks(self) -> list[torch.Tensor]:
        """The masks in use, one per layer, shaped like the weights."""
        return [layer.mask for layer in self.layers]

    @property
    def input_degrees(self) -> np.ndarray:
        return self.input_degree_bank[self.mask_index].numpy().copy()

    @property
    def ordering(self) -> np.ndarray:
        """Input indices in generation order for the mask in use."""
        return np.argsort(self.input_degrees, kind="stable")

    @property
    def degrees(self) -> list[np.ndarray]:
        """Degrees of every layer for the mask in use: inputs, hidden layers, outputs (= inputs)."""
        d_in = self.input_degrees
        i = self.mask_index
        hidden = [getattr(self, f"hidden_degree_bank_{l}")[i].numpy().copy() for l in range(len(self.hidden_sizes))]
        return [d_in] + hidden + [d_in]

    # ------------------------------------------------------------------ density
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_inputs:
            raise ValueError(f"expected x of shape (B, {self.num_inputs}), got {tuple(x.shape)}")
        h = x.to(self.layers[0].weight.dtype)
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        return self.layers[-1](h)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats under the mask in use, shape (B,)."""
        logits = self(x)
        return -F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none").sum(-1)

    def ensemble_log_prob(self, x: torch.Tensor, num_masks: int | None = None) -> torch.Tensor:
        """log of the average probability over the first `num_masks` mask sets (all by default):
        log (1/K) sum_k p_k(x). Each p_k is normalized, so the mixture is too."""
        k = self.num_masks if num_masks is None else num_masks
        if not 1 <= k <= self.num_masks:
            raise ValueError(f"num_masks must be in 1..{self.num_masks}, got {k}")
        current = self.mask_index
        try:
            parts = []
            for i in range(k):
                self.set_mask(i)
                parts.append(self.log_prob(x))
        finally:
            self.set_mask(current)
        return torch.logsumexp(torch.stack(parts), dim=0) - math.log(k)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None, return_probs: bool = False):
        """Ancestral sampling in the ordering of the mask in use: D forward passes.

        Returns (num_samples, D) floats in {0, 1} (and the probabilities used, with `return_probs`).
        """
        dtype = self.layers[0].weight.dtype
        x = torch.zeros(num_samples, self.num_inputs, dtype=dtype)
        probs = torch.zeros_like(x)
        for d in self.ordering:
            p = torch.sigmoid(self(x)[:, d])
            u = torch.rand(num_samples, generator=generator, dtype=dtype)
            x[:, d] = (u < p).to(dtype)
            probs[:, d] = p
        return (x, probs) if return_probs else x


class MADEWithDirectConnections(MADE):
    """MADE plus a masked linear path from the inputs straight to the outputs (same arguments).

    Output d also sees every input strictly earlier in the ordering through one weight each, for
    every mask set; only the benchmark uses it (what it gains on binarized MNIST: bench/README.md)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        D = self.num_inputs
        self.direct = MaskedLinear(D, D, self.num_masks)
        nn.init.zeros_(self.direct.bias).requires_grad_(False)  # the output layer has a bias already
        for i in range(self.num_masks):  # output d sees input j iff j comes strictly earlier in the ordering
            d = self.input_degree_bank[i]
            self.direct.mask_bank[i] = (d[:, None] > d[None, :]).float()

    def _masked_layers(self) -> list[MaskedLinear]:
        return list(self.layers) + [self.direct]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = super().forward(x)
        return logits + self.direct(x.to(logits.dtype))


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    order = make_ordering("random", 10, seed=1)
    for model in (MADE(10, [16, 16], ordering=order, num_masks=2, seed=0, order_agnostic=True),
                  MADEWithDirectConnections(10, [16], ordering=order, num_masks=2, seed=0)):
        for k in range(model.num_masks):
            model.set_mask(k)
            dep = dependency_map(model, torch.rand(4, 10))
            print_verdict(f"{type(model).__name__}, mask set {k}", dep, ordering=model.ordering)
