"""PixelCNNMixture and PixelCNNSoftmax (course_lib.models.pixelcnn_pp) against the three checks."""
import numpy as np
import pytest
import torch

from course_lib.checks import all_vectors, check_autoregressive, check_normalization, check_sampler, dependency_map
from course_lib.models.pixelcnn_pp import PixelCNNMixture, PixelCNNSoftmax

MODELS = {"mixture": lambda **kw: PixelCNNMixture(num_components=2, **kw),
          "softmax": lambda **kw: PixelCNNSoftmax(**kw)}


def _model(kind, V, size, layers=3, seed=0):
    torch.manual_seed(seed)
    m = MODELS[kind](num_values=V, hidden_channels=8, num_layers=layers, image_size=size)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(2.0)   # sharper conditionals, so the sampler test has something to detect
    return m.eval()


def _index(samples, V):
    flat = samples.reshape(len(samples), -1).numpy()
    return (flat * V ** np.arange(flat.shape[1] - 1, -1, -1)).sum(1)


@pytest.mark.parametrize("kind", MODELS)
def test_autoregressive_by_gradient(kind):
    H = W = 5
    m = _model(kind, 17, H, layers=4)
    x = torch.randint(0, 17, (4, 1, H, W), generator=torch.Generator().manual_seed(0)).float()
    dep = dependency_map(m, x)                              # (P * H * W outputs, H * W inputs)
    result = check_autoregressive(dep)                      # output j predicts pixel j % (H * W)
    assert result, result.message
    per_pixel = dep.reshape(-1, H * W, H * W).any(0)
    assert per_pixel[H * W - 1].sum() > 5, "the last pixel should see a good part of the image"


@pytest.mark.parametrize("kind", MODELS)
def test_normalized_by_enumeration(kind):
    V, size = 3, 2
    m = _model(kind, V, size)
    support = all_vectors(V, size * size)                   # (81, 4): flat images
    result = check_normalization(m.log_prob, support, atol=1e-5)
    assert result, result.message


@pytest.mark.parametrize("kind", MODELS)
def test_sampler_agrees_with_density(kind):
    V, size = 3, 2
    m = _model(kind, V, size, seed=1)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (20000, 1, size, size) and samples.dtype == torch.int64
    assert m.last_sample_passes == size * size
    probs = m.log_prob(all_vectors(V, size * size)).exp().detach().numpy()
    result = check_sampler(_index(samples, V), probs)
    assert result, result.message


@pytest.mark.parametrize("kind", MODELS)
def test_pixel_probs_sum_to_one_and_match_log_prob(kind):
    m = _model(kind, 17, 4)
    x = torch.randint(0, 17, (3, 4, 4), generator=torch.Generator().manual_seed(0))
    probs = m.pixel_probs(x)
    assert probs.shape == (3, 4, 4, 17)
    assert torch.allclose(probs.sum(-1), torch.ones(3, 4, 4), atol=1e-5)
    chosen = probs.gather(-1, x.unsqueeze(-1)).squeeze(-1).log().flatten(1).sum(1)
    assert torch.allclose(chosen, m.log_prob(x), atol=1e-4)


def test_mixture_head_has_3k_outputs_and_accepts_all_image_layouts():
    m = PixelCNNMixture(num_values=17, num_components=4, hidden_channels=8, num_layers=2, image_size=8)
    x = torch.randint(0, 17, (2, 8, 8))
    assert m(x).shape == (2, 12, 8, 8)
    lp = m.log_prob(x)
    assert lp.shape == (2,) and torch.isfinite(lp).all()
    assert torch.allclose(lp, m.log_prob(x.reshape(2, 64)))
    assert torch.allclose(lp, m.log_prob(x.unsqueeze(1)))
    with pytest.raises(ValueError):
        m.log_prob(torch.zeros(2, 3, 8, 8, dtype=torch.long))


def test_mixture_log_prob_stays_finite_for_extreme_outputs():
    m = PixelCNNMixture(num_values=17, num_components=2, hidden_channels=8, num_layers=2, image_size=4)
    with torch.no_grad():   # far-off means and tiny scales: naive log(CDF difference) would give -inf
        m.head[-1].weight.mul_(200.0)
        m.head[-1].bias.mul_(200.0)
    x = torch.randint(0, 17, (8, 4, 4), generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(m.log_prob(x)).all()
