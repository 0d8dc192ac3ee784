"""The RNN autoregressive model (course_lib.models.rnn) against the three checks."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_binary_vectors, binary_rows_to_index, check_autoregressive,
                               check_normalization, check_sampler, dependency_map)
from course_lib.models.rnn import RNNAutoregressive


def _model(D=6, H=8, pos=True, seed=0, std=0.8):
    torch.manual_seed(seed)
    m = RNNAutoregressive(D, hidden_size=H, position_encoding=pos)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, std)
    return m


@pytest.mark.parametrize("pos", [True, False])
def test_autoregressive_in_natural_order(pos):
    m = _model(D=8, pos=pos)
    dep = dependency_map(m, torch.rand(6, 8))
    result = check_autoregressive(dep)
    assert result, result.message
    # the hidden state carries the whole past: output d sees every earlier input
    assert dep[np.tril_indices(8, -1)].all(), "RNN output d should depend on every input before d"


@pytest.mark.parametrize("pos", [True, False])
def test_normalized_by_enumeration(pos):
    m = _model(D=8, pos=pos)
    result = check_normalization(m.log_prob, all_binary_vectors(8), atol=1e-5)
    assert result, result.message


@pytest.mark.parametrize("pos", [True, False])
def test_sampler_agrees_with_density(pos):
    m = _model(D=4, H=6, pos=pos, seed=1, std=1.0)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (20000, 4) and set(samples.unique().tolist()) <= {0.0, 1.0}
    probs = m.log_prob(all_binary_vectors(4)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.numpy()), probs)
    assert result, result.message


def test_sampling_is_repeatable_with_a_generator():
    m = _model(D=6)
    a = m.sample(10, generator=torch.Generator().manual_seed(5))
    b = m.sample(10, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_parameter_count_does_not_grow_with_d_without_positions():
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(RNNAutoregressive(16, 8, position_encoding=False)) == n(RNNAutoregressive(64, 8, position_encoding=False))
    assert n(RNNAutoregressive(64, 8, position_encoding=True)) > n(RNNAutoregressive(16, 8, position_encoding=True))


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="shape"):
        RNNAutoregressive(5, 3)(torch.zeros(2, 4))
