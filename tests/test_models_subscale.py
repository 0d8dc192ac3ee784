"""Subscale ordering and SubscaleModel (course_lib.models.subscale) against the three checks."""
import numpy as np
import pytest
import torch

from course_lib.checks import all_binary_vectors, check_normalization, check_sampler, binary_rows_to_index
from course_lib.models.subscale import SubscaleModel, subimage_index, subscale_ordering


def test_ordering_by_definition():
    H, W, f = 6, 9, 3
    expected = [(a + f * i) * W + b + f * j for a in range(f) for b in range(f)
                for i in range(H // f) for j in range(W // f)]
    assert subscale_ordering(H, W, f).tolist() == expected
    assert subscale_ordering(3, 4, 1).tolist() == list(range(12))
    groups = subimage_index(H, W, f).reshape(-1)[subscale_ordering(H, W, f)]
    assert (np.diff(groups) >= 0).all()
    with pytest.raises(ValueError, match="divisible"):
        subscale_ordering(6, 8, 4)


def _model(H=4, W=4, seed=0):
    torch.manual_seed(seed)
    m = SubscaleModel(H, W, hidden_channels=8, num_layers=2)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3)
    return m.eval()


def test_normalization_by_enumeration():
    m = _model()
    result = check_normalization(lambda x: m.log_prob(x.view(-1, 4, 4)), all_binary_vectors(16))
    assert result, result.message


def test_group_logits_see_only_earlier_sub_images():
    m = _model()
    x = (torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    groups = subimage_index(4, 4, 2).reshape(-1)
    for g in (1, 2, 3):
        base = m.group_logits(x, g).reshape(2, -1)
        for pixel in range(16):
            moved = x.clone().view(2, -1)
            moved[:, pixel] = 1 - moved[:, pixel]
            changed = (m.group_logits(moved.view(2, 4, 4), g).reshape(2, -1) - base).abs().max() > 1e-7
            if groups[pixel] >= g:
                assert not changed, f"group {g} logits depend on pixel {pixel} of group {groups[pixel]}"


def test_sampler_agrees_with_density_and_counts_passes():
    m = _model(2, 2)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(1))
    assert m.last_sample_passes == 1 + 3
    probs = m.log_prob(all_binary_vectors(4).view(-1, 2, 2)).exp().detach().numpy()
    result = check_sampler(binary_rows_to_index(samples.view(-1, 4).numpy()), probs)
    assert result, result.message
    _model(8, 8).sample(2)
