"""VAE with factorized and PixelCNN decoders (course_lib.models.vae)."""
import math

import numpy as np
import pytest
import torch

from course_lib.checks import all_binary_vectors, check_normalization, dependency_map, check_autoregressive
from course_lib.models.vae import VAE, active_units, charged_kl, kl_per_dimension, train_vae


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, lv = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, (lv / 2).exp()),
                                            torch.distributions.Normal(0.0, 1.0))
    assert torch.allclose(kl_per_dimension(mu, lv), ref, atol=1e-6)


def test_free_bits_batch_mean_and_gradient():
    g = torch.Generator().manual_seed(0)
    mu = (torch.randn(8, 4, generator=g) * torch.tensor([2.0, 0.05, 1.0, 0.01])).requires_grad_(True)
    kl = kl_per_dimension(mu, torch.zeros(8, 4))
    out = charged_kl(kl, 0.2)
    assert torch.allclose(out.mean(), torch.clamp(kl.mean(0), min=0.2).sum())
    out.sum().backward()
    below = kl.mean(0) < 0.2
    assert below.any() and (mu.grad[:, below] == 0).all() and (mu.grad[:, ~below] != 0).all()
    assert torch.equal(charged_kl(kl, 0.0), kl.sum(1))


def test_pixel_decoder_is_autoregressive_given_z():
    torch.manual_seed(0)
    m = VAE(num_latents=3, decoder_layers=3, channels=4, size=4).eval()
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    x = (torch.rand(5, 16, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    dep = dependency_map(lambda v: m.decode_logits(v, z), x, values=[0.0, 1.0])
    assert check_autoregressive(dep)


@pytest.mark.parametrize("layers", [0, 2])
def test_decoder_normalizes_and_importance_bound_is_below_the_truth(layers):
    torch.manual_seed(0)
    m = VAE(num_latents=2, decoder_layers=layers, hidden=16, channels=4, size=3).eval()
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    support = all_binary_vectors(9)
    for k in range(4):
        logp = lambda x: -torch.nn.functional.binary_cross_entropy_with_logits(
            m.decode_logits(x, z[k:k + 1].expand(len(x), -1)), x, reduction="none").sum(1)
        result = check_normalization(logp, support)
        assert result, result.message
    x = support[::37]
    g = torch.Generator().manual_seed(3)
    out = m(x, generator=g)
    elbo = (out["reconstruction"] - out["kl_per_dim"].sum(1)).mean()
    iw = m.importance_log_prob(x, 200, generator=g).mean()
    assert iw > elbo


def test_training_raises_the_elbo():
    from course_lib.data import load_digits
    x = torch.tensor(load_digits("train", binarized=True).flat())[:256]
    torch.manual_seed(0)
    m = VAE(num_latents=4, decoder_layers=0, hidden=32)
    history = train_vae(m, x, epochs=4, seed=0, progress=False)
    assert history[-1] < history[0]



def test_active_units_is_the_variance_of_the_posterior_mean():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(500, 3, generator=g) * torch.tensor([1.0, 0.05, 0.3])
    count, activity = active_units(mu)
    assert count == 2 and np.allclose(activity, mu.double().var(0).numpy())
