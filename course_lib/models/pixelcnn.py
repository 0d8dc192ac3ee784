"""PixelCNN: masked convolutions over an image in raster order (van den Oord, Kalchbrenner &
Kavukcuoglu, 2016, "Pixel Recurrent Neural Networks").

    p(x) = prod_(i, j) prod_c p(x_(c, i, j) | all pixels before (i, j), colours before c at (i, j))

A convolution becomes causal when its kernel is multiplied by a 0/1 mask: 1 for every tap in the
rows above the centre and left of the centre in its row, 0 right of and below it. At the centre,
type "A" (first layer) is 0, so the output never sees the pixel it predicts; type "B" (all later
layers) is 1, since a hidden feature at (i, j) already only depends on pixels before (i, j).
With colour, the C channels are split into G contiguous groups (R, G, B); at the centre, output
group g sees input group g' when g' < g for "A" and g' <= g for "B".

The mask is a buffer multiplied into the weight in every forward pass (and kept out of the
state dict), so it keeps holding after optimiser steps and after `load_state_dict`.

    model = PixelCNN(in_channels=1, hidden_channels=32, num_layers=5, kernel_size=3, num_values=2,
                     image_size=8)
    deep = ResidualPixelCNN(1, hidden_channels=64, num_layers=7, kernel_size=5, first_kernel_size=7,
                            image_size=28)  # the paper's form, for the MNIST benchmark (bench/mnist_table.py)
    nll = -model.log_prob(x)        # x: int (B, H, W) or (B, C, H, W) with values 0..num_values-1
    samples = model.sample(16)      # (16, C, H, W) int64, drawn pixel by pixel (H * W * C passes)
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["channel_groups", "centre_connectivity", "causal_mask", "MaskedConv2d", "ResidualBlock", "PixelCNN",
           "ResidualPixelCNN", "image_ordering", "to_image_batch", "check_image_model_args",
           "categorical_image_log_prob", "sample_raster"]


def channel_groups(num_channels: int, color_channels: int = 1) -> torch.Tensor:
    """Group index of each channel: contiguous blocks, channel c in group c // (C / G)."""
    if num_channels % color_channels:
        raise ValueError(f"{num_channels} channels cannot be split into {color_channels} colour groups")
    return torch.arange(num_channels) // (num_channels // color_channels)


def centre_connectivity(out_groups: torch.Tensor, in_groups: torch.Tensor, mask_type: str) -> torch.Tensor:
    """(out, in) 0/1 matrix for the centre tap: g' < g for type "A", g' <= g for type "B"."""
    if mask_type == "A":
        return (in_groups[None, :] < out_groups[:, None]).float()
    if mask_type == "B":
        return (in_groups[None, :] <= out_groups[:, None]).float()
    raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")


def causal_mask(kernel_size: int, mask_type: str, in_channels: int = 1, out_channels: int = 1,
                color_channels: int = 1) -> torch.Tensor:
    """float (out_channels, in_channels, k, k): the raster-order mask of a k x k convolution."""
    k = int(kernel_size)
    if k < 1 or k % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    r = k // 2
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :r, :] = 1          # every row above the centre
    mask[:, :, r, :r] = 1          # left of the centre in its row
    mask[:, :, r, r] = centre_connectivity(channel_groups(out_channels, color_channels),
                                           channel_groups(in_channels, color_channels), mask_type)
    return mask


class MaskedConv2d(nn.Conv2d):
    """A k x k convolution with same padding whose weight is multiplied by `causal_mask` on every call."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str,
                 color_channels: int = 1, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, padding=int(kernel_size) // 2, bias=bias)
        self.mask_type = mask_type
        self.color_channels = color_channels
        self.register_buffer("mask", causal_mask(kernel_size, mask_type, in_channels, out_channels, color_channels),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.kernel_size[0] // 2
        weight = self.weight * self.mask
        if r == 0:
            return F.conv2d(x, weight, self.bias)
        # The mask zeroes every row below the centre, so skip them: pad only above and convolve with the
        # top r + 1 rows. Same output as the full k x k convolution, 40% fewer multiply-adds for 5 x 5.
        return F.conv2d(F.pad(x, (r, r, r, 0)), weight[:, :, :r + 1], self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", mask_type={self.mask_type}, color_channels={self.color_channels}"


def image_ordering(channels: int, height: int, width: int) -> list[int]:
    """Generation order of the flattened (C, H, W) input: pixel by pixel in raster order, and within
    a pixel channel by channel (R, G, B). For `course_lib.checks` orderings."""
    return [c * height * width + p for p in range(height * width) for c in range(channels)]


def to_image_batch(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, H, W) -> (B, 1, H, W) when there is one channel; (B, C, H, W) is returned as is."""
    if x.dim() == 3 and channels == 1:
        return x.unsqueeze(1)
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"expected images (B, {channels}, H, W){' or (B, H, W)' if channels == 1 else ''}, "
                         f"got {tuple(x.shape)}")
    return x


def check_image_model_args(in_channels: int, hidden_channels: int, num_layers: int, color_channels: int) -> None:
    """The constructor checks PixelCNN and GatedPixelCNN share; a ValueError that says what to change."""
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    if color_channels not in (1, in_channels):
        raise ValueError("color_channels must be 1 or equal to in_channels (one group per colour)")
    if hidden_channels % color_channels:
        raise ValueError(f"hidden_channels ({hidden_channels}) must be divisible by color_channels ({color_channels})")


def categorical_image_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum over channels and pixels of log softmax(logits)[x]: (B,) nats, for logits (B, C, V, H, W)
    and integer images x (B, C, H, W)."""
    logp = F.log_softmax(logits, dim=2)
    return logp.gather(2, x.long().unsqueeze(2)).squeeze(2).flatten(1).sum(1)


def sample_raster(logits_fn, num_samples: int, channels: int, size: tuple[int, int],
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, int]:
    """Ancestral sampling pixel by pixel in raster order and colour by colour: one call of
    `logits_fn(x) -> (B, C, V, H, W)` per (pixel, channel). Returns (int64 (N, C, H, W), passes)."""
    H, W = size
    x = torch.zeros(num_samples, channels, H, W, dtype=torch.long)
    passes = 0
    for i in range(H):
        for j in range(W):
            for c in range(channels):
                probs = F.softmax(logits_fn(x)[:, c, :, i, j], dim=-1)
                x[:, c, i, j] = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
                passes += 1
    return x, passes


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


class ResidualBlock(nn.Module):
    """x + [ReLU, 1 x 1 (2h -> h), ReLU, k x k type B (h -> h), ReLU, 1 x 1 (h -> 2h)](x): the residual
    block of van den Oord et al. (2016a, Figure 5). The 1 x 1 layers are type B (they only mix channels
    at the same pixel, within the colour groups), so the block sees what its k x k layer sees."""

    def __init__(self, channels: int, kernel_size: int, color_channels: int = 1):
        super().__init__()
        G, inner = color_channels, channels // 2
        self.body = nn.Sequential(nn.ReLU(), MaskedConv2d(channels, inner, 1, "B", G), nn.ReLU(),
                                  MaskedConv2d(inner, inner, kernel_size, "B", G), nn.ReLU(),
                                  MaskedConv2d(inner, channels, 1, "B", G))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class PixelCNN(nn.Module):
    """One type-A masked k x k convolution, num_layers - 1 type-B ones (ReLU between), then two
    1 x 1 type-B layers to num_values logits per channel. All layers keep the colour groups.

    forward(x) takes the image as numbers (int or float, values 0..num_values-1), (B, C, H, W) or
    (B, H, W), and returns logits (B, C, num_values, H, W); logits at (c, i, j) depend only on
    pixels before (i, j) and on channels before c at (i, j).
    """

    def __init__(self, in_channels: int = 1, hidden_channels: int = 32, num_layers: int = 5, kernel_size: int = 3,
                 num_values: int = 2, color_channels: int = 1, image_size: int | tuple[int, int] = 8):
        super().__init__()
        check_image_model_args(in_channels, hidden_channels, num_layers, color_channels)
        self.in_channels, self.hidden_channels, self.num_layers = in_channels, hidden_channels, num_layers
        self.kernel_size, self.num_values, self.color_channels = kernel_size, num_values, color_channels
        self.image_size = _size(image_size)
        G = color_channels
        self.convs = nn.ModuleList([MaskedConv2d(in_channels, hidden_channels, self._first_kernel_size(), "A", G)]
                                   + self._later_layers())
        self.head = nn.Sequential(nn.ReLU(), MaskedConv2d(hidden_channels, hidden_channels, 1, "B", G), nn.ReLU(),
                                  MaskedConv2d(hidden_channels, in_channels * num_values, 1, "B", G))
        self.last_sample_passes = 0

    def _first_kernel_size(self) -> int:
        return self.kernel_size

    def _later_layers(self) -> list[nn.Module]:
        return [MaskedConv2d(self.hidden_channels, self.hidden_channels, self.kernel_size, "B", self.color_channels)
                for _ in range(self.num_layers - 1)]

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """Values 0..V-1 to floats in [-1, 1] (keeps the autograd graph of float inputs)."""
        x = to_image_batch(x, self.in_channels)
        return 2 * x.float() / (self.num_values - 1) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs[0](self.scale(x))
        for conv in self.convs[1:]:
            h = conv(F.relu(h))
        logits = self.head(h)
        B, _, H, W = logits.shape
        return logits.reshape(B, self.in_channels, self.num_values, H, W)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, (B,), for integer images (B, C, H, W) or (B, H, W)."""
        x = to_image_batch(x, self.in_channels).long()
        return categorical_image_log_prob(self(x), x)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None,
               image_size: int | tuple[int, int] | None = None) -> torch.Tensor:
        """Ancestral sampling, pixel by pixel in raster order and colour by colour: one full network
        pass per (pixel, channel), H * W * C passes in all (stored in `last_sample_passes`)."""
        x, self.last_sample_passes = sample_raster(self, num_samples, self.in_channels,
                                                   _size(image_size or self.image_size), generator)
        return x


class ResidualPixelCNN(PixelCNN):
    """The paper's deeper form, used by the MNIST benchmark (bench/mnist_table.py), not the lectures:
    a `first_kernel_size` x `first_kernel_size` type-A layer (7 in van den Oord et al., 2016a; None:
    kernel_size), then
    num_layers - 1 `ResidualBlock`s (hidden_channels wide, half as wide inside) instead of plain
    layers: deeper networks then train faster and better. Same forward, log_prob and sample."""

    def __init__(self, in_channels: int = 1, hidden_channels: int = 32, num_layers: int = 5, kernel_size: int = 3,
                 num_values: int = 2, color_channels: int = 1, image_size: int | tuple[int, int] = 8,
                 first_kernel_size: int | None = 7):
        if (hidden_channels // 2) % color_channels:
            raise ValueError(f"residual blocks are hidden_channels // 2 = {hidden_channels // 2} wide inside, which "
                             f"must be divisible by color_channels ({color_channels})")
        self.first_kernel_size = first_kernel_size or kernel_size  # read by _first_kernel_size during the base constructor
        super().__init__(in_channels, hidden_channels, num_layers, kernel_size, num_values, color_channels, image_size)

    def _first_kernel_size(self) -> int:
        return self.first_kernel_size

    def _later_layers(self) -> list[nn.Module]:
        return [ResidualBlock(self.hidden_channels, self.kernel_size, self.color_channels)
                for _ in range(self.num_layers - 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs[0](self.scale(x))
        for block in self.convs[1:]:
            h = block(h)  # each residual block starts with its own ReLU
        logits = self.head(h)
        B, _, H, W = logits.shape
        return logits.reshape(B, self.in_channels, self.num_values, H, W)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    for model in (PixelCNN(3, 12, 3, 3, num_values=2, color_channels=3, image_size=4),
                  ResidualPixelCNN(3, 12, 2, 3, num_values=2, color_channels=3, image_size=4, first_kernel_size=5)):
        x = torch.rand(3, 3, 4, 4)
        dep = dependency_map(lambda v: model(v)[:, :, 1], x)   # logit of value 1: (C, H, W) outputs
        print_verdict(f"{type(model).__name__} (3 colours, 4 x 4)", dep, ordering=image_ordering(3, 4, 4))
