"""Causal 1-D convolutions and the temporal convolutional network (TCN) built from them.

A causal convolution pads on the left only, so output t sees inputs t - (k-1)d, ..., t - d, t
(kernel size k, dilation d). A stack of them with dilations d_1, d_2, ... sees

    R = (k - 1) * sum(dilations) + 1                         (`receptive_field_size`)

inputs; doubling dilations 1, 2, 4, ... make R grow exponentially with depth (van den Oord et al.,
2016, "WaveNet: A generative model for raw audio"). `GatedResidualBlock` is WaveNet's block without
the skip output; `TCN` stacks them over (B, T, features) and returns every block's output. WaveNet
(`course_lib.models.wavenet`), the StrokeTCN baseline and STCN all use this one convolution.

    conv = CausalConv1d(8, 16, kernel_size=2, dilation=4)   # (B, 8, T) -> (B, 16, T)
    tcn = TCN(x_dim=3, channels=32, dilations=[1, 2, 4, 8])
    outs = tcn(x)                                            # list of (B, T, 32), one per block
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["receptive_field_size", "stacked_dilations", "CausalConv1d", "GatedResidualBlock", "TCN"]


def receptive_field_size(kernel_size: int, dilations: Sequence[int]) -> int:
    """Inputs one output of a stack of causal convolutions sees: (kernel_size - 1) * sum(dilations) + 1."""
    return (int(kernel_size) - 1) * int(sum(int(d) for d in dilations)) + 1


def stacked_dilations(layers_per_stack: int, num_stacks: int = 1) -> list[int]:
    """[1, 2, 4, ..., 2^(layers_per_stack - 1)] repeated num_stacks times (the WaveNet layout)."""
    return [2 ** i for i in range(int(layers_per_stack))] * int(num_stacks)


class CausalConv1d(nn.Conv1d):
    """A 1-D convolution padded on the left only: output t sees inputs t - (k-1)d, ..., t - d, t.

    (B, C_in, T) -> (B, C_out, T). Same weights and layout as nn.Conv1d (out, in, k); tap j of the
    kernel multiplies input t - (k - 1 - j) * d.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 2, dilation: int = 1,
                 bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias)
        self.left_pad = (kernel_size - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.left_pad, 0)))

    def step(self, taps: torch.Tensor) -> torch.Tensor:
        """One output from the k inputs it sees, (B, C_in, k) oldest first -> (B, C_out)."""
        return F.linear(taps.reshape(taps.shape[0], -1), self.weight.reshape(self.out_channels, -1), self.bias)


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
        """Steps that block `num_blocks` (all blocks by default) sees, the current one included."""
        d = self.dilations[: (len(self.dilations) if num_blocks is None else num_blocks)]
        return receptive_field_size(self.kernel_size, d)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    tcn = TCN(x_dim=2, channels=4, dilations=[1, 2, 4])
    x = torch.randn(3, 12, 2)
    # block outputs at t may see x_(<= t): check them as predictions of step t + 1
    dep = dependency_map(lambda v: tcn(v)[-1][:, :-1, :1], x)          # (11 outputs, 24 inputs)
    print_verdict("TCN (last block, output t as a prediction of step t + 1)", dep,
                  output_site=[2 * (t + 1) for t in range(11)])
