"""The output distributions of the sequence models of lectures 10-11 (StrokeRNN, StrokeTCN, VRNN, STCN).

A pen-stroke sequence is (T, 3) with rows x_t = (dx_t, dy_t, pen_t): the pen offset from the previous
point (normalised with the training mean and standard deviation) and pen_t = 1 when the pen is lifted
after the point (Graves, 2013, "Generating sequences with recurrent neural networks"). Every model
predicts x_t from a feature vector with the same output distribution,

    p(x_t | .) = [ sum_k pi_k N(dx_t, dy_t ; mu_k, diag(sigma_k^2)) ] * Bernoulli(pen_t ; rho),

a K-component mixture of diagonal Gaussians for the offset (Graves uses correlated bivariate
components; diagonal ones keep the code short) times an independent Bernoulli for the pen. The
log-likelihood is in nats per time step; (dx, dy) are in normalised units, so a density, not a
probability: numbers can be negative and only compare between models on the same normalised data.
For other data (x_dim != 3) the models use a plain diagonal Gaussian (`DiagGaussianHead`).

    head = StrokeMixtureHead(in_features=64, num_components=5)
    params = head(features)                 # dict of (..., K), (..., K, 2), (..., K, 2), (...,)
    nll = -stroke_log_prob(x, params)       # (...,) nats per step
    x_new = sample_stroke(params, generator=g)
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .gaussian import diag_gaussian_log_prob, diag_gmm_log_prob, sample_diag_gmm

__all__ = ["stroke_log_prob", "sample_stroke", "StrokeMixtureHead", "DiagGaussianHead", "make_output_head"]


def stroke_log_prob(x: torch.Tensor, params: dict) -> torch.Tensor:
    """log p(x_t) in nats for x (..., 3) = (dx, dy, pen): mixture over (dx, dy) plus Bernoulli pen."""
    offset = diag_gmm_log_prob(x[..., :2], params["logit_weights"], params["means"], params["log_stds"])
    pen = -F.binary_cross_entropy_with_logits(params["pen_logit"], x[..., 2], reduction="none")
    return offset + pen


def sample_stroke(params: dict, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw x = (dx, dy, pen) (..., 3) from the output distribution described by `params`."""
    xy = sample_diag_gmm(params["logit_weights"], params["means"], params["log_stds"], generator)
    pen = torch.bernoulli(torch.sigmoid(params["pen_logit"]), generator=generator)
    return torch.cat([xy, pen[..., None]], dim=-1)


class StrokeMixtureHead(nn.Module):
    """A linear layer from features (..., F) to the parameters of the stroke distribution.

    log_stds are kept in [min_log_std, max_log_std] smoothly (softplus at both ends), so a component
    can neither collapse onto one training point nor blow up.
    """

    def __init__(self, in_features: int, num_components: int = 5, min_log_std: float = -4.0,
                 max_log_std: float = 2.0):
        super().__init__()
        self.K = num_components
        self.min_log_std, self.max_log_std = min_log_std, max_log_std
        self.linear = nn.Linear(in_features, num_components * 5 + 1)

    def forward(self, h: torch.Tensor) -> dict:
        out = self.linear(h)
        K = self.K
        logits, means, raw = out[..., :K], out[..., K:3 * K], out[..., 3 * K:5 * K]
        lo, hi = self.min_log_std, self.max_log_std
        log_stds = lo + F.softplus(raw - lo) - F.softplus(raw - hi)
        return {"logit_weights": logits, "means": means.unflatten(-1, (K, 2)),
                "log_stds": log_stds.unflatten(-1, (K, 2)), "pen_logit": out[..., -1]}


class DiagGaussianHead(nn.Module):
    """A diagonal Gaussian output for generic x (..., D): the simple choice for toy data."""

    def __init__(self, in_features: int, x_dim: int, min_log_std: float = -5.0):
        super().__init__()
        self.x_dim, self.min_log_std = x_dim, min_log_std
        self.linear = nn.Linear(in_features, 2 * x_dim)

    def forward(self, h: torch.Tensor) -> dict:
        mu, raw = self.linear(h).chunk(2, dim=-1)
        return {"mu": mu, "log_std": self.min_log_std + F.softplus(raw - self.min_log_std)}

    @staticmethod
    def log_prob(x, params):
        return diag_gaussian_log_prob(x, params["mu"], params["log_std"])

    @staticmethod
    def sample(params, generator=None):
        eps = torch.randn(params["mu"].shape, generator=generator, dtype=params["mu"].dtype)
        return params["mu"] + params["log_std"].exp() * eps


def make_output_head(in_features: int, x_dim: int, num_components: int = 5):
    """The stroke mixture head for x_dim == 3 (dx, dy, pen), a diagonal Gaussian otherwise.

    Returns (head, log_prob_fn, sample_fn) with log_prob_fn(x, params) -> (...) and
    sample_fn(params, generator) -> (..., x_dim).
    """
    if x_dim == 3:
        return StrokeMixtureHead(in_features, num_components), stroke_log_prob, sample_stroke
    head = DiagGaussianHead(in_features, x_dim)
    return head, DiagGaussianHead.log_prob, DiagGaussianHead.sample


if __name__ == "__main__":
    # not an autoregressive model: the check is that the density integrates to one
    torch.manual_seed(0)
    head = StrokeMixtureHead(in_features=4, num_components=3)
    with torch.no_grad():
        params = head(torch.randn(4))
        u = torch.linspace(-12, 12, 481)
        gx, gy = torch.meshgrid(u, u, indexing="xy")
        grid = {k: v.expand(481, 481, *v.shape) for k, v in params.items()}
        total = sum(float(torch.trapezoid(torch.trapezoid(
            stroke_log_prob(torch.stack([gx, gy, torch.full_like(gx, pen)], -1), grid).exp(), u, dim=1), u))
            for pen in (0.0, 1.0))
    print(f"stroke output distribution: total probability over a grid, both pen values, {total:.5f} (normalized within 1e-3)")
    if abs(total - 1) > 1e-3:
        raise SystemExit(1)
