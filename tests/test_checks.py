"""Each check catches a planted violation and passes the honest version."""
import numpy as np
import pytest
import torch

from course_lib import checks


class MaskedLinear(torch.nn.Linear):
    def __init__(self, mask):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight * self.mask, self.bias)


def strict_lower(d):
    return torch.tril(torch.ones(d, d), diagonal=-1)


def test_dependency_map_of_masked_layer_is_exactly_its_mask():
    torch.manual_seed(0)
    layer = MaskedLinear(strict_lower(6))
    dep = checks.dependency_map(layer, torch.randn(4, 6))
    np.testing.assert_array_equal(dep, strict_lower(6).numpy().astype(bool))


def test_gradient_and_perturbation_maps_agree_on_binary_inputs():
    torch.manual_seed(1)
    layer = MaskedLinear(strict_lower(5))
    x = torch.randint(0, 2, (8, 5))
    by_perturbation = checks.dependency_map(lambda v: layer(v.float()), x)
    by_gradient = checks.dependency_map(layer, x.float())
    np.testing.assert_array_equal(by_perturbation, by_gradient)


def test_leaky_masked_layer_is_caught_with_its_pair_named():
    leaky = strict_lower(5)
    leaky[2, 3] = 1  # output 2 sees input 3, a future input
    dep = checks.dependency_map(MaskedLinear(leaky), torch.randn(3, 5))
    result = checks.check_autoregressive(dep)
    assert not result.passed
    assert checks.autoregressive_violations(dep) == [(2, 3)]
    assert "output 2" in result.message and "input 3" in result.message


def test_diagonal_dependency_is_a_violation():
    dep = checks.dependency_map(MaskedLinear(torch.eye(3) + strict_lower(3)), torch.randn(2, 3))
    assert checks.autoregressive_violations(dep) == [(0, 0), (1, 1), (2, 2)]


def test_ordering_is_respected():
    ordering = [2, 0, 1]  # generate input 2 first, then 0, then 1
    mask = torch.zeros(3, 3)
    mask[0, 2] = 1          # output 0 may see input 2
    mask[1, [2, 0]] = 1     # output 1 may see inputs 2 and 0
    dep = checks.dependency_map(MaskedLinear(mask), torch.randn(2, 3))
    assert checks.check_autoregressive(dep, ordering).passed
    assert not checks.check_autoregressive(dep).passed  # natural order is violated


def test_several_outputs_per_input():
    dep = np.zeros((6, 3), dtype=bool)  # two output channels per input, channel-major
    dep[4, 1] = True  # channel 1, site 1 depends on input 1 itself
    assert checks.autoregressive_violations(dep) == [(4, 1)]


def test_bad_ordering_is_rejected_with_a_message():
    with pytest.raises(ValueError, match="permutation"):
        checks.check_autoregressive(np.zeros((3, 3), bool), ordering=[0, 0, 1])


def test_normalization_passes_a_true_distribution_and_catches_mass_0_9():
    support = checks.all_binary_vectors(6)
    logits = torch.randn(6)
    good = lambda x: torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    assert checks.check_normalization(good, support).passed
    bad = lambda x: good(x) + np.log(0.9)
    result = checks.check_normalization(bad, support)
    assert not result.passed and abs(result.value - 0.9) < 1e-6  # float32 log-probs


def test_all_vectors_enumerates_every_point_once():
    pts = checks.all_vectors(3, 4)
    assert pts.shape == (81, 4) and len({tuple(p) for p in pts.tolist()}) == 81
    bits = checks.all_binary_vectors(3)
    np.testing.assert_array_equal(checks.binary_rows_to_index(bits.numpy()), np.arange(8))


def _chain_model():
    # p(x1) and p(x2 | x1) over binary x1, x2: an ordering-sensitive distribution.
    p1 = 0.8
    p2_given = {0: 0.1, 1: 0.9}
    probs = np.array([(1 - p1) * (1 - p2_given[0]), (1 - p1) * p2_given[0],
                      p1 * (1 - p2_given[1]), p1 * p2_given[1]])
    return p1, p2_given, probs


def test_sampler_in_order_agrees_and_sampler_ignoring_order_fails():
    p1, p2_given, probs = _chain_model()
    rng = np.random.default_rng(0)
    n = 20000
    x1 = rng.random(n) < p1
    x2 = rng.random(n) < np.where(x1, p2_given[1], p2_given[0])
    honest = checks.binary_rows_to_index(np.stack([x1, x2], 1))
    assert checks.check_sampler(honest, probs).passed
    # Ignores the ordering: samples x2 before x1 exists, conditioning on a stale zero.
    x2_wrong = rng.random(n) < p2_given[0]
    x1_wrong = rng.random(n) < p1
    wrong = checks.binary_rows_to_index(np.stack([x1_wrong, x2_wrong], 1))
    assert not checks.check_sampler(wrong, probs).passed


def test_sampler_false_alarm_rate_is_near_alpha():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    rng = np.random.default_rng(123)
    fails = sum(not checks.check_sampler(rng.choice(4, 2000, p=probs), probs, alpha=0.05).passed for _ in range(400))
    assert 0.02 < fails / 400 < 0.09  # 5% nominal; binomial sd about 1.1%


def test_sampler_in_impossible_category_fails():
    result = checks.check_sampler(np.array([0, 1, 2]), np.array([0.5, 0.5, 0.0]))
    assert not result.passed and "probability 0" in result.message
