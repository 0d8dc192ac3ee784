"""Diagonal Gaussians, the one home of the Gaussian helpers of lectures 10-11 (VRNN, STCN, strokes).

    log N(x; mu, diag sigma^2)            diag_gaussian_log_prob(x, mu, log_std)
    log sum_k pi_k N(x; mu_k, sigma_k^2)  diag_gmm_log_prob(x, logit_weights, means, log_stds)
    a draw from that mixture              sample_diag_gmm(logit_weights, means, log_stds, generator)
    KL(q || p) in closed form             gaussian_kl(mu_q, logvar_q, mu_p, logvar_p)
    z = mu + sigma * eps                  reparameterize(mu, logvar, eps)
    product of two Gaussians              precision_weighted_merge(mu_a, var_a, mu_b, var_b)

Every log density is in nats, summed over the last dimension (the Gaussian's coordinates).
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

__all__ = ["LOG_2PI", "diag_gaussian_log_prob", "diag_gmm_log_prob", "sample_diag_gmm", "gaussian_kl",
           "reparameterize", "precision_weighted_merge"]

LOG_2PI = math.log(2 * math.pi)


def diag_gaussian_log_prob(x: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(x; mu, diag exp(2 log_std)) in nats, summed over the last dimension."""
    z = (x - mu) * torch.exp(-log_std)
    return (-0.5 * z ** 2 - log_std - 0.5 * LOG_2PI).sum(-1)


def diag_gmm_log_prob(x: torch.Tensor, logit_weights: torch.Tensor, means: torch.Tensor,
                      log_stds: torch.Tensor) -> torch.Tensor:
    """log sum_k pi_k N(x; mu_k, diag(exp(2 log_std_k))) in nats, computed with logsumexp.

    x (..., D); means, log_stds (..., K, D); logit_weights (..., K) (unnormalised, softmax inside).
    Returns (...). Stable for very narrow components (log_stds down to -7 and beyond): no exp of a
    log density is ever taken.
    """
    comp = diag_gaussian_log_prob(x.unsqueeze(-2), means, log_stds)  # (..., K)
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + comp, dim=-1)


def sample_diag_gmm(logit_weights, means, log_stds, generator: torch.Generator | None = None) -> torch.Tensor:
    """One draw per leading index: pick a component from softmax(logits), then add Gaussian noise."""
    probs = F.softmax(logit_weights, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    k = torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])
    idx = k[..., None, None].expand(*k.shape, 1, means.shape[-1])
    mu = means.gather(-2, idx).squeeze(-2)
    std = log_stds.gather(-2, idx).squeeze(-2).exp()
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + std * eps


def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) -> torch.Tensor:
    """KL(N(mu_q, diag e^logvar_q) || N(mu_p, diag e^logvar_p)) in nats, summed over the last dimension."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1.0).sum(-1)


def reparameterize(mu, logvar, eps) -> torch.Tensor:
    """z = mu + sigma * eps with sigma = exp(logvar / 2): differentiable in mu and logvar."""
    return mu + torch.exp(0.5 * logvar) * eps


def precision_weighted_merge(mu_a, var_a, mu_b, var_b):
    """Product of two Gaussians, renormalised: (mu, var) with 1/var = 1/var_a + 1/var_b and
    mu = (mu_a / var_a + mu_b / var_b) * var. The more precise (smaller-variance) one dominates."""
    prec_a, prec_b = 1.0 / var_a, 1.0 / var_b
    var = 1.0 / (prec_a + prec_b)
    return (mu_a * prec_a + mu_b * prec_b) * var, var
