"""The three properties every autoregressive model must have, as checks anyone can run.

1. Dependency map: which input elements each output element depends on (exact, by gradients for
   float inputs or by perturbation for integer inputs), hence the autoregressive property for an
   ordering, receptive fields and blind spots.
2. Normalization: enumerate a small support and check that the probabilities sum to one.
3. Sampler agrees with density: a chi-square test of empirical frequencies against exact probabilities.

Lectures, visible tests and the autograder all use these same functions.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

# ----------------------------------------------------------------------------- dependency map


def dependency_map(fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor,
                   method: str = "auto", values: Sequence[float] | None = None,
                   atol: float = 0.0) -> np.ndarray:
    """Boolean matrix (num_outputs, num_inputs): entry [j, i] says output element j depends on input i.

    `inputs` is a batch (N, *input_shape) of example points and `fn` maps it to (N, *output_shape);
    elements are counted per example in flattened (C-order) layout. A dependency found at any of the
    N points counts, so use a few random points to avoid accidental zeros (a dead ReLU, say).

    method "gradient": d output_j / d input_i != 0 (float inputs; exact for the graph that ran).
    method "perturbation": set input i to each other value in `values` (default: 0 and 1 when the
    input is binary, else input + 1) and see which outputs move by more than `atol`.
    "auto" picks perturbation for integer tensors and gradient otherwise.
    """
    if inputs.dim() < 1 or inputs.shape[0] < 1:
        raise ValueError("inputs must be a batch (N, ...) with N >= 1 example points")
    if method == "auto":
        method = "gradient" if inputs.is_floating_point() else "perturbation"
    if method == "gradient":
        return _dependency_by_gradient(fn, inputs)
    if method == "perturbation":
        return _dependency_by_perturbation(fn, inputs, values, atol)
    raise ValueError(f"method must be 'auto', 'gradient' or 'perturbation', got {method!r}")


def _dependency_by_gradient(fn, inputs: torch.Tensor) -> np.ndarray:
    if not inputs.is_floating_point():
        raise TypeError("gradient dependency maps need float inputs; use method='perturbation' for integers")
    x = inputs.detach().clone().requires_grad_(True)
    out = fn(x)
    if out.shape[0] != x.shape[0]:
        raise ValueError(f"fn must keep the batch dimension: inputs {tuple(x.shape)} gave {tuple(out.shape)}")
    out_flat = out.reshape(out.shape[0], -1)
    num_out, num_in = out_flat.shape[1], x[0].numel()
    dep = np.zeros((num_out, num_in), dtype=bool)
    for j in range(num_out):
        # Summing over the batch gives every example's gradient in one backward pass.
        (grad,) = torch.autograd.grad(out_flat[:, j].sum(), x, retain_graph=True, allow_unused=True)
        if grad is not None:
            dep[j] = (grad.reshape(x.shape[0], -1) != 0).any(dim=0).numpy()
    return dep


@torch.no_grad()
def _dependency_by_perturbation(fn, inputs: torch.Tensor, values, atol: float) -> np.ndarray:
    base = fn(inputs)
    base_flat = base.reshape(base.shape[0], -1).double()
    flat_in = inputs.reshape(inputs.shape[0], -1)
    num_in = flat_in.shape[1]
    if values is None:
        binary = bool(((flat_in == 0) | (flat_in == 1)).all())
        values = [0, 1] if binary else None
    dep = np.zeros((base_flat.shape[1], num_in), dtype=bool)
    for i in range(num_in):
        candidates = [flat_in[:, i] + 1] if values is None else [torch.full_like(flat_in[:, i], v) for v in values]
        for new in candidates:
            changed = flat_in.clone()
            changed[:, i] = new
            if torch.equal(changed, flat_in):
                continue
            out = fn(changed.reshape(inputs.shape)).reshape(base_flat.shape).double()
            moved = ((out - base_flat).abs() > atol) | (torch.isnan(out) != torch.isnan(base_flat))
            dep[:, i] |= moved.any(dim=0).numpy()
    return dep


# ----------------------------------------------------------------------------- autoregressive property


@dataclass
class CheckResult:
    """Outcome of a check: `passed`, a one-line `message`, and details (violations, numbers)."""

    passed: bool
    message: str
    violations: list[str] = field(default_factory=list)
    value: float | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed}, message={self.message!r})"


def autoregressive_violations(dep: np.ndarray, ordering: Sequence[int] | None = None,
                              output_site: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """All (output, input) pairs where an output depends on an input that is not strictly earlier.

    `ordering` lists input indices in generation order (natural order when None). `output_site[j]`
    is the input index that output j predicts (default j, or j % num_inputs when there are several
    outputs per input laid out channel by channel).
    """
    num_out, num_in = dep.shape
    position = _positions(ordering, num_in)
    if output_site is None:
        if num_out % num_in:
            raise ValueError(f"{num_out} outputs cannot be matched to {num_in} inputs; pass output_site")
        output_site = np.arange(num_out) % num_in
    output_site = np.asarray(output_site)
    allowed = position[None, :] < position[output_site][:, None]
    bad = np.argwhere(dep & ~allowed)
    return [(int(j), int(i)) for j, i in bad]


def _positions(ordering, num_in: int) -> np.ndarray:
    if ordering is None:
        return np.arange(num_in)
    ordering = np.asarray(ordering)
    if sorted(ordering.tolist()) != list(range(num_in)):
        raise ValueError(f"ordering must be a permutation of 0..{num_in - 1}, got {ordering.tolist()}")
    position = np.empty(num_in, dtype=int)
    position[ordering] = np.arange(num_in)
    return position


def check_autoregressive(dep: np.ndarray, ordering: Sequence[int] | None = None,
                         output_site: Sequence[int] | None = None, max_report: int = 10) -> CheckResult:
    """The autoregressive property for `ordering`, with every violation described in words."""
    num_in = dep.shape[1]
    position = _positions(ordering, num_in)
    pairs = autoregressive_violations(dep, ordering, output_site)
    sites = np.arange(dep.shape[0]) % num_in if output_site is None else np.asarray(output_site)
    words = [f"output {j} (predicts input {sites[j]}, step {position[sites[j]]} of the ordering) depends on "
             f"input {i} (step {position[i]}), which is not earlier" for j, i in pairs]
    if not pairs:
        return CheckResult(True, "autoregressive: every output depends only on earlier inputs")
    shown = "; ".join(words[:max_report]) + (f"; ... and {len(words) - max_report} more" if len(words) > max_report else "")
    return CheckResult(False, f"{len(pairs)} autoregressive violation(s): {shown}", violations=words)


# ----------------------------------------------------------------------------- normalization


def all_binary_vectors(num_dims: int) -> torch.Tensor:
    """Every vector in {0, 1}^num_dims as a float tensor (2**num_dims, num_dims), first dimension slowest."""
    if not 0 < num_dims <= 24:
        raise ValueError(f"enumerating {{0,1}}^{num_dims} is not feasible; use num_dims in 1..24")
    codes = torch.arange(2 ** num_dims)
    bits = (codes[:, None] >> torch.arange(num_dims - 1, -1, -1)) & 1
    return bits.float()


def all_vectors(num_values: int, num_dims: int) -> torch.Tensor:
    """Every vector in {0..num_values-1}^num_dims as int64 (num_values**num_dims, num_dims)."""
    if num_values ** num_dims > 2 ** 24:
        raise ValueError(f"{num_values}**{num_dims} points are too many to enumerate")
    return torch.tensor(list(itertools.product(range(num_values), repeat=num_dims)), dtype=torch.int64)


@torch.no_grad()
def check_normalization(log_prob_fn: Callable[[torch.Tensor], torch.Tensor], support: torch.Tensor,
                        atol: float = 1e-4, batch_size: int = 4096) -> CheckResult:
    """Sum exp(log_prob) over an enumerated support; passes when the total is within `atol` of 1."""
    chunks = [log_prob_fn(support[s:s + batch_size]).double().reshape(-1) for s in range(0, len(support), batch_size)]
    log_probs = torch.cat(chunks)
    if len(log_probs) != len(support):
        return CheckResult(False, f"log_prob_fn returned {len(log_probs)} values for {len(support)} points", value=float("nan"))
    if torch.isnan(log_probs).any():
        return CheckResult(False, "log_prob_fn returned NaN", value=float("nan"))
    total = float(torch.logsumexp(log_probs, dim=0).exp())
    passed = abs(total - 1.0) <= atol
    verdict = "normalized" if passed else "NOT normalized"
    return CheckResult(passed, f"{verdict}: total probability {total:.6f} over {len(support)} points (tolerance {atol})",
                       value=total)


# ----------------------------------------------------------------------------- sampler agreement


def binary_rows_to_index(x) -> np.ndarray:
    """Map rows of a 0/1 array (N, D) to integers, first column most significant (as all_binary_vectors)."""
    x = np.asarray(x).astype(np.int64)
    weights = 1 << np.arange(x.shape[1] - 1, -1, -1)
    return x @ weights


def check_sampler(samples, probs, alpha: float = 1e-3, min_expected: float = 5.0) -> CheckResult:
    """Chi-square goodness of fit of integer `samples` (category indices) to exact `probs`.

    Categories whose expected count is below `min_expected` are pooled into one bin, so the
    chi-square approximation holds. A correct sampler fails with probability about `alpha`
    (the false-alarm rate, 1 in 1000 by default); tests use fixed seeds, so a run is repeatable.
    A sample in a category of probability zero fails outright.
    """
    samples = np.asarray(samples).reshape(-1).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if samples.size == 0:
        return CheckResult(False, "no samples to test")
    if samples.min() < 0 or samples.max() >= len(probs):
        return CheckResult(False, f"samples fall outside 0..{len(probs) - 1}")
    if abs(probs.sum() - 1) > 1e-6:
        probs = probs / probs.sum()
    counts = np.bincount(samples, minlength=len(probs)).astype(np.float64)
    impossible = (probs == 0) & (counts > 0)
    if impossible.any():
        k = int(np.flatnonzero(impossible)[0])
        return CheckResult(False, f"{int(counts[impossible].sum())} sample(s) in categories of probability 0 (e.g. {k})",
                           value=0.0)
    expected = probs * samples.size
    big = expected >= min_expected
    obs = list(counts[big]) + ([counts[~big].sum()] if (~big).any() else [])
    exp = list(expected[big]) + ([expected[~big].sum()] if (~big).any() else [])
    obs, exp = np.array(obs), np.array(exp)
    keep = exp > 0
    obs, exp = obs[keep], exp[keep]
    dof = len(obs) - 1
    if dof < 1:
        return CheckResult(True, "only one category has non-negligible probability; nothing to test", value=1.0)
    stat = float(((obs - exp) ** 2 / exp).sum())
    # chi-square survival. scipy is imported here, not with the module: scipy.special costs about 0.5 CPU s
    # to import (scipy.stats about 1 s), which a process that only imports these checks need not pay
    from scipy.special import gammaincc

    p_value = float(gammaincc(dof / 2, stat / 2))   # = scipy.stats.chi2.sf(stat, dof)
    passed = p_value >= alpha
    verdict = "agrees with" if passed else "DISAGREES with"
    return CheckResult(passed, f"sampler {verdict} the density: chi-square {stat:.1f} on {dof} dof, p = {p_value:.3g} "
                               f"(threshold {alpha})", value=p_value)
