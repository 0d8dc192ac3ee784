"""WaveNet: dilated causal convolutions over a 1-D sequence of categorical samples, and fast generation.

van den Oord et al. (2016) "WaveNet: A Generative Model for Raw Audio" model a waveform quantised to
256 mu-law levels with a stack of dilated causal convolutions, gated activations, residual and skip
connections; Paine et al. (2016) "Fast Wavenet Generation Algorithm" generate it with one queue per
layer, so each new sample costs O(layers) instead of a pass over the whole receptive field. The
causal convolution and `receptive_field_size` live in `course_lib.models.tcn` (shared with the TCN).

The network reads integers x = (x_0, ..., x_(T-1)) in 0..num_classes-1 and

    forward(x)[:, :, t]  = logits of the distribution of x_(t+1),

a function of x_(t-R+1), ..., x_t exactly, where R = receptive_field_size(kernel_size, dilations)
= (kernel_size - 1) * sum(dilations) + 1. Before the first sample there is an implicit input
x_(-1) = start_value = num_classes // 2 (the mu-law code of silence), so

    log p(x) = sum_t log softmax(forward([x_(-1), x_0, ..., x_(T-2)])[:, :, t])[x_t],

and generation starts from the same x_(-1). Two generation paths, same samples for the same generator:

    naive  (cached=False): for every new sample, run the network on the last R inputs;
    cached (cached=True):  every layer keeps a queue of its last (kernel_size - 1) * dilation inputs;
                           one new sample costs one matrix product per layer.

With `position_encoding=True` every gate also sees a learned embedding of the time step (the
"local conditioning" of the WaveNet paper with the position as the condition), which tells a model
of flattened images where in the image it is.

    model = WaveNet(256, 32, 64, dilations=[1, 2, 4, 8] * 2)
    logits = model(x)                                  # (B, 256, T)
    nll = -model.log_prob(x)                           # (B,) nats per sequence
    samples = model.generate(1000, generator=torch.Generator().manual_seed(0))
"""
from __future__ import annotations

import math
from collections import deque
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .tcn import CausalConv1d, receptive_field_size, stacked_dilations

__all__ = ["mu_law_encode", "mu_law_decode", "receptive_field_size", "CausalConv1d", "ResidualLayer",
           "WaveNet", "stacked_dilations"]


# ----------------------------------------------------------------------------- mu-law companding


def mu_law_encode(x: torch.Tensor, mu: int = 255) -> torch.Tensor:
    """Signal in [-1, 1] -> int64 codes in 0..mu (ITU-T G.711 companding, then uniform rounding).

    f = sign(x) ln(1 + mu |x|) / ln(1 + mu);  q = floor((f + 1) / 2 * mu + 0.5).
    """
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    f = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.floor((f + 1) / 2 * mu + 0.5).long()


def mu_law_decode(q: torch.Tensor, mu: int = 255) -> torch.Tensor:
    """Codes 0..mu -> signal in [-1, 1]: f = 2q / mu - 1, x = sign(f) ((1 + mu)^|f| - 1) / mu."""
    f = 2 * torch.as_tensor(q).double() / mu - 1
    return (torch.sign(f) * torch.expm1(f.abs() * math.log1p(mu)) / mu).float()


# ----------------------------------------------------------------------------- layers


class ResidualLayer(nn.Module):
    """z = tanh(W_f * h + V_f c) * sigmoid(W_g * h + V_g c); h' = h + W_r z; skip = W_s z.

    (`*` the dilated causal convolution, c the optional position embedding.)"""

    def __init__(self, residual_channels: int, skip_channels: int, kernel_size: int, dilation: int,
                 max_len: int | None = None):
        super().__init__()
        self.dilation = dilation
        self.kernel_size = kernel_size
        self.conv = CausalConv1d(residual_channels, 2 * residual_channels, kernel_size, dilation)
        self.cond = nn.Embedding(max_len, 2 * residual_channels) if max_len else None
        self.residual = nn.Conv1d(residual_channels, residual_channels, 1)
        self.skip = nn.Conv1d(residual_channels, skip_channels, 1)

    def _gate(self, pre: torch.Tensor, dim: int) -> torch.Tensor:
        filt, gate = pre.chunk(2, dim=dim)
        return torch.tanh(filt) * torch.sigmoid(gate)

    def forward(self, h: torch.Tensor, positions: torch.Tensor | None = None):
        """h (B, C, T) -> (h + residual, skip (B, S, T))."""
        pre = self.conv(h)
        if self.cond is not None:
            pre = pre + self.cond(positions).t()[None]
        z = self._gate(pre, 1)
        return h + self.residual(z), self.skip(z)

    def step(self, taps: torch.Tensor, position: int | None = None):
        """One time step: taps (B, C, k) are the layer's inputs at t - (k-1)d, ..., t. Returns
        (h_t + residual (B, C), z (B, C)); the skip projection is done for all layers at once."""
        pre = self.conv.step(taps)
        if self.cond is not None:
            pre = pre + self.cond.weight[position]
        z = self._gate(pre, 1)
        return taps[:, :, -1] + F.linear(z, self.residual.weight[:, :, 0], self.residual.bias), z


# ----------------------------------------------------------------------------- the model


class WaveNet(nn.Module):
    """Categorical WaveNet. forward(x int64 (B, T)) -> logits (B, num_classes, T), logits[:, :, t]
    the distribution of x_(t+1) given x_(t-R+1..t) (R = self.receptive_field)."""

    def __init__(self, num_classes: int, residual_channels: int, skip_channels: int, dilations: Sequence[int],
                 kernel_size: int = 2, position_encoding: bool = False, max_len: int | None = None):
        super().__init__()
        dilations = [int(d) for d in dilations]
        if num_classes < 2 or not dilations or min(dilations) < 1 or kernel_size < 2:
            raise ValueError("need num_classes >= 2, at least one dilation >= 1 and kernel_size >= 2")
        if position_encoding and not max_len:
            raise ValueError("position_encoding=True needs max_len (the longest sequence, in steps)")
        self.num_classes = num_classes
        self.dilations = dilations
        self.kernel_size = kernel_size
        self.receptive_field = receptive_field_size(kernel_size, dilations)
        self.start_value = num_classes // 2
        self.position_encoding = bool(position_encoding)
        self.max_len = int(max_len) if max_len else None
        self.embed = nn.Embedding(num_classes, residual_channels)       # a 1x1 conv on one-hot inputs
        cond_len = self.max_len if self.position_encoding else None
        self.layers = nn.ModuleList(ResidualLayer(residual_channels, skip_channels, kernel_size, d, cond_len)
                                    for d in dilations)
        self.head1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.head2 = nn.Conv1d(skip_channels, num_classes, 1)

    # ------------------------------------------------------------------ density
    def _positions(self, start: int, length: int, device) -> torch.Tensor | None:
        if not self.position_encoding:
            return None
        if start + length > self.max_len:
            raise ValueError(f"sequence of {start + length} steps is longer than max_len = {self.max_len}")
        return torch.arange(start, start + length, device=device)

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.is_floating_point():
            raise ValueError(f"x must be an integer tensor (B, T), got {x.dtype} {tuple(x.shape)}")
        if x.numel() and ((x < 0).any() or (x >= self.num_classes).any()):
            raise ValueError(f"x must lie in 0..{self.num_classes - 1}")

    def _head(self, skip: torch.Tensor) -> torch.Tensor:
        return self.head2(F.relu(self.head1(F.relu(skip))))

    def forward(self, x: torch.Tensor, start_position: int = 0, return_layer_inputs: bool = False):
        """x int64 (B, T) -> logits (B, num_classes, T). `start_position` is the time step of x[:, 0]
        (only used by the position encoding). With return_layer_inputs, also the list of every layer's
        input (B, C, T) (what the cache of the fast generator holds)."""
        self._check_input(x)
        positions = self._positions(start_position, x.shape[1], x.device)
        h = self.embed(x).transpose(1, 2)                                  # (B, C, T)
        skip, inputs = 0, []
        for layer in self.layers:
            inputs.append(h)
            h, s = layer(h, positions)
            skip = skip + s
        logits = self._head(skip)
        return (logits, inputs) if return_layer_inputs else logits

    def shifted(self, x: torch.Tensor) -> torch.Tensor:
        """[x_(-1) = start_value, x_0, ..., x_(T-2)]: the inputs whose logits predict x_0 .. x_(T-1)."""
        start = torch.full_like(x[:, :1], self.start_value)
        return torch.cat([start, x[:, :-1]], dim=1)

    def conditional_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, num_classes, T): [:, :, t] are the logits of p(x_t | x_<t) (a function of x_(t-R)..x_(t-1))."""
        return self(self.shifted(x))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, (B,), for x int64 (B, T) (floats holding integers are accepted)."""
        x = x.long() if x.is_floating_point() else x
        log_probs = F.log_softmax(self.conditional_logits(x), dim=1)
        return log_probs.gather(1, x.unsqueeze(1)).squeeze(1).sum(-1)

    # ------------------------------------------------------------------ sampling
    @staticmethod
    def _draw(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """One category per row by the inverse CDF of softmax(logits), one uniform per row."""
        probs = torch.softmax(logits.double(), dim=-1)
        u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator, device=probs.device)
        return (probs.cumsum(-1) < u).sum(-1).clamp_max(probs.shape[-1] - 1)

    @torch.inference_mode()
    def generate(self, num_steps: int, batch_size: int = 1, generator: torch.Generator | None = None,
                 cached: bool = True, prompt: torch.Tensor | None = None) -> torch.Tensor:
        """Ancestral sampling: int64 (batch_size, num_steps).

        The history starts with x_(-1) = start_value, then `prompt` (B, P) if given (the samples
        continue it; only the new ones are returned). cached=False runs the network on the last R
        inputs for every sample; cached=True keeps one queue per layer (Paine et al., 2016).
        """
        was_training = self.training
        self.eval()
        device = self.embed.weight.device
        start = torch.full((batch_size, 1), self.start_value, dtype=torch.long, device=device)
        if prompt is not None:
            prompt = prompt.to(device).long()
            if prompt.dim() != 2 or prompt.shape[0] != batch_size:
                raise ValueError(f"prompt must have shape ({batch_size}, P), got {tuple(prompt.shape)}")
            start = torch.cat([start, prompt], dim=1)
        if cached:
            out = self._generate_cached(num_steps, start, generator)
        else:
            out = self._generate_naive(num_steps, start, generator)
        self.train(was_training)
        return out

    def _generate_naive(self, num_steps: int, history: torch.Tensor, generator) -> torch.Tensor:
        R = self.receptive_field
        seq = torch.cat([history, history.new_zeros(history.shape[0], num_steps)], dim=1)
        P = history.shape[1]                                  # inputs known so far
        for t in range(num_steps):
            end = P + t
            begin = max(0, end - R)
            logits = self(seq[:, begin:end], start_position=begin)[:, :, -1]
            seq[:, end] = self._draw(logits, generator)
        return seq[:, P:]

    def _generate_cached(self, num_steps: int, history: torch.Tensor, generator) -> torch.Tensor:
        """Paine et al. (2016): layer l keeps a queue of its last (k - 1) * d_l inputs. At each step
        the layer reads the k - 1 taps it needs (t - (k-1)d, ..., t - d) from its queue, pushes its
        newest input and drops the oldest: O(layers) work per sample, O(sum of dilations) memory."""
        B, P = history.shape
        k = self.kernel_size
        width = self.embed.weight.shape[1]
        # the layer inputs at the times before the newest known input: zeros (the left padding), or
        # the prompt's, from one ordinary forward pass
        inputs = self(history[:, :-1], return_layer_inputs=True)[1] if P > 1 else None
        queues = []
        for l, layer in enumerate(self.layers):
            size = (k - 1) * layer.dilation
            q = deque(maxlen=size)                     # oldest first; appending drops the oldest
            zero = self.embed.weight.new_zeros(B, width)
            known = 0 if inputs is None else min(size, inputs[l].shape[2])
            q.extend([zero] * (size - known))
            if known:
                q.extend(inputs[l][:, :, -known:].unbind(2))
            queues.append(q)
        # the weights as plain matrices, so each step is a few small matrix products
        conv = [(layer.conv.weight.permute(2, 1, 0).reshape(k * width, -1).contiguous(), layer.conv.bias)
                for layer in self.layers]             # (k*C, 2C): tap j's rows are j*C .. (j+1)*C
        res = [(layer.residual.weight[:, :, 0].t().contiguous(), layer.residual.bias) for layer in self.layers]
        taps_at = [[m * layer.dilation for m in range(k - 1)] for layer in self.layers]  # queue slots
        skip_w = torch.cat([layer.skip.weight[:, :, 0] for layer in self.layers], dim=1).t().contiguous()
        skip_b = sum(layer.skip.bias for layer in self.layers)
        head1, head2 = self.head1.weight[:, :, 0].t().contiguous(), self.head2.weight[:, :, 0].t().contiguous()
        cond = [layer.cond.weight for layer in self.layers] if self.position_encoding else None
        out = history.new_zeros(B, num_steps)
        x_t = history[:, -1]
        for t in range(num_steps):
            position = P - 1 + t                       # time step of the newest input x_t
            if self.position_encoding and position >= self.max_len:
                raise ValueError(f"sequence of {position + 1} steps is longer than max_len = {self.max_len}")
            h = self.embed(x_t)                        # (B, C): input of layer 0 at time `position`
            zs = []
            for l, (q, (w, b), (wr, br), slots) in enumerate(zip(queues, conv, res, taps_at)):
                taps = torch.cat([q[s] for s in slots] + [h], dim=1)       # t-(k-1)d, ..., t-d, t
                q.append(h)
                pre = torch.addmm(b if cond is None else b + cond[l][position], taps, w)
                pre[:, :width].tanh_()
                z = F.glu(pre, dim=1)                  # tanh(filter) * sigmoid(gate)
                h = torch.addmm(br, z, wr).add_(h)
                zs.append(z)
            skip = torch.addmm(skip_b, torch.cat(zs, dim=1), skip_w)
            logits = torch.addmm(self.head2.bias, torch.addmm(self.head1.bias, skip.relu(), head1).relu_(), head2)
            x_t = self._draw(logits, generator)
            out[:, t] = x_t
        return out


if __name__ == "__main__":
    import numpy as np

    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    V, T = 3, 10
    model = WaveNet(V, 4, 4, dilations=[1, 2, 4]).eval()
    x = torch.randint(0, V - 1, (4, T))                    # perturbed to x + 1, still a valid value
    dep = dependency_map(model.conditional_logits, x)       # outputs (V, T) flattened: site t for each v
    print_verdict("WaveNet p(x_t | x_<t)", dep, output_site=np.tile(np.arange(T), V))
    same = torch.equal(model.generate(20, 2, torch.Generator().manual_seed(1), cached=True),
                       model.generate(20, 2, torch.Generator().manual_seed(1), cached=False))
    print(f"WaveNet generation: cached and naive samplers give the same samples: {same}")
    if not same:
        raise SystemExit(1)
