"""The discretized logistic mixture of PixelCNN++ (Salimans, Karpathy, Chen & Kingma, 2017).

An integer value x in {0, ..., V-1} is mapped to the centre c(x) = 2x/(V-1) - 1 of a bin of
half-width h = 1/(V-1) in [-1, 1]. Each mixture component k is a logistic distribution with mean
mu_k and scale s_k = exp(log_scale_k), and the probability of x is the logistic mass of its bin:

    P(x) = sum_k pi_k [ sigma((c(x) + h - mu_k) / s_k) - sigma((c(x) - h - mu_k) / s_k) ],

where the first bin integrates from -inf (its lower term is 0) and the last to +inf (its upper term
is 1), so the V probabilities telescope to exactly 1.

Numerics. Subtracting two sigmoids in floating point loses everything when both are close to 0 or 1
(a narrow component far from the bin), which is why PixelCNN++ falls back to the density at the
bin centre times the bin width when the difference is below 1e-5. Here the default
(`method="exact"`) computes the log of the difference exactly, with only log-sigmoids and a stable
log(1 - exp(-t)):

    log(sigma(a) - sigma(b)) = log sigma(a) + log sigma(-b) + log(1 - exp(-(a - b))),   a > b,

which never underflows, never gives NaN and keeps the total at 1. `method="pixelcnn++"` is the
paper's recipe (log-sigmoid / softplus for the edge bins, the mid-bin approximation when the CDF
difference underflows) for comparison.

    log_p = discretized_logistic_mixture_log_prob(x, logit_weights, means, log_scales, num_values=256)
    x_new = sample_discretized_logistic_mixture(logit_weights, means, log_scales, 256, generator=g)
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _log1mexp(t: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(-t)) for t > 0, accurate for small and large t (Maechler, 2012)."""
    # Each branch sees only inputs where it is accurate, so the unused branch cannot put inf or NaN
    # into the gradient through torch.where.
    small = t < math.log(2.0)
    t_small = torch.where(small, t, torch.full_like(t, math.log(2.0)))
    t_large = torch.where(small, torch.full_like(t, math.log(2.0)), t)
    return torch.where(small, torch.log(-torch.expm1(-t_small)), torch.log1p(-torch.exp(-t_large)))


def _check_params(x: torch.Tensor, logit_weights: torch.Tensor, means: torch.Tensor, log_scales: torch.Tensor,
                  num_values: int) -> None:
    if num_values < 2:
        raise ValueError(f"num_values must be at least 2, got {num_values}")
    if not (logit_weights.shape == means.shape == log_scales.shape):
        raise ValueError(f"logit_weights, means and log_scales must have the same shape (..., K), got "
                         f"{tuple(logit_weights.shape)}, {tuple(means.shape)}, {tuple(log_scales.shape)}")
    if x.shape != means.shape[:-1]:
        raise ValueError(f"x must have shape {tuple(means.shape[:-1])} (the parameters without the last, "
                         f"component, dimension), got {tuple(x.shape)}")
    if x.is_floating_point() and not torch.equal(x, x.round()):
        raise ValueError("x must hold integer values 0..num_values-1")


def discretized_logistic_log_prob_components(x: torch.Tensor, means: torch.Tensor, log_scales: torch.Tensor,
                                             num_values: int = 256, method: str = "exact") -> torch.Tensor:
    """log P_k(x) of each component, shape (..., K), for integer x of shape (...)."""
    x_int = x.long()
    if (x_int < 0).any() or (x_int >= num_values).any():
        raise ValueError(f"x must lie in 0..{num_values - 1}, got values from {int(x_int.min())} to {int(x_int.max())}")
    dtype = means.dtype if means.is_floating_point() else torch.get_default_dtype()
    half = 1.0 / (num_values - 1)
    centre = (2.0 * x_int.to(dtype) / (num_values - 1) - 1.0)[..., None]   # (..., 1)
    inv_scale = torch.exp(-log_scales)
    centred = centre - means
    upper = inv_scale * (centred + half)          # a: standardised upper bin edge
    lower = inv_scale * (centred - half)          # b: standardised lower bin edge
    log_cdf_upper = F.logsigmoid(upper)           # log sigma(a): the first bin, from -inf
    log_sf_lower = F.logsigmoid(-lower)           # log(1 - sigma(b)): the last bin, to +inf
    is_first = (x_int == 0)[..., None]
    is_last = (x_int == num_values - 1)[..., None]
    if method == "exact":
        # a - b = 2 h / s > 0 exactly; computed from log_scales so it never rounds to 0 by subtraction.
        width = 2.0 * half * inv_scale
        log_mid = log_cdf_upper + log_sf_lower + _log1mexp(width)
    elif method == "pixelcnn++":
        cdf_delta = torch.sigmoid(upper) - torch.sigmoid(lower)
        mid = inv_scale * centred
        log_pdf_mid = mid - log_scales - 2.0 * F.softplus(mid)      # log density of the logistic at the centre
        approx = log_pdf_mid + math.log(2.0 * half)                 # density times the bin width
        log_mid = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp_min(1e-12)), approx)
    else:
        raise ValueError(f"method must be 'exact' or 'pixelcnn++', got {method!r}")
    return torch.where(is_first, log_cdf_upper, torch.where(is_last, log_sf_lower, log_mid))


def discretized_logistic_mixture_log_prob(x: torch.Tensor, logit_weights: torch.Tensor, means: torch.Tensor,
                                          log_scales: torch.Tensor, num_values: int = 256,
                                          method: str = "exact") -> torch.Tensor:
    """log P(x) in nats under a mixture of K discretized logistics, one mixture per element of x.

    x: integers in [0, num_values), shape (N,) (or any shape S); logit_weights, means, log_scales:
    shape (N, K) (or S + (K,)); means live on the [-1, 1] scale of the bin centres. Returns (N,).
    """
    x = torch.as_tensor(x)
    _check_params(x, logit_weights, means, log_scales, num_values)
    log_components = discretized_logistic_log_prob_components(x, means, log_scales, num_values, method)
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + log_components, dim=-1)


@torch.no_grad()
def sample_discretized_logistic_mixture(logit_weights: torch.Tensor, means: torch.Tensor, log_scales: torch.Tensor,
                                        num_values: int = 256, generator: torch.Generator | None = None
                                        ) -> torch.Tensor:
    """One integer sample per row, int64 of shape (N,) (or the parameters' shape without the last dim).

    Pick a component from softmax(logit_weights), draw a continuous logistic value by inverse CDF
    (mu + s (log u - log(1 - u))), and return the bin it falls in: round((y + 1)(V - 1) / 2),
    clipped to 0..V-1, so the tails land in the edge bins exactly as the density says.
    """
    if not (logit_weights.shape == means.shape == log_scales.shape):
        raise ValueError("logit_weights, means and log_scales must have the same shape (..., K)")
    batch_shape, K = means.shape[:-1], means.shape[-1]
    probs = torch.softmax(logit_weights.reshape(-1, K).double(), dim=-1)
    comp = torch.multinomial(probs, 1, generator=generator)                       # (N, 1)
    mu = means.reshape(-1, K).double().gather(1, comp).squeeze(1)
    log_s = log_scales.reshape(-1, K).double().gather(1, comp).squeeze(1)
    u = torch.rand(mu.shape, dtype=torch.float64, generator=generator)
    u = u.clamp(1e-12, 1 - 1e-12)
    y = mu + torch.exp(log_s) * (torch.log(u) - torch.log1p(-u))
    k = torch.round((y + 1.0) * (num_values - 1) / 2.0).clamp(0, num_values - 1)
    return k.long().reshape(batch_shape)


class LogisticMixture1D(nn.Module):
    """A mixture of `num_components` discretized logistics over 0..num_values-1, with free parameters.

    The parametric model of lecture 1: 3K numbers instead of a histogram's V - 1, fitted by SGD.
    """

    def __init__(self, num_components: int = 3, num_values: int = 100):
        super().__init__()
        if num_components < 1:
            raise ValueError(f"num_components must be positive, got {num_components}")
        self.num_components = num_components
        self.num_values = num_values
        self.logit_weights = nn.Parameter(torch.zeros(num_components))
        self.means = nn.Parameter(torch.linspace(-0.6, 0.6, num_components) if num_components > 1
                                  else torch.zeros(1))
        self.log_scales = nn.Parameter(torch.full((num_components,), math.log(0.3)))

    def _expand(self, n: int):
        return (self.logit_weights.expand(n, -1), self.means.expand(n, -1), self.log_scales.expand(n, -1))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log P(x) in nats for integer x of shape (N,); returns (N,)."""
        x = torch.as_tensor(x).reshape(-1)
        return discretized_logistic_mixture_log_prob(x, *self._expand(len(x)), num_values=self.num_values)

    def probs(self) -> torch.Tensor:
        """The whole distribution, (num_values,): handy for plots and for checking it sums to 1."""
        return self.log_prob(torch.arange(self.num_values)).exp()

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """int64 samples of shape (num_samples,)."""
        return sample_discretized_logistic_mixture(*self._expand(num_samples), num_values=self.num_values,
                                                   generator=generator)


if __name__ == "__main__":
    # not a sequence model: the check is that the discretized mixture sums to one over its values
    from course_lib.checks import check_normalization

    torch.manual_seed(0)
    model = LogisticMixture1D(num_components=3, num_values=50)
    with torch.no_grad():
        model.means.normal_(0, 0.5), model.log_scales.normal_(-2, 1)
        result = check_normalization(model.log_prob, torch.arange(50))
    print(f"LogisticMixture1D over 50 values: {result.message}")
    if not result.passed:
        raise SystemExit(1)
