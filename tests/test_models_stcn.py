"""STCN and STCN-dense (course_lib.models.stcn): the top prior depends only on the past, every prior
only on the past and the layer above, the precision-weighted merge, per-layer KL, sampler shapes."""
import numpy as np
import pytest
import torch

import course_lib.models.stcn as stcn_module
from course_lib.checks import check_autoregressive, dependency_map
from course_lib.models.gaussian import precision_weighted_merge
from course_lib.models.stcn import STCN

G = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
T = 12


def _x(B=4, seed=0):
    x = torch.randn(B, T, 3, generator=G(seed))
    x[..., 2] = (x[..., 2] > 0).float()
    return x


def _model(dense=False):
    torch.manual_seed(0)
    return STCN(3, 8, [2, 3, 2], [1, 2, 4, 1, 2, 4], dense=dense, num_components=2)


def _map(model, key, layer):
    dep = dependency_map(lambda x: model(x, generator=G(1))[key][layer], _x())
    z = dep.shape[0] // T
    return dep, np.repeat(np.arange(T) * 3, z)


def _steps(dep):
    return dep.reshape(T, -1, T, 3).any(axis=(1, 3))


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("key", ["prior_mu", "prior_logvar"])
def test_top_prior_depends_only_on_the_past(key, dense):
    model = _model(dense)
    dep, sites = _map(model, key, -1)
    result = check_autoregressive(dep, output_site=sites)
    assert result, result.message
    steps = _steps(dep)
    # receptive field of the whole TCN is 1 + 1+2+4+1+2+4 = 15 > T: the prior at T-1 sees every earlier step
    assert steps[T - 1, :T - 1].all()


def test_lower_priors_see_x_t_only_through_the_layer_above():
    model = _model()
    for layer in range(2):
        steps = _steps(_map(model, "prior_mu", layer)[0])
        assert not np.triu(steps, k=1).any(), f"the prior of layer {layer} depends on a future x"
        assert np.diag(steps).all(), "in training, z^(l+1)_t comes from the posterior, which reads x_t"


def test_posteriors_depend_on_x_t_and_the_past_only():
    model = _model()
    for layer in range(3):
        steps = _steps(_map(model, "post_mu", layer)[0])
        assert not np.triu(steps, k=1).any() and np.diag(steps).all()


def test_lowest_layer_has_the_shortest_receptive_field():
    model = _model()
    d = lambda x: model.features(x)[0]  # noqa: E731
    dep = dependency_map(d, _x())
    steps = dep.reshape(T, -1, T, 3).any(axis=(1, 3))
    assert steps[T - 1].sum() == 1 + 1 + 2 == 4  # group 0 = blocks with dilations 1, 2


def test_a_top_prior_that_sees_x_t_is_caught(monkeypatch):
    """Honesty: without the shift d_(t-1) -> the prior reads d_t, and the check must fail."""
    monkeypatch.setattr(stcn_module, "shift_right", lambda d: d)
    model = _model()
    dep, sites = _map(model, "prior_mu", -1)
    assert not check_autoregressive(dep, output_site=sites)


@pytest.mark.parametrize("dense", [False, True])
def test_outputs_shapes_kl_and_finite_elbo(dense):
    model = _model(dense)
    x = _x()
    out = model(x, generator=G(2))
    assert out["nll"].shape == out["kl"].shape == (4, T)
    assert len(out["kl_layers"]) == 3 and torch.allclose(torch.stack(out["kl_layers"]).sum(0), out["kl"])
    for l, zd in enumerate([2, 3, 2]):
        for k in ("prior_mu", "prior_logvar", "post_mu", "post_logvar"):
            assert out[k][l].shape == (4, T, zd)
        ref = torch.distributions.kl_divergence(
            torch.distributions.Normal(out["post_mu"][l], (0.5 * out["post_logvar"][l]).exp()),
            torch.distributions.Normal(out["prior_mu"][l], (0.5 * out["prior_logvar"][l]).exp())).sum(-1)
        assert torch.allclose(out["kl_layers"][l], ref, atol=1e-4)
    assert (out["kl"] >= -1e-5).all()
    e = model.elbo(x)
    assert e.shape == (4,) and torch.isfinite(e).all()


def test_dense_output_uses_every_latent_and_plain_only_the_lowest():
    for dense, used in [(False, {0}), (True, {0, 1, 2})]:
        model = _model(dense)
        out = model(_x(), generator=G(3))
        zs = [z.detach().requires_grad_(True) for z in out["z"]]
        params = model._output_params(zs)
        grads = torch.autograd.grad(params["means"].sum(), zs, allow_unused=True)
        assert {l for l, g in enumerate(grads) if g is not None and g.abs().sum() > 0} == used


def test_precision_weighted_merge():
    mu, var = precision_weighted_merge(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(3.0), torch.tensor(1.0))
    assert torch.isclose(mu, torch.tensor(2.0)) and torch.isclose(var, torch.tensor(0.5))
    mu, var = precision_weighted_merge(torch.tensor(0.0), torch.tensor(1e-6), torch.tensor(5.0), torch.tensor(1.0))
    assert abs(float(mu)) < 1e-4 and float(var) < 1e-6  # a very confident Gaussian wins


@pytest.mark.parametrize("dense", [False, True])
def test_sampler_shapes_and_reproducibility(dense):
    model = _model(dense)
    s = model.sample(20, generator=G(4))
    assert s.shape == (20, 3) and torch.isfinite(s).all()
    assert set(s[:, 2].tolist()) <= {0.0, 1.0}
    assert torch.equal(s, model.sample(20, generator=G(4)))
    assert model.sample(5, num_samples=2).shape == (2, 5, 3)


def test_sampler_features_match_full_recomputation():
    """The sampler's windowed d_(t-1) equals the full TCN's, so the window is long enough."""
    model = _model()
    x = _x(B=2)
    x = torch.cat([x, x, x], 1)  # 36 steps, more than the receptive field (15)
    full = model.features(x)
    R = model.receptive_field
    t = 30
    win = model.features(x[:, t - R:t])
    for a, b in zip(full, win):
        assert torch.allclose(a[:, t - 1], b[:, -1], atol=1e-5)
