"""Gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu, 2016,
"Conditional Image Generation with PixelCNN Decoders").

A PixelCNN's masked k x k kernels leave a **blind spot**: pixels above and to the right of the
output that no stack depth ever reaches. Gated PixelCNN splits the network in two stacks:

- the **vertical stack** sees whole rows above: an (r + 1) x k convolution (r = k // 2) covering
  rows i - r .. i and columns j - r .. j + r. Its features at row i would include row i itself, so
  before they reach the horizontal stack they are **shifted down one row**: the horizontal stack at
  (i, j) reads the vertical features from (i - 1, j), which depend only on rows above i;
- the **horizontal stack** sees the current row to the left: a 1 x (r + 1) convolution covering
  columns j - r .. j (the centre tap masked in the first layer, as a type-A mask);
- the **link**: a 1 x 1 convolution of the shifted vertical features is added to the horizontal
  stack's pre-activation, every layer;
- **gated activations**: y = tanh(W_f * x + V_f h) * sigmoid(W_g * x + V_g h), where h is an
  optional one-hot class label y in 0..num_labels-1 (class conditioning: a per-layer bias);
- a **residual** connection around every horizontal layer but the first.

Colour: the channels of every horizontal-stack tensor are split into R, G, B groups (contiguous
blocks, separately in the tanh and sigmoid halves) and the centre tap connects output group g to
input group g' only when g' < g (first layer) or g' <= g (later layers), as in PixelCNN.

    model = GatedPixelCNN(in_channels=1, hidden_channels=32, num_layers=5, num_values=2, image_size=8)
    nll = -model.log_prob(x)                      # x int (B, H, W) or (B, C, H, W)
    cond = GatedPixelCNN(num_labels=10, ...);  cond.log_prob(x, y);  cond.sample(16, y=labels)
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .pixelcnn import (MaskedConv2d, _size, categorical_image_log_prob, centre_connectivity, channel_groups,
                       check_image_model_args, image_ordering, sample_raster, to_image_batch)

__all__ = ["GatedLayer", "GatedPixelCNN", "down_shift"]


def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Move a (B, C, H, W) feature map down one row (zeros enter at the top, the last row drops)."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


class GatedLayer(nn.Module):
    """One layer of both stacks: (v, h) -> (v', h')."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, first: bool, color_channels: int = 1,
                 num_labels: int | None = None):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        r = kernel_size // 2
        self.r, self.first, self.channels = r, first, channels
        G = color_channels
        self.v_conv = nn.Conv2d(in_channels, 2 * channels, (r + 1, kernel_size))
        self.h_conv = nn.Conv2d(in_channels, 2 * channels, (1, r + 1))
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = MaskedConv2d(channels, channels, 1, "B", G)
        # horizontal mask: left taps all on; the centre tap (last column) follows the colour groups
        gated_groups = torch.cat([channel_groups(channels, G), channel_groups(channels, G)])
        mask = torch.ones(2 * channels, in_channels, 1, r + 1)
        mask[:, :, 0, r] = centre_connectivity(gated_groups, channel_groups(in_channels, G), "A" if first else "B")
        self.register_buffer("h_mask", mask, persistent=False)
        self.cond = nn.Linear(num_labels, 4 * channels, bias=False) if num_labels else None

    def forward(self, v: torch.Tensor, h: torch.Tensor, y_onehot: torch.Tensor | None = None):
        r, C = self.r, self.channels

        def halves(x, weight, bias):
            # The tanh and sigmoid halves as two convolutions rather than one convolution and a chunk: each
            # half comes out contiguous, which makes the gate 2-5x faster on CPU (the same numbers).
            return F.conv2d(x, weight[:C], bias[:C]), F.conv2d(x, weight[C:], bias[C:])

        v_f, v_g = halves(F.pad(v, (r, r, r, 0)), self.v_conv.weight, self.v_conv.bias)  # rows i - r .. i
        h_f, h_g = halves(F.pad(h, (r, 0, 0, 0)), self.h_conv.weight * self.h_mask, self.h_conv.bias)
        link_f, link_g = halves(down_shift(torch.cat([v_f, v_g], 1)), self.link.weight, self.link.bias)
        h_f, h_g = h_f + link_f, h_g + link_g                    # the shift keeps it causal
        if self.cond is not None:
            if y_onehot is None:
                raise ValueError("this model is class-conditional: pass the labels y")
            bias_v, bias_h = self.cond(y_onehot)[:, :, None, None].chunk(2, dim=1)
            (bv_f, bv_g), (bh_f, bh_g) = bias_v.chunk(2, dim=1), bias_h.chunk(2, dim=1)
            v_f, v_g, h_f, h_g = v_f + bv_f, v_g + bv_g, h_f + bh_f, h_g + bh_g
        v_new = torch.tanh(v_f) * torch.sigmoid(v_g)
        h_new = self.h_out(torch.tanh(h_f) * torch.sigmoid(h_g))
        if not self.first:
            h_new = h_new + h                                    # residual in the horizontal stack
        return v_new, h_new


class GatedPixelCNN(nn.Module):
    """num_layers gated layers, then ReLU, 1 x 1, ReLU, 1 x 1 to num_values logits per channel.

    forward(x, y=None) takes images as numbers (values 0..num_values-1; float inputs keep the
    autograd graph), (B, C, H, W) or (B, H, W), and, when `num_labels` is set, integer class labels
    y (B,) in 0..num_labels-1; it returns logits (B, C, num_values, H, W). log_prob and sample follow
    PixelCNN's.
    """

    def __init__(self, in_channels: int = 1, hidden_channels: int = 32, num_layers: int = 5, kernel_size: int = 3,
                 num_values: int = 2, color_channels: int = 1, num_labels: int | None = None,
                 image_size: int | tuple[int, int] = 8):
        super().__init__()
        check_image_model_args(in_channels, hidden_channels, num_layers, color_channels)
        G = color_channels
        self.in_channels, self.hidden_channels, self.num_layers = in_channels, hidden_channels, num_layers
        self.kernel_size, self.num_values, self.color_channels = kernel_size, num_values, color_channels
        self.num_labels = num_labels
        self.image_size = _size(image_size)
        self.layers = nn.ModuleList(
            GatedLayer(in_channels if i == 0 else hidden_channels, hidden_channels, kernel_size, first=i == 0,
                       color_channels=G, num_labels=num_labels) for i in range(num_layers))
        self.head = nn.Sequential(nn.ReLU(), MaskedConv2d(hidden_channels, hidden_channels, 1, "B", G), nn.ReLU(),
                                  MaskedConv2d(hidden_channels, in_channels * num_values, 1, "B", G))
        self.last_sample_passes = 0

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        x = to_image_batch(x, self.in_channels)
        return 2 * x.float() / (self.num_values - 1) - 1

    def _onehot(self, y, batch: int):
        if self.num_labels is None:
            if y is not None:
                raise ValueError("this model is not class-conditional (num_labels=None); do not pass labels")
            return None
        if y is None:
            raise ValueError("this model is class-conditional: pass the labels y")
        y = torch.as_tensor(y, dtype=torch.long).reshape(-1)
        if len(y) == 1 and batch > 1:
            y = y.expand(batch)
        return F.one_hot(y, self.num_labels).float()

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        v = h = self.scale(x)
        y_onehot = self._onehot(y, v.shape[0])
        for layer in self.layers:
            v, h = layer(v, h, y_onehot)
        logits = self.head(h)
        B, _, H, W = logits.shape
        return logits.reshape(B, self.in_channels, self.num_values, H, W)

    def log_prob(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x) (or log p(x | y)) in nats, (B,)."""
        x = to_image_batch(x, self.in_channels).long()
        return categorical_image_log_prob(self(x, y), x)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None, y: torch.Tensor | None = None,
               image_size: int | tuple[int, int] | None = None) -> torch.Tensor:
        """Ancestral sampling pixel by pixel, colour by colour (H * W * C network passes); for a
        class-conditional model, y gives one label per sample (or one label for all)."""
        x, self.last_sample_passes = sample_raster(lambda v: self(v, y), num_samples, self.in_channels,
                                                   _size(image_size or self.image_size), generator)
        return x


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    model = GatedPixelCNN(3, 12, 3, 3, num_values=2, color_channels=3, num_labels=2, image_size=5)
    x = torch.rand(3, 3, 5, 5)
    dep = dependency_map(lambda v: model(v, torch.tensor([0, 1, 1]))[:, :, 1], x)
    print_verdict("GatedPixelCNN (3 colours, 5 x 5, class-conditional)", dep, ordering=image_ordering(3, 5, 5))
