"""CausalTransformer (course_lib.models.attention) against the three checks, plus its cache."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_vectors, check_autoregressive, check_normalization, check_sampler,
                               dependency_map)
from course_lib.models.attention import CausalTransformer


def _random_model(D, V, seed=0, **kw):
    torch.manual_seed(seed)
    m = CausalTransformer(D, num_values=V, **kw)
    with torch.no_grad():  # sharper than the default init, so dependencies and probabilities vary
        for p in m.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.5)
    return m.eval()


@pytest.mark.parametrize("V", [2, 4])
def test_autoregressive_by_perturbation(V):
    D = 7
    m = _random_model(D, V)
    x = torch.randint(0, V, (6, D), generator=torch.Generator().manual_seed(1))
    dep = dependency_map(m, x, values=list(range(V)))           # (D * V outputs, D inputs)
    site = np.arange(D * V) // V                                 # logits laid out (D, V)
    result = check_autoregressive(dep, output_site=site)
    assert result, result.message
    # and it is not trivially satisfied: every output after the first sees every earlier input
    per_site = dep.reshape(D, V, D).any(1)
    assert per_site.tolist() == np.tril(np.ones((D, D), dtype=bool), -1).tolist()


def test_gradient_dependency_map_on_one_hot_inputs():
    D, V = 6, 3
    m = _random_model(D, V)
    x = torch.randint(0, V, (4, D), generator=torch.Generator().manual_seed(2))
    onehot = torch.nn.functional.one_hot(x, V).float()
    dep = dependency_map(m, onehot).reshape(D, V, D, V).any(axis=(1, 3))
    assert dep.tolist() == np.tril(np.ones((D, D), dtype=bool), -1).tolist()
    assert torch.allclose(m(onehot), m(x), atol=1e-5)


def test_a_missing_causal_mask_is_caught():
    """Honest test: without the mask, output d sees x_d (and later inputs) and the check fails."""
    D, V = 5, 2
    m = _random_model(D, V)
    from course_lib.models import attention

    original = attention.CausalSelfAttention.forward

    def unmasked(self, h, cache=None):
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)
        q, k, v = (t.reshape(B, T, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        out = torch.softmax(q @ k.transpose(-2, -1) / self.head_dim ** 0.5, -1) @ v
        return self.proj(out.transpose(1, 2).reshape(B, T, C))

    attention.CausalSelfAttention.forward = unmasked
    try:
        dep = dependency_map(m, torch.randint(0, V, (6, D), generator=torch.Generator().manual_seed(0)))
    finally:
        attention.CausalSelfAttention.forward = original
    assert not check_autoregressive(dep, output_site=np.arange(D * V) // V)


@pytest.mark.parametrize("D,V", [(4, 3), (8, 2)])
def test_normalized_by_enumeration(D, V):
    m = _random_model(D, V, seed=D)
    result = check_normalization(m.log_prob, all_vectors(V, D), atol=1e-5)
    assert result, result.message


@pytest.mark.parametrize("use_cache", [True, False])
def test_sampler_agrees_with_density(use_cache):
    D, V = 3, 3
    m = _random_model(D, V, seed=3)
    samples = m.sample(20000, generator=torch.Generator().manual_seed(0), use_cache=use_cache)
    assert samples.shape == (20000, D) and samples.dtype == torch.int64
    support = all_vectors(V, D)
    probs = m.log_prob(support).exp().detach().numpy()
    index = (samples.numpy() * V ** np.arange(D - 1, -1, -1)).sum(1)   # same order as all_vectors
    result = check_sampler(index, probs)
    assert result, result.message


def test_cached_and_uncached_sampling_are_identical():
    m = _random_model(20, 4, seed=5, num_layers=3)
    a = m.sample(64, generator=torch.Generator().manual_seed(7), use_cache=True)
    b = m.sample(64, generator=torch.Generator().manual_seed(7), use_cache=False)
    assert torch.equal(a, b)


def test_cached_step_logits_equal_full_forward():
    D, V = 10, 3
    m = _random_model(D, V, seed=6)
    x = torch.randint(0, V, (5, D), generator=torch.Generator().manual_seed(0))
    full = m(x)
    caches = [{} for _ in m.blocks]
    with torch.no_grad():
        for d in range(D):
            token = torch.full((5,), m.start_token) if d == 0 else x[:, d - 1]
            step = m._step(token, d, caches)
            assert torch.allclose(step, full[:, d], atol=1e-5), f"cached logits differ at position {d}"
    assert caches[0]["k"].shape[2] == D


def test_log_prob_shape_and_training_step():
    D, V = 16, 2
    m = CausalTransformer(D, V)
    x = torch.randint(0, V, (32, D))
    lp = m.log_prob(x)
    assert lp.shape == (32,) and (lp < 0).all()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    before = float(-m.log_prob(x).mean().detach())
    for _ in range(30):
        loss = -m.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(-m.log_prob(x).mean().detach()) < before


def test_rejects_bad_inputs():
    m = CausalTransformer(4, 3)
    with pytest.raises(ValueError):
        m(torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(ValueError):
        m(torch.full((2, 4), 3, dtype=torch.long))
    with pytest.raises(ValueError):
        CausalTransformer(4, 2, d_model=30, num_heads=4)
