"""What the sequence models of lectures 10-11 share: the shift that makes them causal, sums over the
real (unpadded) steps, and the two ways they score a sequence.

- `FullyObservedSequenceModel` (StrokeRNN, StrokeTCN): `predict(x)` gives the output distribution
  of every step from x_<t, so `log_prob(x, mask)` is the exact log-likelihood in nats per sequence.
- `LatentSequenceModel` (VRNN, STCN): `forward(x)` gives per-step reconstruction `nll` and `kl`, so
  `elbo(x, mask, kl_weight)` is a lower bound on log p(x) (exact only at kl_weight = 1 and in
  expectation). They have no `log_prob`: a bound must not be reported as a log-likelihood.

Both take x (B, T, x_dim) and an optional boolean mask (B, T) of the real steps.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["shift_right", "masked_sum", "FullyObservedSequenceModel", "LatentSequenceModel"]


def shift_right(x: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> the previous step's values (zeros at t = 0): the input that predicts x_t."""
    return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)


def masked_sum(per_step: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Sum a (B, T) tensor over the real steps (mask True), giving (B,)."""
    if mask is None:
        return per_step.sum(-1)
    return (per_step * mask.to(per_step.dtype)).sum(-1)


def _one_or_many(x: torch.Tensor, num_samples: int | None) -> torch.Tensor:
    """A sampler's (N, T, D) result as (T, D) when the caller asked for one sequence (num_samples=None)."""
    return x[0] if num_samples is None else x


class FullyObservedSequenceModel(nn.Module):
    """Base class: subclasses set `self._log_prob(x, params)` and define `predict(x) -> params`."""

    def forward(self, x: torch.Tensor) -> dict:
        """Teacher forcing: {"nll": (B, T)} nats per step."""
        return {"nll": -self._log_prob(x, self.predict(x))}

    def log_prob(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x) in nats per sequence (B,), over the real steps (exact)."""
        return -masked_sum(self(x)["nll"], mask)


class LatentSequenceModel(nn.Module):
    """Base class: subclasses define `forward(x, generator) -> {"nll": (B, T), "kl": (B, T), ...}`."""

    def elbo(self, x: torch.Tensor, mask: torch.Tensor | None = None, kl_weight: float = 1.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """sum_t [log p(x_t | z_t, past) - kl_weight * KL_t] over the real steps, (B,) nats per sequence,
        with one posterior sample per step. With kl_weight = 1 it is the ELBO, a lower bound on log p(x)."""
        out = self(x, generator)
        return -masked_sum(out["nll"] + kl_weight * out["kl"], mask)
