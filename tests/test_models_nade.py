"""NADE (course_lib.models.nade) against the three checks: autoregressive, normalized, sampler agrees."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_binary_vectors, binary_rows_to_index, check_autoregressive,
                               check_normalization, check_sampler, dependency_map)
from course_lib.models.nade import NADE


def _model(D=10, H=8, seed=0):
    torch.manual_seed(seed)
    m = NADE(D, H)
    with torch.no_grad():  # larger weights than the initialisation, so dependencies are not tiny
        for p in m.parameters():
            p.normal_(0, 1.0)
    return m


def test_autoregressive_in_natural_order():
    m = _model()
    dep = dependency_map(m, torch.rand(8, 10))
    result = check_autoregressive(dep)
    assert result, result.message
    # and not trivially so: with random weights every output d > 0 sees every earlier input
    assert dep[np.tril_indices(10, -1)].all(), "NADE output d should depend on every input before d"


def test_running_sum_equals_naive_computation():
    m = _model()
    x = (torch.rand(32, 10) < 0.5).float()
    assert torch.allclose(m(x), m.naive_logits(x), atol=1e-5)


@pytest.mark.parametrize("block_size", [1, 5, 16, 64])
def test_blocked_running_sum_equals_naive_across_block_boundaries(block_size):
    torch.manual_seed(1)
    m = NADE(37, 12)  # 37 steps: several blocks and a shorter last one
    x = (torch.rand(8, 37) < 0.5).float()
    assert torch.allclose(m(x, block_size=block_size), m.naive_logits(x), atol=1e-5)
    with pytest.raises(ValueError, match="block_size"):
        m(x, block_size=0)


def test_normalized_by_enumeration_on_ten_dims():
    m = _model()
    result = check_normalization(m.log_prob, all_binary_vectors(10), atol=1e-5)
    assert result, result.message


def test_log_prob_finite_for_extreme_logits():
    m = _model(D=4, H=3)
    with torch.no_grad():
        m.b.fill_(200.0)
    lp = m.log_prob(torch.zeros(2, 4))
    assert torch.isfinite(lp).all() and (lp < -700).all()


def test_sampler_agrees_with_density():
    m = _model(D=4, H=3, seed=1)
    gen = torch.Generator().manual_seed(0)
    samples = m.sample(20000, generator=gen)
    assert set(samples.unique().tolist()) <= {0.0, 1.0}
    probs = m.log_prob(all_binary_vectors(4)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.numpy()), probs)
    assert result, result.message


def test_sample_probs_are_the_conditionals_of_the_sample():
    m = _model(D=6, H=5)
    gen = torch.Generator().manual_seed(0)
    x, probs = m.sample(50, generator=gen, return_probs=True)
    assert torch.allclose(probs, torch.sigmoid(m(x)), atol=1e-5)


def test_sampling_is_repeatable_with_a_generator():
    m = _model(D=6, H=5)
    a = m.sample(10, generator=torch.Generator().manual_seed(3))
    b = m.sample(10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="shape"):
        NADE(5, 3)(torch.zeros(2, 4))
