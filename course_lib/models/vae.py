"""A VAE for binary images with either a factorized Bernoulli decoder or an autoregressive PixelCNN
decoder (the PixelVAE idea: Gulrajani et al., 2017, "PixelVAE: a latent variable model for natural
images"), plus the quantities that tell whether the latent is used.

The encoder q(z | x) = N(mu(x), diag exp(logvar(x))) is an MLP; the prior is N(0, I). The decoder is
- `decoder_layers=0`: p(x | z) = prod_d Bernoulli(x_d; sigmoid(f(z)_d)), an MLP (Kingma & Welling, 2014);
- `decoder_layers=L >= 1`: p(x | z) = prod_d p(x_d | x_<d, z), a PixelCNN of L masked layers (type A
  first) with z added to every layer as a learned 8x8 feature map. The more layers, the larger the
  receptive field over x_<d, and the less the decoder needs z: posterior collapse (Bowman et al.,
  2016, "Generating sentences from a continuous space"; Chen et al., 2017, "Variational lossy autoencoder").

ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)), in nats, one sample of z per example.
Remedies for collapse: KL annealing (weight beta from 0 to 1, Bowman et al., 2016) and free bits
(Kingma et al., 2016, "Improved variational inference with inverse autoregressive flow"): every
latent dimension whose batch-mean KL is below lambda is charged lambda instead.

    model = VAE(num_latents=8, decoder_layers=3)
    out = model(x)                          # dict: logits, mu, logvar, z, reconstruction, kl_per_dim
    nll = -model.importance_log_prob(x, 100)   # a tighter estimate of -log p(x) (Burda et al., 2016)
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .pixelcnn import MaskedConv2d

__all__ = ["kl_per_dimension", "bernoulli_log_likelihood", "charged_kl", "active_units", "VAE", "train_vae"]


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) for every entry, in nats (same shape as mu)."""
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_d log Bernoulli(x_d; sigmoid(logits_d)) over all but the first dimension, stable for any logits."""
    ll = -F.binary_cross_entropy_with_logits(logits, x.float(), reduction="none")
    return ll.flatten(1).sum(1)


def charged_kl(kl_dims: torch.Tensor, free_bits: float = 0.0) -> torch.Tensor:
    """The KL charged to the loss, (B,), from per-dimension KLs (B, Z): with free bits lambda > 0,
    a dimension whose batch mean is below lambda costs lambda (and gets no gradient)."""
    if free_bits <= 0:
        return kl_dims.sum(1)
    below = kl_dims.mean(0, keepdim=True) < free_bits
    return torch.where(below, torch.full_like(kl_dims, free_bits), kl_dims).sum(1)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """Burda et al.'s (2016) activity of each latent dimension, Cov_x(E_q[z_j | x]) over a data set
    (the variance of mu across examples), and how many exceed `threshold`."""
    activity = mu.detach().double().var(0).numpy()
    return int((activity > threshold).sum()), activity


class _PixelDecoder(nn.Module):
    """PixelCNN over a binary image with z added to every layer as an (C, H, W) bias map."""

    def __init__(self, num_latents: int, num_layers: int, channels: int, size: int):
        super().__init__()
        self.size = size
        self.convs = nn.ModuleList([MaskedConv2d(1, channels, 3, "A")] +
                                   [MaskedConv2d(channels, channels, 3, "B") for _ in range(num_layers - 1)])
        self.z_maps = nn.ModuleList(nn.Linear(num_latents, channels * size * size) for _ in range(num_layers))
        self.head = nn.Sequential(nn.ReLU(), MaskedConv2d(channels, channels, 1, "B"), nn.ReLU(),
                                  MaskedConv2d(channels, 1, 1, "B"))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        h = 2 * x.float().view(-1, 1, self.size, self.size) - 1
        for i, (conv, z_map) in enumerate(zip(self.convs, self.z_maps)):
            h = conv(h if i == 0 else F.relu(h)) + z_map(z).view(len(z), -1, self.size, self.size)
        return self.head(h).flatten(1)


class VAE(nn.Module):
    """VAE over binary size x size images (flattened, (B, D) with D = size^2)."""

    def __init__(self, num_latents: int = 8, decoder_layers: int = 0, hidden: int = 128, channels: int = 16,
                 size: int = 8):
        super().__init__()
        if decoder_layers < 0:
            raise ValueError(f"decoder_layers must be 0 (factorized) or a number of PixelCNN layers, got {decoder_layers}")
        self.num_latents, self.decoder_layers, self.size = num_latents, decoder_layers, size
        D = size * size
        self.encoder = nn.Sequential(nn.Linear(D, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * num_latents))
        if decoder_layers == 0:
            self.decoder = nn.Sequential(nn.Linear(num_latents, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                         nn.ReLU(), nn.Linear(hidden, D))
        else:
            self.decoder = _PixelDecoder(num_latents, decoder_layers, channels, size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x.float().flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def decode_logits(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Logits (B, D) of p(x_d = 1 | z) (factorized) or of p(x_d = 1 | x_<d, z) (PixelCNN)."""
        return self.decoder(z) if self.decoder_layers == 0 else self.decoder(x, z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        x = x.float().flatten(1)
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + (0.5 * logvar).exp() * eps
        logits = self.decode_logits(x, z)
        return {"logits": logits, "mu": mu, "logvar": logvar, "z": z,
                "reconstruction": bernoulli_log_likelihood(logits, x), "kl_per_dim": kl_per_dimension(mu, logvar)}

    @torch.no_grad()
    def importance_log_prob(self, x: torch.Tensor, num_samples: int = 100,
                            generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x) ~ logsumexp_k [log p(x | z_k) + log p(z_k) - log q(z_k | x)] - log K, z_k ~ q(z | x):
        a lower bound that tightens to log p(x) as K grows (Burda, Grosse & Salakhutdinov, 2016)."""
        x = x.float().flatten(1)
        mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        terms = []
        for _ in range(num_samples):
            eps = torch.randn(mu.shape, generator=generator)
            z = mu + std * eps
            log_px = bernoulli_log_likelihood(self.decode_logits(x, z), x)
            log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
            log_qz = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(1)
            terms.append(log_px + log_pz - log_qz)
        return torch.logsumexp(torch.stack(terms), dim=0) - math.log(num_samples)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(num_samples, D) in {0, 1}: z from the prior, then x (pixel by pixel for a PixelCNN decoder)."""
        z = torch.randn(num_samples, self.num_latents, generator=generator)
        D = self.size * self.size
        if self.decoder_layers == 0:
            return torch.bernoulli(torch.sigmoid(self.decoder(z)), generator=generator)
        x = torch.zeros(num_samples, D)
        for d in range(D):
            probs = torch.sigmoid(self.decoder(x, z)[:, d])
            x[:, d] = torch.bernoulli(probs, generator=generator)
        return x


def train_vae(model: VAE, train_x: torch.Tensor, epochs: int = 30, batch_size: int = 64, lr: float = 2e-3,
              kl_warmup_epochs: int = 0, free_bits: float = 0.0, seed: int = 0, progress: bool = True) -> list[float]:
    """Minimise -(reconstruction - beta * charged KL) with Adam; beta rises linearly from 0 to 1 over
    `kl_warmup_epochs` epochs (1 throughout when 0). Returns the training -ELBO (nats/image) per epoch."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    n = len(train_x)
    steps_per_epoch = math.ceil(n / batch_size)
    for epoch in tqdm(range(epochs), desc="epochs", disable=not progress, leave=False):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for s, start in enumerate(range(0, n, batch_size)):
            progress_frac = (epoch + s / steps_per_epoch) / kl_warmup_epochs if kl_warmup_epochs else 1.0
            beta = min(1.0, progress_frac)
            out = model(train_x[perm[start:start + batch_size]], generator=gen)
            loss = -(out["reconstruction"] - beta * charged_kl(out["kl_per_dim"], free_bits)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float((out["kl_per_dim"].sum(1) - out["reconstruction"]).detach().sum())
        history.append(total / n)
    return history
