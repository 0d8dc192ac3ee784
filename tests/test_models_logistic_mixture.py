"""The discretized logistic mixture: normalization by enumeration, sampler agreement, stability."""
import math

import numpy as np
import pytest
import torch

from course_lib.checks import check_normalization, check_sampler
from course_lib.models.logistic_mixture import (LogisticMixture1D, discretized_logistic_mixture_log_prob,
                                                sample_discretized_logistic_mixture)


def _params(K, mean, log_scale, n=1, dtype=torch.float32):
    lw = torch.linspace(-1.0, 1.0, K, dtype=dtype).expand(n, K)
    means = torch.as_tensor(mean, dtype=dtype).expand(n, K)
    log_scales = torch.as_tensor(log_scale, dtype=dtype).expand(n, K)
    return lw, means, log_scales


def _total(lw, means, log_scales, num_values, method="exact"):
    x = torch.arange(num_values)
    lp = discretized_logistic_mixture_log_prob(x, lw.expand(num_values, -1), means.expand(num_values, -1),
                                               log_scales.expand(num_values, -1), num_values, method=method)
    return lp


@pytest.mark.parametrize("method", ["exact", "pixelcnn++"])
@pytest.mark.parametrize("num_values", [2, 17, 256])
def test_normalized_across_parameter_ranges(method, num_values):
    for mean in np.linspace(-1.5, 1.5, 7):
        for log_scale in np.linspace(-7, 3, 11):
            lw, m, ls = _params(1, [mean], [log_scale])
            lp = _total(lw, m, ls, num_values, method)
            assert torch.isfinite(lp).all(), f"non-finite log-prob at mean {mean}, log_scale {log_scale}"
            total = float(lp.double().exp().sum())
            assert abs(total - 1) < 1e-4, (method, num_values, mean, log_scale, total)


def test_mixture_normalized_with_check_normalization():
    torch.manual_seed(0)
    K, V = 4, 256
    lw = torch.randn(K)
    means = torch.tensor([-1.5, -0.3, 0.7, 1.5])
    log_scales = torch.tensor([-7.0, -2.0, 0.0, 3.0])

    def log_prob_fn(x):
        n = len(x)
        return discretized_logistic_mixture_log_prob(x[:, 0], lw.expand(n, K), means.expand(n, K),
                                                     log_scales.expand(n, K), V)

    support = torch.arange(V)[:, None]
    result = check_normalization(log_prob_fn, support, atol=1e-4)
    assert result, result.message


def test_matches_direct_cdf_difference_in_float64():
    # Away from underflow, the plain formula sigma(upper) - sigma(lower) is accurate in float64.
    V = 17
    x = torch.arange(V)
    mean, log_scale = 0.2, -1.0
    c = 2 * x.double() / (V - 1) - 1
    s = math.exp(log_scale)
    upper = torch.sigmoid((c + 1 / (V - 1) - mean) / s)
    lower = torch.sigmoid((c - 1 / (V - 1) - mean) / s)
    upper[-1], lower[0] = 1.0, 0.0
    expected = (upper - lower).log()
    lw, m, ls = _params(1, [mean], [log_scale], dtype=torch.float64)
    got = _total(lw, m, ls, V)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_mixture_weights_combine_components():
    V = 17
    x = torch.arange(V)
    lw = torch.tensor([[0.0, math.log(3.0)]]).expand(V, 2)
    means = torch.tensor([[-0.5, 0.5]]).expand(V, 2)
    ls = torch.tensor([[-2.0, -1.0]]).expand(V, 2)
    mix = discretized_logistic_mixture_log_prob(x, lw, means, ls, V).exp()
    p0 = discretized_logistic_mixture_log_prob(x, lw[:, :1], means[:, :1], ls[:, :1], V).exp()
    p1 = discretized_logistic_mixture_log_prob(x, lw[:, 1:], means[:, 1:], ls[:, 1:], V).exp()
    torch.testing.assert_close(mix, 0.25 * p0 + 0.75 * p1)


def test_stable_at_extremes_values_and_gradients():
    V = 256
    x = torch.tensor([0, 1, 127, 128, 254, 255] * 4)
    n = len(x)
    means = torch.tensor([-1.5, 1.5, -1.5, 1.5]).repeat_interleave(6)[:, None].clone().requires_grad_(True)
    log_scales = torch.tensor([-7.0, -7.0, 3.0, 3.0]).repeat_interleave(6)[:, None].clone().requires_grad_(True)
    lw = torch.zeros(n, 1, requires_grad=True)
    lp = discretized_logistic_mixture_log_prob(x, lw, means, log_scales, V)
    assert torch.isfinite(lp).all(), lp
    assert (lp <= 1e-6).all()
    lp.sum().backward()
    for t in (means, log_scales, lw):
        assert torch.isfinite(t.grad).all(), t.grad
    # far beyond the training range too: very narrow components far from the bin, and very wide ones
    lp = discretized_logistic_mixture_log_prob(torch.tensor([0, 128, 255]), torch.zeros(3, 1),
                                               torch.tensor([[3.0], [-3.0], [-3.0]]),
                                               torch.tensor([[-12.0], [-12.0], [20.0]]), V)
    assert torch.isfinite(lp).all(), lp


def test_exact_far_tail_is_accurate():
    # A narrow component far from bin 128: the exact form keeps the true (tiny) log-probability,
    # which equals log sigma(a) + log sigma(-b) + log(1 - exp(-(a - b))) evaluated in float64.
    V = 256
    x = torch.tensor([128])
    mean, log_scale = -1.0, -5.0
    lp32 = discretized_logistic_mixture_log_prob(x, torch.zeros(1, 1), torch.tensor([[mean]]),
                                                 torch.tensor([[log_scale]]), V)
    lp64 = discretized_logistic_mixture_log_prob(x, torch.zeros(1, 1, dtype=torch.float64),
                                                 torch.tensor([[mean]], dtype=torch.float64),
                                                 torch.tensor([[log_scale]], dtype=torch.float64), V)
    assert lp64.item() < -100  # far out in the tail: sigma differences would underflow
    assert abs(lp32.item() - lp64.item()) < 1e-3 * abs(lp64.item())


def test_input_validation():
    with pytest.raises(ValueError):
        discretized_logistic_mixture_log_prob(torch.tensor([256]), torch.zeros(1, 2), torch.zeros(1, 2),
                                              torch.zeros(1, 2), 256)
    with pytest.raises(ValueError):
        discretized_logistic_mixture_log_prob(torch.tensor([0, 1]), torch.zeros(1, 2), torch.zeros(1, 2),
                                              torch.zeros(1, 2), 256)


@pytest.mark.parametrize("log_scale", [-3.0, -1.0, 1.0])
def test_sampler_agrees_with_density(log_scale):
    V = 32
    lw = torch.tensor([0.5, -0.5, 0.0])
    means = torch.tensor([-0.9, 0.1, 1.2])
    ls = torch.tensor([log_scale, log_scale - 0.5, log_scale + 0.3])
    n = 20000
    g = torch.Generator().manual_seed(0)
    samples = sample_discretized_logistic_mixture(lw.expand(n, 3), means.expand(n, 3), ls.expand(n, 3), V, generator=g)
    assert samples.dtype == torch.int64 and samples.shape == (n,)
    probs = _total(lw[None], means[None], ls[None], V).double().exp().numpy()
    result = check_sampler(samples.numpy(), probs)
    assert result, result.message


def test_sampler_with_wrong_bins_is_caught():
    # the check is strong enough to catch a sampler that floors instead of rounding
    V = 32
    lw, means, ls = torch.zeros(1), torch.tensor([0.1]), torch.tensor([-2.0])
    n = 20000
    g = torch.Generator().manual_seed(0)
    u = torch.rand(n, generator=g, dtype=torch.float64)
    cont = 0.1 + math.exp(-2.0) * (u.log() - (-u).log1p())
    wrong = torch.floor((cont + 1) * (V - 1) / 2).clamp(0, V - 1).long()
    probs = _total(lw[None], means[None], ls[None], V).double().exp().numpy()
    assert not check_sampler(wrong.numpy(), probs)


def test_sampler_is_reproducible_with_generator():
    lw, means, ls = torch.zeros(100, 2), torch.zeros(100, 2), torch.full((100, 2), -1.0)
    a = sample_discretized_logistic_mixture(lw, means, ls, 256, generator=torch.Generator().manual_seed(3))
    b = sample_discretized_logistic_mixture(lw, means, ls, 256, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_module_log_prob_sample_and_training():
    torch.manual_seed(0)
    model = LogisticMixture1D(num_components=3, num_values=50)
    assert sum(p.numel() for p in model.parameters()) == 9
    result = check_normalization(lambda x: model.log_prob(x[:, 0]), torch.arange(50)[:, None])
    assert result, result.message
    samples = model.sample(20000, generator=torch.Generator().manual_seed(1))
    assert samples.dtype == torch.int64 and samples.shape == (20000,)
    result = check_sampler(samples.numpy(), model.probs().detach().double().numpy())
    assert result, result.message
    # a few SGD steps on data concentrated at 10 raise its log-likelihood
    data = torch.full((256,), 10)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = float(model.log_prob(data).mean().detach())
    for _ in range(50):
        loss = -model.log_prob(data).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(model.log_prob(data).mean().detach()) > before + 1.0
