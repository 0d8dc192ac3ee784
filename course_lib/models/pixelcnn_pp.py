"""PixelCNN with a discretized logistic mixture per pixel (the output of PixelCNN++), and the same
network with a V-way softmax per pixel, for comparison.

Salimans, Karpathy, Chen & Kingma (2017), "PixelCNN++: Improving the PixelCNN with discretized
logistic mixture likelihood and other modifications", replace the 256-way softmax of PixelCNN by

    P(x_ij | x_<ij) = sum_k pi_k [ sigma((c(x) + h - mu_k) / s_k) - sigma((c(x) - h - mu_k) / s_k) ],

with the edge bins integrating to -inf and +inf (see `course_lib.models.logistic_mixture`). The
network predicts 3K numbers per pixel (K mixture logits, K means, K log-scales) instead of V logits,
and neighbouring values share probability mass, which is the point: a value the training set never
showed still gets a sensible probability from its neighbours.

Here the network body is a small PixelCNN (one type-A masked convolution, then type-B ones, ReLU
between) for one-channel images with `num_values` grey levels (17 for the course's digits); only
the head differs between the two models, so their likelihoods compare like for like.

    mix = PixelCNNMixture(num_values=17, num_components=3, image_size=8)
    soft = PixelCNNSoftmax(num_values=17, image_size=8)
    nll = -mix.log_prob(x)               # x: int (B, 8, 8) or (B, 1, 8, 8) or (B, 64), values 0..16
    samples = mix.sample(16)             # (16, 1, 8, 8) int64
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .logistic_mixture import discretized_logistic_mixture_log_prob, sample_discretized_logistic_mixture
from .pixelcnn import MaskedConv2d

__all__ = ["PixelCNNMixture", "PixelCNNSoftmax"]

MIN_LOG_SCALE = -7.0  # as in PixelCNN++: narrower components add nothing at 8-bit resolution


class _MaskedBody(nn.Module):
    """Shared body: masked convolutions, one channel in, `out_per_pixel` numbers out at every pixel,
    and the output at (i, j) a function of the pixels before (i, j) in raster order only."""

    def __init__(self, num_values: int, hidden_channels: int, num_layers: int, kernel_size: int,
                 image_size, out_per_pixel: int):
        super().__init__()
        if num_layers < 1 or num_values < 2:
            raise ValueError("need num_layers >= 1 and num_values >= 2")
        self.num_values = num_values
        self.image_size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        convs = [MaskedConv2d(1, hidden_channels, kernel_size, "A")]
        convs += [MaskedConv2d(hidden_channels, hidden_channels, kernel_size, "B") for _ in range(num_layers - 1)]
        self.convs = nn.ModuleList(convs)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden_channels, hidden_channels, 1), nn.ReLU(),
                                  nn.Conv2d(hidden_channels, out_per_pixel, 1))
        self.last_sample_passes = 0

    @property
    def num_dims(self) -> int:
        return self.image_size[0] * self.image_size[1]

    def as_images(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W), (B, 1, H, W) or flat (B, H * W) -> (B, 1, H, W), dtype kept."""
        H, W = self.image_size
        if x.dim() == 2 and x.shape[1] == H * W:
            return x.reshape(-1, 1, H, W)
        if x.dim() == 3:
            return x.unsqueeze(1)
        if x.dim() == 4 and x.shape[1] == 1:
            return x
        raise ValueError(f"expected images (B, {H}, {W}), (B, 1, {H}, {W}) or (B, {H * W}); got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values 0..V-1 (int or float; floats keep the autograd graph) -> (B, out_per_pixel, H, W)."""
        h = 2 * self.as_images(x).float() / (self.num_values - 1) - 1
        for i, conv in enumerate(self.convs):
            h = conv(h if i == 0 else F.relu(h))
        return self.head(h)

    # subclasses: per-pixel log-probabilities and per-pixel sampling from the head's numbers
    def _pixel_log_prob(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _pixel_sample(self, out_ij: torch.Tensor, generator) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, (B,), for integer images with values 0..num_values-1."""
        x = self.as_images(x).long()
        return self._pixel_log_prob(self(x), x[:, 0]).flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral sampling in raster order, (num_samples, 1, H, W) int64: one pass per pixel."""
        H, W = self.image_size
        x = torch.zeros(num_samples, 1, H, W, dtype=torch.long)
        self.last_sample_passes = 0
        for i in range(H):
            for j in range(W):
                x[:, 0, i, j] = self._pixel_sample(self(x)[:, :, i, j], generator)
                self.last_sample_passes += 1
        return x


class PixelCNNMixture(_MaskedBody):
    """A PixelCNN whose output at each pixel is a mixture of `num_components` discretized logistics."""

    def __init__(self, num_values: int = 17, num_components: int = 3, hidden_channels: int = 32,
                 num_layers: int = 5, kernel_size: int = 3, image_size=8):
        super().__init__(num_values, hidden_channels, num_layers, kernel_size, image_size, 3 * num_components)
        self.num_components = num_components

    def mixture_params(self, out: torch.Tensor):
        """Head output (B, 3K, H, W) -> (logit_weights, means, log_scales), each (B, H, W, K)."""
        logits, means, log_scales = out.permute(0, 2, 3, 1).chunk(3, dim=-1)
        return logits, means, log_scales.clamp_min(MIN_LOG_SCALE)

    def _pixel_log_prob(self, out, x):
        return discretized_logistic_mixture_log_prob(x, *self.mixture_params(out), num_values=self.num_values)

    def _pixel_sample(self, out_ij, generator):
        logits, means, log_scales = out_ij.chunk(3, dim=-1)
        return sample_discretized_logistic_mixture(logits, means, log_scales.clamp_min(MIN_LOG_SCALE),
                                                   self.num_values, generator=generator)

    def pixel_probs(self, x: torch.Tensor) -> torch.Tensor:
        """P(x_ij = v | x_<ij) for every pixel and value: (B, H, W, V), each row summing to 1."""
        x = self.as_images(x).long()
        logits, means, log_scales = self.mixture_params(self(x))
        V = self.num_values
        values = torch.arange(V).reshape(V, 1, 1, 1).expand(V, *means.shape[:-1])
        lp = discretized_logistic_mixture_log_prob(values, *(t.expand(V, *t.shape) for t in (logits, means, log_scales)),
                                                   num_values=V)
        return lp.exp().permute(1, 2, 3, 0)


class PixelCNNSoftmax(_MaskedBody):
    """The same PixelCNN with a `num_values`-way softmax at each pixel (PixelCNN's original output)."""

    def __init__(self, num_values: int = 17, hidden_channels: int = 32, num_layers: int = 5, kernel_size: int = 3,
                 image_size=8):
        super().__init__(num_values, hidden_channels, num_layers, kernel_size, image_size, num_values)

    def _pixel_log_prob(self, out, x):
        return F.log_softmax(out, dim=1).gather(1, x.unsqueeze(1)).squeeze(1)

    def _pixel_sample(self, out_ij, generator):
        return torch.multinomial(F.softmax(out_ij, dim=-1), 1, generator=generator).squeeze(-1)

    def pixel_probs(self, x: torch.Tensor) -> torch.Tensor:
        """P(x_ij = v | x_<ij): (B, H, W, V)."""
        return F.softmax(self(self.as_images(x).long()), dim=1).permute(0, 2, 3, 1)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    for model in (PixelCNNMixture(num_values=5, num_components=2, hidden_channels=8, num_layers=2, image_size=4),
                  PixelCNNSoftmax(num_values=5, hidden_channels=8, num_layers=2, image_size=4)):
        dep = dependency_map(lambda v: model(v)[:, :1], torch.rand(3, 1, 4, 4) * 4)  # first head output per pixel
        print_verdict(f"{type(model).__name__} (4 x 4)", dep)
