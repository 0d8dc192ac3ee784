"""The two fully observed handwriting models of lectures 10-11, and the stroke data they train on.

Both predict x_t = (dx_t, dy_t, pen_t) from x_<t with the stroke output distribution of
`course_lib.models.stroke_output` (a Gaussian mixture for the offset times a Bernoulli for the pen):

- `StrokeRNN`: Graves-style (2013) deterministic baseline, a GRU reads x_(t-1);
- `StrokeTCN`: a small WaveNet, the gated dilated causal convolutions of `course_lib.models.tcn`.

Their `forward(x)` returns the per-step `nll` (B, T), `log_prob(x, mask)` sums it over the real
(unpadded) steps (exact, nats per sequence; `course_lib.models.sequence`), and
`sample(num_steps, generator=None)` draws one (num_steps, 3) sequence.

    splits, mean, std, data = stroke_splits(max_len=48)    # data["train"] = (x (N, T, 3), mask (N, T))
    rnn = StrokeRNN(hidden_size=48)
    nll = -rnn.log_prob(*data["test"])                     # (N,) nats per sequence
"""
from __future__ import annotations

import torch
from torch import nn

from course_lib.data import load_strokes, normalize_strokes, pad_strokes, stroke_stats

from .sequence import FullyObservedSequenceModel, _one_or_many, shift_right
from .stroke_output import make_output_head
from .tcn import TCN

__all__ = ["stroke_splits", "StrokeRNN", "StrokeTCN"]


def stroke_splits(max_len: int = 48, names=("train", "validation", "test")):
    """The handwriting data of lectures 10-11 as tensors.

    Returns (splits, mean, std, data): the `load_strokes` sets by name, the (dx, dy) mean and
    standard deviation of the training split, and per split (x (N, T, 3) normalised and padded,
    mask (N, T) True on the real steps).
    """
    splits = {s: load_strokes(s, max_len=max_len) for s in names}
    mean, std = stroke_stats(splits["train"])          # of (dx, dy), training split only
    data = {}
    for s, stroke_set in splits.items():
        x, mask = pad_strokes([normalize_strokes(seq, mean, std) for seq in stroke_set.sequences])
        data[s] = (torch.tensor(x), torch.tensor(mask))
    return splits, mean, std, data


def _with_start_flag(prev: torch.Tensor, first_step: bool | None = None) -> torch.Tensor:
    """Append the start flag to (B, T, D) inputs: 1 at t = 0 of a whole sequence (first_step None);
    for one step at a time, 1 when it is the first step."""
    flag = torch.zeros_like(prev[..., :1])
    if first_step is None:
        flag[:, 0] = 1.0
    elif first_step:
        flag[:] = 1.0
    return torch.cat([prev, flag], dim=-1)


class StrokeRNN(FullyObservedSequenceModel):
    """Graves-style (2013) deterministic baseline: a GRU reads x_(t-1), a mixture head predicts x_t.

    h_t = GRU([x_(t-1), start flag], h_(t-1)) summarises x_<t; p(x_t | x_<t) = head(h_t).
    """

    def __init__(self, x_dim: int = 3, hidden_size: int = 64, num_components: int = 5):
        super().__init__()
        self.x_dim = x_dim
        self.rnn = nn.GRU(x_dim + 1, hidden_size, batch_first=True)
        self.head, self._log_prob, self._sample = make_output_head(hidden_size, x_dim, num_components)

    def predict(self, x: torch.Tensor) -> dict:
        """Teacher forcing: the output distribution's parameters for every step t, from x_<t only."""
        h, _ = self.rnn(_with_start_flag(shift_right(x)))
        return self.head(h)

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Ancestral sampling, carrying the GRU state: (num_steps, x_dim), or (N, num_steps, x_dim)."""
        n = 1 if num_samples is None else num_samples
        prev = torch.zeros(n, 1, self.x_dim)
        state, out = None, []
        for t in range(num_steps):
            h, state = self.rnn(_with_start_flag(prev, first_step=(t == 0)), state)
            prev = self._sample(self.head(h), generator)
            out.append(prev)
        return _one_or_many(torch.cat(out, dim=1), num_samples)


class StrokeTCN(FullyObservedSequenceModel):
    """A small WaveNet with the stroke mixture head: a TCN reads x_<t (inputs shifted right by one),
    a skip sum of all blocks feeds the head that predicts x_t."""

    def __init__(self, x_dim: int = 3, channels: int = 32, dilations=(1, 2, 4, 8, 16), num_components: int = 5):
        super().__init__()
        self.x_dim = x_dim
        self.tcn = TCN(x_dim + 1, channels, dilations)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(channels, channels), nn.ReLU())
        self.head, self._log_prob, self._sample = make_output_head(channels, x_dim, num_components)

    def _params(self, prev: torch.Tensor) -> dict:
        skip = torch.stack(self.tcn(_with_start_flag(prev))).sum(0)
        return self.head(self.out(skip))

    def predict(self, x: torch.Tensor) -> dict:
        """Teacher forcing: the output distribution's parameters for every step t, from x_<t only."""
        return self._params(shift_right(x))

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Ancestral sampling, recomputing the (small) TCN on the prefix at every step."""
        n = 1 if num_samples is None else num_samples
        x = torch.zeros(n, num_steps, self.x_dim)
        for t in range(num_steps):
            params = self._params(shift_right(x[:, :t + 1]))
            last = {k: v[:, t] for k, v in params.items()}
            x[:, t] = self._sample(last, generator)
        return _one_or_many(x, num_samples)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict, sequence_sites

    torch.manual_seed(0)
    T = 8
    x = torch.randn(3, T, 3)
    for model in (StrokeRNN(hidden_size=8, num_components=2), StrokeTCN(channels=4, dilations=[1, 2], num_components=2)):
        dep = dependency_map(lambda v: model.predict(v)["means"].flatten(2), x)      # (T * 4, T * 3)
        print_verdict(type(model).__name__, dep, output_site=sequence_sites(T, 3, 4))
