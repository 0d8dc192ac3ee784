"""Two baselines for binary vectors: independent pixels, and the fully visible sigmoid belief net.

- `IndependentBernoulli`: p(x) = prod_d Bernoulli(x_d | sigmoid(b_d)); D parameters, no dependencies.
- `FVSBN` (Frey, 1998; Gan et al., 2015): logistic conditionals in an ordering,
  p(x_d = 1 | x_<d) = sigmoid(b_d + sum_{j before d} W[d, j] x_j), with a weight matrix masked to be
  strictly lower triangular in the ordering: D(D-1)/2 weights + D biases = O(D^2) parameters,
  against 2^D - 1 for a full table.

    model = FVSBN(num_inputs=64)
    nll = -model.log_prob(x)         # (B,) nats per example, x in {0, 1}
    samples = model.sample(16)       # (16, 64) floats in {0, 1}
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def _bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_d log Bernoulli(x_d | sigmoid(logits_d)), stable for large |logits|: shape (B,)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def _check_x(x: torch.Tensor, num_inputs: int, dtype: torch.dtype) -> torch.Tensor:
    if x.dim() != 2 or x.shape[1] != num_inputs:
        raise ValueError(f"expected x of shape (B, {num_inputs}), got {tuple(x.shape)}")
    return x.to(dtype)


class IndependentBernoulli(nn.Module):
    """Every pixel on its own: logits (D,) shared by all examples. D parameters."""

    def __init__(self, num_inputs: int):
        super().__init__()
        if num_inputs < 1:
            raise ValueError(f"num_inputs must be positive, got {num_inputs}")
        self.num_inputs = num_inputs
        self.bias = nn.Parameter(torch.zeros(num_inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, D) of p(x_d = 1); the same for every row, whatever x is."""
        x = _check_x(x, self.num_inputs, self.bias.dtype)
        return self.bias.expand(x.shape[0], -1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, shape (B,)."""
        return _bernoulli_log_prob(self(x), _check_x(x, self.num_inputs, self.bias.dtype))

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(num_samples, D) floats in {0, 1}."""
        probs = torch.sigmoid(self.bias).expand(num_samples, -1)
        return torch.bernoulli(probs, generator=generator)


class FVSBN(nn.Module):
    """Fully visible sigmoid belief network: one logistic regression per variable on its predecessors.

    `ordering` lists input indices in generation order (natural order when None). The mask is a
    buffer applied in every forward pass, so it keeps holding after optimiser steps and after
    `load_state_dict`.
    """

    def __init__(self, num_inputs: int, ordering: Sequence[int] | None = None):
        super().__init__()
        if num_inputs < 1:
            raise ValueError(f"num_inputs must be positive, got {num_inputs}")
        self.num_inputs = num_inputs
        order = torch.arange(num_inputs) if ordering is None else torch.as_tensor(list(ordering), dtype=torch.long)
        if sorted(order.tolist()) != list(range(num_inputs)):
            raise ValueError(f"ordering must be a permutation of 0..{num_inputs - 1}, got {order.tolist()}")
        position = torch.empty(num_inputs, dtype=torch.long)
        position[order] = torch.arange(num_inputs)
        self.register_buffer("ordering", order)
        # mask[d, j] = 1 when input j comes strictly before input d in the ordering
        self.register_buffer("mask", (position[None, :] < position[:, None]).float())
        self.weight = nn.Parameter(torch.zeros(num_inputs, num_inputs))
        self.bias = nn.Parameter(torch.zeros(num_inputs))

    def num_free_parameters(self) -> int:
        """Weights the mask lets through plus biases: D(D-1)/2 + D."""
        return int(self.mask.sum().item()) + self.num_inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, D): logit_d = b_d + sum_j (W * mask)[d, j] x_j, teacher-forced on the true x."""
        x = _check_x(x, self.num_inputs, self.weight.dtype)
        return x @ (self.weight * self.mask).t() + self.bias

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, shape (B,)."""
        return _bernoulli_log_prob(self(x), _check_x(x, self.num_inputs, self.weight.dtype))

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral sampling in the ordering: D passes, each fixing one more variable. (N, D) in {0, 1}."""
        x = torch.zeros(num_samples, self.num_inputs, dtype=self.weight.dtype)
        for d in self.ordering.tolist():
            probs = torch.sigmoid(self(x)[:, d])
            x[:, d] = torch.bernoulli(probs, generator=generator)
        return x


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    order = torch.randperm(8).tolist()
    model = FVSBN(8, ordering=order)
    with torch.no_grad():
        model.weight.normal_()
    print_verdict("FVSBN (random ordering)", dependency_map(model, torch.rand(4, 8)), ordering=order)
    print_verdict("IndependentBernoulli", dependency_map(IndependentBernoulli(8), torch.rand(4, 8)))
