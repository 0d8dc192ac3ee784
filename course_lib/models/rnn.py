"""An RNN over a flattened binary image, one pixel per step (lecture 2).

Step d reads the previous pixel x_(d-1) (a start token at step 0) and updates a hidden state that
summarises x_<d; a linear layer turns the state into the logit of p(x_d = 1 | x_<d). The same weights
serve every step, so the parameter count does not grow with D. Without position information the
network has to count steps itself to know which pixel it predicts; with `position_encoding=True` a
one-hot code of d is appended to the input at step d (as in the deep unsupervised learning course
lectures), which helps on images where each position has its own statistics.

    model = RNNAutoregressive(num_inputs=64, hidden_size=64, position_encoding=True)
    nll = -model.log_prob(x)            # (B,) nats per image, x in {0, 1}
    samples = model.sample(16)          # (16, 64) floats in {0, 1}
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class RNNAutoregressive(nn.Module):
    """A GRU (Cho et al., 2014) autoregressive model over binary vectors in the natural order.

    Input at step d: [x_(d-1), start flag] (x_(-1) = 0 with the start flag 1 at step 0), plus a
    one-hot position code of d when `position_encoding` is True.
    """

    def __init__(self, num_inputs: int, hidden_size: int = 64, position_encoding: bool = True):
        super().__init__()
        if num_inputs < 1 or hidden_size < 1:
            raise ValueError(f"num_inputs and hidden_size must be positive, got {num_inputs}, {hidden_size}")
        self.num_inputs = num_inputs
        self.hidden_size = hidden_size
        self.position_encoding = position_encoding
        in_features = 2 + (num_inputs if position_encoding else 0)
        self.rnn = nn.GRU(in_features, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, 1)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_inputs:
            raise ValueError(f"expected x of shape (B, {self.num_inputs}), got {tuple(x.shape)}")
        return x.to(self.out.weight.dtype)

    def _step_inputs(self, prev: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """Inputs (B, T, F) for steps `steps` (T,), given the previous pixels prev (B, T)."""
        B, T = prev.shape
        start = (steps == 0).to(prev.dtype).expand(B, T)
        parts = [prev[..., None], start[..., None]]
        if self.position_encoding:
            parts.append(F.one_hot(steps, self.num_inputs).to(prev.dtype).expand(B, T, -1))
        return torch.cat(parts, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, D) with teacher forcing: step d reads the true x_(d-1)."""
        x = self._check(x)
        prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)   # shift right by one
        inputs = self._step_inputs(prev, torch.arange(self.num_inputs))
        h, _ = self.rnn(inputs)
        return self.out(h).squeeze(-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, shape (B,)."""
        logits = self(x)
        return -F.binary_cross_entropy_with_logits(logits, self._check(x), reduction="none").sum(-1)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral sampling, one step of the GRU per pixel, carrying the hidden state: (N, D) in {0, 1}."""
        dtype = self.out.weight.dtype
        x = torch.zeros(num_samples, self.num_inputs, dtype=dtype)
        prev = torch.zeros(num_samples, 1, dtype=dtype)
        state = None
        for d in range(self.num_inputs):
            inp = self._step_inputs(prev, torch.tensor([d]))
            h, state = self.rnn(inp, state)
            probs = torch.sigmoid(self.out(h[:, -1]).squeeze(-1))
            x[:, d] = torch.bernoulli(probs, generator=generator)
            prev = x[:, d:d + 1]
        return x


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict

    torch.manual_seed(0)
    for position_encoding in (False, True):
        model = RNNAutoregressive(10, 8, position_encoding=position_encoding)
        print_verdict(f"RNNAutoregressive (position_encoding={position_encoding})",
                      dependency_map(model, torch.rand(4, 10)))
