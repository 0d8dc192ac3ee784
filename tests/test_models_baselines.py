"""Independent Bernoulli and FVSBN (course_lib.models.baselines) against the three checks."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_binary_vectors, binary_rows_to_index, check_autoregressive,
                               check_normalization, check_sampler, dependency_map)
from course_lib.models.baselines import FVSBN, IndependentBernoulli


def _randomize(m, seed=0, std=1.5):
    torch.manual_seed(seed)
    with torch.no_grad():  # the zero initialisation would hide every dependency
        for p in m.parameters():
            p.normal_(0, std)
    return m


def test_independent_depends_on_nothing_and_is_normalized():
    m = _randomize(IndependentBernoulli(6))
    dep = dependency_map(m, torch.rand(4, 6))
    assert not dep.any()
    result = check_normalization(m.log_prob, all_binary_vectors(6), atol=1e-5)
    assert result, result.message


def test_independent_sampler_agrees_with_density():
    m = _randomize(IndependentBernoulli(4), seed=1, std=1.0)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (20000, 4) and set(samples.unique().tolist()) <= {0.0, 1.0}
    probs = m.log_prob(all_binary_vectors(4)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.numpy()), probs)
    assert result, result.message


def test_independent_mle_is_the_pixel_mean():
    x = (torch.rand(500, 5, generator=torch.Generator().manual_seed(0)) < torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9])).float()
    m = IndependentBernoulli(5)
    opt = torch.optim.Adam(m.parameters(), lr=0.1)
    for _ in range(300):
        loss = -m.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.allclose(torch.sigmoid(m.bias), x.mean(0), atol=1e-2)


@pytest.mark.parametrize("ordering", [None, [3, 0, 5, 1, 4, 2]])
def test_fvsbn_autoregressive_in_its_ordering(ordering):
    m = _randomize(FVSBN(6, ordering=ordering))
    dep = dependency_map(m, torch.rand(4, 6))
    result = check_autoregressive(dep, ordering=ordering)
    assert result, result.message
    # every output sees every earlier input (a full logistic regression on the predecessors)
    order = np.arange(6) if ordering is None else np.asarray(ordering)
    for pos, d in enumerate(order):
        assert set(np.flatnonzero(dep[d])) == set(order[:pos].tolist())


def test_fvsbn_mask_survives_training_and_load_state_dict():
    m = FVSBN(5, ordering=[4, 3, 2, 1, 0])
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    x = (torch.rand(64, 5) < 0.5).float()
    for _ in range(3):
        loss = -m.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = {k: v.clone() for k, v in m.state_dict().items()}
    state["weight"] = torch.randn(5, 5)  # a checkpoint with weights everywhere
    m.load_state_dict(state)
    result = check_autoregressive(dependency_map(m, torch.rand(4, 5)), ordering=[4, 3, 2, 1, 0])
    assert result, result.message
    assert m.num_free_parameters() == 5 * 4 // 2 + 5


@pytest.mark.parametrize("ordering", [None, [2, 0, 3, 1]])
def test_fvsbn_normalized_and_sampler_agrees(ordering):
    m = _randomize(FVSBN(4, ordering=ordering), seed=2)
    result = check_normalization(m.log_prob, all_binary_vectors(4), atol=1e-5)
    assert result, result.message
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0))
    probs = m.log_prob(all_binary_vectors(4)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.numpy()), probs)
    assert result, result.message


def test_fvsbn_normalized_on_ten_dims():
    m = _randomize(FVSBN(10), seed=3)
    result = check_normalization(m.log_prob, all_binary_vectors(10), atol=1e-5)
    assert result, result.message


def test_shape_and_ordering_errors_are_clear():
    with pytest.raises(ValueError, match="shape"):
        FVSBN(5)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="permutation"):
        FVSBN(3, ordering=[0, 0, 1])
    with pytest.raises(ValueError, match="shape"):
        IndependentBernoulli(3).log_prob(torch.zeros(2, 4))
