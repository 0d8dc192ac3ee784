"""One small, seeded training loop: minibatch Adam on a per-example NLL, with early stopping.

    history = fit(model, train_x, val_x, nll_fn=lambda m, x: m.nll(x), num_dims=64, epochs=20)
    history.plot()

`nll_fn(model, batch)` returns the negative log-likelihood of each example in nats, shape (B,)
(or, for a latent-variable model, the negative ELBO: then `evaluate_nll` reports an upper bound on
the NLL, and the caller should say so). A batch is a tensor, or a tuple of tensors when the data is
a tuple (images, labels). `KLAnnealing` is the KL-weight schedule for training latent-variable models.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm

Data = torch.Tensor | Sequence[torch.Tensor]


@dataclass
class History:
    """Per-epoch mean NLL in nats per example, and the same in bits per dimension."""

    num_dims: int
    train_nll: list[float] = field(default_factory=list)
    val_nll: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0
    stopped_by: str = ""  # "epochs", "patience" or "time" (max_seconds)

    @property
    def train_bpd(self) -> list[float]:
        return [v / (self.num_dims * math.log(2)) for v in self.train_nll]

    @property
    def val_bpd(self) -> list[float]:
        return [v / (self.num_dims * math.log(2)) for v in self.val_nll]

    @property
    def best_val_nll(self) -> float:
        return self.val_nll[self.best_epoch] if self.val_nll else float("nan")

    def plot(self, ax=None, title: str = "Learning curves"):
        from .viz import plot_learning_curves
        return plot_learning_curves(self, ax=ax, title=title)


def _num_examples(data: Data) -> int:
    return len(data) if isinstance(data, torch.Tensor) else len(data[0])


def _take(data: Data, idx) -> Data:
    return data[idx] if isinstance(data, torch.Tensor) else tuple(t[idx] for t in data)


class KLAnnealing:
    """A linear KL-weight schedule: beta goes from `start` to 1 over `warmup_steps` training steps.

    Call it once per training step: `beta = anneal()`. Warming up the KL weight lets the decoder
    learn to use z before the KL term pushes the posterior onto the prior (Bowman et al., 2016).
    """

    def __init__(self, warmup_steps: int = 500, start: float = 0.0):
        self.warmup_steps, self.start, self.step = max(1, warmup_steps), start, 0

    def weight(self, step: int | None = None) -> float:
        s = self.step if step is None else step
        return min(1.0, self.start + (1.0 - self.start) * s / self.warmup_steps)

    def __call__(self) -> float:
        w = self.weight()
        self.step += 1
        return w


@torch.no_grad()
def evaluate_nll(model: torch.nn.Module, data: Data, nll_fn: Callable, batch_size: int = 512) -> float:
    """Mean NLL (nats per example) of `model` on `data`, in evaluation mode."""
    was_training = model.training
    model.eval()
    n = _num_examples(data)
    total = 0.0
    for start in range(0, n, batch_size):
        total += float(nll_fn(model, _take(data, slice(start, start + batch_size))).sum())
    model.train(was_training)
    return total / n


def fit(model: torch.nn.Module, train_data: Data, val_data: Data, nll_fn: Callable, num_dims: int,
        epochs: int = 20, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
        patience: int = 5, seed: int = 0, max_seconds: float | None = None, progress: bool = True,
        optimizer: torch.optim.Optimizer | None = None, lr_schedule: str = "constant") -> History:
    """Train `model` to minimise `nll_fn` and keep the weights of the best validation epoch.

    Stops after `epochs`, after `patience` epochs without a better validation NLL, or once
    `max_seconds` have passed (checked before every minibatch, so a notebook or benchmark stays in
    its time budget; the last, partial epoch is still validated). Seeds torch with `seed`
    for the shuffling and anything random in the model. `history.stopped_by` says which rule
    stopped the run; a stop by the clock also warns, because then the result depends on how fast
    the machine was, not only on the seeds.

    `lr_schedule="cosine"` lowers the learning rate from `lr` to zero along half a cosine over the
    run: over `epochs`, or over `max_seconds` when that comes first (a fixed time budget is spent
    better by annealing to its end than by a constant rate that stops mid-descent).
    """
    import time
    import warnings

    torch.manual_seed(seed)
    shuffle_gen = torch.Generator().manual_seed(seed)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    base_lrs = [group["lr"] for group in opt.param_groups]
    history = History(num_dims=num_dims)
    best_state, best = copy.deepcopy(model.state_dict()), float("inf")
    n = _num_examples(train_data)
    start_time = time.perf_counter()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        perm = torch.randperm(n, generator=shuffle_gen)
        running, seen, cut_short = 0.0, 0, False
        for start in range(0, n, batch_size):
            if max_seconds is not None and time.perf_counter() - start_time > max_seconds:
                cut_short = True
                break  # out of time mid-epoch: validate what we have and stop

            if lr_schedule == "cosine":
                done = (epoch + start / n) / epochs
                if max_seconds is not None:
                    done = max(done, (time.perf_counter() - start_time) / max_seconds)
                for group, base in zip(opt.param_groups, base_lrs):
                    group["lr"] = base * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
            batch = _take(train_data, perm[start:start + batch_size])
            loss = nll_fn(model, batch).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += float(loss.detach()) * len(perm[start:start + batch_size])
            seen += len(perm[start:start + batch_size])
        history.train_nll.append(running / max(seen, 1))
        history.val_nll.append(evaluate_nll(model, val_data, nll_fn))
        if history.val_nll[-1] < best:
            best, history.best_epoch = history.val_nll[-1], epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(train=f"{history.train_nll[-1]:.2f}", val=f"{history.val_nll[-1]:.2f}")
        out_of_time = max_seconds is not None and time.perf_counter() - start_time > max_seconds
        if cut_short or (out_of_time and epoch + 1 < epochs):
            history.stopped_by = "time"
            break
        if epoch - history.best_epoch >= patience:
            history.stopped_by = "patience"
            break
    else:
        history.stopped_by = "epochs"
    if history.stopped_by == "time":
        warnings.warn(f"fit stopped at the time limit (max_seconds={max_seconds:g}) after {len(history.val_nll)} "
                      f"of {epochs} epochs, so this result depends on the machine's speed; raise max_seconds "
                      "to train the full schedule.", RuntimeWarning, stacklevel=2)
    model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - start_time
    return history
