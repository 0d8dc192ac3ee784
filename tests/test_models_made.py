"""MADE (course_lib.models.made) against the three checks, plus the masks' own promises."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_binary_vectors, binary_rows_to_index, check_autoregressive,
                               check_normalization, check_sampler, dependency_map)
from course_lib.models.made import (MADE, ORDERING_NAMES, MADEWithDirectConnections, hidden_degrees,
                                    input_degrees_from_ordering, made_masks, make_ordering)


def _dep(model, D, n=16):
    return dependency_map(model, torch.randn(n, D, generator=torch.Generator().manual_seed(0)))


def test_made_masks_follow_the_degree_rules():
    d_in = np.array([2, 3, 1])
    masks = made_masks(d_in, [np.array([1, 2, 1, 2])])
    assert [tuple(m.shape) for m in masks] == [(4, 3), (3, 4)]
    assert masks[0].tolist() == [[0, 0, 1], [1, 0, 1], [0, 0, 1], [1, 0, 1]]
    # output d connects to hidden k iff d_in[d] > m(k): strictly
    assert masks[1].tolist() == [[1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]]


@pytest.mark.parametrize("seed", range(5))
def test_autoregressive_for_random_orderings(seed):
    D = 9
    ordering = np.random.default_rng(seed).permutation(D)
    m = MADE(D, [32, 32], ordering=ordering, seed=seed)
    result = check_autoregressive(_dep(m, D), ordering)
    assert result, result.message
    assert list(m.ordering) == list(ordering)


@pytest.mark.parametrize("name", ORDERING_NAMES)
def test_named_orderings_are_permutations_and_respected(name):
    D = 16
    order = make_ordering(name, D, seed=3)
    assert sorted(order.tolist()) == list(range(D))
    m = MADE(D, [40], ordering=order)
    result = check_autoregressive(_dep(m, D), order)
    assert result, result.message


def test_cyclic_degrees_connect_every_output_to_an_earlier_input():
    torch.manual_seed(0)  # unseeded, an unlucky initialisation can leave a ReLU path dead for all 16 inputs
    D = 8
    order = make_ordering("random", D, seed=0)
    m = MADE(D, [D, D], ordering=order, degree_rule="cyclic")
    dep = _dep(m, D)
    assert check_autoregressive(dep, order)
    for d in order[1:]:
        assert dep[d].any(), f"output {d} depends on nothing"


def test_a_non_strict_output_mask_is_caught():
    """The check is honest: with >= in the output mask, output d sees x_d and the check fails."""
    D = 6
    m = MADE(D, [20])
    d_in, d_hid = m.degrees[0], m.degrees[1:-1]
    bad = (torch.as_tensor(d_in)[:, None] >= torch.as_tensor(d_hid[-1])[None, :]).float()
    m.layers[-1].mask_bank[0] = bad
    assert not check_autoregressive(_dep(m, D))


def test_hidden_degrees_never_leave_a_unit_dead():
    degs = hidden_degrees(10, [50, 50, 50], np.random.default_rng(0))
    for prev, cur in zip(degs[:-1], degs[1:]):
        assert cur.min() >= prev.min() and cur.max() <= 9
    assert degs[0].min() >= 1


def test_input_degrees_are_positions():
    assert input_degrees_from_ordering([2, 0, 1]).tolist() == [2, 3, 1]
    with pytest.raises(ValueError):
        input_degrees_from_ordering([0, 0, 1])


def test_normalized_by_enumeration_on_ten_dims_every_mask_and_ensemble():
    D = 10
    m = MADE(D, [24, 24], num_masks=3, order_agnostic=True, seed=1)
    support = all_binary_vectors(D)
    for i in range(3):
        m.set_mask(i)
        result = check_normalization(m.log_prob, support, atol=1e-5)
        assert result, f"mask {i}: {result.message}"
    result = check_normalization(lambda x: m.ensemble_log_prob(x), support, atol=1e-5)
    assert result, result.message
    assert m.mask_index == 2, "ensemble_log_prob must restore the mask in use"


def test_ensemble_is_log_mean_prob():
    D = 5
    m = MADE(D, [16], num_masks=4, order_agnostic=True)
    x = all_binary_vectors(D)
    lps = []
    for i in range(4):
        m.set_mask(i)
        lps.append(m.log_prob(x).exp())
    m.set_mask(0)
    expected = torch.stack(lps).mean(0).log()
    assert torch.allclose(m.ensemble_log_prob(x, 4), expected, atol=1e-5)
    assert torch.allclose(m.ensemble_log_prob(x, 1), lps[0].log(), atol=1e-5)


def test_next_mask_cycles_and_changes_connectivity():
    m = MADE(6, [12], num_masks=3, order_agnostic=True, seed=0)
    seen = []
    for _ in range(3):
        seen.append([mk.clone() for mk in m.masks])
        m.next_mask()
    assert m.mask_index == 0
    assert not all(torch.equal(a, b) for a, b in zip(seen[0], seen[1]))
    for i in range(3):
        m.set_mask(i)
        assert check_autoregressive(_dep(m, 6), m.ordering)


def test_direct_connections_reach_every_earlier_input_and_nothing_else():
    """The direct input-to-output path: with the hidden layer silenced, output d depends on exactly
    the inputs before it in the ordering, for every mask set; and the density stays normalized."""
    torch.manual_seed(0)
    D = 7
    order = make_ordering("random", D, seed=4)
    m = MADEWithDirectConnections(D, [16], ordering=order, num_masks=2, seed=0)
    for i in range(2):
        m.set_mask(i)
        assert check_autoregressive(_dep(m, D), order)
        assert check_normalization(m.log_prob, all_binary_vectors(D), atol=1e-5)
    with torch.no_grad():
        m.layers[-1].weight.zero_()  # only the direct path is left
    dep = _dep(m, D)
    position = input_degrees_from_ordering(order)
    assert np.array_equal(dep, position[:, None] > position[None, :])


def test_masks_survive_an_optimiser_step_and_load_state_dict():
    D = 7
    order = make_ordering("random", D, seed=2)
    m = MADE(D, [21], ordering=order)
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    x = (torch.rand(32, D) < 0.5).float()
    loss = -m.log_prob(x).mean()
    loss.backward()
    with torch.no_grad():  # a step that writes into every weight, masked or not
        for p in m.parameters():
            p.grad = torch.ones_like(p)
    opt.step()
    result = check_autoregressive(_dep(m, D), order)
    assert result, "after an optimiser step: " + result.message
    fresh = MADE(D, [21])  # natural order, other masks
    fresh.load_state_dict(m.state_dict())
    assert list(fresh.ordering) == list(order)
    result = check_autoregressive(_dep(fresh, D), order)
    assert result, "after load_state_dict: " + result.message


@pytest.mark.parametrize("ordering", [None, [2, 0, 3, 1]])
def test_sampler_agrees_with_density(ordering):
    D = 4
    torch.manual_seed(0)
    m = MADE(D, [12], ordering=ordering, degree_rule="cyclic")
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 1.5)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0))
    probs = m.log_prob(all_binary_vectors(D)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.numpy()), probs)
    assert result, result.message


def test_sample_probs_match_forward():
    m = MADE(6, [18], ordering=make_ordering("even_odd", 6))
    x, p = m.sample(40, generator=torch.Generator().manual_seed(0), return_probs=True)
    assert torch.allclose(p, torch.sigmoid(m(x)), atol=1e-5)
