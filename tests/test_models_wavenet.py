"""WaveNet (course_lib.models.wavenet) against the three checks, plus mu-law and both generators."""
import math

import numpy as np
import pytest
import torch

from course_lib.checks import (all_vectors, check_autoregressive, check_normalization, check_sampler,
                               dependency_map)
from course_lib.models import wavenet
from course_lib.models.wavenet import (CausalConv1d, WaveNet, mu_law_decode, mu_law_encode,
                                       receptive_field_size, stacked_dilations)


def _random_model(num_classes=3, dilations=(1, 2, 1), kernel_size=2, seed=0, double=False, **kw):
    torch.manual_seed(seed)
    m = WaveNet(num_classes, 6, 5, list(dilations), kernel_size=kernel_size, **kw)
    with torch.no_grad():  # sharper than the default init, so every dependency and probability varies
        for p in m.parameters():
            p.normal_(0, 0.7)
    m = m.double() if double else m
    return m.eval()


def _band(T, R, shift=0):
    """(T, T) bool: row t is True at columns t - R + 1 + shift .. t + shift (clipped to 0..T-1)."""
    t = np.arange(T)
    lo, hi = t - R + 1 + shift, t + shift
    return (t[None, :] >= lo[:, None]) & (t[None, :] <= hi[:, None])


# ----------------------------------------------------------------------------- mu-law


def test_mu_law_matches_the_formulas():
    x = torch.linspace(-1, 1, 1001, dtype=torch.float64)
    q = mu_law_encode(x)
    assert q.dtype == torch.int64 and q.min() == 0 and q.max() == 255
    f = torch.sign(x) * torch.log(1 + 255 * x.abs()) / math.log(256)
    assert torch.equal(q, torch.floor((f + 1) / 2 * 255 + 0.5).long())
    assert int(mu_law_encode(torch.tensor([0.0]))) == 128  # floor(127.5 + 0.5)
    # decoding then encoding every code gives the code back
    codes = torch.arange(256)
    assert torch.equal(mu_law_encode(mu_law_decode(codes)), codes)
    # the error is small near zero and larger near +-1 (that is the point of companding)
    err = (mu_law_decode(q).double() - x).abs()
    assert err[x.abs() < 0.05].max() < 1e-3 < err[x.abs() > 0.9].max() < 0.025


def test_mu_law_small_mu():
    q = mu_law_encode(torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]), mu=3)
    assert q.tolist() == [0, 1, 2, 2, 3]
    assert torch.allclose(mu_law_decode(torch.tensor([0, 3]), mu=3), torch.tensor([-1.0, 1.0]))


# ----------------------------------------------------------------------------- causal convolution


@pytest.mark.parametrize("k,d", [(2, 1), (2, 4), (3, 2)])
def test_causal_conv_depends_exactly_on_its_taps(k, d):
    torch.manual_seed(0)
    conv = CausalConv1d(1, 1, k, dilation=d)
    T = 12
    dep = dependency_map(lambda x: conv(x[:, None])[:, 0], torch.randn(3, T))
    expected = np.zeros((T, T), dtype=bool)
    for t in range(T):
        for j in range(k):
            if t - j * d >= 0:
                expected[t, t - j * d] = True
    assert dep.tolist() == expected.tolist()


def test_receptive_field_formula():
    assert receptive_field_size(2, [1, 2, 4, 8]) == 16
    assert receptive_field_size(3, [1, 2]) == 7
    assert receptive_field_size(2, stacked_dilations(11, 2)) == 4095


# ----------------------------------------------------------------------------- autoregressive property


@pytest.mark.parametrize("dilations,k", [((1, 2, 4), 2), ((1, 3), 3), ((1, 2, 1, 2), 2)])
def test_forward_depends_on_exactly_the_last_R_inputs(dilations, k):
    V, T = 3, 14
    m = _random_model(V, dilations, k)
    R = receptive_field_size(k, dilations)
    x = torch.randint(0, V, (6, T), generator=torch.Generator().manual_seed(1))
    dep = dependency_map(m, x, values=list(range(V))).reshape(V, T, T).any(0)
    assert dep.tolist() == _band(T, R).tolist(), f"logits at t must see x[t-{R - 1}..t]"


@pytest.mark.parametrize("position_encoding", [False, True])
def test_conditionals_are_autoregressive(position_encoding):
    V, T = 2, 12
    m = _random_model(V, (1, 2, 4), position_encoding=position_encoding, max_len=T)
    x = torch.randint(0, V, (8, T), generator=torch.Generator().manual_seed(2))
    dep = dependency_map(m.conditional_logits, x)
    result = check_autoregressive(dep, output_site=np.arange(V * T) % T)
    assert result, result.message
    assert dep.reshape(V, T, T).any(0).tolist() == _band(T, m.receptive_field, shift=-1).tolist()


def test_right_padding_is_caught():
    """Honest test: a convolution padded on both sides sees the future and the check fails."""
    m = _random_model(2, (1, 2))
    original = CausalConv1d.forward
    CausalConv1d.forward = lambda self, x: torch.nn.Conv1d.forward(
        self, torch.nn.functional.pad(x, (self.left_pad // 2, self.left_pad - self.left_pad // 2)))
    try:
        dep = dependency_map(m.conditional_logits, torch.randint(0, 2, (6, 8)))
    finally:
        CausalConv1d.forward = original
    assert not check_autoregressive(dep, output_site=np.arange(16) % 8)


# ----------------------------------------------------------------------------- normalization, sampler


@pytest.mark.parametrize("position_encoding", [False, True])
def test_normalized_by_enumeration(position_encoding):
    V, T = 3, 5
    m = _random_model(V, (1, 2), position_encoding=position_encoding, max_len=T)
    result = check_normalization(m.log_prob, all_vectors(V, T), atol=1e-5)
    assert result, result.message


@pytest.mark.parametrize("cached", [True, False])
def test_sampler_agrees_with_density(cached):
    V, T = 3, 4
    m = _random_model(V, (1, 2), seed=3)
    samples = m.generate(T, batch_size=20000, generator=torch.Generator().manual_seed(0), cached=cached)
    assert samples.shape == (20000, T) and samples.dtype == torch.int64
    probs = m.log_prob(all_vectors(V, T)).exp().detach().numpy()
    index = (samples.numpy() * V ** np.arange(T - 1, -1, -1)).sum(1)   # same order as all_vectors
    result = check_sampler(index, probs)
    assert result, result.message


def test_sampler_check_catches_an_off_by_one_generator():
    """Honest test: feeding the wrong time step to the network changes the distribution."""
    V, T = 3, 4
    m = _random_model(V, (1, 2), seed=3)
    original = WaveNet._generate_naive

    def lagging(self, num_steps, history, generator):
        seq = torch.cat([history, history.new_zeros(history.shape[0], num_steps)], dim=1)
        P = history.shape[1]
        for t in range(num_steps):
            end = P + t
            logits = self(seq[:, :max(end - 1, 1)])[:, :, -1]   # forgets the newest sample
            seq[:, end] = self._draw(logits, generator)
        return seq[:, P:]

    WaveNet._generate_naive = lagging
    try:
        samples = m.generate(T, batch_size=20000, generator=torch.Generator().manual_seed(0), cached=False)
    finally:
        WaveNet._generate_naive = original
    probs = m.log_prob(all_vectors(V, T)).exp().detach().numpy()
    assert not check_sampler((samples.numpy() * V ** np.arange(T - 1, -1, -1)).sum(1), probs)


# ----------------------------------------------------------------------------- cached == naive


@pytest.mark.parametrize("dilations,k,pe", [((1, 2, 4, 8, 1, 2, 4, 8), 2, False), ((1, 3, 9), 3, False),
                                            ((1, 2, 4), 2, True)])
def test_cached_and_naive_generation_are_identical(dilations, k, pe):
    m = _random_model(5, dilations, k, seed=4, double=True, position_encoding=pe, max_len=200)
    a = m.generate(150, batch_size=3, generator=torch.Generator().manual_seed(7), cached=True)
    b = m.generate(150, batch_size=3, generator=torch.Generator().manual_seed(7), cached=False)
    assert a.shape == (3, 150) and a.dtype == torch.int64
    assert torch.equal(a, b)
    assert len(set(a[0].tolist())) > 1


def test_cached_and_naive_agree_after_a_prompt():
    m = _random_model(4, (1, 2, 4), seed=5, double=True)
    prompt = torch.randint(0, 4, (2, 11), generator=torch.Generator().manual_seed(0))
    a = m.generate(40, 2, torch.Generator().manual_seed(1), cached=True, prompt=prompt)
    b = m.generate(40, 2, torch.Generator().manual_seed(1), cached=False, prompt=prompt)
    assert torch.equal(a, b)
    # and the first new sample follows the forward pass on the prompt
    full = m(torch.cat([torch.full((2, 1), m.start_value), prompt], 1))[:, :, -1]
    assert torch.equal(a[:, 0], m._draw(full, torch.Generator().manual_seed(1)))


def test_a_cache_that_stores_the_wrong_step_is_caught():
    m = _random_model(5, (1, 2, 4), seed=6, double=True)
    original = wavenet.deque

    class Stale(original):  # every queue one slot longer: after the first step the taps are one step old
        def __init__(self, maxlen):
            super().__init__(maxlen=maxlen + 1)

    wavenet.deque = Stale
    try:
        a = m.generate(50, 2, torch.Generator().manual_seed(0), cached=True)
    finally:
        wavenet.deque = original
    b = m.generate(50, 2, torch.Generator().manual_seed(0), cached=False)
    assert not torch.equal(a, b)
    assert torch.equal(m.generate(50, 2, torch.Generator().manual_seed(0), cached=True), b)


def test_position_encoding_limits_and_training_step():
    m = WaveNet(2, 8, 8, [1, 2, 4], position_encoding=True, max_len=16)
    with pytest.raises(ValueError, match="max_len"):
        m.log_prob(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len"):
        WaveNet(2, 8, 8, [1], position_encoding=True)
    x = torch.randint(0, 2, (32, 16), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    before = float(-m.log_prob(x).mean().detach())
    for _ in range(30):
        loss = -m.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < before
