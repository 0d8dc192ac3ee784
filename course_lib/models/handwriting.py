"""Shared pieces for the handwriting models of lectures 10-11 (RNN baseline, WaveNet-style TCN, VRNN, STCN).

A pen-stroke sequence is (T, 3) with rows x_t = (dx_t, dy_t, pen_t): the pen offset from the previous
point (normalised with the training mean and standard deviation) and pen_t = 1 when the pen is lifted
after the point (Graves, 2013, "Generating sequences with recurrent neural networks"). Every model
here predicts x_t from a feature vector with the same output distribution,

    p(x_t | .) = [ sum_k pi_k N(dx_t, dy_t ; mu_k, diag(sigma_k^2)) ] * Bernoulli(pen_t ; rho),

a K-component mixture of diagonal Gaussians for the offset (Graves uses correlated bivariate
components; diagonal ones keep the code short) times an independent Bernoulli for the pen. The
log-likelihood is in nats per time step; (dx, dy) are in normalised units, so a density, not a
probability: numbers can be negative and only compare between models on the same normalised data.

    head = StrokeMixtureHead(in_features=64, num_components=5)
    params = head(features)                 # dict of (..., K), (..., K, 2), (..., K, 2), (...,)
    nll = -stroke_log_prob(x, params)       # (...,) nats per step
    x_new = sample_stroke(params, generator=g)

Models: `StrokeRNN` (deterministic GRU baseline) and `StrokeTCN` (a small WaveNet: gated dilated
causal convolutions, van den Oord et al., 2016) share this head. `TCN`, `CausalConv1d` and
`GatedResidualBlock` are reused by `course_lib.models.stcn`. Every model's `forward(x)` returns a dict
with the per-step `nll` (B, T); `log_prob(x, mask)` sums it over the real (unpadded) steps, and
`sample(num_steps, generator=None)` draws one (num_steps, 3) sequence.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2 * math.pi)


# ----------------------------------------------------------------------------- the output distribution


def diag_gmm_log_prob(x: torch.Tensor, logit_weights: torch.Tensor, means: torch.Tensor,
                      log_stds: torch.Tensor) -> torch.Tensor:
    """log sum_k pi_k N(x; mu_k, diag(exp(2 log_std_k))) in nats, computed with logsumexp.

    x (..., D); means, log_stds (..., K, D); logit_weights (..., K) (unnormalised, softmax inside).
    Returns (...). Stable for very narrow components (log_stds down to -7 and beyond): no exp of a
    log density is ever taken.
    """
    z = (x.unsqueeze(-2) - means) * torch.exp(-log_stds)
    comp = (-0.5 * z ** 2 - log_stds - 0.5 * LOG_2PI).sum(-1)  # (..., K)
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
        z = (x - params["mu"]) * torch.exp(-params["log_std"])
        return (-0.5 * z ** 2 - params["log_std"] - 0.5 * LOG_2PI).sum(-1)

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


# ----------------------------------------------------------------------------- helpers


def shift_right(x: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> the previous step's values (zeros at t = 0): the input that predicts x_t."""
    return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)


def masked_sum(per_step: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Sum a (B, T) tensor over the real steps (mask True), giving (B,)."""
    if mask is None:
        return per_step.sum(-1)
    return (per_step * mask.to(per_step.dtype)).sum(-1)


def per_step(total: torch.Tensor, mask: torch.Tensor) -> float:
    """Total nats over a data set divided by its number of real steps: nats per time step."""
    return float(total.sum() / mask.sum())


# ----------------------------------------------------------------------------- deterministic RNN baseline


class StrokeRNN(nn.Module):
    """Graves-style (2013) deterministic baseline: a GRU reads x_(t-1), a mixture head predicts x_t.

    h_t = GRU([x_(t-1), start flag], h_(t-1)) summarises x_<t; p(x_t | x_<t) = head(h_t).
    """

    def __init__(self, x_dim: int = 3, hidden_size: int = 64, num_components: int = 5):
        super().__init__()
        self.x_dim = x_dim
        self.rnn = nn.GRU(x_dim + 1, hidden_size, batch_first=True)
        self.head, self._log_prob, self._sample = make_output_head(hidden_size, x_dim, num_components)

    def _inputs(self, prev: torch.Tensor, first: bool | None = None) -> torch.Tensor:
        B, T, _ = prev.shape
        flag = torch.zeros(B, T, 1, dtype=prev.dtype)
        if first is None:
            flag[:, 0] = 1.0
        elif first:
            flag[:] = 1.0
        return torch.cat([prev, flag], dim=-1)

    def predict(self, x: torch.Tensor) -> dict:
        """Teacher forcing: the output distribution's parameters for every step t, from x_<t only."""
        h, _ = self.rnn(self._inputs(shift_right(x)))
        return self.head(h)

    def forward(self, x: torch.Tensor) -> dict:
        """Teacher forcing: {"nll": (B, T)} nats per step."""
        return {"nll": -self._log_prob(x, self.predict(x))}

    def log_prob(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x) in nats per sequence (B,), over the real steps."""
        return -masked_sum(self(x)["nll"], mask)

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Ancestral sampling, carrying the GRU state: (num_steps, x_dim), or (N, num_steps, x_dim)."""
        n = 1 if num_samples is None else num_samples
        prev = torch.zeros(n, 1, self.x_dim)
        state, out = None, []
        for t in range(num_steps):
            h, state = self.rnn(self._inputs(prev, first=(t == 0)), state)
            prev = self._sample(self.head(h), generator)
            out.append(prev)
        x = torch.cat(out, dim=1)
        return x[0] if num_samples is None else x


# ----------------------------------------------------------------------------- temporal convolutions


class CausalConv1d(nn.Conv1d):
    """A 1-D convolution over (B, C, T) padded on the left only: output t sees inputs t - (k-1)d .. t."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 2, dilation: int = 1):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left_pad = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.left_pad, 0)))


class GatedResidualBlock(nn.Module):
    """WaveNet's block: tanh(W_f * x) . sigmoid(W_g * x), a 1x1 convolution, and a residual connection."""

    def __init__(self, channels: int, dilation: int, kernel_size: int = 2):
        super().__init__()
        self.conv = CausalConv1d(channels, 2 * channels, kernel_size, dilation)
        self.proj = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, g = self.conv(x).chunk(2, dim=1)
        return x + self.proj(torch.tanh(f) * torch.sigmoid(g))


class TCN(nn.Module):
    """A stack of gated dilated causal blocks over (B, T, x_dim); returns every block's output (B, T, C).

    Output t of every block depends on x_(<= t) only; the receptive field of block b is
    1 + (kernel_size - 1) * sum(dilations[:b+1]) steps.
    """

    def __init__(self, x_dim: int, channels: int, dilations, kernel_size: int = 2):
        super().__init__()
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.blocks = nn.ModuleList(GatedResidualBlock(channels, d, kernel_size) for d in dilations)
        self.dilations, self.kernel_size = list(dilations), kernel_size

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.inp(x.transpose(1, 2))
        outs = []
        for block in self.blocks:
            h = block(h)
            outs.append(h.transpose(1, 2))
        return outs

    def receptive_field(self, num_blocks: int | None = None) -> int:
        d = self.dilations[: (len(self.dilations) if num_blocks is None else num_blocks)]
        return 1 + (self.kernel_size - 1) * sum(d)


class StrokeTCN(nn.Module):
    """A small WaveNet with the stroke mixture head: a TCN reads x_<t (inputs shifted right by one),
    a skip sum of all blocks feeds the head that predicts x_t."""

    def __init__(self, x_dim: int = 3, channels: int = 32, dilations=(1, 2, 4, 8, 16), num_components: int = 5):
        super().__init__()
        self.x_dim = x_dim
        self.tcn = TCN(x_dim + 1, channels, dilations)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(channels, channels), nn.ReLU())
        self.head, self._log_prob, self._sample = make_output_head(channels, x_dim, num_components)

    def _params(self, prev: torch.Tensor) -> dict:
        flag = torch.zeros_like(prev[..., :1])
        flag[:, 0] = 1.0
        skip = torch.stack(self.tcn(torch.cat([prev, flag], -1))).sum(0)
        return self.head(self.out(skip))

    def predict(self, x: torch.Tensor) -> dict:
        """Teacher forcing: the output distribution's parameters for every step t, from x_<t only."""
        return self._params(shift_right(x))

    def forward(self, x: torch.Tensor) -> dict:
        """{"nll": (B, T)} nats per step."""
        return {"nll": -self._log_prob(x, self.predict(x))}

    def log_prob(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return -masked_sum(self(x)["nll"], mask)

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Ancestral sampling, recomputing the (small) TCN on the prefix at every step."""
        n = 1 if num_samples is None else num_samples
        x = torch.zeros(n, num_steps, self.x_dim)
        for t in range(num_steps):
            params = self._params(shift_right(x[:, :t + 1]))
            last = {k: v[:, t] for k, v in params.items()}
            x[:, t] = self._sample(last, generator)
        return x[0] if num_samples is None else x
